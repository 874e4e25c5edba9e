package psi.spi.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An image tree that is a directory on the host: the base of the directory
 * and subvolume formats, and how the engine reads the host below its root.
 * <p>
 * A helper type, exported on purpose: format plugins whose images are
 * directory trees on the host (directories, btrfs subvolumes, and third-party
 * formats such as a mounted overlay) extend it instead of writing the
 * {@link ImageTree} contract again. It is a class, so it grows by new
 * methods; plugins that extend it must not rely on more than its
 * documented methods.
 * <p>
 * Every lookup is done without following links ({@code NOFOLLOW_LINKS}), as
 * the {@link ImageTree} contract requires. Subclasses add how the image is
 * marked read-only.
 */
public class DirectoryTree implements ImageTree {

	private final Path dir;
	private final String type;

	/**
	 * @param dir the directory on the host
	 * @param type the image type name
	 */
	public DirectoryTree(Path dir, String type) {
		this.dir = dir;
		this.type = type;
	}

	@Override
	public String type() {
		return type;
	}

	@Override
	public Path path() {
		return dir;
	}

	@Override
	public RootKind rootKind() {
		return RootKind.DIRECTORY;
	}

	/**
	 * @param path an absolute path inside the tree
	 * @return the host path of it
	 */
	protected Path host(String path) {
		String rel = path;
		while (rel.startsWith("/")) {
			rel = rel.substring(1);
		}
		return rel.isEmpty() ? dir : dir.resolve(rel);
	}

	@Override
	public Optional<Entry> lstat(String path) throws IOException {
		Path p = host(path);
		PosixFileAttributes a;
		try {
			a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
		} catch (NoSuchFileException | NotDirectoryException e) {
			return Optional.empty();
		}
		int mode = mode(a.permissions());
		if (a.isSymbolicLink()) {
			return Optional.of(new Entry(Entry.Kind.SYMLINK, 0777, 0, Files.readSymbolicLink(p).toString()));
		}
		if (a.isDirectory()) {
			return Optional.of(new Entry(Entry.Kind.DIRECTORY, mode, 0, null));
		}
		if (a.isRegularFile()) {
			return Optional.of(new Entry(Entry.Kind.FILE, mode, a.size(), null));
		}
		return Optional.of(new Entry(Entry.Kind.OTHER, mode, 0, null));
	}

	@Override
	public List<String> list(String path) throws IOException {
		List<String> names = new ArrayList<>();
		try (DirectoryStream<Path> ds = Files.newDirectoryStream(host(path))) {
			for (Path p : ds) {
				names.add(p.getFileName().toString());
			}
		} catch (NoSuchFileException | NotDirectoryException e) {
			return List.of();
		}
		return names;
	}

	@Override
	public byte[] read(String path, int maxBytes) throws IOException {
		Path p = host(path);
		// NOFOLLOW: the engine resolved links already; a link appearing here is a race, refuse it
		if (Files.isSymbolicLink(p)) {
			throw new ImageException("'" + path + "' in " + dir + " changed into a symbolic link while being read");
		}
		try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
			byte[] b = in.readNBytes(maxBytes + 1);
			if (b.length > maxBytes) {
				throw new ImageException("'" + path + "' in " + dir + " is larger than " + maxBytes + " bytes");
			}
			return b;
		}
	}

	/** The largest extended attribute read; the kernel's own limit (XATTR_SIZE_MAX). */
	private static final int MAX_XATTR = 64 * 1024;

	/** Reads {@code user.} attributes, the only ones a process may read on any file; others are empty. */
	@Override
	public Optional<byte[]> xattr(String path, String name) throws IOException {
		if (!name.startsWith("user.")) {
			return Optional.empty();
		}
		java.nio.file.attribute.UserDefinedFileAttributeView v = Files.getFileAttributeView(host(path),
			java.nio.file.attribute.UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
		if (v == null) {
			return Optional.empty();
		}
		String n = name.substring("user.".length());
		try {
			if (!v.list().contains(n)) {
				return Optional.empty();
			}
			int size = v.size(n);
			if (size > MAX_XATTR) {
				throw new ImageException("extended attribute " + name + " of '" + path + "' in " + dir + " is " + size + " bytes, more than " + MAX_XATTR);
			}
			java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(size);
			v.read(n, b);
			b.flip();
			byte[] out = new byte[b.remaining()];
			b.get(out);
			return Optional.of(out);
		} catch (NoSuchFileException | UnsupportedOperationException e) {
			return Optional.empty();
		} catch (java.nio.file.FileSystemException e) {
			// a file system without user xattrs (ENOTSUP) has none
			if (String.valueOf(e.getReason()).contains("not supported")) {
				return Optional.empty();
			}
			throw e;
		}
	}

	@Override
	public Optional<Path> hostPath(String path) {
		return Optional.of(host(path));
	}

	@Override
	public boolean isReadOnly() throws IOException {
		return !Files.isWritable(dir);
	}

	@Override
	public void setReadOnly(boolean readOnly) throws IOException {
		throw new ImageException(type + " image " + dir + " cannot be marked read-only");
	}

	/**
	 * @param perms POSIX permissions
	 * @return the mode bits
	 */
	public static int mode(Set<PosixFilePermission> perms) {
		int m = 0;
		for (PosixFilePermission p : perms) {
			m |= 1 << (8 - p.ordinal());
		}
		return m;
	}
}
