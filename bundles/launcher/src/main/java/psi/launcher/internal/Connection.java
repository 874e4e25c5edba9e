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
	/** Where frames go: straight to the channel, or, for the shell's line editor, through a writer thread. */
	private volatile Frames.Sink sink;
	private volatile boolean interrupted;
	/** Set before the exit status is sent: the client may go from then on. */
	private volatile boolean finished;
	/** The threads the command runs on (the session's own pool: no other command's). */
	private final java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();

	Connection(Daemon daemon, Daemon.Server server, SocketChannel channel) {
		this.daemon = daemon;
		this.server = server;
		this.channel = channel;
		this.sink = Frames.Sink.direct(channel, writeLock);
	}

	/** The console of the interactive shell on the client's terminal, while it runs. */
	private volatile Console console;
	private volatile org.jline.terminal.Terminal consoleTerminal;

	/**
	 * The request, as the client sent it.
	 *
	 * @param console whether the client's terminal is in raw mode for the interactive shell's line editor
	 * @param columns its width (0: unknown)
	 * @param rows its height (0: unknown)
	 */
	record Request(Path cwd, boolean terminal, Map<String, String> env, List<String> args, boolean console, int columns, int rows) {

		static Request parse(List<String> strings) throws IOException {
			if (strings.isEmpty() || !strings.get(0).equals("version=1")) {
				throw new IOException("not a psi client, or another version of it (first: " + (strings.isEmpty() ? "nothing" : strings.get(0)) + ")");
			}
			Path cwd = null;
			boolean tty = false;
			boolean console = false;
			int columns = 0;
			int rows = 0;
			Map<String, String> env = new HashMap<>();
			List<String> args = new ArrayList<>();
			for (String s : strings.subList(1, strings.size())) {
				int eq = s.indexOf('=');
				String k = eq < 0 ? s : s.substring(0, eq);
				String v = eq < 0 ? "" : s.substring(eq + 1);
				switch (k) {
					case "cwd" -> cwd = Path.of(v);
					case "tty" -> tty = v.equals("1");
					case "console" -> console = v.equals("1");
					case "cols" -> columns = dimension(v);
					case "rows" -> rows = dimension(v);
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
			return new Request(cwd.normalize(), tty, env, args, console, columns, rows);
		}

		/** @return a terminal's columns or rows: 1 to 9999, else 0 (unknown) */
		static int dimension(String v) {
			try {
				int n = Integer.parseInt(v);
				return n > 0 && n < 10_000 ? n : 0;
			} catch (NumberFormatException e) {
				return 0;
			}
		}
	}

	void run() {
		long start = System.nanoTime();
		String who = "?";
		String what = "?";
		int status = 1;
		Frames.Writer writer = null;
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
			if (req.console() && req.args().isEmpty()) {
				writer = new Frames.Writer(c, "psi-daemon-shell-writer");
				sink = writer;
			}
			PrintStream out = new PrintStream(new Frames.FrameOutputStream(sink, Frames.STDOUT), true, StandardCharsets.UTF_8);
			PrintStream err = new PrintStream(new Frames.FrameOutputStream(sink, Frames.STDERR), true, StandardCharsets.UTF_8);
			PipedInputStream in = new PipedInputStream(64 * 1024);
			PipedOutputStream stdin = new PipedOutputStream(in);
			Thread reader = new Thread(() -> readClient(stdin), "psi-daemon-client-reader");
			reader.setDaemon(true);
			reader.start();
			java.io.InputStream wanted = new Frames.WantedInputStream(in, () -> send(Frames.WANT_STDIN, new byte[0]));
			Caller caller = new Caller(req.cwd(), wanted, out, err, req.terminal(), req.env(), access);
			if (req.args().isEmpty()) {
				status = shell(caller, access, req);
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
			Thread.interrupted(); // a last Ctrl-C is not to close the channel under the exit status
			send(Frames.EXIT, Frames.exit(status));
			if (writer != null) {
				writer.close(); // the exit status written before the channel closes
			}
		} catch (IOException | RuntimeException e) {
			server.log("psi daemon: client " + who + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
		} finally {
			if (writer != null) {
				try {
					writer.close();
				} catch (IOException e) {
					// the client went away: nothing more to say to it
				}
			}
			long ms = (System.nanoTime() - start) / 1_000_000;
			server.log("psi daemon: " + who + ": " + what + " -> " + status + (interrupted ? " (interrupted)" : "") + " in " + ms + " ms");
		}
	}

	/**
	 * The interactive shell, over the connection; root's (and the admin
	 * group's) only. On a client's terminal in raw mode ({@code console=1})
	 * psi's line editor runs here, on a terminal made of the connection's
	 * streams; else the lines the client sends run one after the other.
	 */
	private int shell(Caller caller, Access access, Request req) {
		if (!access.admin()) {
			caller.err().println("psi: refused for user " + access.who() + ": the daemon's shell is root's; run psi COMMAND (psi --help lists them), or psi --no-daemon for a shell of your own");
			return 1;
		}
		// the shell's commands operate on the root this daemon serves
		String root = server.root.toString().equals("/") ? null : server.root.toString();
		if (!req.console()) {
			Console c = new Console(daemon.runner(), caller, root);
			console = c;
			return c.run();
		}
		String type = req.env().getOrDefault("TERM", "dumb");
		// the client's line discipline, emulated here (Ctrl-C raises INT): no pseudo-terminal is needed
		try (org.jline.terminal.Terminal t = new org.jline.terminal.impl.ExternalTerminal("psi", type, caller.in(), caller.out(), StandardCharsets.UTF_8)) {
			t.setSize(new org.jline.terminal.Size(req.columns() > 0 ? req.columns() : 80, req.rows() > 0 ? req.rows() : 24));
			Console c = new Console(daemon.runner(), new Caller(caller.cwd(), t.input(), caller.out(), caller.err(), true, caller.env(), caller.gate()), root);
			consoleTerminal = t;
			console = c;
			return c.run(t, null);
		} catch (IOException e) {
			caller.err().println("psi: the shell's terminal: " + CommandRunner.oneLine(e.getMessage()));
			return 1;
		} finally {
			consoleTerminal = null;
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
					case Frames.WINDOW -> resize(f.data());
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
		Console c = console;
		if (c != null) {
			c.interrupt();
		}
	}

	/** The client's terminal was resized: the console's line editor redraws for the new width. */
	private void resize(byte[] data) {
		org.jline.terminal.Terminal t = consoleTerminal;
		if (t == null || data.length != 4) {
			return;
		}
		int columns = (data[0] & 0xff) << 8 | data[1] & 0xff;
		int rows = (data[2] & 0xff) << 8 | data[3] & 0xff;
		if (columns > 0 && rows > 0) {
			t.setSize(new org.jline.terminal.Size(columns, rows));
			t.raise(org.jline.terminal.Terminal.Signal.WINCH);
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
		sink.frame(type, data, 0, data.length);
	}

	private void close() {
		try {
			channel.close();
		} catch (IOException e) {
			// closing to end a read
		}
	}
}
