package psi.manager.embedded.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import psi.spi.manager.ActiveState;
import psi.spi.manager.ResidentFramework;
import psi.spi.manager.ServiceManager;
import psi.spi.manager.ServiceManagerName;
import psi.spi.unit.UnitFile;
import psi.spi.unit.Words;

/**
 * psi's own service manager: runs the attached units of the root the psi
 * daemon serves, where systemd is not PID 1 (containers, CI machines, WSL,
 * minimal hosts), each service in a bubblewrap sandbox translated from its
 * unit, drop-ins and profile, tracked in a control group, its output kept
 * under {@code /var/log/psi/}. Available only inside the daemon
 * ({@link ResidentFramework}), since services must outlive the command that
 * starts them; they stop when the daemon stops, and what a killed daemon
 * left running is stopped when the next one starts.
 */
@Component(service = ServiceManager.class, immediate = true, configurationPid = EmbeddedManager.PID, property = "service.ranking:Integer=-10")
@ServiceManagerName(name = "embedded")
@Designate(ocd = EmbeddedManager.Config.class)
public final class EmbeddedManager implements ServiceManager {

	/** The configuration PID. */
	static final String PID = "psi.manager.embedded";

	/** psi's own service manager. */
	@ObjectClassDefinition(name = "psi's own service manager")
	public @interface Config {
		/** @return bubblewrap */
		@AttributeDefinition(description = "bubblewrap, which builds each service's sandbox (Debian package bubblewrap)")
		String bwrap() default "/usr/bin/bwrap";

		/** @return psi-exec */
		@AttributeDefinition(description = "psi-exec, psi's static credentials helper; empty: the one beside the psi launcher, else /usr/lib/psi/psi-exec")
		String exec() default "";

		/** @return the size a service's log file may reach before it is rotated */
		@AttributeDefinition(description = "Bytes a service's log file under /var/log/psi may reach before it is rotated")
		long logMaxBytes() default 8L << 20;

		/** @return how many rotated files are kept */
		@AttributeDefinition(description = "Rotated log files kept per service")
		int logKeep() default 2;

		/** @return whether to run services also where systemd is PID 1 */
		@AttributeDefinition(description = "Run services with psi's own manager even where systemd is PID 1 (raise service.ranking above systemd's too)")
		boolean whereSystemdRuns() default false;

		/** @return how a RootImage= is mounted */
		@AttributeDefinition(description = "How a RootImage= is mounted: auto (loop devices through systemd-dissect, with dm-verity, where the host has them; "
			+ "else squashfuse, which refuses images with verity data), loop, or squashfuse", options = {
				@org.osgi.service.metatype.annotations.Option(value = "auto"), @org.osgi.service.metatype.annotations.Option(value = "loop"),
				@org.osgi.service.metatype.annotations.Option(value = "squashfuse")})
		String imageMount() default "auto";
	}

