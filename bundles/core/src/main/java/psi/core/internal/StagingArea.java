package psi.core.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

import psi.api.PsiException;

/**
 * The hidden staging files of downloads in the pool
 * ({@code /var/lib/portables/.psi-KEY.partial}, its {@code .resume} validator
 * and {@code .d} sidecars), one psi at a time on each (a lock in
 * {@code /run/psi}); the partial downloads kept to resume, and the free space
 * a download needs. Made per operation.
 */
final class StagingArea {

	/** How often the sidecars' directory is emptied before it is left to the next pull (50 ms apart). */
	static final int SIDECAR_ATTEMPTS = 40;

	/** The space kept free on the pool's file system beyond an image: 64 MiB. */
	static final long RESERVE = 64L << 20;

	/** The staging files of one URL in the pool, hidden from image listings. */
	record Staging(Path partial, Path resume, Path sidecars, List<Path> made) {
		Staging(Path partial, Path resume, Path sidecars) {
			this(partial, resume, sidecars, List.of());
		}

		/**
		 * Removes the staging files, the partial download unless it is kept to
		 * resume, and the directories made for them when they are left empty: a
		 * pull that places nothing leaves the host as it was.
		 */
		void clean(boolean keepPartial) throws IOException {
			if (!keepPartial) {
				Files.deleteIfExists(partial);
				Files.deleteIfExists(resume);
			}
			sweep();
			removeSidecars();
			for (Path d : made) {
				try {
					Files.deleteIfExists(d);
				} catch (java.nio.file.DirectoryNotEmptyException e) {
					break; // holds an image (or a partial kept): it and its parents stay
				}
			}
		}

		/**
		 * Removes the sidecars' directory. A sidecar fetch given up on (the
		 * pull failed or was interrupted) may still be finishing its file in
		 * the transport's own threads: the directory is emptied again for a
		 * while, and if a late file still comes, left to the next pull of
		 * the URL rather than hiding why this pull failed.
		 */
		void removeSidecars() throws IOException {
			for (int attempt = 0; attempt < SIDECAR_ATTEMPTS && Files.isDirectory(sidecars, LinkOption.NOFOLLOW_LINKS); attempt++) {
				try (var s = Files.list(sidecars)) {
					for (Path p : s.toList()) {
						Files.deleteIfExists(p);
					}
				}
				try {
					Files.deleteIfExists(sidecars);
					return;
				} catch (java.nio.file.DirectoryNotEmptyException late) {
					try {
						Thread.sleep(50);
					} catch (InterruptedException e) {
						Thread.currentThread().interrupt();
						return;
					}
				}
			}
		}

		/** Removes the temporary files a killed psi left while writing these staging files. */
		void sweep() throws IOException {
			Journal.sweep(partial);
			Journal.sweep(resume);
		}
	}

	/**
	 * A download kept in the pool to resume.
	 *
	 * @param path its path as the host sees it ({@code /var/lib/portables/.psi-KEY.partial})
	 * @param size its bytes
	 * @param modified when it was last written
	 */
	record Partial(String path, long size, Instant modified) {
	}

	/**
	 * One psi at a time per staging file: every psi command is its own
	 * process, and two pulls of one URL must not write one partial file. The
	 * lock files live in {@code /run/psi}, gone at the next boot.
	 */
	static final class Lock implements AutoCloseable {
		private final FileChannel channel;

		private Lock(FileChannel channel) {
			this.channel = channel;
		}

		@Override
		public void close() throws IOException {
			channel.close();
		}
	}

	/** An image the pool's file system cannot hold: refused before a byte is written. */
	static final class NoSpace extends PsiException {
		private static final long serialVersionUID = 1L;

		NoSpace(String message) {
			super(message);
		}
	}

	private final HostLayout layout;

	StagingArea(HostLayout layout) {
		this.layout = layout;
	}

	/** @param purpose {@code pull} or {@code verify}: a verification never touches a pull's resumable bytes */
	Staging staging(URI u, String purpose) throws IOException {
		Path pool = layout.realDirectory(ImagePool.POOL);
		// the directories made here, deepest first, for clean() to remove again
		List<Path> made = new ArrayList<>();
		for (Path d = pool; d != null && !Files.isDirectory(d); d = d.getParent()) {
			made.add(d);
		}
		Files.createDirectories(pool);
		String key = HexFormat.of().formatHex(Delivery.sha256((purpose + " " + u).getBytes(StandardCharsets.UTF_8))).substring(0, 16);
		return new Staging(pool.resolve(".psi-" + key + ".partial"), pool.resolve(".psi-" + key + ".resume"),
			pool.resolve(".psi-" + key + ".d"), List.copyOf(made));
	}

