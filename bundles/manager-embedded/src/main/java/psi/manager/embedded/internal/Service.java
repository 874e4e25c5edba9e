package psi.manager.embedded.internal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import psi.spi.manager.ActiveState;
import psi.spi.manager.ServiceManager;
import psi.spi.unit.ExecCommand;
import psi.spi.unit.Values;
import psi.spi.unit.Words;

/**
 * One service unit under psi's own service manager: its state as systemd
 * names it, and its jobs (start, stop, restart), run one at a time on the
 * service's own thread, as systemd runs one job per unit. The main process's
 * end, a restart timer and a stop all go through that thread too, so the
 * state changes in one place.
 */
final class Service {

	/** What a service needs from its manager. */
	interface Context {
		Path root();

		UnitLoader loader();

		LogStore logs();

		Sandbox sandbox();

		CGroups.Layout cgroups();

		java.util.concurrent.ScheduledExecutorService timers();

		/** @return whether the admin allowed this unit to run without the sandbox directives psi lacks */
		boolean allowedUnsandboxed(String unit);

		String hostname();

		/** The manager's poller: notification sockets are watched there. */
		Poller poller();

		/** @return the sockets that listen for a service ({@code Accept=no} socket units), for its main process */
		List<SocketUnit.Fd> sockets(String service);
	}

	private static final long DEFAULT_TIMEOUT_US = 90_000_000L;
	/** Joins the control groups, then runs the rest: a group marked ? (figures only) may be missing. */
	private static final String WRAPPER = "while [ \"$1\" != -- ]; do case $1 in \\?*) echo $$ 2>/dev/null > \"${1#?}\" ;; "
		+ "*) echo $$ > \"$1\" || { echo \"psi: cannot join the control group $1\" >&2; exit 219; } ;; esac; shift; done; shift; ";

	final String name;
	private final Context ctx;
	private final ExecutorService jobs;

	private volatile ActiveState state = ActiveState.INACTIVE;
	private volatile String sub = "dead";
	private volatile String result = "success";
	private volatile long mainPid;
	/**
	 * Notifications from the service's group that came before its main
	 * process was recorded (a service may send READY=1 the moment it runs,
	 * before the spawn has returned here): decided once it is, as systemd,
	 * which knows the main PID from the fork, would have decided them.
	 * At most {@link #EARLY_MAX}.
	 */
	private final List<Runnable> early = new ArrayList<>();
	private static final int EARLY_MAX = 64;
	/** Whether the main process is being spawned: the only time notifications are kept for later. */
	private volatile boolean spawningMain;
	/** Whether the main process psi watches is bubblewrap, whose child is the service's own process. */
	private volatile boolean mainInSandbox;
	private volatile int execMainStatus;
	private volatile long activeEnter;
	private volatile String description = "";
	private volatile List<String> warnings = List.of();
	private volatile long inactiveEnter;
	private volatile long lastActivation;
	private final List<Runnable> downListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

	// owned by the job thread
	private UnitConfig config;
	private CGroups cgroup;
	private List<String> procs = List.of();
	private Sandbox.Prepared prepared;
	private Map<String, String> env = Map.of();
	private Process main;
	private ProcessHandle mainHandle;
	private long generation;
	private volatile boolean stopping;
	private ScheduledFuture<?> restartTimer;
	private final RateLimit starts = new RateLimit();
	/** Sockets for the next start's main process (socket activation); a connection's is owned. */
	private volatile List<SocketUnit.Fd> socketFds = List.of();
	private Notify notify;
	private volatile String notifyAccess = "none";
	private volatile CompletableFuture<Boolean> ready;
	private volatile String statusText = "";
	private volatile long watchdogUsec;
	private volatile long lastPing;
	private volatile boolean watchdogFired;
	private ScheduledFuture<?> watchdog;

	Service(String name, Context ctx) {
		this.name = name;
		this.ctx = ctx;
		this.jobs = Executors.newSingleThreadExecutor(r -> {
			Thread t = new Thread(r, "psi-unit-" + name);
			t.setDaemon(true);
			return t;
		});
	}

	/** The state, as systemd reports it. */
	ServiceManager.UnitStatus status(boolean loaded) {
		ServiceManager.UnitStatus s = new ServiceManager.UnitStatus();
		s.name = name;
		s.description = description;
		s.loadState = loaded ? "loaded" : "not-found";
		s.activeState = state.label();
		s.subState = sub;
		s.mainPid = servicePid();
		s.execMainStatus = execMainStatus;
		s.activeEnterTimestamp = activeEnter;
		s.result = result;
		CGroups cg = cgroup;
		if (cg != null && state != ActiveState.INACTIVE && state != ActiveState.FAILED) {
			s.memoryCurrent = cg.memory();
			s.tasksCurrent = cg.tasks();
			s.cpuUsageNSec = cg.cpuNanos();
		}
		s.warnings = new ArrayList<>(warnings);
		s.statusText = statusText;
		return s;
	}

	ActiveState state() {
		return state;
	}

	/** Runs a job on the service's thread; @return its result */
	ServiceManager.JobResult job(String kind, boolean wait, Job body) throws IOException {
		Future<String> f = jobs.submit(() -> body.run());
		if (!wait) {
			return new ServiceManager.JobResult(name, "", "queued");
		}
		try {
			return new ServiceManager.JobResult(name, "", f.get(ServiceManager.JOB_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS));
		} catch (TimeoutException e) {
			return new ServiceManager.JobResult(name, "", "timeout");
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException(kind + " of " + name + " interrupted");
		} catch (java.util.concurrent.ExecutionException e) {
			Throwable c = e.getCause();
			if (c instanceof IOException io) {
				throw io;
			}
			throw new IOException(name + ": " + c.getMessage(), c);
		}
	}

	@FunctionalInterface
	interface Job {
		String run() throws Exception;
	}

	// ---- start

