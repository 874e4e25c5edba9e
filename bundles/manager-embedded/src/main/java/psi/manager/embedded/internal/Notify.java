package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

/**
 * A service's notification socket, the {@code $NOTIFY_SOCKET} of
 * {@code sd_notify(3)}: a datagram socket of its own (a jnr-unixsocket
 * channel with {@code SO_PASSCRED}, so that every message carries the
 * sender's pid as the kernel saw it), read by the manager's {@link Poller}.
 * One socket per service, so a message names its service by where it
 * arrives; who may send is decided by the service from the pid
 * ({@code NotifyAccess=}).
 */
final class Notify implements AutoCloseable {

	/** Bytes of one message at most, as systemd's {@code NOTIFY_BUFFER_MAX}. */
	static final int MAX_MESSAGE = 4096;

	/** Told each message, on the poller's thread. */
	interface Listener {
		/**
		 * @param pid the sender's pid, as the kernel saw it
		 * @param uid the sender's uid, as the kernel saw it
		 */
		void message(long pid, long uid, Map<String, String> fields);
	}

	private final UnixDatagramChannel channel;
	private final int fd;
	private final Path path;
	private final Poller poller;

	private Notify(UnixDatagramChannel channel, Path path, Poller poller) {
		this.channel = channel;
		this.fd = channel.getFD();
		this.path = path;
		this.poller = poller;
	}

	/**
	 * Binds a notification socket at a host path (any old socket there is
	 * replaced) that any user may send to: the sandbox decides who reaches
	 * it, the sender's pid who is heard.
	 */
	static Notify open(Path path, Poller poller, Listener listener) throws IOException {
		Files.createDirectories(path.getParent());
		Files.deleteIfExists(path);
		UnixDatagramChannel ch = UnixDatagramChannel.open();
		try {
			// the channel offers SO_PASSCRED only on stream sockets
			Native.check(Native.libc().setsockopt(ch.getFD(), Native.SOL_SOCKET, Native.SO_PASSCRED, new int[] {1}, 4), "SO_PASSCRED");
			try (Native.SocketPath sp = Native.socketPath(path)) {
				ch.bind(new UnixSocketAddress(sp.path()));
			}
			ch.configureBlocking(false);
			Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
		} catch (IOException | RuntimeException e) {
			ch.close();
			throw new IOException("the notification socket " + path + ": " + e.getMessage(), e);
		}
		Notify n = new Notify(ch, path, poller);
		poller.add(n.fd, fd -> n.drain(listener));
		return n;
	}

	/** @return the host path of the socket */
	Path path() {
		return path;
	}

	private void drain(Listener listener) {
		for (int i = 0; i < 64; i++) {
			Native.Datagram d;
			try {
				d = Native.receive(fd, MAX_MESSAGE);
			} catch (IOException e) {
				return;
			}
			if (d == null) {
				return;
			}
			listener.message(d.pid(), d.uid(), parse(d.text()));
		}
	}

	/** @return the assignments of a message, one per line; lines without {@code =} ignored, as systemd does */
	static Map<String, String> parse(String text) {
		Map<String, String> out = new LinkedHashMap<>();
		for (String line : text.split("\n")) {
			int eq = line.indexOf('=');
			if (eq > 0) {
				out.put(line.substring(0, eq), line.substring(eq + 1));
			}
		}
		return out;
	}

	@Override
	public void close() {
		poller.remove(fd);
		try {
			channel.close();
		} catch (IOException e) {
			// closed anyway
		}
		try {
			Files.deleteIfExists(path);
		} catch (IOException e) {
			// left for the next start, which replaces it
		}
	}
}
