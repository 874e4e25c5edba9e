package psi.itest.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import psi.itest.box.TestBox;

/**
 * The same image under both engines: systemd 252 in the throwaway box, and
 * psi's own service manager on this host. A probe service records from
 * inside its sandbox who it runs as and what it can reach, under the
 * profiles default, nonetwork and strict; every record must say the same
 * under both (the dynamic uid itself differs, its range must not). The test
 * prints the table.
 */
class BothEnginesIT {

	static final Duration CMD = Duration.ofSeconds(120);
	static final List<String> PROFILES = List.of("default", "nonetwork", "strict");

	static TestBox box;
	static Path work;
	static Path root;
	static Process daemon;
	static ServerSocket listener;
	static int actPort;

	@BeforeAll
	static void up() throws Exception {
		Path base = TestBox.basedir();
		assertTrue(Files.isExecutable(base.resolve("distribution/target/psi-exec")), "build psi first: mvn -B install -DskipTests");
		work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-both-");
		Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
		// a listener on the loopback both engines' services share with this host (the box has no network namespace)
		listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		Thread t = new Thread(() -> {
			while (!listener.isClosed()) {
				try (Socket s = listener.accept()) {
					s.getOutputStream().write('.');
				} catch (IOException e) {
					// closed
				}
			}
		}, "both-listener");
		t.setDaemon(true);
		t.start();
		Path image = work.resolve("img/probe_1");
		EmbeddedIT.image(image, Map.of("probe.service", """
			[Service]
			Type=oneshot
			StateDirectory=probe
			ExecStart=/usr/bin/busybox sh /usr/lib/probe.sh %d
			""".formatted(listener.getLocalPort())));
		// socket activation and sd_notify, with the tests' own tool (EmbeddedIT.buildTool)
		EmbeddedIT.work = work;
		EmbeddedIT.tool = EmbeddedIT.buildTool(work);
		actPort = EmbeddedIT.freePort();
		Path act = work.resolve("img/act_1");
		EmbeddedIT.image(act, Map.of("act.socket", """
			[Socket]
			ListenStream=127.0.0.1:%d
			FileDescriptorName=web
			""".formatted(actPort), "act.service", """
			[Service]
			ExecStart=/usr/bin/psi-test-tool serve-fd3 activated
			""", "act-notify.service", """
			[Service]
			Type=notify
			ExecStart=/usr/bin/busybox sh -c '/usr/bin/busybox sleep 1; exec /usr/bin/psi-test-tool notify "READY=1\\nSTATUS=serving requests" -- /usr/bin/busybox sleep 600'
			ExecReload=/usr/bin/busybox true
			"""));
		root = work.resolve("root");
		Files.createDirectories(root.resolve("var/lib/portables"));
		copy(image, root.resolve("var/lib/portables/probe_1"));
		copy(act, root.resolve("var/lib/portables/act_1"));

		box = TestBox.boot("both");
		Files.createDirectories(box.root().resolve("var/lib/portables"));
		copy(image, box.root().resolve("var/lib/portables/probe_1"));
		copy(act, box.root().resolve("var/lib/portables/act_1"));
		box.installPsi();

		Path log = work.resolve("daemon.log");
		daemon = new ProcessBuilder(base.resolve("distribution/psi").toString(), "daemon", "--root", root.toString())
			.redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		while (!(Files.isRegularFile(log) && Files.readString(log).contains("listening on"))) {
			if (!daemon.isAlive() || System.nanoTime() > deadline) {
				fail("psi daemon did not start: " + Files.readString(log));
			}
			Thread.sleep(50);
		}
	}