	String start() throws Exception {
		if (state == ActiveState.ACTIVE || state == ActiveState.ACTIVATING && !sub.equals("auto-restart") || state == ActiveState.RELOADING) {
			return "done";
		}
		cancelRestart();
		UnitConfig c = ctx.loader().load(name);
		if (c == null) {
			throw new IOException("Unit " + name + " not found.");
		}
		config = c;
		description = c.get("Unit", "Description", "");
		Directives.Report report = Directives.check(c);
		List<String> w = new ArrayList<>(report.warnings());
		if (!report.missing().isEmpty()) {
			throw new IOException(name + ": psi's own service manager cannot layer extension images yet (" + String.join(", ", report.missing())
				+ "); refused: without them the service would not find its own files");
		}
		if (!report.unsandboxed().isEmpty()) {
			if (!ctx.allowedUnsandboxed(name)) {
				throw new IOException(name + ": psi's own service manager does not implement " + String.join(", ", report.unsandboxed())
					+ ", which the unit asks for; refused (psi start --allow-unsandboxed runs it without them)");
			}
			w.add("running WITHOUT " + String.join(", ", report.unsandboxed()) + " (--allow-unsandboxed)");
		}
		warnings = w;
		if (!startLimit(c)) {
			state = ActiveState.FAILED;
			sub = "failed";
			result = "start-limit-hit";
			log("Start request repeated too quickly.");
			return "failed";
		}
		stopping = false;
		lastActivation = Instant.now().toEpochMilli() * 1000;
		state = ActiveState.ACTIVATING;
		sub = "start-pre";
		result = "success";
		mainPid = 0;
		synchronized (early) {
			early.clear(); // a past start's, never decided
		}
		execMainStatus = 0;
		statusText = "";
		watchdogFired = false;
		startCanceled = false;
		extendedUntil = Long.MIN_VALUE;
		// a connection's socket given for this start, else the sockets that listen for it (at every start, restarts too)
		List<SocketUnit.Fd> fds = socketFds.isEmpty() ? ctx.sockets(name) : socketFds;
		socketFds = List.of();
		try {
			setUp(c);
			String type = c.get("Service", "Type", c.all("Service", "ExecStart").isEmpty() ? "oneshot" : "simple");
			long timeout = c.timespan("Service", "TimeoutStartSec", c.timespan("Service", "TimeoutSec",
				type.equals("oneshot") ? Values.INFINITY : DEFAULT_TIMEOUT_US));
			List<ExecCommand> pre = commands(c, "ExecStartPre");
			for (ExecCommand cmd : pre) {
				if (!runAndCheck(cmd, timeout, "start-pre")) {
					return failStart();
				}
			}
			List<ExecCommand> startCmds = commands(c, "ExecStart");
			if (startCmds.isEmpty() && !type.equals("oneshot")) {
				throw c.bad("Service", "ExecStart", new IllegalArgumentException("no ExecStart= for a Type=" + type + " service"));
			}
			if (startCmds.size() > 1 && !type.equals("oneshot")) {
				throw c.bad("Service", "ExecStart", new IllegalArgumentException("more than one ExecStart= is for Type=oneshot only"));
			}
			switch (type) {
				case "oneshot" -> {
					sub = "start";
					for (ExecCommand cmd : startCmds) {
						if (!runAndCheck(cmd, timeout, "start")) {
							return failStart();
						}
					}
				}
				case "forking" -> {
					sub = "start";
					if (!runAndCheck(startCmds.get(0), timeout, "start")) {
						return failStart();
					}
					long pid = forkedMainPid(c, timeout);
					if (pid <= 0) {
						result = "protocol";
						log("Main process not found after forking (no PIDFile= and not one process left).");
						return failStart();
					}
					mainInSandbox = false;
					watch(ProcessHandle.of(pid).orElse(null), null);
				}
				case "simple", "exec", "idle", "notify" -> {
					CompletableFuture<Boolean> r = new CompletableFuture<>();
					ready = r;
					Process p;
					spawningMain = true;
					try {
						p = spawnMain(startCmds.get(0), fds);
						fds = List.of();
						mainInSandbox = !startCmds.get(0).has(ExecCommand.Prefix.FULL_PRIVILEGES);
						watch(p.toHandle(), p);
					} finally {
						spawningMain = false;
						synchronized (early) {
							early.clear(); // the spawn failed: nothing to decide
						}
					}
					awaitJoined(p);
					armWatchdog(c);
					if (type.equals("notify") && !awaitReady(r, p, timeout)) {
						return "failed";
					}
					if (type.equals("exec") && !awaitExec(p, timeout)) {
						return "failed";
					}
				}
				default -> throw c.bad("Service", "Type", new IllegalArgumentException("unknown type " + Values.show(type)));
			}
			for (ExecCommand cmd : commands(c, "ExecStartPost")) {
				if (!runAndCheck(cmd, timeout, "start-post")) {
					return failStart();
				}
			}
			if (type.equals("oneshot") && !c.bool("Service", "RemainAfterExit", false)) {
				// done: down again, as systemd takes a oneshot down
				finish(true);
				return "done";
			}
			state = ActiveState.ACTIVE;
			sub = type.equals("oneshot") ? "exited" : "running";
			activeEnter = Instant.now().toEpochMilli() * 1000;
			return "done";
		} catch (UnitConfig.UnitException | IOException e) {
			log(e.getMessage());
			result = "resources";
			closeOwned(fds);
			tearDown();
			state = ActiveState.FAILED;
			sub = "failed";
			throw e instanceof IOException io ? io : new IOException(e.getMessage());
		}
	}

