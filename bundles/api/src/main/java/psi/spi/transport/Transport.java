package psi.spi.transport;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A transport: fetches an image URL into a local file, streaming.
 * <p>
 * Registered with {@value #SCHEMES} naming the URL schemes it serves; the
 * engine picks the transport by scheme. Implementations must be thread safe,
 * must check TLS certificates and SSH host keys, and must never leave a
 * partial file at {@code target}: they write to {@code target} only, which
 * the engine renames into place once the fetch and its verification succeed.
 */
@ConsumerType
public interface Transport {

	/** Service property (String[]): the URL schemes served, e.g. {@code https}. */
	String SCHEMES = "psi.transport.schemes";

	/**
	 * Fetches {@code source} into {@code target}.
	 *
	 * @param source the URL
	 * @param target the staging file to write (created or resumed)
	 * @param progress told of the bytes as they arrive; never {@code null}
	 * @return what was fetched
	 * @throws IOException if the fetch fails; the message names the URL and the cause
	 */
	Fetched fetch(URI source, Path target, Progress progress) throws IOException;

	/**
	 * Told of a transfer's progress; called from the transport's thread.
	 */
	@ConsumerType
	interface Progress {
		/**
		 * @param bytes bytes received so far
		 * @param total bytes expected in all, or -1 when unknown
		 */
		void update(long bytes, long total);
	}

	/**
	 * The result of a fetch.
	 *
	 * @param size bytes in the target
	 * @param sha256 the hex SHA-256 of the target, computed while receiving, or {@code null}
	 * @param unchanged whether the source was unchanged since the last fetch and nothing was written
	 */
	record Fetched(long size, String sha256, boolean unchanged) {
	}
}