	/** @return the staging files' lock; refused when another psi fetches the same URL */
	Lock lock(Staging st, URI u) throws IOException {
		String name = st.partial().getFileName().toString().replace(".partial", ".lock");
		Lock l = tryLock(name);
		if (l == null) {
			throw new PsiException("another psi is fetching " + u + " (/run/psi/" + name + " is locked); try again when it is done");
		}
		// what a psi killed while fetching this URL was writing, and sidecars a failed fetch left: fetched afresh
		st.sweep();
		st.removeSidecars();
		return l;
	}

	/** @return the lock of a staging file, or {@code null} when another psi holds it */
	private Lock tryLock(String lockName) throws IOException {
		Path dir = layout.realDirectory("/run/psi");
		Files.createDirectories(dir);
		FileChannel ch = FileChannel.open(dir.resolve(lockName), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
		FileLock lock;
		try {
			lock = ch.tryLock();
		} catch (OverlappingFileLockException e) {
			lock = null;
		}
		if (lock == null) {
			ch.close();
			return null;
		}
		return new Lock(ch);
	}

	/** @return the partial downloads in the pool, oldest first */
	List<Partial> partials() throws IOException {
		Path pool = layout.realDirectory(ImagePool.POOL);
		List<Partial> out = new ArrayList<>();
		if (!Files.isDirectory(pool, LinkOption.NOFOLLOW_LINKS)) {
			return out;
		}
		try (var entries = Files.newDirectoryStream(pool, ".psi-*.partial")) {
			for (Path p : entries) {
				if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
					out.add(new Partial(ImagePool.POOL + "/" + p.getFileName(), Files.size(p),
						Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant()));
				}
			}
		}
		out.sort(Comparator.comparing(Partial::modified));
		return out;
	}

	/**
	 * Removes partial downloads no psi is fetching now, with their resume and sidecar files.
	 *
	 * @param olderThan only those last written before this; {@code null} for all
	 * @return the ones removed
	 */
	List<Partial> dropPartials(Instant olderThan) throws IOException {
		List<Partial> dropped = new ArrayList<>();
		Path pool = layout.realDirectory(ImagePool.POOL);
		for (Partial p : partials()) {
			if (olderThan != null && !p.modified().isBefore(olderThan)) {
				continue;
			}
			String name = DropInWriter.lastComponent(p.path());
			String stem = name.substring(0, name.length() - ".partial".length());
			try (Lock lock = tryLock(stem + ".lock")) {
				if (lock == null) {
					continue; // being fetched now
				}
				new Staging(pool.resolve(name), pool.resolve(stem + ".resume"), pool.resolve(stem + ".d")).clean(false);
				dropped.add(p);
			}
		}
		dropTemporaries(pool, olderThan);
		return dropped;
	}

	/**
	 * Removes temporary staging files of pulls that were killed and never
	 * retried (no partial of theirs is left to list), unless a psi fetches
	 * that URL now.
	 */
	private void dropTemporaries(Path pool, Instant olderThan) throws IOException {
		if (!Files.isDirectory(pool, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		java.util.regex.Pattern temp = java.util.regex.Pattern.compile("\\.#(\\.psi-[0-9a-f]{16})\\.(partial|resume)[0-9a-f]{16}");
		try (var entries = Files.newDirectoryStream(pool, ".#.psi-*")) {
			for (Path p : entries) {
				java.util.regex.Matcher m = temp.matcher(p.getFileName().toString());
				if (!m.matches() || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
					|| olderThan != null && !Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(olderThan)) {
					continue;
				}
				try (Lock lock = tryLock(m.group(1) + ".lock")) {
					if (lock != null) {
						Files.deleteIfExists(p);
					}
				}
			}
		}
	}

	/**
	 * @param staging the staging file in the pool
	 * @param total the bytes announced in all, -1 when unknown
	 * @param resumedFrom the bytes already there
	 * @throws NoSpace when the rest and {@link #RESERVE} do not fit
	 */
	static void checkSpace(Path staging, long total, long resumedFrom) {
		if (total < 0) {
			return;
		}
		long usable;
		try {
			usable = Files.getFileStore(staging.getParent()).getUsableSpace();
		} catch (IOException e) {
			return; // the write itself will tell
		}
		long need = total - Math.max(0, resumedFrom);
		if (need + RESERVE > usable) {
			throw new NoSpace("the image is " + total + " bytes and " + ImagePool.POOL + " has " + usable + " bytes free, less than "
				+ (need + RESERVE) + " with " + (RESERVE >> 20) + " MiB to spare; refusing to fetch it");
		}
	}

	/** @return whether a failure is ENOSPC: the file system is full */
	static boolean isDiskFull(Throwable e) {
		for (Throwable t = e; t != null; t = t.getCause()) {
			if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
				return true;
			}
		}
		return false;
	}
}
