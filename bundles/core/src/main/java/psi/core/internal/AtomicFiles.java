package psi.core.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Atomic file system changes: a temporary file beside the target, fsync,
 * rename over the target, fsync of the directory. A crash leaves the old
 * file or the new one, never a half-written one.
 */
final class AtomicFiles {

	private static final SecureRandom RANDOM = new SecureRandom();

	private AtomicFiles() {
	}

	/**
	 * Writes a file atomically.
	 *
	 * @param target the file
	 * @param content its content
	 * @param mode its permission bits, e.g. 0644
	 */
	static void write(Path target, byte[] content, int mode) throws IOException {
		write(target, content, mode, Transaction.Faults.NONE);
	}

	/** As {@link #write(Path, byte[], int)}, telling {@code faults} before the rename. */
	static void write(Path target, byte[] content, int mode, Transaction.Faults faults) throws IOException {
		Path tmp = temporary(target);
		try {
			try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
				ByteBuffer b = ByteBuffer.wrap(content);
				while (b.hasRemaining()) {
					ch.write(b);
				}
				ch.force(true);
			}
			Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(perms(mode)));
			faults.before("rename", target);
			move(tmp, target);
		} finally {
			Files.deleteIfExists(tmp);
		}
		syncDirectory(target.getParent());
	}

	/**
	 * Creates or replaces a symbolic link atomically.
	 *
	 * @param link the link
	 * @param target what it points to, as written
	 */
	static void symlink(Path link, String target) throws IOException {
		symlink(link, target, Transaction.Faults.NONE);
	}

	/** As {@link #symlink(Path, String)}, telling {@code faults} before the rename. */
	static void symlink(Path link, String target, Transaction.Faults faults) throws IOException {
		Path tmp = temporary(link);
		try {
			Files.createSymbolicLink(tmp, Path.of(target));
			faults.before("rename", link);
			move(tmp, link);
		} finally {
			Files.deleteIfExists(tmp);
		}
		syncDirectory(link.getParent());
	}

	private static void move(Path tmp, Path target) throws IOException {
		try {
			Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		} catch (AtomicMoveNotSupportedException e) {
			throw new IOException("cannot rename " + tmp + " to " + target + " atomically", e);
		}
	}

	private static Path temporary(Path target) {
		byte[] r = new byte[8];
		RANDOM.nextBytes(r);
		return target.resolveSibling(".#" + target.getFileName() + HexFormat.of().formatHex(r));
	}

	/** @param dir a directory whose entries must reach the disk */
	static void syncDirectory(Path dir) {
		try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
			ch.force(true);
		} catch (IOException e) {
			// some file systems refuse fsync on directories; the rename itself is still atomic
		}
	}

	/** Deletes a file, link or directory tree, not following links; nothing if absent. */
	static void deleteTree(Path p) throws IOException {
		if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		Files.walkFileTree(p, new java.nio.file.SimpleFileVisitor<>() {
			@Override
			public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
				Files.delete(file);
				return java.nio.file.FileVisitResult.CONTINUE;
			}

			@Override
			public java.nio.file.FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
				if (exc != null) {
					throw exc;
				}
				Files.deleteIfExists(dir);
				return java.nio.file.FileVisitResult.CONTINUE;
			}
		});
	}

	static String perms(int mode) {
		StringBuilder sb = new StringBuilder();
		String rwx = "rwx";
		for (int i = 8; i >= 0; i--) {
			sb.append((mode & (1 << i)) != 0 ? rwx.charAt(2 - i % 3) : '-');
		}
		return sb.toString();
	}
}
