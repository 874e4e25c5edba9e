package psi.format.directory.internal;

import java.io.IOException;
import java.nio.file.Path;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * A directory's inode flags ({@code FS_IOC_GETFLAGS}/{@code FS_IOC_SETFLAGS},
 * as {@code lsattr}/{@code chattr} and portabled read and set
 * {@code FS_IMMUTABLE_FL}) through libc's {@code ioctl}, which the JDK lacks,
 * with jnr-ffi: no process per image (a listing of many directory images
 * spawned one {@code lsattr} each). Linux on x86-64 and arm64.
 */
final class InodeFlags {

	static final int FS_IMMUTABLE_FL = 0x10;
	/** _IOR('f', 1, long) and _IOW('f', 2, long) on 64-bit Linux; the kernel reads and writes an int */
	private static final long FS_IOC_GETFLAGS = 0x80086601L;
	private static final long FS_IOC_SETFLAGS = 0x40086602L;
	private static final int O_RDONLY = 0, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;

	/** What of libc this uses. */
	public interface LibC {
		int open(String path, int flags);

		int ioctl(int fd, long request, @In @Out int[] flags);

		int close(int fd);
	}

	private static volatile LibC libc;

	private InodeFlags() {
	}

	private static LibC libc() {
		LibC c = libc;
		if (c == null) {
			c = LibraryLoader.create(LibC.class).load("c");
			libc = c;
		}
		return c;
	}

	static int get(Path dir) throws IOException {
		LibC c = libc();
		int fd = open(c, dir);
		try {
			int[] flags = new int[1];
			if (c.ioctl(fd, FS_IOC_GETFLAGS, flags) < 0) {
				throw failure(c, "reading the inode flags of " + dir);
			}
			return flags[0];
		} finally {
			c.close(fd);
		}
	}

	static void set(Path dir, int flags) throws IOException {
		LibC c = libc();
		int fd = open(c, dir);
		try {
			if (c.ioctl(fd, FS_IOC_SETFLAGS, new int[] { flags }) < 0) {
				throw failure(c, "setting the inode flags of " + dir);
			}
		} finally {
			c.close(fd);
		}
	}

	private static int open(LibC c, Path dir) throws IOException {
		int fd = c.open(dir.toString(), O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			throw failure(c, "opening " + dir);
		}
		return fd;
	}

	private static IOException failure(LibC c, String what) {
		int errno = jnr.ffi.Runtime.getRuntime(c).getLastError();
		return new IOException(what + ": " + jnr.constants.platform.Errno.valueOf(errno).description());
	}
}