	/**
	 * Type=notify: waits for {@code READY=1}, the main process's end or the
	 * start timeout ({@code EXTEND_TIMEOUT_USEC=} extends it).
	 *
	 * @return whether it became ready; if not, the start has failed
	 */
	private boolean awaitReady(CompletableFuture<Boolean> r, Process p, long timeoutUs) throws IOException {
		sub = "start";
		long deadline = timeoutUs == Values.INFINITY ? Long.MAX_VALUE : System.nanoTime() + timeoutUs * 1000;
		CompletableFuture<Object> either = CompletableFuture.anyOf(r, p.onExit());
		while (!either.isDone()) {
			long limit = Math.max(deadline, extendedUntil);
			long now = System.nanoTime();
			if (now >= limit) {
				log("start operation timed out. Terminating.");
				result = "timeout";
				runStop(false);
				failStart();
				return false;
			}
			try {
				either.get(Math.min(limit - now, 1_000_000_000L), TimeUnit.NANOSECONDS);
			} catch (TimeoutException | java.util.concurrent.ExecutionException e) {
				// checked again above
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new IOException("interrupted");
			}
		}
		if (r.getNow(false)) {
			return true;
		}
		if (startCanceled) {
			startCanceled = false;
			log("Start canceled: a stop was asked.");
			stopping = true;
			try {
				runStop(true);
			} finally {
				finish(true);
				stopping = false;
			}
			return false;
		}
		// the main process ended before READY=1: its end handled here, as a failed start
		if (p.exitValue() == 0 && result.equals("success")) {
			result = "protocol";
			log("Main process exited before it sent READY=1.");
		}
		mainExited(generation);
		return false;
	}

	private volatile long extendedUntil = Long.MIN_VALUE;
	private volatile boolean startCanceled;

	/**
	 * A stop for a service whose start still waits (for READY=1): that start
	 * gives up now, as systemd's stop job replaces the start job, instead of
	 * the stop waiting out the start timeout.
	 */
	void cancelStart() {
		CompletableFuture<Boolean> r = ready;
		if (r != null && !r.isDone() && state == ActiveState.ACTIVATING) {
			startCanceled = true;
			r.complete(false);
		}
	}

	/**
	 * Type=exec: waits until the service's own program runs (psi-exec's
	 * execve done), as systemd waits for the execve; a program that cannot
	 * be run fails the start (status 203, as systemd's EXEC step).
	 *
	 * @return whether it runs; if not, the start has failed
	 */
	/**
	 * Waits (at most 5 s) until the main process has joined its control
	 * group, which its wrapper does first thing: systemd's child is in its
	 * group before it executes, so a stop right after the start (a unit
	 * started that conflicts with it) finds it there and kills it, where it
	 * would otherwise find the group empty and leave the process running.
	 */
	private void awaitJoined(Process p) {
		CGroups cg = cgroup;
		long deadline = System.nanoTime() + 5_000_000_000L;
		while (cg != null && p.isAlive() && !cg.pids().contains(p.pid()) && System.nanoTime() < deadline) {
			sleep(1);
		}
	}

	private boolean awaitExec(Process p, long timeoutUs) throws IOException {
		long deadline = timeoutUs == Values.INFINITY ? Long.MAX_VALUE : System.nanoTime() + timeoutUs * 1000;
		while (p.isAlive()) {
			if (execDone(p.toHandle())) {
				return true;
			}
			if (System.nanoTime() >= deadline) {
				log("start operation timed out. Terminating.");
				result = "timeout";
				runStop(false);
				failStart();
				return false;
			}
			sleep(5);
		}
		if (p.exitValue() == 0) {
			return true; // ran and ended at once: its end is handled as any main process's
		}
		mainExited(generation);
		return false;
	}

	/** @return whether a process or one below it runs something other than the sandbox's own steps */
	private static boolean execDone(ProcessHandle h) {
		for (ProcessHandle x : Stream.concat(Stream.of(h), h.descendants()).toList()) {
			String cmd = x.info().command().orElse("");
			if (!cmd.isEmpty() && !cmd.endsWith("/bwrap") && !cmd.endsWith("psi-exec") && !cmd.equals("/bin/sh") && !cmd.equals("/usr/bin/dash")
				&& !cmd.equals("/bin/dash")) {
				return true;
			}
		}
		return false;
	}

	/** @return a timespan as systemd shows it in messages: {@code 2s}, {@code 1min 30s}, {@code 500ms} */
	static String timespan(long us) {
		StringBuilder b = new StringBuilder();
		long[] units = {3_600_000_000L, 60_000_000L, 1_000_000L, 1000L, 1L};
		String[] names = {"h", "min", "s", "ms", "us"};
		for (int i = 0; i < units.length && us > 0; i++) {
			if (us >= units[i]) {
				b.append(b.length() == 0 ? "" : " ").append(us / units[i]).append(names[i]);
				us %= units[i];
			}
		}
		return b.length() == 0 ? "0" : b.toString();
	}

