package psi.format.tar.internal;

import java.nio.file.attribute.FileTime;
import java.util.Map;

import psi.spi.format.Entry;

/**
 * One path of an archive's tree, as indexed. A hard link is indexed as the
 * node of the regular file it links to. Immutable.
 *
 * @param type what it is ({@link EntryType#FILE} for a hard link's target too)
 * @param mode the permission bits as stored (07777)
 * @param uid the owner
 * @param gid the group
 * @param size the size of a regular file, else 0
 * @param mtime the modification time, or {@code null} for an implied directory
 * @param linkTarget the target of a symbolic link as stored, else {@code null}
 * @param ordinal the position in the archive of the entry holding it (0 the first), -1 for an implied directory
 * @param xattrs the {@code user.} extended attributes ({@link EntryXattrs}), full name to value
 */
record TarNode(EntryType type, int mode, long uid, long gid, long size, FileTime mtime, String linkTarget, int ordinal,
		Map<String, byte[]> xattrs) {

	/** A directory the archive holds entries in but no entry for: as tar makes it, 0755 and root's. */
	static final TarNode IMPLIED_DIRECTORY = new TarNode(EntryType.DIRECTORY, 0755, 0, 0, 0, null, null, -1, Map.of());

	/** @return the node as {@code lstat} shows it */
	Entry toEntry() {
		Entry.Kind kind = type.kind();
		return new Entry(kind, mode & 07777, kind == Entry.Kind.FILE ? size : 0, kind == Entry.Kind.SYMLINK ? linkTarget : null);
	}

	/** @return what it is, for a message: {@code a directory}, {@code a symbolic link}... */
	String what() {
		switch (type) {
		case DIRECTORY:
			return "a directory";
		case SYMLINK:
			return "a symbolic link";
		case FILE:
		case HARDLINK:
			return "a regular file";
		default:
			return "a device or FIFO";
		}
	}
}
