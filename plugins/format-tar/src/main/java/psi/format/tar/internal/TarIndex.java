package psi.format.tar.internal;

import java.io.IOException;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

import psi.spi.format.ImageException;

/**
 * An archive's tree, made in one pass over it: every path with what
 * {@code lstat} shows, the names in every directory, and the content of
 * small regular files (up to {@value #CACHE_FILE} bytes each,
 * {@value #CACHE_TOTAL} in all). Directories the archive holds entries in
 * but no entry for are implied, as tar makes them.
 * <p>
 * The archive is refused when it is hostile or corrupt, by the rules
 * {@link TarUnpacker} applies on disk, so that an archive psi shows is one
 * it can unpack: names with {@code ..}, entries below a symbolic link or a
 * file of the archive, an entry replacing an earlier one of another kind (a
 * later regular file replaces an earlier one, a later directory entry
 * updates an earlier directory), hard links to anything but an earlier
 * regular file, unsupported entry types, more than
 * {@link TarSettings#maxEntries()} entries or {@link TarSettings#maxBytes()}
 * bytes. Devices and set-user-ID bits are indexed as stored; they are
 * {@link TarUnpacker}'s business.
 * <p>
 * Immutable once made.
 */
final class TarIndex {

	/** The largest file whose content is kept in memory. */
	static final int CACHE_FILE = 64 * 1024;
	/** The most content kept in memory in all. */
	static final int CACHE_TOTAL = 16 << 20;
	/** The most extended attribute bytes kept in all. */
	static final int XATTR_TOTAL = 16 << 20;

	private final TarArchive archive;
	private final TarSettings settings;
	private final Map<String, TarNode> nodes = new HashMap<>();
	private final Map<String, Set<String>> children = new HashMap<>();
	private final Map<Integer, byte[]> content = new HashMap<>();
	private long cached;
	private long xattrBytes;
	private long bytes;
	private int entries;

	private TarIndex(TarArchive archive, TarSettings settings) {
		this.archive = archive;
		this.settings = settings;
		nodes.put("/", TarNode.IMPLIED_DIRECTORY);
	}

	/**
	 * Reads the archive through once.
	 *
	 * @param archive the archive
	 * @param settings its bounds
	 * @return its index
	 * @throws ImageException if the archive is corrupt, truncated or refused; the message names the entry
	 * @throws IOException on an I/O error
	 */
	static TarIndex scan(TarArchive archive, TarSettings settings) throws IOException {
		TarIndex index = new TarIndex(archive, settings);
		try (TarEntries in = archive.entries()) {
			for (TarArchiveEntry e = in.next(); e != null; e = in.next()) {
				if (index.entries >= settings.maxEntries()) {
					throw archive.refuse(null, "more than " + settings.maxEntries() + " entries (maxEntries)");
				}
				index.add(in, e, index.entries++);
			}
		}
		return index;
	}

	private void add(TarEntries in, TarArchiveEntry e, int ordinal) throws IOException {
		String name = e.getName();
		String path = EntryName.normalise(archive, name);
		EntryType type = EntryType.of(e);
		if (type == EntryType.UNSUPPORTED) {
			throw archive.refuse(name, "unsupported entry type " + EntryType.flag(e));
		}
		long size = Math.max(e.getSize(), e.getRealSize());
		if (size > settings.maxBytes() - bytes) {
			throw archive.refuse(name, "the archive unpacks to more than " + settings.maxBytes() + " bytes (maxBytes)");
		}
		bytes += size;
		Map<String, byte[]> xattrs = EntryXattrs.user(archive, e);
		for (byte[] v : xattrs.values()) {
			xattrBytes += v.length;
		}
		if (xattrBytes > XATTR_TOTAL) {
			throw archive.refuse(name, "the archive holds more than " + XATTR_TOTAL + " bytes of extended attributes");
		}
		TarNode node;
		if (type == EntryType.HARDLINK) {
			String target = EntryName.path(EntryName.hardLinkTarget(archive, name, e.getLinkName()));
			node = nodes.get(target);
			if (node == null || node.type() != EntryType.FILE) {
				throw archive.refuse(name, "hard link to '" + TarArchive.printable(e.getLinkName())
					+ "', which is not a regular file earlier in the archive");
			}
		} else {
			String link = type == EntryType.SYMLINK ? EntryName.linkTarget(archive, name, e.getLinkName()) : null;
			FileTime mtime = e.getLastModifiedTime();
			node = new TarNode(type, e.getMode() & 07777, e.getLongUserId(), e.getLongGroupId(),
				type == EntryType.FILE ? e.getRealSize() : 0, mtime, link, ordinal, xattrs);
		}
		place(path, node, name);
		if (type == EntryType.FILE && node.size() <= CACHE_FILE && cached + node.size() <= CACHE_TOTAL) {
			content.put(ordinal, in.read((int) node.size()));
			cached += node.size();
		}
	}

	private void place(String path, TarNode node, String name) throws ImageException {
		if (path.equals("/")) {
			if (node.type() != EntryType.DIRECTORY) {
				throw archive.refuse(name, "the root of the archive is " + node.what() + ", not a directory");
			}
			nodes.put(path, node);
			return;
		}
		String parent = EntryName.parent(path);
		directory(parent, name);
		TarNode old = nodes.get(path);
		if (old != null && old.type() != node.type()) {
			throw archive.refuse(name, "replaces " + old.what() + " of the same name earlier in the archive");
		}
		if (old != null && node.type() != EntryType.DIRECTORY && node.type() != EntryType.FILE) {
			throw archive.refuse(name, "replaces " + old.what() + " of the same name earlier in the archive");
		}
		nodes.put(path, node);
		if (old == null) {
			children.computeIfAbsent(parent, k -> new LinkedHashSet<>()).add(EntryName.fileName(path));
		}
	}

	/** Makes sure {@code dir} is a directory of the tree, implying it and its parents where missing. */
	private void directory(String dir, String name) throws ImageException {
		Deque<String> missing = new ArrayDeque<>();
		String d = dir;
		TarNode n = nodes.get(d);
		while (n == null) {
			missing.push(d);
			d = EntryName.parent(d);
			n = nodes.get(d);
		}
		if (n.type() != EntryType.DIRECTORY) {
			throw archive.refuse(name, "lies below '" + TarArchive.printable(d) + "', which is " + n.what() + " in the archive");
		}
		while (!missing.isEmpty()) {
			String m = missing.pop();
			nodes.put(m, TarNode.IMPLIED_DIRECTORY);
			children.computeIfAbsent(EntryName.parent(m), k -> new LinkedHashSet<>()).add(EntryName.fileName(m));
		}
	}

	/**
	 * @param path an absolute path inside the image
	 * @return its node, or empty if the archive has none
	 */
	Optional<TarNode> node(String path) {
		return Optional.ofNullable(nodes.get(path));
	}

	/**
	 * @param dir an absolute path inside the image
	 * @return the names in it; empty if it is not a directory of the archive
	 */
	List<String> children(String dir) {
		Set<String> names = children.get(dir);
		return names == null ? List.of() : List.copyOf(names);
	}

	/**
	 * @param node a regular file's node
	 * @return its content, if it is kept in memory
	 */
	Optional<byte[]> content(TarNode node) {
		byte[] b = content.get(node.ordinal());
		return b == null ? Optional.empty() : Optional.of(b.clone());
	}

	/** @return the number of entries in the archive */
	int entries() {
		return entries;
	}

	/** @return the bytes the entries hold in all */
	long bytes() {
		return bytes;
	}
}
