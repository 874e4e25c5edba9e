package psi.format.raw.internal.squashfs;

import psi.spi.format.Entry;

/**
 * One inode of a squashfs, as {@code lstat} would show it.
 *
 * @param type what the inode is
 * @param mode the permission bits (07777)
 * @param size a regular file's size in bytes, a symbolic link's target length, else 0
 * @param linkTarget a symbolic link's target as stored, else {@code null}
 * @param uid the owner
 * @param gid the group
 * @param mtime the modification time, seconds since the epoch
 * @param number the inode number (1 to the superblock's inode count)
 * @param nlink the link count
 * @param rdev a device's number in the kernel's encoding ({@link #major}, {@link #minor}), else 0
 * @param xattrs whether the inode has extended attributes
 */
public record Inode(Type type, int mode, long size, String linkTarget, int uid, int gid, long mtime, long number, long nlink, int rdev,
	boolean xattrs) {

	/** What an inode is: the squashfs inode types, basic and extended alike. */
	public enum Type {
		/** A directory (types 1 and 8). */
		DIRECTORY,
		/** A regular file (2 and 9). */
		FILE,
		/** A symbolic link (3 and 10). */
		SYMLINK,
		/** A block device (4 and 11). */
		BLOCK_DEVICE,
		/** A character device (5 and 12). */
		CHAR_DEVICE,
		/** A named pipe (6 and 13). */
		FIFO,
		/** A unix domain socket (7 and 14). */
		SOCKET;

		/** @return the type of a file's {@code st_mode} ({@code S_IFMT} bits), or null when it is none of these */
		public static Type ofMode(int mode) {
			return switch (mode & 0170000) {
				case 0040000 -> DIRECTORY;
				case 0100000 -> FILE;
				case 0120000 -> SYMLINK;
				case 0060000 -> BLOCK_DEVICE;
				case 0020000 -> CHAR_DEVICE;
				case 0010000 -> FIFO;
				case 0140000 -> SOCKET;
				default -> null;
			};
		}

		/** @return the type of a basic inode type number 1..7 */
		static Type ofBasic(int basicType) {
			return values()[basicType - 1];
		}
	}

	/** @return the device's major number */
	public int major() {
		return (rdev >>> 8) & 0xfff;
	}

	/** @return the device's minor number */
	public int minor() {
		return (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
	}

	/** @return the SPI's view of this inode */
	public Entry entry() {
		return switch (type) {
			case FILE -> new Entry(Entry.Kind.FILE, mode, size, null);
			case DIRECTORY -> new Entry(Entry.Kind.DIRECTORY, mode, 0, null);
			case SYMLINK -> new Entry(Entry.Kind.SYMLINK, mode, 0, linkTarget);
			default -> new Entry(Entry.Kind.OTHER, mode, 0, null);
		};
	}
}
