package psi.launcher.internal;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import psi.api.PsiException;
import psi.shell.command.CommandOutput;
import psi.spi.manager.ResidentFramework;

/**
 * {@code psi daemon}: psi resident. Serves psi commands to clients on a
 * UNIX socket, {@code ROOT/run/psi/psi.sock} (or the listening socket
 * systemd hands it on standard input, {@code psi.socket}), each in its own
 * thread and Gogo session, deciding by the peer's credentials what it may
 * run ({@link Access}). Runs until SIGTERM or SIGINT, then stops taking
 * commands, lets the running ones finish (interrupting them after
 * {@code stopTimeout} seconds: every host change rolls back), removes its
 * socket and returns, so that psi exits with 0.
 */
@Component(service = Daemon.class, configurationPid = Daemon.PID, property = { "osgi.command.scope=psi", "osgi.command.function=daemon" })
@Designate(ocd = Daemon.Config.class)
public class Daemon {

	/** The configuration PID ({@code /etc/psi/psi.daemon.cfg}). */
	static final String PID = "psi.daemon";

	/** The daemon's socket under the root it serves. */
	static final String SOCKET = "run/psi/psi.sock";

	/** The log file of a daemon started in the background (psi daemon --background). */
	static final String LOG = "/var/log/psi/psi.log";

	/** psi's daemon. */
	@ObjectClassDefinition(name = "psi daemon")
	public @interface Config {
		/** @return the group whose members may do what root may */
		@AttributeDefinition(description = "Members of this group may run every command, as root; empty: root alone")
		String adminGroup() default "";

		/** @return how many commands run at once */
		@AttributeDefinition(description = "Commands run at once; a client beyond them is told to try again")
		int maxClients() default 64;

		/** @return seconds a stop waits for running commands */
		@AttributeDefinition(description = "Seconds a stop (SIGTERM) waits for running commands before interrupting them")
		int stopTimeout() default 60;

		/** @return hours between the daemon's own runs of psi update; 0: none */
		@AttributeDefinition(description = "Hours between runs of psi update by the daemon itself (where no psi-update.timer runs it: psi's own service manager); 0: never")
		int updateHours() default 0;
	}

	private final CommandRunner runner;
	private final BundleContext context;
	private volatile Config config;
	private final Set<Connection> running = ConcurrentHashMap.newKeySet();
	private volatile Server server;
	private final Settings settings;

	/**
	 * @param runner runs the commands
	 * @param context registers the daemon's presence for the managers that run services themselves
	 * @param config the configuration
	 * @param settings psi's settings, whose problems go to the daemon's log
	 */
	@Activate
	public Daemon(@Reference CommandRunner runner, BundleContext context, Config config, @Reference Settings settings) {
		this.runner = runner;
		this.context = context;
		this.config = config;
		this.settings = settings;
	}

	@Modified
	void modified(Config c) {
		this.config = c;
	}

	@Deactivate
	void deactivate() {
		Server s = server;
		if (s != null) {
			s.stop("the framework stops");
		}
	}

