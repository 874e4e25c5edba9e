package psi.format.tar.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

import psi.spi.format.ImageException;

/**
 * A tar archive file on the host and how it is compressed; makes the
 * messages that name it. Immutable.
 *
 * @param path the archive file
 * @param compression its compression, as its name says
 */
record TarArchive(Path path, Compression compression) {

	/** The longest part of an entry name quoted in a message. */
	private static final int QUOTED = 200;

	/**
	 * Checks that the file starts with its compression's magic; a plain tar
	 * archive is checked for its {@code ustar} magic when read ({@link TarEntries}).
	 *
	 * @throws ImageException naming the file and what its data is not
	 * @throws IOException on an I/O error
	 */
	void checkMagic() throws IOException {
		byte[] head;
		try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
			head = in.readNBytes(Compression.magicLength());
		}
		Optional<Compression> found = Compression.sniff(head);
		if (compression == Compression.NONE) {
			if (found.isPresent()) {
				throw new ImageException(path + ": " + found.get().label() + " data, not a plain tar archive");
			}
		} else if (!compression.matches(head)) {
			throw new ImageException(path + ": not " + compression.label() + " data"
				+ found.map(c -> " (" + c.label() + " data)").orElse(""));
		}
	}

	/**
	 * @return the archive's entries, from the first
	 * @throws ImageException if it is not a tar archive
	 * @throws IOException on an I/O error
	 */
	TarEntries entries() throws IOException {
		return TarEntries.open(this);
	}

	/** @return how the archive is described: {@code tar} or {@code tar, zstd} */
	String kind() {
		return compression == Compression.NONE ? "tar" : "tar, " + compression.label();
	}

	/**
	 * @param entry the entry's name as stored, or {@code null} for the archive as a whole
	 * @param why what is wrong with it
	 * @return the exception naming the archive and the entry
	 */
	ImageException refuse(String entry, String why) {
		return new ImageException(path + (entry == null ? "" : ": entry '" + printable(entry) + "'") + ": " + why);
	}

	/**
	 * @param s text from the archive
	 * @return it on one line and short: control characters as {@code ?}, cut with {@code ...}
	 */
	static String printable(String s) {
		StringBuilder b = new StringBuilder(Math.min(s.length(), QUOTED + 3));
		for (int i = 0; i < s.length() && i < QUOTED; i++) {
			char c = s.charAt(i);
			b.append(c < 0x20 || c == 0x7f ? '?' : c);
		}
		if (s.length() > QUOTED) {
			b.append("...");
		}
		return b.toString();
	}
}
