package psi.launcher.internal;

import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.apache.felix.service.command.CommandSession;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * One client of the daemon: its request, its command run as its caller
 * (directory, terminal, environment, credentials), its output streamed back
 * as it comes, its Ctrl-C passed on as an interrupt of the command, and the
 * exit status last. A client that goes away interrupts its command too: a
 * followed log stops, a change rolls back or completes, never half-done.
 */
final class Connection {

	/** Seconds a client has to send its request after connecting. */
	static final long REQUEST_SECONDS = 10;

	private final Daemon daemon;
	private final Daemon.Server server;
	private final SocketChannel channel;
	private final Object writeLock = new Object();
	private volatile boolean interrupted;
	/** Set before the exit status is sent: the client may go from then on. */
	private volatile boolean finished;
	/** The threads the command runs on (the session's own pool: no other command's). */
	private final java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();

	Connection(Daemon daemon, Daemon.Server server, SocketChannel channel) {
		this.daemon = daemon;
		this.server = server;
		this.channel = channel;
	}

	/** The request, as the client sent it. */
	record Request(Path cwd, boolean terminal, Map<String, String> env, List<String> args) {

		static Request parse(List<String> strings) throws IOException {
			if (strings.isEmpty() || !strings.get(0).equals("version=1")) {
				throw new IOException("not a psi client, or another version of it (first: " + (strings.isEmpty() ? "nothing" : strings.get(0)) + ")");
			}
			Path cwd = null;
			boolean tty = false;
			Map<String, String> env = new HashMap<>();
			List<String> args = new ArrayList<>();
			for (String s : strings.subList(1, strings.size())) {
				int eq = s.indexOf('=');
				String k = eq < 0 ? s : s.substring(0, eq);
				String v = eq < 0 ? "" : s.substring(eq + 1);
				switch (k) {
					case "cwd" -> cwd = Path.of(v);
					case "tty" -> tty = v.equals("1");
					case "env" -> {
						int e = v.indexOf('=');
						if (e > 0 && Caller.FORWARDED_ENV.contains(v.substring(0, e))) {
							env.put(v.substring(0, e), v.substring(e + 1));
						}
					}
					case "arg" -> args.add(v);
					default -> {
						// a newer client's field: ignored
					}
				}
			}
			if (cwd == null || !cwd.isAbsolute()) {
				throw new IOException("the request names no absolute working directory");
			}
			return new Request(cwd.normalize(), tty, env, args);
		}
	}