	@AfterAll
	static void down() throws Exception {
		try {
			if (daemon != null && daemon.isAlive()) {
				new ProcessBuilder("kill", "-TERM", Long.toString(daemon.pid())).start().waitFor();
				if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
					daemon.destroyForcibly();
				}
			}
			if (listener != null) {
				listener.close();
			}
			if (box != null) {
				box.close();
			}
		} finally {
			if (work != null) {
				TestBox.deleteTree(work);
			}
		}
	}

	static void copy(Path from, Path to) {
		TestBox.Result r = TestBox.run(List.of("cp", "-a", from.toString(), to.toString()), Duration.ofMinutes(1));
		assertEquals(0, r.rc(), r.toString());
	}

	/**
	 * Socket activation and sd_notify under both engines: the socket listens
	 * and its service is not running; the first connection starts it and it
	 * answers with what it was passed (LISTEN_FDS, LISTEN_FDNAMES, whether
	 * LISTEN_PID is its own); the Type=notify service is running when psi
	 * start returns (READY=1 came a second after the start), with its
	 * STATUS= in psi status. The test prints both.
	 */
	@Test
	void socketActivationAndNotifyAreTheSameUnderBothEngines() throws Exception {
		Map<String, List<String>> seen = new LinkedHashMap<>();
		for (String engine : List.of("systemd", "embedded")) {
			List<String> psi = new ArrayList<>(List.of(TestBox.basedir().resolve("distribution/psi").toString(), "--root", root.toString()));
			java.util.function.Function<String[], TestBox.Result> run = args -> {
				if (engine.equals("systemd")) {
					return box.psi("both", CMD, args);
				}
				List<String> cmd = new ArrayList<>(psi);
				cmd.addAll(List.of(args));
				return TestBox.run(cmd, CMD);
			};
			TestBox.Result start = run.apply(new String[] {"start", "act_1"});
			assertEquals(0, start.rc(), engine + ": " + start);
			String status = run.apply(new String[] {"status", "act_1"}).out();
			String before = state(EmbeddedIT.unitBlock(status, "act.socket")) + ", " + state(EmbeddedIT.unitBlock(status, "act.service"));
			String answer = EmbeddedIT.line(actPort);
			status = run.apply(new String[] {"status", "act_1"}).out();
			String after = state(EmbeddedIT.unitBlock(status, "act.socket")) + ", " + state(EmbeddedIT.unitBlock(status, "act.service"));
			String notify = state(EmbeddedIT.unitBlock(status, "act-notify.service"));
			java.util.regex.Matcher m = java.util.regex.Pattern.compile("Status: (\"[^\n]*)").matcher(EmbeddedIT.unitBlock(status, "act-notify.service"));
			TestBox.Result reload = run.apply(new String[] {"reload", "act_1"});
			// systemd's jobs have object paths, psi's own manager's none: the exit status and what was reloaded
			String reloaded = "exit " + reload.rc() + (reload.err().contains("act-notify.service") ? ", act-notify.service" : "")
				+ (reload.err().contains("act.service") ? ", act.service" : "");
			seen.put(engine, List.of(before, answer, after, notify, m.find() ? m.group(1) : "(no status)", reloaded));
			TestBox.Result stop = run.apply(new String[] {"detach", "--now", "act_1"});
			assertEquals(0, stop.rc(), engine + ": " + stop);
			assertTrue(EmbeddedIT.line(actPort).startsWith("unreachable"), engine + ": the socket closed with the detach");
		}
		StringBuilder table = new StringBuilder("[both] socket activation and sd_notify, systemd 252 (box) | psi's own manager (here):\n");
		List<String> rows = List.of("before a connection", "the service answers", "after it", "Type=notify after start", "its STATUS=",
			"psi reload");
		for (int i = 0; i < rows.size(); i++) {
			table.append(String.format("  %-24s| %-62s| %s%n", rows.get(i), seen.get("systemd").get(i), seen.get("embedded").get(i)));
		}
		System.out.print(table);
		assertEquals(seen.get("systemd"), seen.get("embedded"), "the two engines differ\n" + table);
		assertEquals("activated LISTEN_FDS=1 LISTEN_FDNAMES=web LISTEN_PID=mine", seen.get("systemd").get(1), table.toString());
		assertEquals("active (listening), inactive (dead)", seen.get("systemd").get(0), table.toString());
		assertEquals("\"serving requests\"", seen.get("systemd").get(4), table.toString());
		// the service with ExecReload= reloaded, the one without left alone
		assertEquals("exit 0, act-notify.service", seen.get("systemd").get(5), table.toString());
	}

	/** @return the words of a unit's Active: line, without the time */
	static String state(String block) {
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("Active: ([a-z-]+ \\([a-z-]+\\))").matcher(block);
		return m.find() ? m.group(1) : "(none)";
	}

	/** @return the probe's record, with the uid replaced by whether it is a dynamic one */
	static Map<String, String> record(Path facts) throws IOException {
		assertTrue(Files.isRegularFile(facts), "no record at " + facts);
		Map<String, String> m = new TreeMap<>();
		for (String l : Files.readAllLines(facts)) {
			int i = l.indexOf(l.contains("=") ? '=' : ':');
			m.put(i > 0 ? l.substring(0, i) : l, i > 0 ? l.substring(i + 1).trim() : "");
		}
		int uid = Integer.parseInt(m.remove("uid"));
		m.put("uid", uid >= 61184 && uid <= 65519 ? "dynamic" : Integer.toString(uid));
		return m;
	}

	@Test
	void everySandboxAssertionHoldsUnderBothEngines() throws Exception {
		Map<String, Map<String, String>> systemd = new LinkedHashMap<>();
		Map<String, Map<String, String>> embedded = new LinkedHashMap<>();
		for (String profile : PROFILES) {
			TestBox.Result s = box.psi("both", CMD, "start", "--profile", profile, "probe_1");
			assertEquals(0, s.rc(), "systemd, " + profile + ": " + s);
			systemd.put(profile, record(box.root().resolve("var/lib/private/probe/facts")));
			assertEquals(0, box.psi("both", CMD, "detach", "probe_1").rc());
			box.exec("rm", "-rf", "/var/lib/private/probe", "/var/lib/probe");

			List<String> cmd = new ArrayList<>(List.of(TestBox.basedir().resolve("distribution/psi").toString(), "--root", root.toString(),
				"start", "--profile", profile, "probe_1"));
			TestBox.Result e = TestBox.run(cmd, CMD);
			assertEquals(0, e.rc(), "psi's own manager, " + profile + ": " + e);
			embedded.put(profile, record(root.resolve("var/lib/private/probe/facts")));
			cmd.set(3, "detach");
			cmd.remove(4);
			cmd.remove(4);
			assertEquals(0, TestBox.run(cmd, CMD).rc(), String.join(" ", cmd));
			TestBox.deleteTree(root.resolve("var/lib/private/probe"));
			Files.deleteIfExists(root.resolve("var/lib/probe"));
		}
		StringBuilder table = new StringBuilder("[both] the probe's record, systemd 252 (box) | psi's own manager (here):\n");
		table.append(String.format("  %-14s", "")).append(String.join("", PROFILES.stream().map(p -> String.format("| %-33s", p)).toList())).append('\n');
		for (String key : systemd.get("default").keySet()) {
			table.append(String.format("  %-14s", key));
			for (String p : PROFILES) {
				table.append(String.format("| %-15s %-17s", systemd.get(p).get(key), embedded.get(p).get(key)));
			}
			table.append('\n');
		}
		System.out.print(table);
		for (String p : PROFILES) {
			assertEquals(systemd.get(p), embedded.get(p), "profile " + p + ": the two engines differ\n" + table);
		}
		// and the records say what the profiles promise
		assertEquals("dynamic", systemd.get("strict").get("uid"));
		assertEquals("reached", systemd.get("default").get("host-loopback"));
		assertEquals("unreachable", systemd.get("nonetwork").get("host-loopback"));
		assertEquals("refused", systemd.get("default").get("userns"));
	}
}
