package psi.core.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * The journal records systemd 256's portabled writes for an attach and a
 * detach ({@code log_portable_verb()}): {@code MESSAGE_ID=} of
 * {@code PORTABLE_ATTACHED} or {@code PORTABLE_DETACHED}, the image as
 * {@code PORTABLE_ROOT=} and each extension as {@code PORTABLE_EXTENSION=},
 * sent to the journal's socket in its native protocol. Only for the host
 * psi runs on (root {@code /}) and only when the socket is there; a journal
 * that does not take the record changes nothing.
 */
final class PortableLog {

	/** {@code SD_MESSAGE_PORTABLE_ATTACHED} */
	static final String ATTACHED = "187c62eb1e7f463bb530394f52cb090f";
	/** {@code SD_MESSAGE_PORTABLE_DETACHED} */
	static final String DETACHED = "76c5c754d628490d8ecba4c9d042112b";

	static final Path SOCKET = Path.of("/run/systemd/journal/socket");

	private PortableLog() {
	}

	/**
	 * @param verb {@code attached} or {@code detached}
	 * @param image the image path (attach) or the argument (detach)
	 * @param profile the profile, or {@code null}
	 * @param extensions the extensions' paths or arguments
	 * @return the record in the journal's native format
	 */
	static String record(String messageId, String verb, boolean runtime, String image, String profile, List<String> extensions) {
		StringBuilder msg = new StringBuilder("Successfully ").append(verb).append(runtime ? " ephemeral" : "").append(" '").append(image);
		if (!extensions.isEmpty()) {
			msg.append("' and its extension(s) '").append(String.join(", ", extensions));
		}
		if (profile != null && !profile.isEmpty()) {
			msg.append("' using profile '").append(profile);
		}
		msg.append('\'');
		StringBuilder sb = new StringBuilder();
		field(sb, "MESSAGE", msg.toString());
		field(sb, "MESSAGE_ID", messageId);
		field(sb, "PRIORITY", "6");
		field(sb, "SYSLOG_IDENTIFIER", "psi");
		field(sb, "PORTABLE_ROOT", DropInWriter.lastComponent(image));
		for (String e : extensions) {
			field(sb, "PORTABLE_EXTENSION", DropInWriter.lastComponent(e));
		}
		return sb.toString();
	}

	/** A field on one line; paths psi attaches hold no newline ({@link UnitValues#checkPath}), what would is cut there. */
	private static void field(StringBuilder sb, String key, String value) {
		int nl = value.indexOf('\n');
		sb.append(key).append('=').append(nl < 0 ? value : value.substring(0, nl)).append('\n');
	}

	/** Sends the record when psi works on the running host's root and its journal listens. */
	static void send(HostLayout layout, String record) {
		if (!layout.root().toString().equals("/") || !Files.exists(SOCKET, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		try (jnr.unixsocket.UnixDatagramChannel ch = jnr.unixsocket.UnixDatagramChannel.open()) {
			ch.send(ByteBuffer.wrap(record.getBytes(StandardCharsets.UTF_8)), new jnr.unixsocket.UnixSocketAddress(SOCKET.toString()));
		} catch (IOException | RuntimeException | LinkageError e) {
			// the record is a courtesy: the attach or detach stands without it
		}
	}
}
