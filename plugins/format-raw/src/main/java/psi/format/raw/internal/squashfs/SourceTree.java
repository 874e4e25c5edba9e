package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

import psi.spi.format.ImageException;

/**
 * A directory tree as squashfs will hold it, read once with {@code lstat}:
 * symbolic links are stored, never followed; hard links within the tree
 * share one node; names are sorted bytewise, as the kernel's lookup needs.
 * Every limit of squashfs is checked here, before anything is written.
 */
final class SourceTree {
	/** SQUASHFS_NAME_LEN. */
	static final int NAME_MAX = 256;
	/** The longest symbolic link target Linux makes (PATH_MAX less its NUL). */
	static final int TARGET_MAX = 4095;
	/** Inode numbers are 32 bits, and the root's parent is one more than the last. */
	static final long INODES_MAX = 0xffff_fffeL;
	/** The id table's count is 16 bits. */
	static final int IDS_MAX = 0xffff;
	/** Deeper than this is a tree no admin meant to ship. */
	static final int DEPTH_MAX = 1024;

	/** One file, directory or other inode of the tree, and what the writer learns of it. */
	static final class Node {
		final Inode.Type type;
		final Path path;
		final int mode;
		final int uid;
		final int gid;
		final long mtime;
		final long size;
		final byte[] target;
		final int rdev;
		final SortedMap<String, byte[]> xattrs;
		final List<Child> children;
		/** How many directory entries of the tree name this node. */
		int links = 1;

		// set while writing
		long number;
		long ref = -1;
		long start;
		int[] sizes;
		int fragment = -1;
		int fragmentOffset;
		long sparse;
		int xattrId = -1;

		Node(Inode.Type type, Path path, int mode, int uid, int gid, long mtime, long size, byte[] target, int rdev,
			SortedMap<String, byte[]> xattrs, List<Child> children) {
			this.type = type;
			this.path = path;
			this.mode = mode;
			this.uid = uid;
			this.gid = gid;
			this.mtime = mtime;
			this.size = size;
			this.target = target;
			this.rdev = rdev;
			this.xattrs = xattrs;
			this.children = children;
		}
	}

	/** A directory entry: its name as bytes and the node it names. */
	record Child(byte[] name, Node node) {
	}

	/** What the tree's owner, times and xattrs become. */
	record Options(boolean rootOwner, long clampTime, boolean xattrs) {
	}

	private final Path root;
	private Path real;
	private final Options options;
	private final long maxInodes;
	private final Map<List<Object>, Node> hardLinks = new HashMap<>();
	private final Set<Object> onPath = new HashSet<>();
	private final Xattrs xattrReader;
	private long inodes;
	private long newest;
	private final Set<Integer> ids = new HashSet<>();

	private SourceTree(Path root, Options options, long maxInodes) throws ImageException {
		this.root = root;
		this.options = options;
		this.maxInodes = maxInodes;
		this.xattrReader = options.xattrs() ? Xattrs.get() : null;
	}

	/** The scanned tree: its root, how many inodes, and the newest modification time seen. */
	record Scanned(Node root, long inodes, long newest) {
	}

	/**
	 * @param root the directory (a symbolic link to one is followed, as mksquashfs does)
	 * @throws ImageException naming the path and the limit or error, when the tree cannot become a squashfs
	 */
	static Scanned scan(Path root, Options options) throws IOException {
		return scan(root, options, INODES_MAX);
	}

	static Scanned scan(Path root, Options options, long maxInodes) throws IOException {
		if (!Files.isDirectory(root)) {
			throw new ImageException(root + ": not a directory");
		}
		SourceTree t = new SourceTree(root, options, maxInodes);
		try {
			t.real = root.toRealPath();
		} catch (IOException e) {
			throw t.error(root, "cannot resolve it", e);
		}
		Node n = t.node(t.real, 0);
		return new Scanned(n, t.inodes, t.newest);
	}

