package psi.verify.sums.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import psi.spi.verify.VerificationException;

/**
 * Reads a whole small file (a sidecar, a keyring) after bounding its size, so
 * that nothing larger than the bound is ever allocated.
 */
final class BoundedFile {

	private BoundedFile() {
	}

	/**
	 * @param file the file to read
	 * @param max the most bytes it may hold
	 * @param check the check reading it, for the message ({@code checksum}, {@code signature})
	 * @param what how the message names the file
	 * @return its content
	 * @throws VerificationException when it is not a regular file or holds more than {@code max} bytes
	 * @throws IOException on an I/O error
	 */
	static byte[] read(Path file, int max, String check, String what) throws IOException {
		if (!Files.isRegularFile(file)) {
			throw new VerificationException(check + ": " + what + " is not a regular file");
		}
		if (Files.size(file) > max) {
			throw new VerificationException(check + ": " + what + " has " + Files.size(file) + " bytes, more than " + max);
		}
		try (InputStream in = Files.newInputStream(file)) {
			// the size check above races with a writer; the read is bounded on its own
			byte[] b = in.readNBytes(max + 1);
			if (b.length > max) {
				throw new VerificationException(check + ": " + what + " has more than " + max + " bytes");
			}
			return b;
		}
	}
}
