package psi.verify.sums.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.bouncycastle.bcpg.ArmoredInputStream;

/**
 * OpenPGP files as they come: binary packets, or ASCII armor
 * ({@code -----BEGIN PGP ...}), told apart by their content, not their name.
 */
final class OpenPgpFiles {

	private static final byte[] ARMOR = "-----BEGIN PGP".getBytes(StandardCharsets.US_ASCII);
	private static final byte[] KEYBOX = "KBXf".getBytes(StandardCharsets.US_ASCII);

	private OpenPgpFiles() {
	}

	/** @return whether the bytes are ASCII armor (after any leading blank space) */
	static boolean isArmored(byte[] content) {
		int i = 0;
		while (i < content.length && (content[i] == ' ' || content[i] == '\t' || content[i] == '\r' || content[i] == '\n')) {
			i++;
		}
		return content.length - i >= ARMOR.length && Arrays.equals(content, i, i + ARMOR.length, ARMOR, 0, ARMOR.length);
	}

	/**
	 * @return whether the bytes are a GnuPG keybox ({@code pubring.kbx}, or what
	 *         {@code gpg --keyring x.gpg --import} makes of a new file), which only
	 *         GnuPG reads
	 */
	static boolean isKeybox(byte[] content) {
		return content.length >= 12 && content[4] == 1 && Arrays.equals(content, 8, 12, KEYBOX, 0, KEYBOX.length);
	}

	/**
	 * @return why Bouncy Castle could not read a file, for a message: some of
	 *         its exceptions carry no message
	 */
	static String reason(Exception e) {
		return e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
	}

	/**
	 * @return the packets: the bytes themselves, or what their armor holds
	 * @throws IOException when the armor is broken
	 */
	static InputStream packets(byte[] content) throws IOException {
		InputStream in = new ByteArrayInputStream(content);
		return isArmored(content) ? new ArmoredInputStream(in) : in;
	}
}