	private volatile Config config;
	private final Map<String, Service> services = new ConcurrentHashMap<>();
	private final Map<String, Timer> timerUnits = new ConcurrentHashMap<>();
	private final Map<String, SocketUnit> socketUnits = new ConcurrentHashMap<>();
	/** Started with the first root: the notification and listening sockets are watched there. */
	private volatile Poller poller;
	private volatile long daemonStart;
	/** The units the admin allowed to run without the sandbox directives psi lacks (--allow-unsandboxed), until started without. */
	private final java.util.Set<String> unsandboxed = ConcurrentHashMap.newKeySet();
	/** Starts what sockets activate, one after the other, off the poller's thread. */
	private final java.util.concurrent.ExecutorService activations = Executors.newSingleThreadExecutor(r -> {
		Thread t = new Thread(r, "psi-embedded-activations");
		t.setDaemon(true);
		return t;
	});
	private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
		Thread t = new Thread(r, "psi-embedded-timers");
		t.setDaemon(true);
		return t;
	});
	private final CGroups.Layout cgroups = CGroups.Layout.detect();
	private volatile Path root;
	private volatile Context context;

	/** @param config the configuration */
	@Activate
	public EmbeddedManager(Config config) {
		this.config = config;
	}

	@Modified
	void modified(Config c) {
		this.config = c;
	}

	@Deactivate
	void deactivate() {
		stopAll();
		timers.shutdownNow();
		activations.shutdownNow();
		Poller p = poller;
		if (p != null) {
			p.close();
		}
	}

	@Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
	void bindResident(ResidentFramework resident) {
		Path r = resident.root().toAbsolutePath().normalize();
		synchronized (this) {
			if (poller == null) {
				try {
					poller = new Poller();
				} catch (IOException | RuntimeException | LinkageError e) {
					System.err.println("psi: the embedded manager cannot watch sockets (no Type=notify, no .socket units): " + e.getMessage());
				}
			}
			root = r;
			context = new Context(r);
			daemonStart = System.currentTimeMillis() * 1000;
		}
		cleanLeftovers(context);
		startEnabled(context);
	}

	void unbindResident(ResidentFramework resident) {
		stopAll();
		synchronized (this) {
			root = null;
			context = null;
		}
	}

	private void stopAll() {
		timerUnits.values().forEach(Timer::stop);
		timerUnits.clear();
		socketUnits.values().forEach(SocketUnit::stop);
		socketUnits.clear();
		List<Thread> stops = new ArrayList<>();
		for (Service s : services.values()) {
			Thread t = new Thread(s::shutdown, "psi-stop-" + s.name);
			t.start();
			stops.add(t);
		}
		for (Thread t : stops) {
			try {
				t.join();
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				break;
			}
		}
		services.clear();
	}

	/** What the services of one root share. */
	final class Context implements Service.Context {
		private final Path root;
		private final UnitLoader loader;
		private final LogStore logs;
		private final Sandbox sandbox;
		private final String hostname;

		Context(Path root) {
			this.root = root;
			this.loader = new UnitLoader(root);
			this.hostname = readHostname();
			this.logs = new LogStore(root.resolve("var/log/psi"), config.logMaxBytes(), config.logKeep(), hostname);
			this.sandbox = new Sandbox(root, Path.of(config.bwrap()), helper(), config.imageMount());
		}

		@Override
		public Path root() {
			return root;
		}

		@Override
		public UnitLoader loader() {
			return loader;
		}

		@Override
		public LogStore logs() {
			return logs;
		}

		@Override
		public Sandbox sandbox() {
			return sandbox;
		}

		@Override
		public CGroups.Layout cgroups() {
			return cgroups;
		}

		@Override
		public ScheduledExecutorService timers() {
			return timers;
		}

		@Override
		public boolean allowedUnsandboxed(String unit) {
			return unsandboxed.contains(unit);
		}

		@Override
		public String hostname() {
			return hostname;
		}

		@Override
		public List<SocketUnit.Fd> sockets(String service) {
			List<SocketUnit.Fd> fds = new ArrayList<>();
			for (SocketUnit so : socketUnits.values()) {
				if (so.serves(service)) {
					fds.addAll(so.fds());
				}
			}
			return fds;
		}

		@Override
		public Poller poller() {
			Poller p = poller;
			if (p == null) {
				throw new UnitConfig.UnitException("psi's own service manager cannot watch sockets on this host (jnr did not load): see the daemon's log");
			}
			return p;
		}
	}

	private static String readHostname() {
		try {
			String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
			return h.isEmpty() ? InetAddress.getLocalHost().getHostName() : h;
		} catch (IOException e) {
			return "localhost";
		}
	}

	/** @return psi-exec: configured, beside the launcher, or installed */
	private Path helper() {
		String c = config.exec();
		if (!c.isEmpty()) {
			return Path.of(c);
		}
		String p = System.getProperty("psi.exec");
		if (p != null && !p.isEmpty()) {
			return Path.of(p);
		}
		return Path.of("/usr/lib/psi/psi-exec");
	}

	@Override
	public Path root() {
		Path r = root;
		return r == null ? Path.of("/") : r;
	}

	@Override
	public boolean available() {
		return unavailableReason().isEmpty();
	}

	@Override
	public String unavailableReason() {
		Path r = root;
		if (r == null) {
			return "psi's own service manager runs services only inside the psi daemon: start one with 'psi daemon --background' (and --root DIR to serve DIR)";
		}
		if (r.toString().equals("/") && Files.isDirectory(Path.of("/run/systemd/system")) && !config.whereSystemdRuns()) {
			return "systemd is PID 1 here: psi's own service manager stands aside";
		}
		if (!Files.isExecutable(Path.of(config.bwrap()))) {
			return config.bwrap() + " is missing: psi's own service manager needs bubblewrap (apt-get install bubblewrap)";
		}
		if (!Files.isExecutable(helper())) {
			return helper() + " is missing: psi's own service manager needs psi-exec, built with psi";
		}
		if (!cgroups.problem().isEmpty()) {
			return cgroups.problem();
		}
		return "";
	}

	private Context context() throws IOException {
		Context c = context;
		if (c == null) {
			throw new IOException(unavailableReason());
		}
		return c;
	}

	private Timer timer(String unit) throws IOException {
		Context c = context();
		UnitLoader.checkName(unit);
		Timer.Starter starter = new Timer.Starter() {
			@Override
			public void start(String u) throws IOException {
				EmbeddedManager.this.start(u, false);
			}

			@Override
			public Service service(String u) throws IOException {
				return EmbeddedManager.this.service(u);
			}
		};
		return timerUnits.computeIfAbsent(unit, u -> new Timer(u, c, starter, daemonStart));
	}

	private SocketUnit socket(String unit) throws IOException {
		Context c = context();
		UnitLoader.checkName(unit);
		SocketUnit.Starter starter = new SocketUnit.Starter() {
			@Override
			public void start(String u, List<SocketUnit.Fd> fds) throws IOException {
				Service s = EmbeddedManager.this.service(u);
				s.passFds(fds);
				// off the poller's thread: the start of what the service requires is waited for
				activations.execute(() -> {
					try {
						EmbeddedManager.this.start(u, false, new java.util.HashSet<>());
					} catch (IOException | RuntimeException e) {
						s.passFds(List.of());
						c.logs().append(u, 0, "psi", "", "psi", "Failed to start on activation: " + e.getMessage());
					}
				});
			}

			@Override
			public Service service(String u) throws IOException {
				Service s = EmbeddedManager.this.service(u);
				if (u.contains("@") && !u.contains("@.")) {
					// a connection's instance: forgotten when it ends, as systemd collects it
					s.onDown(() -> {
						if (s.state() == ActiveState.INACTIVE) {
							services.remove(u, s);
						}
					});
				}
				return s;
			}
		};
		return socketUnits.computeIfAbsent(unit, u -> new SocketUnit(u, c, starter, c.poller()));
	}

	private Service service(String unit) throws IOException {
		Context c = context();
		UnitLoader.checkName(unit);
		return services.computeIfAbsent(unit, u -> new Service(u, c));
	}

	@Override
	public void reload() {
		// units are read at each start, as they are when the job runs
	}

	@Override
	public UnitStatus status(String unit) throws IOException {
		Context c = context();
		boolean loaded;
		try {
			loaded = c.loader().load(unit) != null;
		} catch (UnitConfig.UnitException e) {
			loaded = false;
		}
		Timer t = timerUnits.get(unit);
		if (t != null) {
			return t.status(loaded);
		}
		SocketUnit so = socketUnits.get(unit);
		if (so != null) {
			return so.status(loaded);
		}
		Service s = services.get(unit);
		if (s == null) {
			UnitStatus st = new UnitStatus();
			st.name = unit;
			st.loadState = loaded ? "loaded" : "not-found";
			st.activeState = ActiveState.INACTIVE.label();
			st.subState = "dead";
			st.result = "success";
			return st;
		}
		return s.status(loaded);
	}

	@Override
	public JobResult start(String unit, boolean wait) throws IOException {
		return start(unit, wait, false);
	}

	@Override
	public JobResult start(String unit, boolean wait, boolean allowUnsandboxed) throws IOException {
		service(unit);
		if (allowUnsandboxed) {
			unsandboxed.add(unit);
		} else {
			unsandboxed.remove(unit);
		}
		return start(unit, wait, new java.util.HashSet<>());
	}

	/**
	 * Starts a unit after what it needs, as systemd orders a start job: the
	 * units it conflicts with stopped, its {@code Requires=} and
	 * {@code BindsTo=} started first (one failing fails this start with result
	 * {@code dependency}), its {@code Wants=} started first where they exist
	 * (a failure does not matter). A target is reached when its dependencies are.
	 */
	private JobResult start(String unit, boolean wait, java.util.Set<String> seen) throws IOException {
		Context c = context();
		if (!seen.add(unit)) {
			return new JobResult(unit, "", "done");
		}
		UnitConfig cfg;
		try {
			cfg = c.loader().load(unit);
		} catch (UnitConfig.UnitException e) {
			throw new IOException(e.getMessage());
		}
		if (cfg != null) {
			// Conflicts= works both ways, as in systemd: what this unit names, and what names this unit
			for (String other : names(cfg, "Conflicts")) {
				stop(other, true);
			}
			for (Service other : List.copyOf(services.values())) {
				if (other.name.equals(unit) || other.state() == ActiveState.INACTIVE || other.state() == ActiveState.FAILED) {
					continue;
				}
				try {
					UnitConfig oc = c.loader().load(other.name);
					if (oc != null && names(oc, "Conflicts").contains(unit)) {
						stop(other.name, true);
					}
				} catch (UnitConfig.UnitException e) {
					// a unit that no longer loads names nothing
				}
			}
			for (String need : names(cfg, "Requires", "BindsTo")) {
				JobResult r;
				try {
					r = start(need, true, seen);
				} catch (IOException e) {
					c.logs().append(unit, 0, "psi", Service.portable(cfg), "psi", "Dependency failed for " + unit + ": " + need + ": " + e.getMessage());
					r = new JobResult(need, "", "failed");
				}
				if (!r.ok()) {
					return new JobResult(unit, "", "dependency");
				}
			}
			for (String want : names(cfg, "Wants")) {
				try {
					if (c.loader().load(want) != null) {
						start(want, true, seen);
					}
				} catch (IOException | RuntimeException e) {
					c.logs().append(unit, 0, "psi", Service.portable(cfg), "psi", "Wanted " + want + " did not start: " + e.getMessage());
				}
			}
		}
		if (unit.endsWith(".target")) {
			if (cfg == null) {
				throw new IOException("Unit " + unit + " not found.");
			}
			return new JobResult(unit, "", "done");
		}
		if (unit.endsWith(".timer")) {
			return timer(unit).start();
		}
		if (unit.endsWith(".socket")) {
			return socket(unit).start();
		}
		Service s = service(unit);
		try {
			return s.job("start", wait, s::start);
		} catch (UnitConfig.UnitException e) {
			throw new IOException(e.getMessage());
		}
	}

	/** @return the unit names a [Unit] dependency directive lists */
	private static List<String> names(UnitConfig cfg, String... keys) {
		List<String> out = new ArrayList<>();
		for (String k : keys) {
			for (UnitConfig.Setting s : cfg.all("Unit", k)) {
				try {
					for (String w : Words.split(s.value())) {
						if (!out.contains(w)) {
							out.add(w);
						}
					}
				} catch (IllegalArgumentException e) {
					throw new UnitConfig.UnitException(cfg.name() + ": " + k + "= at " + s.where() + ": " + e.getMessage());
				}
			}
		}
		return out;
	}

	@Override
	public JobResult stop(String unit, boolean wait) throws IOException {
		return stop(unit, wait, new java.util.HashSet<>());
	}

	private JobResult stop(String unit, boolean wait, java.util.Set<String> seen) throws IOException {
		Context c = context();
		if (!seen.add(unit)) {
			return new JobResult(unit, "", "done");
		}
		Timer t = timerUnits.get(unit);
		if (t != null) {
			t.stop();
			return new JobResult(unit, "", "done");
		}
		SocketUnit so = socketUnits.get(unit);
		if (so != null) {
			so.stop();
			return new JobResult(unit, "", "done");
		}
		Service s = services.get(unit);
		if (s != null) {
			s.cancelStart();
		}
		JobResult r = s == null ? new JobResult(unit, "", "done") : s.job("stop", wait, s::stop);
		// what requires, is bound to or is part of this unit stops with it, as systemd propagates a stop
		for (Service other : List.copyOf(services.values())) {
			if (other == s || other.state() == ActiveState.INACTIVE || other.state() == ActiveState.FAILED) {
				continue;
			}
			try {
				UnitConfig cfg = c.loader().load(other.name);
				if (cfg != null && names(cfg, "Requires", "BindsTo", "PartOf").contains(unit)) {
					stop(other.name, wait, seen);
				}
			} catch (IOException | RuntimeException e) {
				c.logs().append(other.name, 0, "psi", "", "psi", "not stopped with " + unit + ": " + e.getMessage());
			}
		}
		return r;
	}

	@Override
	public JobResult reloadUnit(String unit, boolean wait) throws IOException {
		Service s = services.get(unit);
		if (s == null || s.state() == ActiveState.INACTIVE || s.state() == ActiveState.FAILED) {
			throw new IOException("Unit " + unit + " is not active.");
		}
		return s.job("reload", wait, s::reload);
	}

	@Override
	public JobResult restart(String unit, boolean wait) throws IOException {
		Service s = service(unit);
		return s.job("restart", wait, () -> {
			s.stop();
			return s.start();
		});
	}

	@Override
	public List<String> enable(List<Path> unitFiles, boolean runtime) throws IOException {
		Context c = context();
		List<String> changes = new ArrayList<>();
		Path base = c.root().resolve(runtime ? "run/systemd/system" : "etc/systemd/system");
		for (Path f : unitFiles) {
			String unit = f.getFileName().toString();
			Path file = c.root().resolve(c.root().getRoot().relativize(f.toAbsolutePath()));
			for (String target : wantedBy(file)) {
				Path link = base.resolve(target + ".wants").resolve(unit);
				Files.createDirectories(link.getParent());
				if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
					Path tmp = link.resolveSibling("." + unit + ".psi-tmp");
					Files.deleteIfExists(tmp);
					Files.createSymbolicLink(tmp, f);
					Files.move(tmp, link, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
					changes.add("symlink /" + c.root().relativize(link) + " " + f);
				}
			}
		}
		return changes;
	}

	@Override
	public List<String> disable(List<String> units, boolean runtime) throws IOException {
		Context c = context();
		List<String> changes = new ArrayList<>();
		Path base = c.root().resolve(runtime ? "run/systemd/system" : "etc/systemd/system");
		if (!Files.isDirectory(base)) {
			return changes;
		}
		try (var dirs = Files.list(base)) {
			for (Path d : (Iterable<Path>) dirs::iterator) {
				if (!d.getFileName().toString().endsWith(".wants") && !d.getFileName().toString().endsWith(".requires")) {
					continue;
				}
				for (String u : units) {
					Path link = d.resolve(u);
					if (Files.deleteIfExists(link)) {
						changes.add("unlink /" + c.root().relativize(link) + " ");
					}
				}
			}
		}
		return changes;
	}

	/** @return the targets of a unit file's [Install] WantedBy= and RequiredBy= */
	private static List<String> wantedBy(Path file) throws IOException {
		List<String> out = new ArrayList<>();
		if (!Files.isRegularFile(file)) {
			return out;
		}
		for (UnitFile.Assignment a : UnitFile.read(Files.readAllBytes(file))) {
			if (a.section().equals("Install") && (a.key().equals("WantedBy") || a.key().equals("RequiredBy"))) {
				if (a.isEmpty()) {
					out.clear();
				} else {
					out.addAll(Words.split(a.value()));
				}
			}
		}
		return out;
	}

	/** Starts, in the background, the attached units enabled in a {@code *.wants/} directory. */
	private void startEnabled(Context c) {
		List<String> units = new ArrayList<>();
		for (String dir : List.of("etc/systemd/system", "run/systemd/system")) {
			Path base = c.root().resolve(dir);
			if (!Files.isDirectory(base)) {
				continue;
			}
			try (var dirs = Files.list(base)) {
				for (Path d : (Iterable<Path>) dirs::iterator) {
					if (!d.getFileName().toString().endsWith(".wants") || !Files.isDirectory(d)) {
						continue;
					}
					try (var links = Files.list(d)) {
						for (Path l : (Iterable<Path>) links::iterator) {
							if (Files.isSymbolicLink(l) && Files.readSymbolicLink(l).toString().contains("/system.attached/")
								&& !units.contains(l.getFileName().toString())) {
								units.add(l.getFileName().toString());
							}
						}
					}
				}
			} catch (IOException e) {
				// nothing enabled to read
			}
		}
		for (String u : units) {
			try {
				start(u, false);
			} catch (IOException | RuntimeException e) {
				c.logs().append(u, 0, "psi", "", "psi", "not started at the daemon's start: " + e.getMessage());
			}
		}
	}

	/** Stops what a daemon that was killed left: processes in psi's groups, image mounts. */
	private void cleanLeftovers(Context c) {
		for (String unit : CGroups.leftovers(cgroups, c.root())) {
			CGroups g = new CGroups(cgroups, c.root(), unit);
			boolean running = !g.pids().isEmpty();
			g.signal("KILL");
			long deadline = System.nanoTime() + 5_000_000_000L;
			while (!g.pids().isEmpty() && System.nanoTime() < deadline) {
				try {
					Thread.sleep(20);
				} catch (InterruptedException e) {
					Thread.currentThread().interrupt();
					return;
				}
			}
			g.remove();
			if (running) {
				String portable;
				try {
					portable = Service.portable(c.loader().load(unit));
				} catch (IOException | RuntimeException e) {
					portable = "";
				}
				c.logs().append(unit, 0, "psi", portable, "psi", "stopped: left running by a psi daemon that ended without stopping it");
			}
		}
		Path units = c.root().resolve("run/psi/embedded/units");
		if (Files.isDirectory(units)) {
			try (var s = Files.list(units)) {
				for (Path u : (Iterable<Path>) s::iterator) {
					ImageMount.unmount(u.resolve("root"));
					Service.deleteTree(u);
				}
			} catch (IOException e) {
				// nothing left to clean
			}
		}
	}

	@Override
	public List<String> listUnits(List<String> patterns) throws IOException {
		context();
		List<Pattern> ps = new ArrayList<>();
		for (String p : patterns) {
			ps.add(Pattern.compile(glob(p)));
		}
		List<String> out = new ArrayList<>();
		for (Service s : services.values()) {
			if (s.state() == ActiveState.INACTIVE) {
				continue;
			}
			if (ps.isEmpty() || ps.stream().anyMatch(p -> p.matcher(s.name).matches())) {
				out.add(s.name);
			}
		}
		for (Timer t : timerUnits.values()) {
			if (t.state() != ActiveState.INACTIVE && (ps.isEmpty() || ps.stream().anyMatch(p -> p.matcher(t.name).matches()))) {
				out.add(t.name);
			}
		}
		for (SocketUnit so : socketUnits.values()) {
			if (so.state() != ActiveState.INACTIVE && (ps.isEmpty() || ps.stream().anyMatch(p -> p.matcher(so.name).matches()))) {
				out.add(so.name);
			}
		}
		out.sort(null);
		return out;
	}

	private static String glob(String g) {
		StringBuilder b = new StringBuilder();
		for (char ch : g.toCharArray()) {
			switch (ch) {
				case '*' -> b.append(".*");
				case '?' -> b.append('.');
				default -> b.append(Pattern.quote(String.valueOf(ch)));
			}
		}
		return b.toString();
	}

	@Override
	public void resetFailed(String unit) throws IOException {
		context();
		Service s = services.get(unit);
		if (s != null && s.state() == ActiveState.FAILED) {
			services.remove(unit);
		}
	}

	@Override
	public List<String> journal(String portable, int lines) throws IOException {
		return context().logs().tail(portable, lines);
	}

	@Override
	public JournalFollower followJournal(String portable, int lines, Consumer<String> sink) throws IOException {
		Context c = context();
		for (String l : c.logs().tail(portable, lines)) {
			sink.accept(l);
		}
		LogStore.Follower f = c.logs().follow(portable, sink);
		CountDownLatch done = new CountDownLatch(1);
		return new JournalFollower() {
			@Override
			public void await() throws InterruptedException {
				done.await();
			}

			@Override
			public void close() {
				c.logs().unfollow(f);
				done.countDown();
			}
		};
	}
}