	void run() {
		long start = System.nanoTime();
		String who = "?";
		String what = "?";
		int status = 1;
		try (SocketChannel c = channel) {
			ScheduledFuture<?> late = server.timers.schedule(this::close, REQUEST_SECONDS, TimeUnit.SECONDS);
			Frames.Frame f;
			try {
				f = Frames.read(c);
			} finally {
				late.cancel(false);
			}
			if (f == null || f.type() != Frames.REQUEST) {
				throw new IOException(f == null ? "the client sent nothing in " + REQUEST_SECONDS + " s" : "the client's first frame is no request");
			}
			Request req = Request.parse(Frames.strings(f.data()));
			what = req.args().isEmpty() ? "(shell)" : String.join(" ", req.args());
			UnixDomainPrincipal peer = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
			Access access = new Access(peer.user(), peer.group(), daemon.config().adminGroup(), Path.of("/etc/group"), server.root, req.cwd());
			who = access.who();
			PrintStream out = new PrintStream(new Frames.FrameOutputStream(c, writeLock, Frames.STDOUT), true, StandardCharsets.UTF_8);
			PrintStream err = new PrintStream(new Frames.FrameOutputStream(c, writeLock, Frames.STDERR), true, StandardCharsets.UTF_8);
			PipedInputStream in = new PipedInputStream(64 * 1024);
			PipedOutputStream stdin = new PipedOutputStream(in);
			Thread reader = new Thread(() -> readClient(stdin), "psi-daemon-client-reader");
			reader.setDaemon(true);
			reader.start();
			java.io.InputStream wanted = new Frames.WantedInputStream(in, () -> send(Frames.WANT_STDIN, new byte[0]));
			Caller caller = new Caller(req.cwd(), wanted, out, err, req.terminal(), req.env(), access);
			if (req.args().isEmpty()) {
				status = shell(caller, access);
			} else {
				status = daemon.runner().run(req.args(), caller, s -> {
					s.put(psi.shell.command.SessionVariables.INTERRUPTS, (java.util.function.Consumer<Thread>) this::running);
				});
				synchronized (threads) {
					threads.clear(); // done: the session's threads are no longer this command's
				}
			}
			out.flush();
			err.flush();
			finished = true;
			send(Frames.EXIT, Frames.exit(status));
		} catch (IOException | RuntimeException e) {
			server.log("psi daemon: client " + who + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
		} finally {
			long ms = (System.nanoTime() - start) / 1_000_000;
			server.log("psi daemon: " + who + ": " + what + " -> " + status + (interrupted ? " (interrupted)" : "") + " in " + ms + " ms");
		}
	}

	/** The interactive Gogo shell, over the connection; root's (and the admin group's) only. */
	private int shell(Caller caller, Access access) {
		if (!access.admin()) {
			caller.err().println("psi: refused for user " + access.who() + ": the interactive shell is root's; run psi COMMAND (psi --help lists them)");
			return 1;
		}
		CommandSession s = daemon.runner().session(caller);
		s.put(psi.shell.command.SessionVariables.INTERRUPTS, (java.util.function.Consumer<Thread>) this::running);
		try {
			s.execute("gosh --login --noshutdown");
			return 0;
		} catch (Exception e) {
			if (!interrupted) {
				caller.err().println("psi: " + CommandRunner.oneLine(e.toString()));
			}
			return interrupted ? CommandRunner.INTERRUPTED : 1;
		} finally {
			s.close();
		}
	}

	/** Reads the client's frames after the request: standard input, its end, Ctrl-C; the client gone interrupts the command. */
	private void readClient(PipedOutputStream stdin) {
		try {
			while (true) {
				Frames.Frame f = Frames.read(channel);
				if (f == null) {
					break;
				}
				switch (f.type()) {
					case Frames.STDIN -> stdin.write(f.data());
					case Frames.STDIN_EOF -> stdin.close();
					case Frames.INTERRUPT -> interrupt();
					default -> throw new IOException("unknown frame type '" + (char) (f.type() & 0xff) + "'");
				}
			}
		} catch (IOException e) {
			// the client went away, or spoke nonsense: the same as Ctrl-C
		}
		try {
			stdin.close();
		} catch (IOException e) {
			// nothing reads it any more
		}
		if (channel.isOpen() && !finished) {
			interrupt();
		}
	}

	/**
	 * Interrupts the command running for this client (Ctrl-C, the client
	 * gone, the daemon stopping): its own threads, so that it stops as it
	 * would on any interrupt (a pull keeps its partial file, a change rolls
	 * back) and the client still gets its last words and status.
	 */
	void interrupt() {
		interrupted = true;
		synchronized (threads) {
			threads.forEach(Thread::interrupt);
		}
	}

	/** The command's thread, while it runs. */
	void running(Thread t) {
		synchronized (threads) {
			threads.add(t);
		}
	}

	/** Tells a client beyond {@code maxClients} to come back later. */
	void busy(int max) {
		try (SocketChannel c = channel) {
			send(Frames.STDERR, ("psi: the daemon runs " + max + " commands already (maxClients of psi.daemon); try again\n").getBytes(StandardCharsets.UTF_8));
			send(Frames.EXIT, Frames.exit(75));
		} catch (IOException e) {
			// it went away
		}
	}

	/** Sends one frame, between the frames the command's streams write. */
	private void send(byte type, byte[] data) throws IOException {
		synchronized (writeLock) {
			Frames.write(channel, type, data, 0, data.length);
		}
	}

	private void close() {
		try {
			channel.close();
		} catch (IOException e) {
			// closing to end a read
		}
	}
}
