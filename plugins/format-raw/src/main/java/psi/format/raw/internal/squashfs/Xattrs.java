package psi.format.raw.internal.squashfs;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

import psi.spi.format.ImageException;

/**
 * A file's extended attributes in the three namespaces squashfs stores
 * ({@code user.}, {@code trusted.}, {@code security.}, which holds file
 * capabilities), read with {@code llistxattr}/{@code lgetxattr} through
 * jnr-ffi: the JDK reads only {@code user.}. Others ({@code system.}, the
 * ACLs) are left out, as mksquashfs leaves them.
 */
final class Xattrs {
	/** libc's xattr calls, as jnr-ffi binds them. Public for jnr-ffi's generated class. */
	public interface LibC {
		long llistxattr(@In byte[] path, @Out byte[] list, long size);

		long lgetxattr(@In byte[] path, @In byte[] name, @Out byte[] value, long size);

		String strerror(int errno);
	}

	private static final int ENODATA = 61;
	private static final int ENOTSUP = 95;
	private static final int ERANGE = 34;
	private static final int LIST_MAX = 65536;
	private static volatile Xattrs instance;

	private final LibC libc;
	private final jnr.ffi.Runtime runtime;

	private Xattrs(LibC libc) {
		this.libc = libc;
		this.runtime = jnr.ffi.Runtime.getRuntime(libc);
	}

	/**
	 * @return the reader
	 * @throws ImageException when jnr-ffi cannot bind libc, saying how to build without xattrs
	 */
	static Xattrs get() throws ImageException {
		Xattrs x = instance;
		if (x == null) {
			synchronized (Xattrs.class) {
				if (instance == null) {
					try {
						instance = new Xattrs(LibraryLoader.create(LibC.class).load("c"));
					} catch (RuntimeException | LinkageError e) {
						throw new ImageException("cannot read extended attributes: jnr-ffi cannot bind libc (" + e + "); build with --no-xattrs");
					}
				}
				x = instance;
			}
		}
		return x;
	}

	/** @return the file's xattrs by full name, sorted; empty where the file system has none */
	SortedMap<String, byte[]> read(Path p, String where) throws ImageException {
		byte[] path = cstring(p.toString());
		SortedMap<String, byte[]> out = new TreeMap<>();
		byte[] list = new byte[LIST_MAX];
		long n = libc.llistxattr(path, list, list.length);
		if (n < 0) {
			int e = runtime.getLastError();
			if (e == ENOTSUP) {
				return out;
			}
			throw new ImageException(where + ": cannot list its extended attributes: " + libc.strerror(e));
		}
		int from = 0;
		for (int i = 0; i < n; i++) {
			if (list[i] != 0) {
				continue;
			}
			String name = new String(list, from, i - from, StandardCharsets.UTF_8);
			from = i + 1;
			if (!(name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security."))) {
				continue;
			}
			byte[] value = new byte[XattrTable.XATTR_VALUE_MAX];
			long v = libc.lgetxattr(path, cstring(name), value, value.length);
			if (v < 0) {
				int e = runtime.getLastError();
				if (e == ENODATA) {
					continue; // removed meanwhile
				}
				throw new ImageException(where + ": cannot read extended attribute " + name + ": "
					+ (e == ERANGE ? "value larger than " + XattrTable.XATTR_VALUE_MAX + " bytes" : libc.strerror(e)));
			}
			out.put(name, java.util.Arrays.copyOf(value, (int) v));
		}
		return out;
	}

	private static byte[] cstring(String s) {
		byte[] b = s.getBytes(StandardCharsets.UTF_8);
		return java.util.Arrays.copyOf(b, b.length + 1);
	}
}
