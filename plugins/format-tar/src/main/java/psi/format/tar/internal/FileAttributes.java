package psi.format.tar.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Map;

/**
 * Gives what an entry unpacked the owner, mode, time and extended
 * attributes the archive says, never following a symbolic link: owner and
 * group only when running as root (lchown for links), then the mode (after
 * chown, which clears set-user-ID bits), then the time.
 * <p>
 * Set-user-ID and set-group-ID bits, and the sticky bit of anything but a
 * directory, are stripped unless allowed: no error, as the archive is still
 * usable without them, and the SPI's "must write no set-user-ID bit" holds.
 * <p>
 * Immutable, thread safe.
 */
final class FileAttributes {

	private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

	private final boolean chown;
	private final boolean allowSetuid;

	/**
	 * @param chown whether owners are set (the process runs as root)
	 * @param allowSetuid whether set-user-ID, set-group-ID and sticky-on-file bits are kept
	 */
	FileAttributes(boolean chown, boolean allowSetuid) {
		this.chown = chown;
		this.allowSetuid = allowSetuid;
	}

	/**
	 * @param mode the mode as stored
	 * @param directory whether it is a directory's
	 * @param allowSetuid whether set-user-ID, set-group-ID and sticky-on-file bits are kept
	 * @return the permission bits written
	 */
	static int permitted(int mode, boolean directory, boolean allowSetuid) {
		int m = mode & 07777;
		if (!allowSetuid) {
			m &= ~06000;
			if (!directory) {
				m &= ~01000;
			}
		}
		return m;
	}

	/** @return whether this process runs as root, so that owners can be set */
	static boolean runningAsRoot() {
		try {
			return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
		} catch (IOException | RuntimeException e) {
			return "root".equals(System.getProperty("user.name"));
		}
	}

	/**
	 * @param p what was unpacked
	 * @param type what it is
	 * @param mode its mode as stored
	 * @param uid its owner; at most 2^32 - 2
	 * @param gid its group; at most 2^32 - 2
	 * @param mtime its modification time, or {@code null} to leave it
	 * @throws IOException if an attribute cannot be set
	 */
	void apply(Path p, EntryType type, int mode, long uid, long gid, FileTime mtime) throws IOException {
		if (chown) {
			Files.setAttribute(p, "unix:uid", (int) uid, NOFOLLOW);
			Files.setAttribute(p, "unix:gid", (int) gid, NOFOLLOW);
		}
		if (type.isSpecial()) {
			// with NOFOLLOW_LINKS the JDK opens the file to chmod it, and always to set its time: opening a
			// FIFO blocks, opening a device may act on it. Without, it calls chmod(2), here on the node just
			// made, below directories checked (SpecialFiles)
			Files.setAttribute(p, "unix:mode", permitted(mode, false, allowSetuid));
			if (mtime != null) {
				SpecialFiles.setTime(p, mtime);
			}
			return;
		}
		if (type != EntryType.SYMLINK) {
			Files.setAttribute(p, "unix:mode", permitted(mode, type == EntryType.DIRECTORY, allowSetuid), NOFOLLOW);
		}
		if (mtime != null) {
			Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW).setTimes(mtime, null, null);
		}
	}

	/**
	 * Writes {@code user.} extended attributes ({@link EntryXattrs}).
	 *
	 * @param p a regular file or directory
	 * @param xattrs full name to value
	 * @throws IOException if the file system keeps none, or writing fails
	 */
	static void writeXattrs(Path p, Map<String, byte[]> xattrs) throws IOException {
		if (xattrs.isEmpty()) {
			return;
		}
		UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, NOFOLLOW);
		if (v == null) {
			throw new IOException("the file system of " + p + " keeps no extended attributes");
		}
		for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
			v.write(x.getKey().substring("user.".length()), ByteBuffer.wrap(x.getValue()));
		}
	}
}