	/** A notification: on the poller's thread; what changes state goes to the service's thread. */
	private void notified(long pid, long uid, Map<String, String> f) {
		if (!accepts(pid, uid)) {
			synchronized (early) {
				CGroups cg = cgroup;
				if (spawningMain && mainPid == 0 && notifyAccess.equals("main") && early.size() < EARLY_MAX && cg != null && cg.pids().contains(pid)) {
					early.add(() -> notified(pid, uid, f));
					return;
				}
			}
			log("Got notification message from PID " + pid + ", but reception only permitted for "
				+ switch (notifyAccess) {
					case "main" -> "main PID " + servicePid();
					case "none" -> "none";
					default -> "the service's processes";
				} + ".");
			return;
		}
		String st = f.get("STATUS");
		if (st != null) {
			statusText = st.length() > 256 ? st.substring(0, 256) : st;
		}
		String ext = f.get("EXTEND_TIMEOUT_USEC");
		if (ext != null && ext.matches("[0-9]{1,15}")) {
			extendedUntil = System.nanoTime() + Long.parseLong(ext) * 1000;
		}
		String w = f.get("WATCHDOG_USEC");
		if (w != null && w.matches("[0-9]{1,15}") && Long.parseLong(w) > 0) {
			watchdogUsec = Long.parseLong(w);
			lastPing = System.nanoTime();
		}
		if ("1".equals(f.get("WATCHDOG"))) {
			lastPing = System.nanoTime();
		} else if ("trigger".equals(f.get("WATCHDOG"))) {
			jobs.submit(() -> watchdogTimeout(generation));
		}
		String m = f.get("MAINPID");
		if (m != null && m.matches("[0-9]{1,10}")) {
			long newMain = Long.parseLong(m);
			jobs.submit(() -> {
				if (cgroup != null && cgroup.pids().contains(newMain) && newMain != mainPid) {
					watch(ProcessHandle.of(newMain).orElse(null), null);
				} else if (newMain != mainPid) {
					log("New main PID " + newMain + " does not belong to service, and PID file is not owned by root. Refusing.");
				}
			});
		}
		if ("1".equals(f.get("STOPPING")) && state == ActiveState.ACTIVE) {
			state = ActiveState.DEACTIVATING;
			sub = "stop-sigterm";
		}
		if ("1".equals(f.get("RELOADING")) && state == ActiveState.ACTIVE) {
			state = ActiveState.RELOADING;
			sub = "reload";
		}
		if ("1".equals(f.get("READY"))) {
			CompletableFuture<Boolean> r = ready;
			if (r != null) {
				r.complete(true);
			}
			if (state == ActiveState.RELOADING) {
				state = ActiveState.ACTIVE;
				sub = "running";
			}
		}
		if (f.containsKey("FDSTORE")) {
			log("FDSTORE= is not supported by psi's own service manager: the file descriptors are dropped.");
		}
	}

	/**
	 * @return whether NotifyAccess= lets a process send: main (the main
	 *         process, inside its sandbox), exec and all (any of the
	 *         service's: in its group, or, when it has already ended, as
	 *         {@code systemd-notify} often has, of the service's own user)
	 */
	private boolean accepts(long pid, long uid) {
		String a = notifyAccess;
		if (a.equals("none") || pid <= 0) {
			return false;
		}
		CGroups cg = cgroup;
		if (cg == null) {
			return false;
		}
		if (!cg.pids().contains(pid)) {
			Sandbox.Prepared p = prepared;
			return !a.equals("main") && ProcessHandle.of(pid).isEmpty() && p != null && p.user != null && uid == p.user.uid();
		}
		if (!a.equals("main")) {
			return true;
		}
		long m = mainPid;
		return pid == m || parent(pid) == m;
	}

	private static long parent(long pid) {
		return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
	}

	/** WatchdogSec=: checks for pings at a quarter of the interval while the main process runs. */
	private void armWatchdog(UnitConfig c) {
		cancelWatchdog();
		if (watchdogUsec <= 0) {
			return;
		}
		lastPing = System.nanoTime();
		long gen = generation;
		long every = Math.max(10_000, watchdogUsec / 4);
		watchdog = ctx.timers().scheduleAtFixedRate(() -> {
			if (watchdogUsec > 0 && System.nanoTime() - lastPing > watchdogUsec * 1000) {
				jobs.submit(() -> watchdogTimeout(gen));
			}
		}, every, every, TimeUnit.MICROSECONDS);
	}

	private void cancelWatchdog() {
		if (watchdog != null) {
			watchdog.cancel(false);
			watchdog = null;
		}
	}

	/** No ping in time (or WATCHDOG=trigger): the main process gets WatchdogSignal= (SIGABRT), as in systemd. */
	private void watchdogTimeout(long gen) {
		if (gen != generation || watchdogFired || mainHandle == null || stopping) {
			return;
		}
		watchdogFired = true;
		cancelWatchdog();
		log("Watchdog timeout (limit " + timespan(watchdogUsec) + ")!");
		String signal = Signals.name(config.get("Service", "WatchdogSignal", "SIGABRT"));
		Signals.send(signal == null ? "ABRT" : signal, List.of(servicePid()));
	}

	private boolean startLimit(UnitConfig c) {
		long interval = c.timespan("Unit", "StartLimitIntervalSec", c.timespan("Unit", "StartLimitInterval", 10_000_000L));
		int burst;
		try {
			burst = Integer.parseInt(c.get("Unit", "StartLimitBurst", "5"));
		} catch (NumberFormatException e) {
			throw c.bad("Unit", "StartLimitBurst", e);
		}
		return starts.allow(interval, burst);
	}

