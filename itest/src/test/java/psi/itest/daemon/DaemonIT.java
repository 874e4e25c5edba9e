package psi.itest.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;


import psi.itest.RootSnapshot;
import psi.itest.Tmux;
import psi.itest.box.TestBox;

/**
 * The resident psi (issue 11), end to end with the real launcher, the C
 * client and a real {@code psi daemon} on the host: every command the same
 * through the daemon as in-process; what other users may do, by their real
 * credentials ({@code nobody}); Ctrl-C during a pull from a real nginx;
 * the daemon killed with SIGKILL during an attach; 8 clients at once; the
 * daemon stopped by SIGTERM. Socket activation is tried in the throwaway
 * systemd by {@code DaemonSocketIT}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonIT {

	static final Duration CMD = Duration.ofSeconds(120);

	static Path base;
	static Path psi;
	static Path work;
	static Path config;
	/** The root the long-running daemon serves. */
	static Path root;
	/** An identical root for the same commands in-process. */
	static Path twin;
	static Daemon daemon;

	/** A psi daemon started for a test: the JVM's process and its log. */
	record Daemon(Process process, Path log, Path root) {

		long pid() {
			// the launcher script execs the client, which execs the script again, which execs java: one PID throughout
			return process.pid();
		}

		Path socket() {
			return root.resolve("run/psi/psi.sock");
		}
	}

	/** The outcome of one command. */
	record Result(int rc, String out, String err) {
		@Override
		public String toString() {
			return "rc=" + rc + "\nstdout: " + out + "\nstderr: " + err;
		}
	}

	@BeforeAll
	static void up() throws Exception {
		base = TestBox.basedir();
		psi = base.resolve("distribution/psi");
		assertTrue(Files.isExecutable(base.resolve("distribution/target/psi-client")), "build psi first: mvn -B install -DskipTests");
		// under /var/tmp, with searchable parents: user nobody walks into it
		work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-daemon-");
		Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
		config = Files.createDirectories(work.resolve("etc-psi"));
		root = Files.createDirectories(work.resolve("root"));
		twin = Files.createDirectories(work.resolve("twin"));
		for (Path r : List.of(root, twin)) {
			for (int i = 0; i < 8; i++) {
				image(r.resolve("var/lib/portables/app" + i + "_1"), "app" + i + ".service", "app" + i + "-extra.socket");
			}
			image(r.resolve("var/lib/portables/spare_1"), "spare.service");
		}
		daemon = start(root);
	}

	@AfterAll
	static void down() throws Exception {
		if (daemon != null && daemon.process().isAlive()) {
			daemon.process().destroyForcibly();
		}
		if (work != null) {
			TestBox.deleteTree(work);
		}
	}

	/** A directory image with an os-release and simple units. */
	static void image(Path dir, String... units) throws IOException {
		Files.createDirectories(dir.resolve("usr/lib/systemd/system"));
		Files.createDirectories(dir.resolve("etc"));
		Files.writeString(dir.resolve("usr/lib/os-release"), "ID=test\nVERSION_ID=1\n");
		for (String u : units) {
			Files.writeString(dir.resolve("usr/lib/systemd/system/" + u),
				u.endsWith(".socket") ? "[Socket]\nListenStream=/run/x.sock\n" : "[Service]\nExecStart=/bin/true\n");
		}
	}

	/** Starts {@code psi daemon --root R} and waits until it listens. */
	static Daemon start(Path r) throws Exception {
		Path log = work.resolve("daemon-" + r.getFileName() + "-" + System.nanoTime() + ".log");
		ProcessBuilder pb = new ProcessBuilder(psi.toString(), "daemon", "--root", r.toString());
		pb.environment().put("PSI_CONFIG_DIR", config.toString());
		pb.redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
		Process p = pb.start();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		while (!(Files.isRegularFile(log) && Files.readString(log).contains("listening on"))) {
			if (!p.isAlive() || System.nanoTime() > deadline) {
				p.destroyForcibly();
				fail("psi daemon did not start: " + (Files.isRegularFile(log) ? Files.readString(log) : "(no log)"));
			}
			Thread.sleep(50);
		}
		return new Daemon(p, log, r);
	}

	/** Runs psi with these arguments, as root or as another user ({@code runuser -u USER}), with extra environment. */
	static Result psi(String user, Map<String, String> env, String... args) throws Exception {
		List<String> cmd = new ArrayList<>();
		if (user != null) {
			cmd.addAll(List.of("runuser", "-u", user, "--"));
		}
		cmd.add(psi.toString());
		cmd.addAll(List.of(args));
		return run(cmd, env, null);
	}

	static Result psi(String... args) throws Exception {
		return psi(null, Map.of(), args);
	}

	static Result run(List<String> cmd, Map<String, String> env, java.util.function.Consumer<Process> during) throws Exception {
		ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
		pb.environment().put("PSI_CONFIG_DIR", config.toString());
		pb.environment().put("LANG", "C.UTF-8");
		pb.environment().remove("PSI_SOCKET");
		pb.environment().putAll(env);
		Path out = Files.createTempFile(work, "out", ".txt");
		Path err = Files.createTempFile(work, "err", ".txt");
		Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-rw-rw-"));
		Files.setPosixFilePermissions(err, PosixFilePermissions.fromString("rw-rw-rw-"));
		try {
			Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
			if (during != null) {
				during.accept(p);
			}
			if (!p.waitFor(CMD.toSeconds(), TimeUnit.SECONDS)) {
				p.destroyForcibly();
				fail("no answer in " + CMD.toSeconds() + " s: " + cmd);
			}
			return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
		} finally {
			Files.deleteIfExists(out);
			Files.deleteIfExists(err);
		}
	}

	static String served(Result r, Path from) {
		// the two roots' images were made a moment apart: their birth times may fall in different seconds
		return r.toString().replace(from.toString(), "ROOT").replaceAll("\\w{3} \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} [A-Z]+", "TIME");
	}

	// ------------------------------------------------------------------

	@Test
	@Order(1)
	void everyCommandGivesTheSameAnswerThroughTheDaemonAsInProcess() throws Exception {
		String daemonLogBefore = Files.readString(daemon.log());
		List<List<String>> commands = List.of(//
			List.of("--help"), List.of("list"), List.of("list", "--all", "--no-legend"), List.of("profiles"), //
			List.of("inspect", "app0_1"), List.of("inspect", "--cat", "app0_1"), List.of("inspect", "--profile", "strict", "app1_1", "app1"), //
			List.of("inspect", "/var/lib/portables/app2_1"), List.of("is-attached", "app0_1"), //
			List.of("attach", "app0_1"), List.of("attach", "app0_1"), List.of("is-attached", "app0_1"), List.of("list"), //
			List.of("attach", "--copy=symlink", "--runtime", "app1_1"), List.of("is-attached", "app1_1"), //
			List.of("reattach", "app1_1"), List.of("detach", "app0_1"), List.of("detach", "--runtime", "app1_1"), //
			List.of("read-only", "app3_1", "maybe"), List.of("remove"), List.of("remove", "spare_1"), List.of("list"), //
			List.of("inspect", "nothere"), List.of("attach", "--copy=sideways", "app4_1"), List.of("attach", "--bogus", "app4_1"), //
			List.of("attach"), List.of("frobnicate"), List.of("is-attached", "--help"), List.of("pull", "file:///nonexistent/x_1.raw"), //
			List.of("inspect", "./root/var/lib/portables/app5_1"));
		for (List<String> c : commands) {
			List<String> inProcess = new ArrayList<>(List.of("--no-daemon", "--root", twin.toString()));
			inProcess.addAll(c);
			List<String> through = new ArrayList<>(List.of("--root", root.toString()));
			through.addAll(c);
			// a relative image path names the twin's copy in-process, the served root's through the daemon
			List<String> twinArgs = inProcess.stream().map(a -> a.equals("./root/var/lib/portables/app5_1") ? "./twin/var/lib/portables/app5_1" : a).toList();
			Result a = psi(twinArgs.toArray(String[]::new));
			Result b = psi(through.toArray(String[]::new));
			assertEquals(served(a, twin), served(b, root), "psi " + String.join(" ", c) + ": in-process and through the daemon differ");
		}
		// status differs, as it should: the daemon runs psi's own service manager for its root and knows the units
		assertEquals(0, psi("--no-daemon", "--root", twin.toString(), "attach", "app7_1").rc());
		assertEquals(0, psi("--root", root.toString(), "attach", "app7_1").rc());
		Result inProcessStatus = psi("--no-daemon", "--root", twin.toString(), "status", "app7_1");
		Result daemonStatus = psi("--root", root.toString(), "status", "app7_1");
		assertEquals(0, psi("--no-daemon", "--root", twin.toString(), "detach", "app7_1").rc());
		assertEquals(0, psi("--root", root.toString(), "detach", "app7_1").rc());
		assertEquals(3, inProcessStatus.rc(), inProcessStatus.toString());
		assertEquals(3, daemonStatus.rc(), daemonStatus.toString());
		assertTrue(inProcessStatus.out().contains("psi's own service manager runs services only inside the psi daemon"), inProcessStatus.toString());
		assertTrue(daemonStatus.out().contains("Loaded: loaded") && daemonStatus.out().contains("Active: inactive (dead)"), daemonStatus.toString());
		String logged = Files.readString(daemon.log()).substring(daemonLogBefore.length());
		assertTrue(logged.lines().filter(l -> l.startsWith("psi daemon: root: ")).count() >= commands.size(),
			"the daemon ran the commands (each one logged line):\n" + logged);
		assertEquals("", diff(snapshot(twin), snapshot(root)), "the two roots differ after the same commands");
	}

	@Test
	@Order(2)
	void otherUsersMayReadButNotChange() throws Exception {
		Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
		Result list = psi("nobody", Map.of(), "--root", root.toString(), "list");
		assertEquals(0, list.rc(), "nobody may list: " + list);
		assertTrue(list.out().contains("app0_1"), list.out());
		Result inspect = psi("nobody", Map.of(), "--root", root.toString(), "inspect", "app0_1");
		assertEquals(0, inspect.rc(), "nobody may inspect: " + inspect);
		Result isAttached = psi("nobody", Map.of(), "--root", root.toString(), "is-attached", "app0_1");
		assertEquals(1, isAttached.rc(), "detached: " + isAttached);

		Map<String, String> before = snapshot(root);
		Result attach = psi("nobody", Map.of(), "--root", root.toString(), "attach", "app0_1");
		assertEquals(1, attach.rc(), attach.toString());
		assertEquals(List.of("psi attach: refused for user nobody: changing the host needs root; other users may run list, inspect, lint, status, is-attached, logs, profiles, versions, plugins and config"),
			attach.err().lines().toList(), "one line: " + attach);
		for (String[] c : new String[][] { { "detach", "app0_1" }, { "remove", "app6_1" }, { "pull", "file:///etc/hostname" }, { "start", "app0_1" },
			{ "read-only", "app0_1" } }) {
			List<String> a = new ArrayList<>(List.of("--root", root.toString()));
			a.addAll(List.of(c));
			Result r = psi("nobody", Map.of(), a.toArray(String[]::new));
			assertEquals(1, r.rc(), String.join(" ", c) + ": " + r);
			assertEquals(1, r.err().lines().count(), "one line: " + r);
		}
		// the daemon does not read for nobody what nobody cannot read
		Path secret = work.resolve("secret");
		image(secret.resolve("hidden_1"), "hidden.service");
		Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
		Result hidden = psi("nobody", Map.of(), "--root", root.toString(), "inspect", secret.resolve("hidden_1").toString());
		assertEquals(1, hidden.rc(), hidden.toString());
		assertTrue(hidden.err().contains("is not readable by nobody"), hidden.toString());
		for (String[] sneaky : new String[][] { { "inspect", "--", "--cat", secret.resolve("hidden_1").toString() },
			{ "inspect", "--cat", "app0_1", "app0", secret.resolve("hidden_1").toString() } }) {
			List<String> a = new ArrayList<>(List.of("--root", root.toString()));
			a.addAll(List.of(sneaky));
			Result r = psi("nobody", Map.of(), a.toArray(String[]::new));
			assertEquals(1, r.rc(), String.join(" ", sneaky) + ": " + r);
			assertFalse(r.out().contains("hidden.service"), "nobody read a unit of an image it cannot read: " + r);
		}
		Result elsewhere = psi("nobody", Map.of("PSI_SOCKET", daemon.socket().toString()), "--root", twin.toString(), "list");
		assertEquals(1, elsewhere.rc(), elsewhere.toString());
		assertTrue(elsewhere.err().contains("serves the root " + root), elsewhere.toString());
		Result logs = psi("nobody", Map.of(), "--root", root.toString(), "logs", "app0_1");
		assertEquals(1, logs.rc(), logs.toString());
		assertTrue(logs.err().contains("adm or systemd-journal"), logs.toString());
		Result shell = psi("nobody", Map.of("PSI_SOCKET", daemon.socket().toString()));
		assertEquals(1, shell.rc(), shell.toString());
		assertTrue(shell.err().contains("the daemon's shell is root's"), shell.toString());
		assertEquals("", diff(before, snapshot(root)), "a refused command changed the root");
		// and nobody's own in-process psi (no daemon) cannot write root's files either: not the daemon's doing
	}

	@Test
	@Order(3)
	void ctrlCDuringAPullStopsItAndKeepsThePartialFile() throws Exception {
		for (String tool : List.of("/usr/sbin/nginx", "/usr/bin/openssl"))
			if (!Files.isExecutable(Path.of(tool)))
				fail(tool + " is missing: install nginx-light and openssl (.ci/run does)");
		Path nginxDir = work.resolve("nginx");
		Files.createDirectories(nginxDir.resolve("www"));
		Files.createDirectories(nginxDir.resolve("server.d"));
		// 64 MiB at 4 MiB/s: 16 s to interrupt in
		Files.writeString(nginxDir.resolve("server.d/slow.conf"), "location /slow/ { alias " + nginxDir.resolve("www") + "/; limit_rate 4m; }\n");
		byte[] chunk = new byte[1 << 20];
		new java.util.Random(11).nextBytes(chunk);
		try (var o = Files.newOutputStream(nginxDir.resolve("www/big_1.raw"))) {
			for (int i = 0; i < 64; i++) {
				o.write(chunk);
			}
		}
		Result up = run(List.of("bash", base.resolve("itest/servers/nginx.sh").toString(), "start", nginxDir.toString()), Map.of(), null);
		assertEquals(0, up.rc(), "nginx.sh start: " + up);
		try {
			Map<String, String> ports = new HashMap<>();
			for (String kv : up.out().strip().split("\\s+")) {
				int eq = kv.indexOf('=');
				if (eq > 0)
					ports.put(kv.substring(0, eq), kv.substring(eq + 1));
			}
			Path ca = Files.createDirectories(work.resolve("ca.d"));
			Files.copy(nginxDir.resolve("pki/ca.crt"), ca.resolve("test.crt"));
			Files.writeString(config.resolve("psi.transport.https.cfg"), "caDirectory=" + ca + "\n");
			// the daemon read its configuration at start: a new one for this test
			Daemon d = start(twin);
			try {
				String url = "https://127.0.0.1:" + ports.get("PORT") + "/slow/big_1.raw";
				Path pool = twin.resolve("var/lib/portables");
				long[] partialBytes = { 0 };
				Result pull = run(List.of(psi.toString(), "--root", twin.toString(), "pull", "--verify=no", url), Map.of(), p -> {
					try {
						long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
						while (System.nanoTime() < deadline && (partialBytes[0] = partial(pool)) < (4 << 20)) {
							Thread.sleep(50);
						}
						new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
					} catch (Exception e) {
						throw new IllegalStateException(e);
					}
				});
				assertTrue(partialBytes[0] >= 4 << 20, "the pull did not get going: " + partialBytes[0] + " bytes");
				assertEquals(130, pull.rc(), "Ctrl-C: " + pull);
				assertTrue(pull.err().lines().anyMatch(l -> l.contains("interrupted") && l.contains("kept the") && l.contains("pull again to resume")), pull.toString());
				assertFalse(pull.err().contains("Exception"), pull.toString());
				long kept = partial(pool);
				assertTrue(kept >= partialBytes[0] && kept < 64 << 20, "kept " + kept + " bytes of the partial download");
				Thread.sleep(1000);
				assertEquals(kept, partial(pool), "the transfer goes on after Ctrl-C");
				Result all = psi("--root", twin.toString(), "list", "--all");
				assertTrue(all.out().contains("1 partial download"), "psi list --all shows the partial download: " + all);
				assertTrue(Files.readString(d.log()).contains("(interrupted)"), Files.readString(d.log()));
				Result gone = psi("--root", twin.toString(), "remove", "--partial");
				assertEquals(0, gone.rc(), gone.toString());
			} finally {
				stop(d);
			}
		} finally {
			Files.deleteIfExists(config.resolve("psi.transport.https.cfg"));
			run(List.of("bash", base.resolve("itest/servers/nginx.sh").toString(), "stop", nginxDir.toString()), Map.of(), null);
		}
	}

	/** @return the bytes of partial downloads under the pool (its hidden staging files) */
	static long partial(Path pool) throws IOException {
		long n = 0;
		List<Path> files;
		try (Stream<Path> s = Files.walk(pool)) {
			files = s.filter(p -> p.toString().contains("/.psi-") && !p.getFileName().toString().startsWith(".#")).toList();
		} catch (java.io.UncheckedIOException e) {
			return partial(pool); // a temporary file went while walking
		}
		for (Path p : files) {
			try {
				if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && !p.getFileName().toString().endsWith(".resume")) {
					n += Files.size(p);
				}
			} catch (java.nio.file.NoSuchFileException gone) {
				// renamed or removed meanwhile
			}
		}
		return n;
	}

	@Test
	@Order(4)
	void theDaemonKilledDuringAnAttachLeavesAConsistentHost() throws Exception {
		String[] units = new String[120];
		for (int i = 0; i < units.length; i++) {
			units[i] = "big-u" + i + ".service";
		}
		// what a finished attach leaves, from an identical root in-process
		Path ref = Files.createDirectories(work.resolve("crash-ref"));
		image(ref.resolve("var/lib/portables/big_1"), units);
		Map<String, String> detached = snapshot(ref);
		Result refAttach = psi("--no-daemon", "--root", ref.toString(), "attach", "big_1");
		assertEquals(0, refAttach.rc(), refAttach.toString());
		Map<String, String> attached = snapshot(ref);
		java.util.Random random = new java.util.Random(5);
		int sawAttached = 0;
		int sawDetached = 0;
		for (int run = 0; run < 5; run++) {
			Path crash = Files.createDirectories(work.resolve("crash-" + run));
			image(crash.resolve("var/lib/portables/big_1"), units);
			Daemon d = start(crash);
			int delay = 100 + random.nextInt(1500);
			Result r = run(List.of(psi.toString(), "--root", crash.toString(), "attach", "big_1"), Map.of(), p -> {
				try {
					Thread.sleep(delay);
					new ProcessBuilder("kill", "-KILL", Long.toString(d.pid())).start().waitFor();
				} catch (Exception e) {
					throw new IllegalStateException(e);
				}
			});
			d.process().waitFor(30, TimeUnit.SECONDS);
			// the next command (in-process: the daemon is gone) finds the host consistent
			Result state = psi("--root", crash.toString(), "is-attached", "big_1");
			Map<String, String> now = snapshot(crash);
			if (now.equals(attached)) {
				sawAttached++;
				assertEquals("attached", state.out().strip(), state.toString());
			} else {
				assertEquals("", diff(detached, now), "after kill -9 at " + delay + " ms the host is neither attached nor detached; the attach said " + r);
				sawDetached++;
				assertEquals("detached", state.out().strip(), state.toString());
			}
			if (r.rc() != 0) {
				assertTrue(r.err().contains("the daemon closed the connection before the command finished"), r.toString());
			}
		}
		System.out.println("[daemon] kill -9 during attach: " + sawAttached + " runs found attached, " + sawDetached + " detached");
	}

	/**
	 * Eight clients, each running its commands one after the other: 250
	 * each in CI (2000 in all); a longer run with
	 * {@code -Dpsi.daemon.load=N} (N per client).
	 */
	@Test
	@Order(5)
	void eightClientsAtOnce() throws Exception {
		int clients = 8;
		int each = Integer.getInteger("psi.daemon.load", 250);
		int logFrom = Files.readString(daemon.log()).length();
		Map<String, String> before = snapshot(root);
		List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
		AtomicInteger failed = new AtomicInteger();
		List<String> failures = Collections.synchronizedList(new ArrayList<>());
		ExecutorService pool = Executors.newFixedThreadPool(clients);
		List<Future<?>> futures = new ArrayList<>();
		for (int c = 0; c < clients; c++) {
			String image = "app" + c + "_1";
			futures.add(pool.submit(() -> {
				boolean isAttached = false;
				for (int i = 0; i < each; i++) {
					String[] args;
					int expect;
					switch (i % 5) {
						case 0 -> {
							args = new String[] { "list", "--no-legend" };
							expect = 0;
						}
						case 1 -> {
							args = new String[] { "inspect", image };
							expect = 0;
						}
						case 2 -> {
							args = new String[] { "status", image };
							expect = 3;
						}
						case 3 -> {
							args = new String[] { "is-attached", "-q", image };
							expect = isAttached ? 0 : 1;
						}
						default -> {
							args = new String[] { isAttached ? "detach" : "attach", image };
							expect = 0;
							isAttached = !isAttached;
						}
					}
					List<String> a = new ArrayList<>(List.of("--root", root.toString()));
					a.addAll(List.of(args));
					long t = System.nanoTime();
					Result r;
					try {
						r = psi(a.toArray(String[]::new));
					} catch (Exception e) {
						failed.incrementAndGet();
						failures.add(String.join(" ", a) + ": " + e);
						continue;
					}
					latencies.add(System.nanoTime() - t);
					if (r.rc() != expect || r.err().contains("Exception")) {
						failed.incrementAndGet();
						failures.add("psi " + String.join(" ", a) + " (expected " + expect + "): " + r);
					}
				}
				if (isAttached) {
					try {
						psi("--root", root.toString(), "detach", image);
					} catch (Exception e) {
						failures.add(e.toString());
					}
				}
				return null;
			}));
		}
		for (Future<?> f : futures) {
			f.get(30, TimeUnit.MINUTES);
		}
		pool.shutdown();
		List<Long> sorted = new ArrayList<>(latencies);
		Collections.sort(sorted);
		long p50 = sorted.get(sorted.size() / 2) / 1_000_000;
		long p99 = sorted.get((int) (sorted.size() * 0.99)) / 1_000_000;
		// and as the daemon measured them, from its log: request read to exit status sent
		List<Long> served = new ArrayList<>();
		java.util.regex.Matcher m = java.util.regex.Pattern.compile(" -> \\d+ in (\\d+) ms").matcher(Files.readString(daemon.log()).substring(logFrom));
		while (m.find()) {
			served.add(Long.parseLong(m.group(1)));
		}
		Collections.sort(served);
		System.out.println("[daemon] " + clients + " clients x " + each + " commands: " + sorted.size() + " answered, " + failed.get()
			+ " failed; latency p50 " + p50 + " ms, p99 " + p99 + " ms (a client process started by this JVM, the command, its exit);"
			+ " in the daemon p50 " + served.get(served.size() / 2) + " ms, p99 " + served.get((int) (served.size() * 0.99)) + " ms");
		assertEquals(0, failed.get(), "failed commands:\n" + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
		assertEquals("", diff(before, snapshot(root)), "after every attach was detached the root is as before");
	}

	@Test
	@Order(6)
	void theShellOverTheDaemonCompletesWithTab() throws Exception {
		Duration wait = Duration.ofSeconds(30);
		try (Tmux t = Tmux.start(work, Map.of("PSI_SOCKET", daemon.socket().toString(), "PSI_CONFIG_DIR", config.toString()), psi.toString())) {
			t.await("^psi>$", wait);
			// a command, an option, its value from the engine's profiles, an image of the root the daemon serves
			t.tab("att", "attach", wait);
			t.tab("--pro", "attach --profile", wait);
			t.tab("str", "attach --profile strict", wait);
			t.tab("app5", "attach --profile strict app5_1", wait);
			t.keys("Enter");
			t.await("^psi>$", wait);
			// now attached: offered to the commands that take attached images, and the line runs as psi COMMAND does
			t.type("is-att");
			t.keys("Tab");
			t.tab("app5", "is-attached app5_1", wait);
			t.keys("Enter");
			t.await("^attached\npsi>$", wait);
			t.type("detach app5");
			t.keys("Tab", "Enter");
			t.await("^psi> detach app5_1\n(.*\n)*psi>$", wait);
			// several candidates: listed with their descriptions
			t.type("li");
			t.keys("Tab");
			t.await("^list +\\(?List the portable service images", wait);
			// Ctrl-C drops the line; Gogo's own language still runs
			t.keys("C-c");
			t.await("^psi> li\\^C\npsi>$", wait);
			t.type("echo one | grep one");
			t.keys("Enter");
			t.await("^one\npsi>$", wait);
			t.type("exit");
			t.keys("Enter");
			String end = t.await("EXIT=0\n(.*\n)*isig icanon ", wait);
			// the client put its terminal in raw mode, and back
			assertFalse(end.contains("-icanon") || end.contains("-echo ") || end.contains("-isig"), end);
		}
		assertEquals("detached", psi("--root", root.toString(), "is-attached", "app5_1").out().strip());
	}

	@Test
	@Order(7)
	void theShellInProcessCompletesWithTab() throws Exception {
		Duration wait = Duration.ofSeconds(60);
		// psi --root DIR: the shell for that root, in this process
		try (Tmux t = Tmux.start(work, Map.of("PSI_IN_PROCESS", "1", "PSI_SOCKET", "/nonexistent", "PSI_CONFIG_DIR", config.toString()),
			psi.toString(), "--root", twin.toString())) {
			t.await("^psi>$", wait);
			t.tab("inspect app6", "inspect app6_1", wait);
			t.keys("C-u");
			t.tab("build --for", "build --format", wait);
			t.keys("Tab");
			t.await("^raw +squashfs", wait);
			t.keys("C-u");
			// a path, from the shell's directory
			t.tab("inspect etc-p", "inspect etc-psi/", wait);
			t.keys("C-u", "C-d");
			t.await("EXIT=0", wait);
		}
	}

	@Test
	@Order(8)
	void sigtermStopsTheDaemonCleanly() throws Exception {
		stop(daemon);
		assertFalse(Files.exists(daemon.socket(), LinkOption.NOFOLLOW_LINKS), "the socket is removed");
		// with no daemon the client runs the command itself
		Result r = psi("--root", root.toString(), "list", "--no-legend");
		assertEquals(0, r.rc(), r.toString());
	}

	static void stop(Daemon d) throws Exception {
		new ProcessBuilder("kill", "-TERM", Long.toString(d.pid())).start().waitFor();
		assertTrue(d.process().waitFor(60, TimeUnit.SECONDS), "psi daemon did not stop on SIGTERM");
		assertEquals(0, d.process().exitValue(), "psi daemon's exit status after SIGTERM: " + Files.readString(d.log()));
		String log = Files.readString(d.log());
		assertTrue(log.contains("stopping (SIGTERM)") && log.strip().endsWith("psi daemon: stopped"), log);
		assertFalse(log.contains("\tat ") || log.contains("Exception"), "a stack trace in the daemon's log:\n" + log);
	}

	/** @return the first differences of two snapshots, one per line; empty when they are equal */
	static String diff(Map<String, String> expected, Map<String, String> actual) {
		java.util.TreeSet<String> keys = new java.util.TreeSet<>(expected.keySet());
		keys.addAll(actual.keySet());
		StringBuilder sb = new StringBuilder();
		int n = 0;
		for (String k : keys) {
			if (!java.util.Objects.equals(expected.get(k), actual.get(k)) && n++ < 10) {
				sb.append(k).append(": expected ").append(expected.get(k)).append(", found ").append(actual.get(k)).append('\n');
			}
		}
		return sb.toString();
	}

	/**
	 * Path → kind, mode and content hash or link target of everything under
	 * {@code dir} but psi's own run and state directories (its socket, lock
	 * and empty journal directory).
	 */
	static Map<String, String> snapshot(Path dir) throws IOException, java.security.NoSuchAlgorithmException {
		return RootSnapshot.of(dir, (rel, p) -> rel.equals("run") || rel.startsWith("run/psi") || rel.startsWith("var/lib/psi") || rel.isEmpty());
	}

}
