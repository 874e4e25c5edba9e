package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import psi.format.raw.internal.squashfs.SquashfsReader.Node;

/**
 * Resolves absolute, normalized paths to inodes from the root directory down,
 * following no symbolic link and refusing directory loops, and keeps the 64
 * directories last looked up (LRU) so that a walk does not resolve each
 * parent again. Not thread safe: the reader confines it to its lock.
 */
final class PathResolver {
	private static final int CACHED_DIRECTORIES = 64;

	/** A resolved directory and the directories above it, for loop checks. */
	private record Located(Node node, long[] refs, long[] numbers) {
	}

	private final Node root;
	private final InodeTable inodes;
	private final DirectoryScanner directories;
	private final Corruption where;
	private final Map<String, Located> dirs = new LinkedHashMap<>(CACHED_DIRECTORIES * 2, 0.75f, true) {
		private static final long serialVersionUID = 1L;

		@Override
		protected boolean removeEldestEntry(Map.Entry<String, Located> eldest) {
			return size() > CACHED_DIRECTORIES;
		}
	};

	/** @param root the root directory's inode, checked to be a directory */
	PathResolver(Node root, InodeTable inodes, DirectoryScanner directories, Corruption where) {
		this.root = root;
		this.inodes = inodes;
		this.directories = directories;
		this.where = where;
	}

	/**
	 * @param path absolute, normalized path
	 * @return its inode, or null if nothing is there (or a component before the last is not a directory)
	 * @throws IllegalArgumentException if the path is not absolute or not normalized
	 * @throws psi.spi.format.ImageException if the image is corrupt on the way
	 */
	Node resolve(String path) throws IOException {
		List<byte[]> parts = components(path);
		Node cur = root;
		long[] refs = { root.ref };
		long[] numbers = { root.number };
		int from = 0;
		if (parts.size() > 1) {
			Located hit = dirs.get(prefix(parts, parts.size() - 1));
			if (hit != null) {
				cur = hit.node;
				refs = hit.refs;
				numbers = hit.numbers;
				from = parts.size() - 1;
			}
		}
		for (int i = from; i < parts.size(); i++) {
			if (cur.basicType != 1) {
				return null;
			}
			byte[] name = parts.get(i);
			DirectoryScanner.Hit e = directories.lookup(cur, name);
			if (e == null) {
				return null;
			}
			Node child = inodes.read(e.ref());
			int entryBasic = e.type() > 7 ? e.type() - 7 : e.type();
			if (entryBasic != child.basicType) {
				throw where.in("directory entry '" + printable(name) + "'", e.blockPos(), e.offset(), "says type " + e.type()
					+ " but its inode (number " + child.number + ") is of type " + child.type);
			}
			if (child.basicType == 1) {
				for (int k = 0; k < refs.length; k++) {
					if (refs[k] == child.ref || numbers[k] == child.number) {
						throw where.in("directory entry '" + printable(name) + "'", e.blockPos(), e.offset(), "refers to directory inode "
							+ child.number + ", which contains it: a directory loop");
					}
				}
				refs = Arrays.copyOf(refs, refs.length + 1);
				refs[refs.length - 1] = child.ref;
				numbers = Arrays.copyOf(numbers, numbers.length + 1);
				numbers[numbers.length - 1] = child.number;
				dirs.put(prefix(parts, i + 1), new Located(child, refs, numbers));
			}
			cur = child;
		}
		return cur;
	}

	/** Forgets the directories looked up. */
	void clear() {
		dirs.clear();
	}

	private static List<byte[]> components(String path) {
		if (!path.startsWith("/")) {
			throw new IllegalArgumentException("not an absolute path: " + path);
		}
		List<byte[]> parts = new ArrayList<>();
		for (String s : path.split("/")) {
			if (s.isEmpty()) {
				continue;
			}
			if (s.equals(".") || s.equals("..")) {
				throw new IllegalArgumentException("not a normalized path: " + path);
			}
			parts.add(s.getBytes(StandardCharsets.UTF_8));
		}
		return parts;
	}

	private static String prefix(List<byte[]> parts, int n) {
		StringBuilder b = new StringBuilder();
		for (int i = 0; i < n; i++) {
			b.append('/').append(new String(parts.get(i), StandardCharsets.UTF_8));
		}
		return b.toString();
	}

	private static String printable(byte[] name) {
		String s = new String(name, StandardCharsets.UTF_8);
		StringBuilder b = new StringBuilder();
		s.codePoints().forEach(cp -> b.append(Character.isISOControl(cp) ? '?' : (char) cp));
		return b.toString();
	}
}
