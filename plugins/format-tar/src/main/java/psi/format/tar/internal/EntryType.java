package psi.format.tar.internal;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;

import psi.spi.format.Entry;

/**
 * What a tar entry is, from its type flag (POSIX ustar, with the contiguous
 * and GNU sparse file types). Other types (GNU volume labels, multi-volume
 * continuations, incremental dump directories, vendor types) are refused by
 * whoever reads the archive, where GNU tar would unpack them as plain files.
 */
enum EntryType {
	/** A regular file, with content. */
	FILE(Entry.Kind.FILE),
	/** A directory. */
	DIRECTORY(Entry.Kind.DIRECTORY),
	/** A symbolic link. */
	SYMLINK(Entry.Kind.SYMLINK),
	/** A hard link to an earlier regular file of the archive. */
	HARDLINK(Entry.Kind.FILE),
	/** A character device. */
	CHARACTER_DEVICE(Entry.Kind.OTHER),
	/** A block device. */
	BLOCK_DEVICE(Entry.Kind.OTHER),
	/** A named pipe. */
	FIFO(Entry.Kind.OTHER),
	/** A type psi does not unpack. */
	UNSUPPORTED(Entry.Kind.OTHER);

	private final Entry.Kind kind;

	EntryType(Entry.Kind kind) {
		this.kind = kind;
	}

	/** @return what the image shows */
	Entry.Kind kind() {
		return kind;
	}

	/** @return whether this is a device node or a FIFO */
	boolean isSpecial() {
		return this == CHARACTER_DEVICE || this == BLOCK_DEVICE || this == FIFO;
	}

	/**
	 * @param e an entry
	 * @return what it is
	 */
	static EntryType of(TarArchiveEntry e) {
		switch (e.getLinkFlag()) {
		case TarConstants.LF_OLDNORM:
		case TarConstants.LF_NORMAL:
			// pre-POSIX archives mark directories by a trailing slash only
			return e.getName().endsWith("/") ? DIRECTORY : FILE;
		case TarConstants.LF_CONTIG:
		case TarConstants.LF_GNUTYPE_SPARSE:
			return FILE;
		case TarConstants.LF_DIR:
			return DIRECTORY;
		case TarConstants.LF_SYMLINK:
			return SYMLINK;
		case TarConstants.LF_LINK:
			return HARDLINK;
		case TarConstants.LF_CHR:
			return CHARACTER_DEVICE;
		case TarConstants.LF_BLK:
			return BLOCK_DEVICE;
		case TarConstants.LF_FIFO:
			return FIFO;
		default:
			return UNSUPPORTED;
		}
	}

	/**
	 * @param e an entry
	 * @return its type flag as shown in a message
	 */
	static String flag(TarArchiveEntry e) {
		byte f = e.getLinkFlag();
		return f >= 0x20 && f < 0x7f ? "'" + (char) f + "'" : String.format("0x%02x", f & 0xff);
	}
}
