package psi.format.tar.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

import psi.spi.format.ImageException;

/**
 * Unpacks an archive into an empty directory, streaming it once, keeping
 * everything inside that directory:
 * <ul>
 * <li>a name with a {@code ..} component is refused; leading {@code /} and
 * {@code ./} are stripped, so {@code /etc/x} lands in {@code target/etc/x};
 * <li>no symbolic link is ever followed: every directory above an entry is
 * looked at without following links and made with {@code mkdir}; an entry
 * below anything but a real directory (a symbolic link or file unpacked
 * before it) is refused; files are created with {@code O_CREAT|O_EXCL},
 * links and directories with calls that fail on anything there;
 * <li>an entry never replaces another, except that a regular file or hard
 * link replaces a regular file of the same path (as a later copy appended
 * with {@code tar -r} does: the old file is removed first, so that its other
 * hard links keep the old content), and a directory entry for a directory
 * already there gives it its owner, mode and time;
 * <li>symbolic links are made as stored (the engine resolves them inside the
 * image's root); hard links only to a regular file unpacked before, reached
 * without following links;
 * <li>device nodes and FIFOs are refused unless
 * {@link TarSettings#allowDevices()}, then made with {@code mknod}
 * ({@link SpecialFiles});
 * <li>set-user-ID and set-group-ID bits, and sticky bits on files, are
 * stripped unless {@link TarSettings#allowSetuid()} ({@link FileAttributes});
 * of extended attributes only {@code user.} ones on files and directories
 * are written ({@link EntryXattrs});
 * <li>the entries and the bytes are bounded by
 * {@link TarSettings#maxEntries()} and {@link TarSettings#maxBytes()},
 * checked from each header before its content is read.
 * </ul>
 * Permissions are applied after a file's content; directories' owners, modes
 * and times after all entries, deepest first, so that a read-only directory
 * does not block its children. Owners are set when running as root. On a
 * refusal the target is left part filled: the engine removes it.
 * <p>
 * One unpack per instance; not thread safe.
 */
final class TarUnpacker {

	private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
	/** Owners and groups above this are refused: 2^32 - 1 means "unchanged" to chown. */
	private static final long MAX_ID = 0xfffffffeL;

	/** A directory's attributes, applied after all entries. */
	private record DirectoryAttributes(int mode, long uid, long gid, FileTime mtime, boolean implied) {
	}

	private final TarArchive archive;
	private final TarSettings settings;
	private final Map<Path, DirectoryAttributes> directories = new HashMap<>();
	private Path target;
	private FileAttributes attributes;
	private long bytes;
	private int entries;

	/**
	 * @param archive the archive
	 * @param settings what it may unpack
	 */
	TarUnpacker(TarArchive archive, TarSettings settings) {
		this.archive = archive;
		this.settings = settings;
	}

	/**
	 * @param into an existing empty directory
	 * @throws ImageException naming the entry refused and why, or the corrupt part of the archive
	 * @throws IOException on an I/O error, naming the entry
	 */
	void unpack(Path into) throws IOException {
		if (target != null) {
			throw new IllegalStateException("one unpack per TarUnpacker");
		}
		target = into;
		if (!Files.isDirectory(target, NOFOLLOW)) {
			throw new IOException("cannot unpack " + archive.path() + " into " + target + ": not a directory");
		}
		try (DirectoryStream<Path> ds = Files.newDirectoryStream(target)) {
			if (ds.iterator().hasNext()) {
				throw new IOException("cannot unpack " + archive.path() + " into " + target + ": not empty");
			}
		}
		attributes = new FileAttributes(FileAttributes.runningAsRoot(), settings.allowSetuid());
		try (TarEntries in = archive.entries()) {
			for (TarArchiveEntry e = in.next(); e != null; e = in.next()) {
				if (entries++ >= settings.maxEntries()) {
					throw archive.refuse(null, "more than " + settings.maxEntries() + " entries (maxEntries)");
				}
				try {
					unpack(in, e);
				} catch (ImageException x) {
					throw x;
				} catch (IOException x) {
					throw new IOException(archive.path() + ": entry '" + TarArchive.printable(e.getName()) + "': cannot unpack into "
						+ target + ": " + x, x);
				} catch (InvalidPathException x) {
					throw archive.refuse(e.getName(), "not a valid file name: " + x.getMessage());
				}
			}
		}
		applyDirectoryAttributes();
	}

