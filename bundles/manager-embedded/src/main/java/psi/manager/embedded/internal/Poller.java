package psi.manager.embedded.internal;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One thread of psi's own service manager that waits, in {@code poll(2)},
 * for any of the file descriptors it watches to become readable: the
 * listening sockets of socket units and the services' notification
 * sockets. It sleeps in the kernel while nothing happens. A handler runs on
 * this thread; it must read what is waiting or stop watching its
 * descriptor, and hand long work to another thread.
 */
final class Poller implements AutoCloseable {

	/** Told that a descriptor is readable. */
	interface Handler {
		void readable(int fd);
	}

	private final Map<Integer, Handler> watched = new ConcurrentHashMap<>();
	private final int[] wake;
	private final Thread thread;
	private volatile boolean closed;

	Poller() throws IOException {
		wake = Native.pipe();
		thread = new Thread(this::run, "psi-embedded-poller");
		thread.setDaemon(true);
		thread.start();
	}

	/** Watches a descriptor until {@link #remove(int)}. */
	void add(int fd, Handler h) {
		watched.put(fd, h);
		wakeUp();
	}

	/** Stops watching a descriptor (the caller still owns and closes it). */
	void remove(int fd) {
		if (watched.remove(fd) != null) {
			wakeUp();
		}
	}

	private void wakeUp() {
		Native.libc().write(wake[1], new byte[] {1}, 1);
	}

	private void run() {
		byte[] drain = new byte[64];
		while (!closed) {
			Integer[] fds = watched.keySet().toArray(Integer[]::new);
			int[] all = new int[fds.length + 1];
			all[0] = wake[0];
			for (int i = 0; i < fds.length; i++) {
				all[i + 1] = fds[i];
			}
			boolean[] ready;
			try {
				ready = Native.poll(all, -1);
			} catch (IOException e) {
				System.err.println("psi: the embedded manager's poller: " + e.getMessage());
				sleep();
				continue;
			}
			if (ready[0]) {
				while (Native.libc().read(wake[0], drain, drain.length) > 0) {
					// drained
				}
			}
			for (int i = 0; i < fds.length; i++) {
				Handler h = ready[i + 1] ? watched.get(fds[i]) : null;
				if (h != null) {
					try {
						h.readable(fds[i]);
					} catch (RuntimeException e) {
						System.err.println("psi: the embedded manager's poller: " + e);
					}
				}
			}
		}
	}

	private static void sleep() {
		try {
			Thread.sleep(100);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public void close() {
		closed = true;
		wakeUp();
		try {
			thread.join(2000);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
		Native.close(wake[0]);
		Native.close(wake[1]);
	}
}