	private Node node(Path p, int depth) throws IOException {
		Map<String, Object> a;
		try {
			a = Files.readAttributes(p, "unix:mode,uid,gid,ino,dev,nlink,rdev,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
		} catch (IOException e) {
			throw error(p, "cannot read its attributes", e);
		}
		int mode = (Integer) a.get("mode");
		Inode.Type type = type(p, mode);
		List<Object> key = List.of(a.get("dev"), a.get("ino"));
		if (type != Inode.Type.DIRECTORY && (Integer) a.get("nlink") > 1) {
			Node seen = hardLinks.get(key);
			if (seen != null) {
				seen.links++;
				return seen;
			}
		}
		if (++inodes > maxInodes) {
			throw new ImageException(where(p) + ": the tree has more than " + maxInodes + " files, more than squashfs can number");
		}
		long mtime = ((FileTime) a.get("lastModifiedTime")).toMillis();
		mtime = Math.floorDiv(mtime, 1000);
		newest = Math.max(newest, mtime);
		if (options.clampTime() >= 0) {
			mtime = Math.min(mtime, options.clampTime());
		}
		mtime = Math.max(0, Math.min(mtime, 0xffff_ffffL));
		int uid = options.rootOwner() ? 0 : (Integer) a.get("uid");
		int gid = options.rootOwner() ? 0 : (Integer) a.get("gid");
		ids.add(uid);
		ids.add(gid);
		if (ids.size() > IDS_MAX) {
			throw new ImageException(where(p) + ": the tree has more than " + IDS_MAX + " distinct owners and groups, more than squashfs holds");
		}
		SortedMap<String, byte[]> x = xattrReader == null ? java.util.Collections.emptySortedMap() : xattrReader.read(p, where(p));
		byte[] target = null;
		int rdev = 0;
		List<Child> children = null;
		long size = 0;
		switch (type) {
			case SYMLINK -> {
				try {
					target = Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8);
				} catch (IOException e) {
					throw error(p, "cannot read the symbolic link", e);
				}
				if (target.length > TARGET_MAX) {
					throw new ImageException(where(p) + ": symbolic link target of " + target.length + " bytes is longer than the " + TARGET_MAX
						+ " squashfs and Linux allow");
				}
			}
			case FILE -> size = (Long) a.get("size");
			case BLOCK_DEVICE, CHAR_DEVICE -> rdev = encodeDevice((Long) a.get("rdev"));
			case DIRECTORY -> {
				if (depth > DEPTH_MAX) {
					throw new ImageException(where(p) + ": directories nested deeper than " + DEPTH_MAX + " levels");
				}
				if (!onPath.add(key)) {
					throw new ImageException(where(p) + ": a directory loop (it contains itself, a bind mount?)");
				}
				children = children(p, depth);
				onPath.remove(key);
			}
			default -> {
			}
		}
		Node n = new Node(type, p, mode & 07777, uid, gid, mtime, size, target, rdev, x, children);
		if (type != Inode.Type.DIRECTORY && (Integer) a.get("nlink") > 1) {
			hardLinks.put(key, n);
		}
		return n;
	}

	private List<Child> children(Path dir, int depth) throws IOException {
		List<Child> out = new ArrayList<>();
		try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
			for (Path c : ds) {
				byte[] name = c.getFileName().toString().getBytes(StandardCharsets.UTF_8);
				if (name.length > NAME_MAX) {
					throw new ImageException(where(c) + ": name of " + name.length + " bytes is longer than the " + NAME_MAX + " squashfs allows");
				}
				out.add(new Child(name, null));
			}
		} catch (ImageException e) {
			throw e;
		} catch (IOException | java.nio.file.DirectoryIteratorException e) {
			throw error(dir, "cannot list the directory", e instanceof IOException io ? io : (IOException) e.getCause());
		}
		out.sort((x, y) -> Arrays.compareUnsigned(x.name(), y.name()));
		List<Child> done = new ArrayList<>(out.size());
		for (Child c : out) {
			Path p = dir.resolve(new String(c.name(), StandardCharsets.UTF_8));
			done.add(new Child(c.name(), node(p, depth + 1)));
		}
		return done;
	}

	private Inode.Type type(Path p, int mode) throws ImageException {
		Inode.Type t = Inode.Type.ofMode(mode);
		if (t == null) {
			throw new ImageException(where(p) + ": unknown file type (mode 0" + Integer.toOctalString(mode) + ")");
		}
		return t;
	}

	/** glibc's dev_t to the kernel's 32-bit encoding squashfs stores (new_encode_dev). */
	static int encodeDevice(long dev) {
		long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
		long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
		return (int) ((minor & 0xff) | (major << 8) | ((minor & ~0xffL) << 12));
	}

	/** @return the path as the admin gave it, for messages */
	String where(Path p) {
		Path rel = real == null ? p : real.relativize(p);
		return rel.toString().isEmpty() ? root.toString() : root.resolve(rel).toString();
	}

	private ImageException error(Path p, String what, IOException e) {
		String why = e instanceof AccessDeniedException ? "permission denied"
			: e instanceof NoSuchFileException ? "it vanished while psi read the tree"
			: e instanceof FileSystemLoopException ? "a loop" : e.getMessage();
		return new ImageException(where(p) + ": " + what + ": " + why);
	}
}
