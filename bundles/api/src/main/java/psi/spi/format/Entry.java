package psi.spi.format;

import java.util.Objects;

/**
 * One file system entry of an image, as {@code lstat} sees it.
 *
 * @param kind what the entry is
 * @param mode the permission bits (07777)
 * @param size the size in bytes of a regular file, else 0
 * @param linkTarget the target of a symbolic link as stored, else {@code null}
 */
public record Entry(Kind kind, int mode, long size, String linkTarget) {

	/** What an entry is. */
	public enum Kind {
		/** A regular file. */
		FILE,
		/** A directory. */
		DIRECTORY,
		/** A symbolic link. */
		SYMLINK,
		/** A device, fifo or socket. */
		OTHER
	}

	/** Checks the record's invariants. */
	public Entry {
		Objects.requireNonNull(kind, "kind");
		if ((kind == Kind.SYMLINK) != (linkTarget != null)) {
			throw new IllegalArgumentException("a link target belongs to symbolic links only");
		}
	}
}