	/** The running daemon: its socket, log and threads. */
	final class Server {
		final ServerSocketChannel channel;
		final Path socket; // null when systemd owns it
		volatile ServiceRegistration<ResidentFramework> resident;
		/** Said once the daemon serves: after psi's own service manager has taken over the root. */
		volatile String listening = "";
		final Path root;
		final PrintStream log;
		final boolean logToFile;
		final ExecutorService workers = Executors.newCachedThreadPool(r -> {
			Thread t = new Thread(r, "psi-daemon-client");
			t.setDaemon(true);
			return t;
		});
		final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
			Thread t = new Thread(r, "psi-daemon-timer");
			t.setDaemon(true);
			return t;
		});
		volatile boolean stopping;
		private final Object stopped = new Object();
		private boolean done;

		Server(ServerSocketChannel channel, Path socket, Path root, PrintStream log, boolean logToFile) {
			this.channel = channel;
			this.socket = socket;
			this.root = root;
			this.log = log;
			this.logToFile = logToFile;
		}

		void log(String line) {
			String l = CommandRunner.oneLine(line);
			synchronized (log) {
				log.println(logToFile ? Instant.now().truncatedTo(ChronoUnit.MILLIS) + " " + l : l);
				log.flush();
			}
		}

		/** Runs psi update for the root served, as psi-update.service would, its output to the log. */
		void update() {
			if (stopping) {
				return;
			}
			java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
			PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
			Caller caller = new Caller(root, java.io.InputStream.nullInputStream(), out, out, false, java.util.Map.of(), Caller.Gate.ANY);
			int status = runner.run(java.util.List.of("--root", root.toString(), "update"), caller);
			for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
				if (!line.isBlank()) {
					log("psi daemon: update: " + line);
				}
			}
			log("psi daemon: update -> " + status);
		}

		/** Accepts clients until stopped. */
		void serve() {
			while (!stopping) {
				SocketChannel c;
				try {
					c = channel.accept();
				} catch (ClosedChannelException e) {
					break;
				} catch (IOException e) {
					if (stopping) {
						break;
					}
					log("psi daemon: accepting a client failed: " + e.getMessage());
					sleep(50);
					continue;
				}
				if (stopping) {
					close(c); // our own wake-up, or a client just too late: it sees the connection closed
					break;
				}
				Connection conn = new Connection(Daemon.this, this, c);
				if (running.size() >= config.maxClients()) {
					workers.execute(() -> conn.busy(config.maxClients()));
					continue;
				}
				running.add(conn);
				workers.execute(() -> {
					try {
						conn.run();
					} finally {
						running.remove(conn);
						synchronized (running) {
							running.notifyAll();
						}
					}
				});
			}
			finish();
		}

		/** Stops taking commands; {@link #serve} then winds down. */
		void stop(String why) {
			if (stopping) {
				return;
			}
			stopping = true;
			log("psi daemon: stopping (" + why + ")" + (running.isEmpty() ? "" : ", " + running.size() + " command(s) running"));
			try {
				if (socket == null) {
					// systemd's socket stays open: closing an inherited channel makes the JDK point
					// standard error at /dev/null (its inetd heritage), and the last log lines would be
					// lost. A connection of our own wakes the accept instead.
					SocketChannel.open(channel.getLocalAddress()).close();
				} else {
					channel.close();
				}
			} catch (IOException e) {
				// closed already
			}
			synchronized (stopped) {
				long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(config.stopTimeout() + 15L);
				while (!done && System.nanoTime() < deadline) {
					try {
						stopped.wait(100);
					} catch (InterruptedException e) {
						Thread.currentThread().interrupt();
						return;
					}
				}
			}
		}

		/** Waits for the running commands, interrupts the stragglers, removes the socket. */
		private void finish() {
			try {
				if (!awaitRunning(TimeUnit.SECONDS.toNanos(config.stopTimeout()))) {
					log("psi daemon: interrupting " + running.size() + " command(s) still running after " + config.stopTimeout() + " s");
					running.forEach(Connection::interrupt);
					awaitRunning(TimeUnit.SECONDS.toNanos(10));
				}
				if (socket != null) {
					try {
						Files.deleteIfExists(socket);
					} catch (IOException e) {
						log("psi daemon: cannot remove " + socket + ": " + e.getMessage());
					}
				}
				workers.shutdownNow();
				timers.shutdownNow();
				if (resident != null) {
					// psi's own service manager stops the services it runs for this root
					try {
						resident.unregister();
					} catch (IllegalStateException gone) {
						// the framework stops: it went already
					}
					resident = null;
				}
				log("psi daemon: stopped");
			} finally {
				synchronized (stopped) {
					done = true;
					stopped.notifyAll();
				}
			}
		}

		private boolean awaitRunning(long nanos) {
			long deadline = System.nanoTime() + nanos;
			synchronized (running) {
				while (!running.isEmpty()) {
					long left = deadline - System.nanoTime();
					if (left <= 0) {
						return false;
					}
					try {
						running.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
					} catch (InterruptedException e) {
						Thread.currentThread().interrupt();
						return running.isEmpty();
					}
				}
			}
			return true;
		}
	}

	CommandRunner runner() {
		return runner;
	}

	Config config() {
		return config;
	}

	/** psi daemon. */
	@Descriptor("Run psi resident: serve psi commands to clients on /run/psi/psi.sock (DIR/run/psi/psi.sock with --root DIR), or on the socket systemd passes (psi.socket), until SIGTERM or SIGINT")
	public CommandOutput daemon(//
		@Descriptor("Serve the host whose root is DIR, on DIR/run/psi/psi.sock") @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Log to FILE (appending, one line per event) instead of standard error; psi daemon --background logs to " + LOG) @Parameter(names = "--log", absentValue = "") String logFile,
		@Descriptor("Start in the background, logging to " + LOG + " (under DIR with --root), and return once it answers") @Parameter(names = "--background", presentValue = "true", absentValue = "false") boolean background)
		throws IOException {
		if (background) {
			// the launcher script detaches the process and passes --log; reaching here means it was run without it
			throw new PsiException("psi daemon --background is handled by the psi launcher script; run psi daemon --log FILE in the background yourself");
		}
		Path r = Path.of(root.isEmpty() ? "/" : root).toAbsolutePath().normalize();
		if (!Files.isDirectory(r)) {
			throw new PsiException("psi daemon: the root " + r + " is not a directory");
		}
		PrintStream log = logFile.isEmpty() ? new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8) : openLog(Path.of(logFile));
		Server s = listen(r, log, !logFile.isEmpty());
		synchronized (this) {
			if (server != null) {
				s.channel.close();
				throw new PsiException("psi daemon: this psi runs a daemon already");
			}
			server = s;
		}
		Signals signals = Signals.install(why -> {
			Server now = server;
			if (now != null) {
				// the signal handler's thread must not wait for the commands: stop on its own thread
				Thread t = new Thread(() -> now.stop(why), "psi-daemon-stop");
				t.setDaemon(true);
				t.start();
			}
		});
		// while it is registered, psi's own service manager runs services for this root; they stop when
		// it goes. Registered once the socket is ours (no other daemon serves this root), before the
		// daemon says it listens: what a killed daemon left running is stopped by then
		ResidentFramework resident = () -> r;
		s.resident = context.registerService(ResidentFramework.class, resident, null);
		s.log(s.listening);
		settings.logTo(s::log);
		org.osgi.framework.BundleListener plugins = PluginFolder.logging(context, s::log, s.timers);
		context.addBundleListener(plugins);
		java.util.List<java.io.File> folders = PluginFolder.all(context);
		s.log("psi daemon: plugin folder: " + (folders.isEmpty() ? "none (see the launcher script psi)"
			: String.join(", ", folders.stream().map(String::valueOf).toList()) + " (bundle jars dropped there are installed)"));
		int hours = config.updateHours();
		if (hours > 0) {
			// the schedule of psi-update.timer, where systemd does not run it: first after a random part of an hour, as its RandomizedDelaySec
			long first = 60 + new java.util.Random().nextInt(3600);
			s.timers.scheduleAtFixedRate(() -> s.update(), first, hours * 3600L, java.util.concurrent.TimeUnit.SECONDS);
			s.log("psi daemon: psi update runs every " + hours + " h, first in " + first + " s");
		}
		try {
			s.serve();
		} finally {
			context.removeBundleListener(plugins);
			settings.logTo(null);
			signals.restore();
			synchronized (this) {
				server = null;
			}
		}
		return () -> "";
	}

	private static PrintStream openLog(Path f) throws IOException {
		Path dir = f.toAbsolutePath().getParent();
		if (dir != null && !Files.isDirectory(dir)) {
			Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
		}
		OutputStream o = Files.newOutputStream(f, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
		Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
		return new PrintStream(o, true, StandardCharsets.UTF_8);
	}

	/**
	 * Takes the listening socket systemd passes on standard input, or makes
	 * one: in a directory only root can write to, under a temporary name, its
	 * mode set to 0666 (who may do what is decided per command, by
	 * credentials), then renamed into place, so that no client ever sees it
	 * half made. A socket a live daemon answers on is not taken over.
	 */
	private Server listen(Path root, PrintStream log, boolean toFile) throws IOException {
		Channel inherited = System.inheritedChannel();
		if (inherited instanceof ServerSocketChannel ssc && ssc.getLocalAddress() instanceof UnixDomainSocketAddress a) {
			Server s = new Server(ssc, null, root, log, toFile);
			s.listening = "psi daemon: listening on " + a.getPath() + " (passed by the service manager), serving the root " + root;
			return s;
		}
		Path socket = root.resolve(SOCKET);
		Path dir = socket.getParent();
		Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
		if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
			throw new PsiException("psi daemon: " + dir + " is not a directory (a link?); refusing to put psi's socket there");
		}
		Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
		if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
			throw new PsiException("psi daemon: " + dir + " is writable by others (" + PosixFilePermissions.toString(mode)
				+ "); refusing to put psi's socket there");
		}
		if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
			try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
				throw new PsiException("psi daemon: another psi daemon answers on " + socket + "; stop it first");
			} catch (IOException stale) {
				Files.delete(socket); // a daemon killed before it removed its socket
			}
		}
		Path tmp = dir.resolve(".psi.sock." + ProcessHandle.current().pid());
		Files.deleteIfExists(tmp);
		ServerSocketChannel ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
		try {
			ssc.bind(UnixDomainSocketAddress.of(tmp), 128);
			Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-rw-rw-"));
			Files.move(tmp, socket, StandardCopyOption.ATOMIC_MOVE);
		} catch (IOException | RuntimeException e) {
			ssc.close();
			Files.deleteIfExists(tmp);
			throw e;
		}
		Server s = new Server(ssc, socket, root, log, toFile);
		s.listening = "psi daemon: listening on " + socket + ", serving the root " + root + " (pid " + ProcessHandle.current().pid() + ")";
		return s;
	}

	private static void close(SocketChannel c) {
		try {
			c.close();
		} catch (IOException e) {
			// nothing to tell
		}
	}

	private static void sleep(long ms) {
		try {
			Thread.sleep(ms);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}
}
