package psi.core.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The one lock every change to a host takes: an advisory lock
 * ({@code flock(2)} through {@link FileChannel#lock()}) on
 * {@code /run/psi/host.lock} under the root, so that psi processes, the
 * daemon's threads and the one-shot commands change a host one at a time.
 * Held only for the change itself: fetching and verifying run outside it.
 * <p>
 * A JVM cannot take one file lock twice, so the threads of one JVM first
 * queue on a {@link ReentrantLock} per lock file; a thread that holds the
 * lock may take it again (a start that attaches).
 */
final class HostLock {

	/** The lock file, as the host sees it; in {@code /run}, gone at the next boot. */
	static final String PATH = "/run/psi/host.lock";

	/** How long to wait quietly before saying that another psi holds the lock. */
	static final long QUIET_MILLIS = 500;

	private static final ConcurrentHashMap<Path, Holder> HOLDERS = new ConcurrentHashMap<>();

	/** The lock of one file in this JVM. */
	private static final class Holder {
		final ReentrantLock threads = new ReentrantLock();
		FileChannel channel; // guarded by threads
	}

	private HostLock() {
	}

	/** A held lock; closing releases it. */
	interface Held extends AutoCloseable {
		@Override
		void close();

		/**
		 * @return what taking the lock recovered: an operation another psi left
		 *         half done when it was killed, now undone or finished; {@code null} for none
		 */
		default Journal.Recovery recovered() {
			return null;
		}
	}

	/**
	 * Takes the lock of a host, waiting as long as it takes.
	 *
	 * @param layout the host
	 * @param waiting told once, after a moment, that another holds it (one line)
	 * @return the held lock
	 */
	static Held take(HostLayout layout, Consumer<String> waiting) throws IOException {
		Path file = layout.real(PATH).toAbsolutePath().normalize();
		Holder h = HOLDERS.computeIfAbsent(file, f -> new Holder());
		boolean said = false;
		try {
			if (!h.threads.tryLock(QUIET_MILLIS, TimeUnit.MILLISECONDS)) {
				waiting.accept("Waiting for another operation of this psi on " + layout.root() + " to finish…");
				said = true;
				h.threads.lockInterruptibly();
			}
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new java.io.InterruptedIOException("interrupted while waiting for " + file);
		}
		if (h.threads.getHoldCount() > 1) {
			return h.threads::unlock;
		}
		try {
			Files.createDirectories(file.getParent());
			FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
			try {
				FileLock l = ch.tryLock();
				long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS);
				while (l == null && System.nanoTime() < deadline) {
					Thread.sleep(20);
					l = ch.tryLock();
				}
				if (l == null) {
					if (!said) {
						waiting.accept("Waiting for another psi (" + holder(ch) + ") to finish changing " + layout.root()
							+ " (" + file + " is locked)…");
					}
					ch.lock();
				}
				// who holds it, for the next one waiting
				ch.truncate(0);
				ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
			} catch (IOException | InterruptedException | RuntimeException e) {
				ch.close();
				throw e;
			}
			h.channel = ch;
		} catch (InterruptedException e) {
			h.threads.unlock();
			Thread.currentThread().interrupt();
			throw new java.io.InterruptedIOException("interrupted while waiting for " + file);
		} catch (IOException | RuntimeException e) {
			h.threads.unlock();
			throw e;
		}
		Held held = () -> {
			try {
				if (h.threads.getHoldCount() == 1) {
					try {
						h.channel.close(); // releases the file lock
					} catch (IOException e) {
						// closing releases the lock whatever it reports
					}
					h.channel = null;
				}
			} finally {
				h.threads.unlock();
			}
		};
		// the first holder after a psi was killed mid-change undoes or finishes that change
		Journal.Recovery r;
		try {
			r = Journal.recover(layout);
		} catch (IOException | RuntimeException e) {
			held.close();
			throw new IOException("cannot undo an operation that was interrupted (" + e.getMessage() + "); psi changes nothing until it can", e);
		}
		if (r == null) {
			return held;
		}
		return new Held() {
			@Override
			public void close() {
				held.close();
			}

			@Override
			public Journal.Recovery recovered() {
				return r;
			}
		};
	}

	/** @return what the lock file says of its holder, e.g. {@code pid 1234} */
	private static String holder(FileChannel ch) {
		try {
			ByteBuffer b = ByteBuffer.allocate(64);
			ch.read(b, 0);
			String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
			return s.matches("pid [0-9]+") ? s : "pid unknown";
		} catch (IOException e) {
			return "pid unknown";
		}
	}
}
