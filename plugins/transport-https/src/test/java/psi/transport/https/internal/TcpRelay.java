package psi.transport.https.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on 127.0.0.1 in front of a server: passes bytes both ways
 * untouched (TLS goes through end to end) and, once {@code budget} bytes went
 * from the server to the client, either cuts both connections or stops
 * passing the server's bytes while keeping the connections open.
 */
final class TcpRelay implements AutoCloseable {

	enum Mode {
		/** Closes both sides after the budget. */
		CUT,
		/** Holds the connection open and silent after the budget. */
		STALL
	}

	private final ServerSocket listener;
	private final int targetPort;
	private final long budget;
	private final Mode mode;
	private final List<Socket> sockets = new CopyOnWriteArrayList<>();
	private final List<Thread> threads = new CopyOnWriteArrayList<>();
	/** Bytes passed from the server to the client, all connections. */
	final AtomicLong passed = new AtomicLong();

	TcpRelay(int targetPort, long budget, Mode mode) throws IOException {
		this.targetPort = targetPort;
		this.budget = budget;
		this.mode = mode;
		this.listener = new ServerSocket();
		listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
		Thread t = new Thread(this::accept, "relay-accept");
		t.setDaemon(true);
		t.start();
	}

	int port() {
		return listener.getLocalPort();
	}

	private void accept() {
		try {
			for (;;) {
				Socket client = listener.accept();
				Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
				sockets.add(client);
				sockets.add(server);
				pump(client, server, Long.MAX_VALUE, "relay-up");
				pump(server, client, budget, "relay-down");
			}
		} catch (IOException e) {
			// closed
		}
	}

	private void pump(Socket from, Socket to, long limit, String name) {
		Thread t = new Thread(() -> {
			byte[] buf = new byte[16384];
			long sent = 0;
			try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
				for (int n; (n = in.read(buf, 0, (int) Math.min(buf.length, Math.max(1, limit - sent)))) > 0;) {
					out.write(buf, 0, n);
					sent += n;
					if (limit != Long.MAX_VALUE) {
						passed.addAndGet(n);
					}
					if (sent >= limit) {
						if (mode == Mode.CUT) {
							from.close();
							to.close();
							return;
						}
						// STALL: keep both open, pass nothing more
						Thread.sleep(Long.MAX_VALUE);
					}
				}
			} catch (IOException | InterruptedException e) {
				// the other side closed, or the relay did
			} finally {
				try {
					to.shutdownOutput();
				} catch (IOException e) {
					// already closed
				}
			}
		}, name);
		t.setDaemon(true);
		threads.add(t);
		t.start();
	}

	@Override
	public void close() throws IOException {
		listener.close();
		for (Socket s : sockets) {
			s.close();
		}
		for (Thread t : threads) {
			t.interrupt();
		}
	}
}
