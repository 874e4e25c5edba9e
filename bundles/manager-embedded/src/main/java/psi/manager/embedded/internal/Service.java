package psi.manager.embedded.internal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
import psi.spi.unit.Specifiers;
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
	private final Deque<Long> starts = new ArrayDeque<>();

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
		s.mainPid = mainPid;
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
		if (!report.unsandboxed().isEmpty()) {
			if (!ctx.allowedUnsandboxed(name)) {
				throw new IOException(name + ": psi's own service manager does not implement " + String.join(", ", report.unsandboxed())
					+ ", which the unit asks for; refused (psi start --allow-unsandboxed runs it without them)");
			}
			w.add("running WITHOUT " + String.join(", ", report.unsandboxed()) + " (--allow-unsandboxed)");
		}
		if (!c.all("Service", "Type").isEmpty() && c.get("Service", "Type").equals("notify")) {
			w.add("Type=notify is run as Type=simple: psi's own service manager does not read READY=1 yet");
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
		execMainStatus = 0;
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
					watch(ProcessHandle.of(pid).orElse(null), null);
				}
				case "simple", "exec", "idle", "notify" -> {
					Process p = spawn(startCmds.get(0), "main");
					watch(p.toHandle(), p);
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
			tearDown();
			state = ActiveState.FAILED;
			sub = "failed";
			throw e instanceof IOException io ? io : new IOException(e.getMessage());
		}
	}

	private boolean startLimit(UnitConfig c) {
		long interval = c.timespan("Unit", "StartLimitIntervalSec", c.timespan("Unit", "StartLimitInterval", 10_000_000L));
		int burst;
		try {
			burst = Integer.parseInt(c.get("Unit", "StartLimitBurst", "5"));
		} catch (NumberFormatException e) {
			throw c.bad("Unit", "StartLimitBurst", e);
		}
		if (interval == 0 || burst == 0) {
			return true;
		}
		long now = System.nanoTime() / 1000;
		while (!starts.isEmpty() && now - starts.peekFirst() > interval) {
			starts.removeFirst();
		}
		if (starts.size() >= burst) {
			return false;
		}
		starts.addLast(now);
		return true;
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

	/** Starts one command in the sandbox, its output into the log. */
	private Process spawn(ExecCommand cmd, String what) throws IOException {
		List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", WRAPPER + prelude(config) + "exec \"$@\"", "psi-exec"));
		argv.addAll(procs);
		argv.add("--");
		argv.addAll(ctx.sandbox().command(prepared, cmd, env));
		ProcessBuilder pb = new ProcessBuilder(argv);
		pb.environment().clear();
		pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		if (cmd.has(ExecCommand.Prefix.FULL_PRIVILEGES)) {
			pb.environment().putAll(env);
		}
		pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
		String out = config.get("Service", "StandardOutput", "journal");
		String err = config.get("Service", "StandardError", "inherit");
		pb.redirectOutput(redirect(out));
		pb.redirectError(err.equals("inherit") ? redirect(out) : redirect(err));
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

	/** Watches the main process: its end is handled on the service's thread. */
	private void watch(ProcessHandle h, Process p) {
		if (h == null) {
			return;
		}
		main = p;
		mainHandle = h;
		mainPid = h.pid();
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
		boolean clean = status == 0 || successStatus(status);
		if (!clean) {
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
			case "on-abnormal" -> signal || timeout;
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
		if (mainPid > 0) {
			stopEnv.put("MAINPID", Long.toString(mainPid));
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
			case "process" -> {
				if (m != null) {
					Signals.send(signal, List.of(m.pid()));
				}
			}
			case "mixed" -> {
				if (m != null) {
					Signals.send(signal, List.of(m.pid()));
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
		Map<String, String> e = new LinkedHashMap<>(p.env);
		e.put("INVOCATION_ID", UUID.randomUUID().toString().replace("-", ""));
		for (UnitConfig.Setting s : c.all("Service", "PassEnvironment")) {
			for (String n : Words.split(s.value())) {
				String v = System.getenv(n);
				if (v != null) {
					e.put(n, v);
				}
			}
		}
		for (UnitConfig.Setting s : c.all("Service", "Environment")) {
			List<String> words;
			try {
				words = Words.split(specifiers(s.value()));
			} catch (IllegalArgumentException x) {
				throw new UnitConfig.UnitException(name + ": Environment= at " + s.where() + ": " + x.getMessage());
			}
			for (String w : words) {
				int eq = w.indexOf('=');
				if (eq <= 0 || !w.substring(0, eq).matches("[A-Za-z_][A-Za-z0-9_]*")) {
					throw new UnitConfig.UnitException(name + ": Environment= at " + s.where() + ": not an assignment: " + Values.show(w));
				}
				e.put(w.substring(0, eq), w.substring(eq + 1));
			}
		}
		for (UnitConfig.Setting s : c.all("Service", "EnvironmentFile")) {
			String v = s.value();
			boolean optional = v.startsWith("-");
			Path f = ctx.sandbox().host(optional ? v.substring(1) : v);
			if (!Files.isRegularFile(f)) {
				if (optional) {
					continue;
				}
				throw new UnitConfig.UnitException(name + ": EnvironmentFile= at " + s.where() + ": " + f + " does not exist");
			}
			if (Files.size(f) > UnitLoader.MAX_FILE) {
				throw new UnitConfig.UnitException(name + ": EnvironmentFile= at " + s.where() + ": " + f + " is too large");
			}
			for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
				String l = line.strip();
				if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
					continue;
				}
				if (l.startsWith("export ")) {
					l = l.substring(7).strip();
				}
				int eq = l.indexOf('=');
				if (eq <= 0) {
					continue;
				}
				String key = l.substring(0, eq).strip();
				String val = l.substring(eq + 1).strip();
				if ((val.startsWith("\"") && val.endsWith("\"") || val.startsWith("'") && val.endsWith("'")) && val.length() >= 2) {
					val = val.substring(1, val.length() - 1);
				}
				if (key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
					e.put(key, val);
				}
			}
		}
		return e;
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
		int dot = name.lastIndexOf('.');
		int at = name.indexOf('@');
		String prefix = at >= 0 ? name.substring(0, at) : name.substring(0, dot);
		String instance = at >= 0 ? name.substring(at + 1, dot) : "";
		return Specifiers.expand(s, ch -> switch (ch) {
			case 'n' -> name;
			case 'N' -> name.substring(0, dot);
			case 'p' -> prefix;
			case 'P' -> Specifiers.unescape(prefix);
			case 'i' -> instance;
			case 'I' -> Specifiers.unescape(instance);
			case 'j' -> prefix.substring(prefix.lastIndexOf('-') + 1);
			case 'J' -> Specifiers.unescape(prefix.substring(prefix.lastIndexOf('-') + 1));
			case 'f' -> "/" + Specifiers.unescape(at >= 0 ? instance : prefix);
			case 't' -> "/run";
			case 'S' -> "/var/lib";
			case 'C' -> "/var/cache";
			case 'L' -> "/var/log";
			case 'E' -> "/etc";
			case 'T' -> "/tmp";
			case 'V' -> "/var/tmp";
			case 'h' -> "/root";
			case 'u' -> "root";
			case 'U' -> "0";
			case 'g' -> "root";
			case 'G' -> "0";
			case 's' -> "/bin/sh";
			case 'H' -> ctx.hostname();
			case 'l' -> ctx.hostname().split("\\.")[0];
			case 'm' -> firstLine(ctx.root().resolve("etc/machine-id"));
			case 'b' -> firstLine(Path.of("/proc/sys/kernel/random/boot_id")).replace("-", "");
			case 'v' -> firstLine(Path.of("/proc/sys/kernel/osrelease"));
			case 'a' -> System.getProperty("os.arch").equals("amd64") ? "x86-64" : System.getProperty("os.arch").replace('_', '-');
			case 'd' -> "/run/credentials/" + name;
			case 'y' -> config == null ? "" : config.fragment().toString();
			case 'Y' -> config == null ? "" : config.fragment().getParent().toString();
			default -> null;
		});
	}

	private static String firstLine(Path p) {
		try (Stream<String> l = Files.lines(p)) {
			return l.findFirst().orElse("").trim();
		} catch (IOException | RuntimeException e) {
			return "";
		}
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