	private void setUp(UnitConfig c) throws IOException {
		Path runDir = ctx.root().resolve("run/psi/embedded/units").resolve(name);
		deleteTree(runDir);
		Files.createDirectories(runDir);
		// root's alone: the private /tmp and /var/tmp under it are the service's, not the host users'
		Files.setPosixFilePermissions(runDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
		cgroup = new CGroups(ctx.cgroups(), ctx.root(), name);
		procs = cgroup.create(c);
		Identity.User user = Identity.resolve(ctx.root(), c);
		prepared = ctx.sandbox().prepare(c, runDir, user);
		List<String> w = new ArrayList<>(warnings);
		w.addAll(cgroup.warnings());
		w.addAll(prepared.warnings);
		warnings = w;
		env = environment(c, prepared);
		String type = c.get("Service", "Type", "simple");
		long wd = c.timespan("Service", "WatchdogSec", 0);
		notifyAccess = c.get("Service", "NotifyAccess", type.equals("notify") || wd > 0 && wd != Values.INFINITY ? "main" : "none");
		if (!List.of("none", "main", "exec", "all").contains(notifyAccess)) {
			throw c.bad("Service", "NotifyAccess", new IllegalArgumentException("not none, main, exec or all: " + Values.show(notifyAccess)));
		}
		if (!notifyAccess.equals("none")) {
			notify = Notify.open(ctx.root().resolve("run/psi/embedded/notify").resolve(name), ctx.poller(), this::notified);
			env.put("NOTIFY_SOCKET", ctx.sandbox().reach(prepared, notify.path(), "/run/systemd/notify"));
		}
		watchdogUsec = wd == Values.INFINITY ? 0 : wd;
	}

	private String failStart() {
		String r = result;
		finish(false);
		result = r.equals("success") ? "exit-code" : r;
		state = ActiveState.FAILED;
		sub = "failed";
		maybeRestart();
		return "failed";
	}

	// ---- processes

	/**
	 * Starts the main process: with the sockets of socket activation
	 * ({@code LISTEN_FDS}; a connection also as standard input and output
	 * with {@code StandardInput=socket}) and {@code WATCHDOG_PID}.
	 */
	private Process spawnMain(ExecCommand cmd, List<SocketUnit.Fd> fds) throws IOException {
		List<String> inner = new ArrayList<>();
		if (watchdogUsec > 0) {
			inner.add("--pid-env");
			inner.add("WATCHDOG_PID");
		}
		String in = config.get("Service", "StandardInput", "null");
		Map<String, String> saved = env;
		Map<String, String> e = new LinkedHashMap<>(env);
		if (watchdogUsec > 0) {
			e.put("WATCHDOG_USEC", Long.toString(watchdogUsec)); // the main process's alone, as in systemd
		}
		if (fds.isEmpty()) {
			if (in.equals("socket")) {
				throw config.bad("Service", "StandardInput", new IllegalArgumentException("StandardInput=socket is for a service a socket starts with Accept=yes"));
			}
			env = e;
			try {
				return spawn(cmd, List.of(), inner, null);
			} finally {
				env = saved;
			}
		}
		if (in.equals("socket")) {
			if (fds.size() != 1) {
				throw config.bad("Service", "StandardInput", new IllegalArgumentException("StandardInput=socket needs exactly one socket (Accept=yes)"));
			}
			inner.add("--stdin-fd3");
			String out = config.get("Service", "StandardOutput", "inherit");
			String err = config.get("Service", "StandardError", "inherit");
			if (out.equals("inherit") || out.equals("socket")) {
				inner.add("--stdout-fd3");
				if (err.equals("inherit") || err.equals("socket")) {
					inner.add("--stderr-fd3");
				}
			} else if (err.equals("socket")) {
				inner.add("--stderr-fd3");
			}
		} else {
			inner.add("--pid-env");
			inner.add("LISTEN_PID");
		}
		if (!in.equals("socket")) {
			e.put("LISTEN_FDS", Integer.toString(fds.size()));
			e.put("LISTEN_FDNAMES", String.join(":", fds.stream().map(SocketUnit.Fd::name).toList()));
		}
		env = e;
		Path path = ctx.root().resolve("run/psi/embedded/units").resolve(name).resolve("fds");
		try (Handoff h = Handoff.listen(path)) {
			Process p = spawn(cmd, ctx.sandbox().receiveFds(path, fds.size()), inner, in.equals("socket") ? "socket" : null);
			try {
				h.send(fds.stream().mapToInt(SocketUnit.Fd::fd).toArray(), p.toHandle(), 10_000);
			} catch (IOException x) {
				p.destroyForcibly();
				throw x;
			}
			return p;
		} finally {
			env = saved;
			closeOwned(fds);
		}
	}

	private static void closeOwned(List<SocketUnit.Fd> fds) {
		for (SocketUnit.Fd f : fds) {
			if (f.owned()) {
				Native.close(f.fd());
			}
		}
	}

	/** Sockets for the next start's main process; the owned ones are closed when it has them, or when the start fails. */
	void passFds(List<SocketUnit.Fd> fds) {
		closeOwned(socketFds);
		socketFds = List.copyOf(fds);
	}

	/** Starts one command in the sandbox, its output into the log. */
	private Process spawn(ExecCommand cmd, String what) throws IOException {
		return spawn(cmd, List.of(), List.of(), null);
	}

	/**
	 * Starts one command in the sandbox, its output into the log.
	 *
	 * @param outer steps before bubblewrap (psi-exec receiving sockets)
	 * @param inner more options for psi-exec in the sandbox
	 * @param stdio {@code socket} when the command's output is its socket
	 */
	private Process spawn(ExecCommand cmd, List<String> outer, List<String> inner, String stdio) throws IOException {
		List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", WRAPPER + prelude(config) + "exec \"$@\"", "psi-exec"));
		argv.addAll(procs);
		argv.add("--");
		argv.addAll(outer);
		argv.addAll(ctx.sandbox().command(prepared, cmd, env, inner));
		ProcessBuilder pb = new ProcessBuilder(argv);
		pb.environment().clear();
		pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		if (cmd.has(ExecCommand.Prefix.FULL_PRIVILEGES)) {
			pb.environment().putAll(env);
		}
		pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
		// a stream psi-exec puts the socket on is not psi's to read
		boolean sock = "socket".equals(stdio);
		String out = config.get("Service", "StandardOutput", sock ? "socket" : "journal");
		out = sock && out.equals("inherit") ? "socket" : out;
		String err = config.get("Service", "StandardError", "inherit");
		err = err.equals("inherit") ? out : err;
		pb.redirectOutput(redirect(out.equals("socket") ? "null" : out));
		pb.redirectError(redirect(err.equals("socket") ? "null" : err));
		Process p = pb.start();
		String ident = config.get("Service", "SyslogIdentifier", Path.of(cmd.path()).getFileName().toString());
		if (pb.redirectOutput() == ProcessBuilder.Redirect.PIPE) {
			ctx.logs().pump(p.getInputStream(), name, p.pid(), "stdout", portable(), ident);
		}
		if (pb.redirectError() == ProcessBuilder.Redirect.PIPE) {
			ctx.logs().pump(p.getErrorStream(), name, p.pid(), "stderr", portable(), ident);
		}
		return p;
	}

	/** The process settings a shell can make before the sandbox starts: validated numbers only. */
	private static String prelude(UnitConfig c) {
		StringBuilder b = new StringBuilder();
		String oom = c.get("Service", "OOMScoreAdjust");
		if (oom != null) {
			if (!oom.matches("-?[0-9]{1,4}") || Math.abs(Integer.parseInt(oom)) > 1000) {
				throw c.bad("Service", "OOMScoreAdjust", new IllegalArgumentException("not a number from -1000 to 1000"));
			}
			b.append("echo ").append(Integer.parseInt(oom)).append(" > /proc/self/oom_score_adj || exit 206; ");
		}
		b.append(Limits.prlimit(c));
		String nice = c.get("Service", "Nice");
		if (nice != null) {
			if (!nice.matches("-?[0-9]{1,2}") || Integer.parseInt(nice) < -20 || Integer.parseInt(nice) > 19) {
				throw c.bad("Service", "Nice", new IllegalArgumentException("not a number from -20 to 19"));
			}
			b.append("renice --priority ").append(Integer.parseInt(nice)).append(" -p $$ >/dev/null || exit 201; ");
		}
		return b.toString();
	}

	private ProcessBuilder.Redirect redirect(String v) {
		if (v.equals("null")) {
			return ProcessBuilder.Redirect.DISCARD;
		}
		if (v.startsWith("file:")) {
			return ProcessBuilder.Redirect.to(ctx.sandbox().host(v.substring(5)).toFile());
		}
		if (v.startsWith("append:")) {
			return ProcessBuilder.Redirect.appendTo(ctx.sandbox().host(v.substring(7)).toFile());
		}
		if (v.startsWith("truncate:")) {
			return ProcessBuilder.Redirect.to(ctx.sandbox().host(v.substring(9)).toFile());
		}
		if (v.equals("journal") || v.equals("inherit") || v.equals("kmsg") || v.startsWith("journal+") || v.startsWith("kmsg+") || v.equals("tty")) {
			return ProcessBuilder.Redirect.PIPE;
		}
		throw config.bad("Service", "StandardOutput", new IllegalArgumentException("psi's own service manager does not support " + Values.show(v)));
	}

	/** Runs a command to its end; @return whether it counts as success */
	private boolean runAndCheck(ExecCommand cmd, long timeoutUs, String phase) throws IOException {
		sub = phase;
		Process p = spawn(cmd, phase);
		mainPid = phase.equals("start") ? p.pid() : mainPid;
		int status;
		try {
			if (timeoutUs == Values.INFINITY) {
				status = p.waitFor();
			} else if (!p.waitFor(timeoutUs, TimeUnit.MICROSECONDS)) {
				log(phase + " operation timed out. Terminating.");
				p.destroyForcibly();
				result = "timeout";
				return false;
			} else {
				status = p.exitValue();
			}
		} catch (InterruptedException e) {
			p.destroyForcibly();
			Thread.currentThread().interrupt();
			throw new IOException("interrupted");
		}
		if (phase.equals("start")) {
			execMainStatus = status;
			mainPid = 0;
		}
		if (stopping) {
			result = "success";
			return false;
		}
		if (status != 0 && !cmd.has(ExecCommand.Prefix.IGNORE_FAILURE) && !successStatus(status)) {
			log("Control process exited, code=exited, status=" + status + " (" + cmd.path() + ")");
			result = "exit-code";
			return false;
		}
		return true;
	}

	private boolean successStatus(int status) {
		for (UnitConfig.Setting s : config.all("Service", "SuccessExitStatus")) {
			for (String w : Words.split(s.value())) {
				if (w.equals(Integer.toString(status))) {
					return true;
				}
			}
		}
		return false;
	}

	private long forkedMainPid(UnitConfig c, long timeoutUs) throws IOException {
		String pidFile = c.get("Service", "PIDFile");
		if (pidFile != null) {
			Path f = ctx.sandbox().host(pidFile);
			long deadline = System.nanoTime() + Math.min(timeoutUs, 10_000_000L) * 1000;
			while (System.nanoTime() < deadline) {
				if (Files.isRegularFile(f)) {
					String s = Files.readString(f, StandardCharsets.US_ASCII).trim();
					if (s.matches("[0-9]{1,10}") && ProcessHandle.of(Long.parseLong(s)).isPresent()) {
						return Long.parseLong(s);
					}
				}
				sleep(50);
			}
			return 0;
		}
		List<Long> pids = cgroup.pids();
		return pids.size() == 1 ? pids.get(0) : 0;
	}

	/**
	 * @return the service's own main process, as systemd's MainPID: the
	 *         child of bubblewrap when bubblewrap runs it (psi waits for
	 *         bubblewrap, which waits for it), else the main process; 0 if none
	 */
	long servicePid() {
		ProcessHandle m = mainHandle;
		if (m == null) {
			return 0;
		}
		if (mainInSandbox) {
			java.util.Optional<ProcessHandle> c = m.children().findFirst();
			if (c.isPresent()) {
				return c.get().pid();
			}
		}
		return m.pid();
	}

	/** Watches the main process: its end is handled on the service's thread. */
	private void watch(ProcessHandle h, Process p) {
		if (h == null) {
			return;
		}
		main = p;
		mainHandle = h;
		List<Runnable> replay;
		synchronized (early) {
			mainPid = h.pid();
			replay = List.copyOf(early);
			early.clear();
		}
		replay.forEach(Runnable::run);
		long gen = ++generation;
		CompletableFuture<?> exit = p != null ? p.onExit() : h.onExit();
		exit.thenRun(() -> jobs.submit(() -> mainExited(gen)));
	}

	private void mainExited(long gen) {
		if (gen != generation || stopping || mainHandle == null) {
			return;
		}
		int status = main != null ? main.exitValue() : 0;
		execMainStatus = status;
		mainHandle = null;
		main = null;
		mainPid = 0;
		if (watchdogFired) {
			result = "watchdog";
		}
		// a result set on the way (watchdog, protocol) makes it a failure whatever the status
		boolean clean = result.equals("success") && (status == 0 || successStatus(status));
		if (!clean && result.equals("success")) {
			result = status > 128 && status < 160 ? "signal" : "exit-code";
			log("Main process exited, status=" + status + "/" + (result.equals("signal") ? "signal " + (status - 128) : "FAILURE"));
		}
		// the main process ended by itself: ExecStop=, the rest killed, ExecStopPost=, as systemd does
		try {
			runStop(false);
		} catch (IOException e) {
			log(e.getMessage());
		}
		finish(clean);
		if (!clean) {
			state = ActiveState.FAILED;
			sub = "failed";
		}
		maybeRestart();
	}

	private void maybeRestart() {
		if (config == null || stopping) {
			return;
		}
		String restart = config.get("Service", "Restart", "no");
		boolean success = result.equals("success");
		boolean signal = result.equals("signal");
		boolean timeout = result.equals("timeout");
		boolean go = switch (restart) {
			case "always" -> true;
			case "on-success" -> success;
			case "on-failure" -> !success && !result.equals("start-limit-hit") && !result.equals("resources");
			case "on-abnormal" -> signal || timeout || result.equals("watchdog");
			case "on-abort" -> signal;
			case "on-watchdog" -> result.equals("watchdog");
			default -> false;
		};
		if (!go) {
			return;
		}
		long delay = config.timespan("Service", "RestartSec", 100_000L);
		state = ActiveState.ACTIVATING;
		sub = "auto-restart";
		restartTimer = ctx.timers().schedule(() -> jobs.submit(() -> {
			if (sub.equals("auto-restart")) {
				try {
					start();
				} catch (Exception e) {
					log(e.getMessage());
				}
			}
		}), delay, TimeUnit.MICROSECONDS);
	}

	private void cancelRestart() {
		if (restartTimer != null) {
			restartTimer.cancel(false);
			restartTimer = null;
		}
	}

	// ---- reload

	/** ExecReload=, with $MAINPID, as systemctl reload: the service stays up whatever the commands say. */
	String reload() throws Exception {
		if (state != ActiveState.ACTIVE || config == null) {
			throw new IOException("Unit " + name + " is not active.");
		}
		List<ExecCommand> cmds = commands(config, "ExecReload");
		if (cmds.isEmpty()) {
			throw new IOException("Job type reload is not applicable for unit " + name + ".");
		}
		long timeout = config.timespan("Service", "TimeoutStartSec", config.timespan("Service", "TimeoutSec", DEFAULT_TIMEOUT_US));
		Map<String, String> saved = env;
		Map<String, String> e = new LinkedHashMap<>(env);
		long sp = servicePid();
		if (sp > 0) {
			e.put("MAINPID", Long.toString(sp));
		}
		env = e;
		state = ActiveState.RELOADING;
		String r = "done";
		try {
			for (ExecCommand cmd : cmds) {
				if (!runAndCheck(cmd, timeout, "reload")) {
					log("Reload failed.");
					r = "failed";
					break;
				}
			}
		} finally {
			env = saved;
			if (state == ActiveState.RELOADING) {
				state = ActiveState.ACTIVE;
				sub = "running";
			}
		}
		return r;
	}

	// ---- stop

	String stop() throws Exception {
		cancelRestart();
		if (sub.equals("auto-restart") || state == ActiveState.FAILED && (cgroup == null || cgroup.pids().isEmpty())) {
			if (sub.equals("auto-restart")) {
				state = ActiveState.INACTIVE;
				sub = "dead";
			}
			return "done";
		}
		if (state == ActiveState.INACTIVE) {
			return "done";
		}
		stopping = true;
		state = ActiveState.DEACTIVATING;
		sub = "stop";
		try {
			runStop(true);
		} finally {
			finish(true);
			stopping = false;
		}
		return "done";
	}

	/** ExecStop=, then the processes signalled as KillMode= says, then SIGKILL after TimeoutStopSec=. */
	private void runStop(boolean asked) throws IOException {
		if (config == null || prepared == null) {
			return;
		}
		long timeout = config.timespan("Service", "TimeoutStopSec", config.timespan("Service", "TimeoutSec", DEFAULT_TIMEOUT_US));
		Map<String, String> stopEnv = new LinkedHashMap<>(env);
		long sp = servicePid();
		if (sp > 0) {
			stopEnv.put("MAINPID", Long.toString(sp));
		}
		Map<String, String> saved = env;
		env = stopEnv;
		try {
			boolean wasStopping = stopping;
			stopping = false;
			for (ExecCommand cmd : commands(config, "ExecStop")) {
				try {
					runAndCheck(cmd, timeout, "stop");
				} catch (IOException e) {
					log(e.getMessage());
				}
			}
			stopping = wasStopping;
		} finally {
			env = saved;
		}
		sub = "stop-sigterm";
		String signal = Signals.name(config.get("Service", "KillSignal", "SIGTERM"));
		if (signal == null) {
			throw config.bad("Service", "KillSignal", new IllegalArgumentException("not a signal"));
		}
		String mode = config.get("Service", "KillMode", "control-group");
		ProcessHandle m = mainHandle;
		switch (mode) {
			case "none" -> {
				// as asked: nothing
			}
			case "process", "mixed" -> {
				if (m != null) {
					Signals.send(signal, List.of(servicePid()));
				}
			}
			default -> cgroup.signal(signal);
		}
		if (!mode.equals("none")) {
			Signals.send("CONT", cgroup.pids());
		}
		long deadline = System.nanoTime() + Math.min(timeout, 3_600_000_000L) * 1000;
		while (!cgroup.pids().isEmpty() && System.nanoTime() < deadline) {
			if (mode.equals("process") || mode.equals("none")) {
				if (m == null || !m.isAlive()) {
					break;
				}
			}
			sleep(20);
		}
		if (!cgroup.pids().isEmpty() && config.bool("Service", "SendSIGKILL", true) && !mode.equals("none")) {
			if (!mode.equals("process") || m != null && m.isAlive()) {
				sub = "stop-sigkill";
				if (asked && (m == null || m.isAlive())) {
					log("State 'stop-sigterm' timed out. Killing.");
				}
				if (mode.equals("process")) {
					Signals.send("KILL", List.of(m.pid()));
				} else {
					cgroup.signal("KILL");
				}
				long kd = System.nanoTime() + 5_000_000_000L;
				while (!cgroup.pids().isEmpty() && System.nanoTime() < kd) {
					sleep(20);
				}
			}
		}
		generation++;
		mainHandle = null;
		main = null;
		mainPid = 0;
		sub = "stop-post";
		boolean was = stopping;
		stopping = false;
		for (ExecCommand cmd : commands(config, "ExecStopPost")) {
			Map<String, String> postEnv = new LinkedHashMap<>(env);
			postEnv.put("SERVICE_RESULT", result);
			Map<String, String> s = env;
			env = postEnv;
			try {
				runAndCheck(cmd, timeout, "stop-post");
			} catch (IOException e) {
				log(e.getMessage());
			} finally {
				env = s;
			}
		}
		stopping = was;
	}

	/** Leaves the service down: groups, mounts and private directories gone. */
	private void finish(boolean clean) {
		tearDown();
		state = clean ? ActiveState.INACTIVE : ActiveState.FAILED;
		sub = clean ? "dead" : "failed";
		mainPid = 0;
		inactiveEnter = Instant.now().toEpochMilli() * 1000;
		for (Runnable r : downListeners) {
			ctx.timers().execute(r);
		}
	}

	/** Told (on the manager's timer thread) each time the service goes down: timers that count from it. */
	void onDown(Runnable r) {
		downListeners.add(r);
	}

	/** @return when it last became active, µs since the epoch, 0 if never */
	long activeEnter() {
		return activeEnter;
	}

	/** @return when a start of it last began, µs since the epoch, 0 if never */
	long lastActivation() {
		return lastActivation;
	}

	/** @return when it last went down, µs since the epoch, 0 if never */
	long inactiveEnter() {
		return inactiveEnter;
	}

	private void tearDown() {
		cancelWatchdog();
		if (notify != null) {
			notify.close();
			notify = null;
		}
		CompletableFuture<Boolean> r = ready;
		if (r != null) {
			r.complete(false);
			ready = null;
		}
		if (cgroup != null && !cgroup.pids().isEmpty()) {
			cgroup.signal("KILL");
			long kd = System.nanoTime() + 5_000_000_000L;
			while (!cgroup.pids().isEmpty() && System.nanoTime() < kd) {
				sleep(20);
			}
		}
		if (cgroup != null) {
			cgroup.remove();
		}
		if (prepared != null) {
			if (config != null && prepared.user != null && (config.bool("Service", "RemoveIPC", false) || prepared.user.dynamic())) {
				Ipc.remove(prepared.user.uid());
			}
			if (prepared.imageMount != null) {
				ImageMount.unmount(prepared.imageMount);
			}
			for (Path p : prepared.cleanup) {
				deleteTree(p);
			}
			if (prepared.imageMount == null || !ImageMount.isMountPoint(prepared.imageMount)) {
				deleteTree(ctx.root().resolve("run/psi/embedded/units").resolve(name));
			}
		}
		prepared = null;
	}

	/** Stops the service for good (the daemon stops), waiting at most for its stop timeout. */
	void shutdown() {
		try {
			job("stop", true, this::stop);
		} catch (IOException e) {
			log(e.getMessage());
		}
		jobs.shutdown();
	}

	// ---- environment

	private Map<String, String> environment(UnitConfig c, Sandbox.Prepared p) throws IOException {
		return UnitEnvironment.of(name, c, p, ctx);
	}

	private List<ExecCommand> commands(UnitConfig c, String key) {
		List<ExecCommand> out = new ArrayList<>();
		for (UnitConfig.Setting s : c.all("Service", key)) {
			try {
				out.addAll(ExecCommand.parse(s.value(), this::specifiers));
			} catch (IllegalArgumentException e) {
				throw new UnitConfig.UnitException(name + ": " + key + "= at " + s.where() + ": " + e.getMessage());
			}
		}
		return out;
	}

	/** Resolves the specifiers of a word as systemd's system manager resolves them for this unit. */
	String specifiers(String s) {
		return UnitEnvironment.specifiers(name, config, ctx, s);
	}

	/** @return the image's file name, as {@code LogExtraFields=PORTABLE=} gives it */
	String portable() {
		return portable(config);
	}

	/** @return a unit's image file name from {@code LogExtraFields=PORTABLE=}, or empty */
	static String portable(UnitConfig c) {
		if (c == null) {
			return "";
		}
		for (UnitConfig.Setting s : c.all("Service", "LogExtraFields")) {
			for (String w : Words.split(s.value())) {
				if (w.startsWith("PORTABLE=")) {
					return w.substring(9);
				}
			}
		}
		return "";
	}

	private void log(String message) {
		ctx.logs().append(name, 0, "psi", portable(), "psi", message);
	}

	private static void sleep(long ms) {
		try {
			Thread.sleep(ms);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	static void deleteTree(Path p) {
		if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		if (ImageMount.isMountPoint(p)) {
			return;
		}
		try (Stream<Path> s = Files.walk(p)) {
			s.sorted(Comparator.reverseOrder()).forEach(f -> {
				try {
					Files.deleteIfExists(f);
				} catch (IOException e) {
					// left for the next start to try again
				}
			});
		} catch (IOException e) {
			// nothing to delete
		}
	}
}
