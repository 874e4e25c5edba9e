package psi.core.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import psi.api.PsiException;

/**
 * A change of an image's version in progress ({@code psi start} of another
 * version, {@code psi rollback}), which outlives one host change: the
 * reattach, then the watch of the new units outside the host lock, then
 * keeping it or going back. Its record, {@code /var/lib/psi/moving/NAME},
 * is written in the reattach's transaction and removed in the transaction
 * that keeps or undoes it; while the operation lasts its process holds a
 * lock on {@code /run/psi/moving-NAME.lock}. A record whose lock nobody
 * holds is of a psi that died (kill -9, a power cut): the next psi command
 * finishes it ({@link PortablesEngine}): it keeps the new version when its
 * units run, else goes back.
 */
final class Moving implements AutoCloseable {

	/** Where the records are, as the host sees it. */
	static final String DIR = "/var/lib/psi/moving";
	private static final long MAX = 64 * 1024;

	private final FileChannel channel;
	private final FileLock lock;

	private Moving(FileChannel channel, FileLock lock) {
		this.channel = channel;
		this.lock = lock;
	}

	private static Path lockFile(HostLayout layout, String base) throws IOException {
		return layout.realDirectory("/run/psi").resolve("moving-" + base + ".lock");
	}

	/**
	 * Takes the lock of an image's change of version, for this operation.
	 *
	 * @throws PsiException when another psi changes its version now
	 */
	static Moving begin(HostLayout layout, String base) throws IOException {
		Path f = lockFile(layout, base);
		Files.createDirectories(f.getParent());
		FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
		FileLock l;
		try {
			l = ch.tryLock();
		} catch (OverlappingFileLockException e) {
			l = null;
		}
		if (l == null) {
			ch.close();
			throw new PsiException("another psi is changing the version of " + base + " now; wait for it to finish (psi versions " + base + " shows where it is)");
		}
		return new Moving(ch, l);
	}

	@Override
	public void close() throws IOException {
		try {
			lock.release();
		} finally {
			channel.close();
		}
	}

	/** @return whether the operation of a record still runs: its lock is held */
	private static boolean alive(HostLayout layout, String base) throws IOException {
		Path f = lockFile(layout, base);
		if (!Files.exists(f)) {
			return false;
		}
		try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
			FileLock l = ch.tryLock();
			if (l == null) {
				return true;
			}
			l.release();
			return false;
		} catch (OverlappingFileLockException e) {
			return true; // this process runs it
		}
	}

	/** Records, inside the reattach's transaction, where an image moves. */
	static void record(Transaction tx, String base, Lifecycle.Moved m) throws IOException {
		Properties p = new Properties();
		p.setProperty("from", m.from());
		p.setProperty("to", m.to());
		if (m.profile() != null) {
			p.setProperty("profile", m.profile());
		}
		p.setProperty("runtime", Boolean.toString(m.runtime()));
		StringWriter w = new StringWriter();
		p.store(w, "written by psi: " + base + " moves from one version to another; the next psi finishes it if this one died");
		tx.mkdirs(DIR, null);
		tx.write(DIR + "/" + base, w.toString().getBytes(StandardCharsets.UTF_8), 0600, null);
	}

	/** Removes the record inside the transaction that keeps or undoes the move. */
	static void clear(Transaction tx, String base) throws IOException {
		tx.unlink(DIR + "/" + base, null);
		tx.rmdir(DIR, null);
	}

	/** @return the moves whose psi died: image name and where it was moving */
	static List<java.util.Map.Entry<String, Lifecycle.Moved>> orphans(HostLayout layout) throws IOException {
		List<java.util.Map.Entry<String, Lifecycle.Moved>> out = new ArrayList<>();
		for (String base : layout.list(DIR)) {
			if (!ImageName.isValidName(base) || base.startsWith(".") || alive(layout, base)) {
				continue;
			}
			read(layout, base).ifPresent(m -> out.add(java.util.Map.entry(base, m)));
		}
		return out;
	}

	/**
	 * @return the change of version of an image under way, as status shows
	 *         it ({@code foo_1 -> foo_2 (watching)}), if any
	 */
	static Optional<String> describe(HostLayout layout, String base) {
		try {
			Optional<Lifecycle.Moved> m = read(layout, base);
			if (m.isEmpty()) {
				return Optional.empty();
			}
			String from = ImageName.stripSuffix(DropInWriter.lastComponent(m.get().from()));
			String to = ImageName.stripSuffix(DropInWriter.lastComponent(m.get().to()));
			return Optional.of(from + " -> " + to + (alive(layout, base) ? " (watching)" : " (interrupted: the next change finishes it)"));
		} catch (IOException e) {
			return Optional.empty();
		}
	}

	/** @return whether any record is there (cheap: one directory listing) */
	static boolean any(HostLayout layout) {
		try {
			return layout.list(DIR).stream().anyMatch(n -> !n.startsWith("."));
		} catch (IOException e) {
			return false;
		}
	}

	private static Optional<Lifecycle.Moved> read(HostLayout layout, String base) {
		try {
			Path f = layout.real(DIR + "/" + base);
			if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) > MAX) {
				return Optional.empty();
			}
			Properties p = new Properties();
			p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
			String from = p.getProperty("from");
			String to = p.getProperty("to");
			return from == null || to == null ? Optional.empty()
				: Optional.of(new Lifecycle.Moved(from, to, p.getProperty("profile"), Boolean.parseBoolean(p.getProperty("runtime"))));
		} catch (IOException | IllegalArgumentException e) {
			return Optional.empty();
		}
	}
}
