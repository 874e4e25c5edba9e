package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;

/**
 * Hands file descriptors (the sockets of socket activation) to a process
 * psi starts. A JVM's child inherits no descriptor beyond 0–2, so the child
 * fetches them: its first step, {@code psi-exec --recv-fds SOCKET N},
 * connects to this one-shot UNIX socket (in the service's runtime directory,
 * root's alone), receives them in one {@code SCM_RIGHTS} message, puts them
 * at 3.. and runs bubblewrap, which keeps them for the service.
 */
final class Handoff implements AutoCloseable {

	private final UnixServerSocketChannel server;
	private final Path path;

	private Handoff(UnixServerSocketChannel server, Path path) {
		this.server = server;
		this.path = path;
	}

	/** Listens at a path, for one connection. */
	static Handoff listen(Path path) throws IOException {
		Files.deleteIfExists(path);
		UnixServerSocketChannel s = UnixServerSocketChannel.open();
		try {
			try (Native.SocketPath sp = Native.socketPath(path)) {
				s.socket().bind(new UnixSocketAddress(sp.path()));
			}
			Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
			s.configureBlocking(false);
		} catch (IOException | RuntimeException e) {
			s.close();
			throw new IOException("the socket hand-off " + path + ": " + e.getMessage(), e);
		}
		return new Handoff(s, path);
	}

	Path path() {
		return path;
	}

	/**
	 * Sends the descriptors to the first process that connects.
	 *
	 * @param child the started process, whose end stops the wait
	 * @param timeoutMs how long to wait for it
	 */
	void send(int[] fds, ProcessHandle child, long timeoutMs) throws IOException {
		long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
		while (true) {
			UnixSocketChannel c = server.accept();
			if (c != null) {
				try (c) {
					Native.sendFds(c.getFD(), fds);
				}
				return;
			}
			if (!child.isAlive()) {
				throw new IOException("the service's process ended before it took its sockets");
			}
			if (System.nanoTime() > deadline) {
				throw new IOException("the service's process did not take its sockets in time");
			}
			try {
				Thread.sleep(2);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new IOException("interrupted while passing the sockets");
			}
		}
	}

	@Override
	public void close() {
		try {
			server.close();
		} catch (IOException e) {
			// closed anyway
		}
		try {
			Files.deleteIfExists(path);
		} catch (IOException e) {
			// the next start replaces it
		}
	}
}