	private void unpack(TarEntries in, TarArchiveEntry e) throws IOException {
		String name = e.getName();
		List<String> parts = EntryName.components(archive, name);
		EntryType type = EntryType.of(e);
		if (type == EntryType.UNSUPPORTED) {
			throw archive.refuse(name, "unsupported entry type " + EntryType.flag(e));
		}
		if (type.isSpecial() && !settings.allowDevices()) {
			throw archive.refuse(name, "is a " + (type == EntryType.FIFO ? "FIFO" : "device node")
				+ "; device nodes and FIFOs are refused (allowDevices)");
		}
		if (e.getLongUserId() < 0 || e.getLongUserId() > MAX_ID || e.getLongGroupId() < 0 || e.getLongGroupId() > MAX_ID) {
			throw archive.refuse(name, "owner or group out of range");
		}
		long size = Math.max(e.getSize(), e.getRealSize());
		if (size > settings.maxBytes() - bytes) {
			throw archive.refuse(name, "the archive unpacks to more than " + settings.maxBytes() + " bytes (maxBytes)");
		}
		bytes += size;
		if (parts.isEmpty()) {
			if (type != EntryType.DIRECTORY) {
				throw archive.refuse(name, "the root of the archive is not a directory");
			}
			FileAttributes.writeXattrs(target, EntryXattrs.user(archive, e));
			directories.put(target, attributesOf(e));
			return;
		}
		Path p = directory(parts.subList(0, parts.size() - 1), name).resolve(parts.get(parts.size() - 1));
		BasicFileAttributes old = attributes(p);
		switch (type) {
		case DIRECTORY:
			if (old == null) {
				Files.createDirectory(p);
			} else if (!old.isDirectory()) {
				throw archive.refuse(name, "would replace " + what(old) + " unpacked before it");
			}
			FileAttributes.writeXattrs(p, EntryXattrs.user(archive, e));
			directories.put(p, attributesOf(e));
			break;
		case FILE:
			removeFile(p, old, name);
			try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW)) {
				in.copy(out, e.getRealSize());
			}
			FileAttributes.writeXattrs(p, EntryXattrs.user(archive, e));
			attributes.apply(p, type, e.getMode(), e.getLongUserId(), e.getLongGroupId(), e.getLastModifiedTime());
			break;
		case HARDLINK:
			Path existing = earlierFile(e);
			if (!existing.equals(p)) {
				removeFile(p, old, name);
				Files.createLink(p, existing);
			}
			break;
		case SYMLINK:
			String link = EntryName.linkTarget(archive, name, e.getLinkName());
			refuseExisting(old, name);
			Files.createSymbolicLink(p, Path.of(link));
			attributes.apply(p, type, 0777, e.getLongUserId(), e.getLongGroupId(), e.getLastModifiedTime());
			break;
		default:
			refuseExisting(old, name);
			SpecialFiles.make(p, type, e.getDevMajor(), e.getDevMinor());
			attributes.apply(p, type, e.getMode(), e.getLongUserId(), e.getLongGroupId(), e.getLastModifiedTime());
			break;
		}
	}

	/**
	 * Walks (and makes) the directories above an entry from the target down,
	 * without following links.
	 *
	 * @return the last directory
	 * @throws ImageException if one is not a real directory
	 */
	private Path directory(List<String> parts, String name) throws IOException {
		Path d = target;
		for (String c : parts) {
			d = d.resolve(c);
			BasicFileAttributes a = attributes(d);
			if (a == null) {
				Files.createDirectory(d);
				directories.putIfAbsent(d, new DirectoryAttributes(0755, 0, 0, null, true));
			} else if (!a.isDirectory()) {
				throw archive.refuse(name, "lies below '" + target.relativize(d) + "', which is " + what(a) + " unpacked before it");
			}
		}
		return d;
	}

	/** The regular file a hard link names, reached without following links. */
	private Path earlierFile(TarArchiveEntry e) throws IOException {
		String link = e.getLinkName() == null ? "" : e.getLinkName();
		List<String> parts = EntryName.hardLinkTarget(archive, e.getName(), link);
		Path p = target;
		BasicFileAttributes a = null;
		for (String c : parts) {
			if (a != null && !a.isDirectory()) {
				a = null;
				break;
			}
			p = p.resolve(c);
			a = attributes(p);
			if (a == null) {
				break;
			}
		}
		if (a == null || !a.isRegularFile()) {
			throw archive.refuse(e.getName(), "hard link to '" + TarArchive.printable(link)
				+ "', which is not a regular file unpacked before it");
		}
		return p;
	}

	/** Removes a regular file a later entry replaces; refuses to replace anything else. */
	private void removeFile(Path p, BasicFileAttributes old, String name) throws IOException {
		if (old != null) {
			if (!old.isRegularFile()) {
				throw archive.refuse(name, "would replace " + what(old) + " unpacked before it");
			}
			Files.delete(p);
		}
	}

	private void refuseExisting(BasicFileAttributes old, String name) throws ImageException {
		if (old != null) {
			throw archive.refuse(name, "would replace " + what(old) + " unpacked before it");
		}
	}

	private void applyDirectoryAttributes() throws IOException {
		List<Map.Entry<Path, DirectoryAttributes>> dirs = new ArrayList<>(directories.entrySet());
		// deepest first: a directory made read-only last cannot block its children
		dirs.sort(Comparator.comparingInt((Map.Entry<Path, DirectoryAttributes> d) -> d.getKey().getNameCount()).reversed());
		for (Map.Entry<Path, DirectoryAttributes> d : dirs) {
			DirectoryAttributes a = d.getValue();
			if (a.implied()) {
				// made by this process: its owner already, as tar leaves it
				Files.setAttribute(d.getKey(), "unix:mode", a.mode(), NOFOLLOW);
			} else {
				attributes.apply(d.getKey(), EntryType.DIRECTORY, a.mode(), a.uid(), a.gid(), a.mtime());
			}
		}
	}

	private static DirectoryAttributes attributesOf(TarArchiveEntry e) {
		return new DirectoryAttributes(e.getMode(), e.getLongUserId(), e.getLongGroupId(), e.getLastModifiedTime(), false);
	}

	/** @return the attributes of {@code p} without following a link, or {@code null} if nothing is there */
	private static BasicFileAttributes attributes(Path p) throws IOException {
		try {
			return Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
		} catch (NoSuchFileException e) {
			return null;
		}
	}

	private static String what(BasicFileAttributes a) {
		if (a.isSymbolicLink()) {
			return "a symbolic link";
		}
		if (a.isDirectory()) {
			return "a directory";
		}
		return a.isRegularFile() ? "a regular file" : "a device or FIFO";
	}
}
