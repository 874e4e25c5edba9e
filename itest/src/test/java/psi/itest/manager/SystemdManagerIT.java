package psi.itest.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import psi.itest.box.TestBox;

/**
 * psi's systemd manager (bundles/manager-systemd) against a real systemd 252
 * and its system bus, in a throwaway box (itest/box/testbox.sh). The manager
 * runs inside the box in {@link ManagerProbe} on a plain class path (the
 * manager bundle and the wrapped dbus-java bundles are ordinary jars too),
 * and once more in psi's own Felix distribution driven through Gogo, which
 * proves that the wrapped dbus-java finds its transport (a fragment) under
 * OSGi. On the host, where systemd is not PID 1, the manager must say it is
 * unavailable and why.
 * <p>
 * Never skipped: without root, systemd or a built reactor it fails.
 */
class SystemdManagerIT {

	static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(120);

	static TestBox box;
	static Process probe;
	static Writer toProbe;
	static final BlockingQueue<String> fromProbe = new LinkedBlockingQueue<>();
	static File probeErr;

	@BeforeAll
	static void bootBoxAndProbe() throws Exception {
		String cp = classPath(); // fails early when the reactor is not built
		box = TestBox.boot("manager-it");
		probeErr = File.createTempFile("psi-manager-probe-", ".err");
		ProcessBuilder pb = new ProcessBuilder(box.command(List.of(java(), "-cp", intoBox(cp), ManagerProbe.class.getName())));
		pb.redirectError(probeErr);
		probe = pb.start();
		toProbe = new OutputStreamWriter(probe.getOutputStream(), StandardCharsets.UTF_8);
		BufferedReader r = new BufferedReader(new InputStreamReader(probe.getInputStream(), StandardCharsets.UTF_8));
		Thread t = new Thread(() -> {
			try {
				for (String l; (l = r.readLine()) != null;) {
					fromProbe.add(l);
				}
			} catch (IOException e) {
				// the probe ended
			}
			fromProbe.add("EOF");
		}, "manager-probe-reader");
		t.setDaemon(true);
		t.start();
	}

	@AfterAll
	static void stopProbeAndBox() throws Exception {
		try {
			if (probe != null) {
				toProbe.write("quit\n");
				toProbe.flush();
				boolean ended = probe.waitFor(30, TimeUnit.SECONDS);
				String err = Files.readString(probeErr.toPath());
				probeErr.delete();
				if (!ended) {
					probe.descendants().forEach(ProcessHandle::destroyForcibly);
					probe.destroyForcibly();
					fail("the probe did not end after quit; stderr:\n" + err);
				}
				// dbus-java logs through a private slf4j with the NOP provider: nothing on stderr
				assertEquals("", err, "the probe's stderr (slf4j must stay quiet)");
				assertEquals(0, probe.exitValue(), "the probe's exit status");
			}
		} finally {
			if (box != null) {
				box.close();
			}
		}
	}

	// ------------------------------------------------------------------

	@Test
	void availableInTheBox() throws Exception {
		assertEquals(List.of("true"), ok("available"));
		assertEquals(List.of(""), ok("reason"));
	}

	@Test
	void startStatusStop() throws Exception {
		unit("/run/systemd/system/psi-sleep.service", """
				[Unit]
				Description=psi manager test sleeper
				[Service]
				ExecStart=/bin/busybox sleep 600
				MemoryAccounting=yes
				TasksAccounting=yes
				""");
		ok("reload");
		Map<String, String> job = fields(ok("start", "psi-sleep.service", "true"));
		assertEquals("done", job.get("result"), job.toString());
		assertTrue(job.get("job").startsWith("/org/freedesktop/systemd1/job/"), job.toString());

		Map<String, String> s = fields(ok("status", "psi-sleep.service"));
		assertEquals("psi manager test sleeper", s.get("description"));
		assertEquals("loaded", s.get("loadState"));
		assertEquals("active", s.get("activeState"));
		assertEquals("running", s.get("subState"));
		assertTrue(Long.parseLong(s.get("mainPid")) > 0, s.toString());
		assertTrue(Long.parseLong(s.get("memoryCurrent")) > 0, s.toString());
		assertTrue(Long.parseLong(s.get("tasksCurrent")) >= 1, s.toString());
		assertTrue(Long.parseLong(s.get("activeEnterTimestamp")) > 1_600_000_000_000_000L, s.toString());
		assertEquals("success", s.get("result"));
		// the box's systemd agrees
		assertEquals("active", box.exec("systemctl", "is-active", "psi-sleep.service").out().strip());

		assertEquals("done", fields(ok("stop", "psi-sleep.service", "true")).get("result"));
		s = fields(ok("status", "psi-sleep.service"));
		assertEquals("inactive", s.get("activeState"));
		assertEquals("dead", s.get("subState"));
		assertEquals("0", s.get("mainPid"));
	}

	@Test
	void aFailingServiceFailsItsJobAndResetFailedClearsIt() throws Exception {
		unit("/run/systemd/system/psi-false.service", """
				[Service]
				Type=oneshot
				ExecStart=/bin/false
				""");
		ok("reload");
		Map<String, String> job = fields(ok("start", "psi-false.service", "true"));
		assertEquals("failed", job.get("result"), job.toString());
		Map<String, String> s = fields(ok("status", "psi-false.service"));
		assertEquals("failed", s.get("activeState"));
		assertEquals("1", s.get("execMainStatus"));
		assertEquals("exit-code", s.get("result"));

		ok("reset-failed", "psi-false.service");
		s = fields(ok("status", "psi-false.service"));
		assertEquals("inactive", s.get("activeState"), s.toString());
		assertEquals("success", s.get("result"), s.toString());
	}

	@Test
	void templateInstancesAreListedByPattern() throws Exception {
		unit("/run/systemd/system/psi-tmpl@.service", """
				[Service]
				ExecStart=/bin/busybox sleep 600
				""");
		ok("reload");
		assertEquals("done", fields(ok("start", "psi-tmpl@a.service", "true")).get("result"));
		assertEquals("done", fields(ok("start", "psi-tmpl@b.service", "true")).get("result"));
		assertEquals(List.of("psi-tmpl@a.service", "psi-tmpl@b.service"), ok("list", "psi-tmpl@*.service"));
		assertEquals(List.of(""), ok("list", "psi-nothing-*.service"));
		// not waiting: the job is only queued
		Map<String, String> stop = fields(ok("stop", "psi-tmpl@a.service", "false"));
		assertEquals("queued", stop.get("result"));
		assertEquals("done", fields(ok("stop", "psi-tmpl@b.service", "true")).get("result"));
	}

	@Test
	void enableAndDisableAPortableUnitForThisBoot() throws Exception {
		String file = "/run/systemd/system.attached/psi-en.service";
		unit(file, """
				[Service]
				ExecStart=/bin/busybox sleep 600
				[Install]
				WantedBy=multi-user.target
				""");
		ok("reload");
		String link = "/run/systemd/system.attached/multi-user.target.wants/psi-en.service";
		List<String> changes = ok("enable", file, "true");
		assertEquals(List.of("symlink " + link + " " + file), changes);
		assertTrue(Files.isSymbolicLink(box.inside(link)), link + " in the box");
		assertEquals(Path.of(file), Files.readSymbolicLink(box.inside(link)));

		assertEquals(List.of("unlink " + link + " "), ok("disable", "psi-en.service", "true"));
		assertFalse(Files.exists(box.inside(link), LinkOption.NOFOLLOW_LINKS), link + " left behind");
	}

	@Test
	void aMissingUnitIsAnErrorNamingIt() throws Exception {
		String answer = ask("start", "psi-nosuch.service", "true");
		assertTrue(answer.startsWith("ERR\tIOException\tpsi-nosuch.service: start: org.freedesktop.systemd1.NoSuchUnit: "),
				answer);
		assertTrue(answer.contains("psi-nosuch.service not found"), answer);

		Map<String, String> s = fields(ok("status", "psi-nosuch.service"));
		assertEquals("not-found", s.get("loadState"));
		assertEquals("inactive", s.get("activeState"));

		answer = ask("status", "no-suffix");
		assertTrue(answer.startsWith("ERR\tIOException\tno-suffix: status: org.freedesktop.DBus.Error.InvalidArgs: "), answer);
	}

	/** The distribution under Felix: the component is there, ranked, and its dbus-java finds the transport fragment. */
	@Test
	void theManagerInPsisFrameworkTalksToSystemd() throws Exception {
		// psi's distribution, copied in: the box may not see the reactor (under /tmp)
		Path dist = TestBox.basedir().resolve("distribution");
		Path boxDir = box.root().resolve("opt/psi-dist");
		Files.createDirectories(boxDir.resolve("etc"));
		Files.copy(dist.resolve("psi"), boxDir.resolve("psi"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
		Files.copy(dist.resolve("target/psi.jar"), boxDir.resolve("psi.jar"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
		Files.writeString(boxDir.resolve("etc/gosh_profile"), "");
		boxDir.resolve("psi").toFile().setExecutable(true);
		String psi = "/opt/psi-dist/psi";
		String gogo = String.join("\n",
				"ref = $.context getServiceReference psi.spi.manager.ServiceManager",
				"echo NAME ($ref getProperty psi.manager.name) RANKING ($ref getProperty service.ranking)",
				"sm = $.context getService $ref",
				"echo AVAILABLE ($sm available)",
				"echo REASON ($sm unavailableReason)",
				"echo UNITS ($sm listUnits [dbus.service])",
				"echo STATE (($sm status dbus.service) activeState)",
				"") + "\n";
		TestBox.Result r = TestBox.run(box.command(List.of("env", "PATH=" + Path.of(java()).getParent() + ":/usr/bin:/bin",
				psi)), Duration.ofSeconds(120), gogo);
		String out = r.out();
		System.out.println("[manager-it] psi's framework in the box said:\n" + out.lines()
				.filter(l -> l.matches(".*\\b(NAME|AVAILABLE|REASON|UNITS|STATE)\\b.*")).collect(Collectors.joining("\n")));
		assertTrue(out.contains("NAME systemd RANKING 100"), r.toString());
		assertTrue(out.contains("AVAILABLE true"), r.toString());
		assertTrue(out.contains("UNITS [dbus.service]"), r.toString());
		assertTrue(out.contains("STATE active"), r.toString());
		assertFalse(r.err().contains("SLF4J"), "slf4j noise on stderr: " + r.err());
	}

	/** On the host systemd is not PID 1: unavailable, with the reason, and without touching any bus. */
	@Test
	void unavailableOnThisHost() throws Exception {
		assertFalse(Files.exists(Path.of("/run/systemd/system")),
				"this test expects a host where systemd is not PID 1 (/run/systemd/system exists here)");
		TestBox.Result r = TestBox.run(List.of(java(), "-cp", classPath(), ManagerProbe.class.getName()),
				Duration.ofSeconds(60), "available\nreason\nquit\n");
		assertEquals("OK\tfalse\nOK\tsystemd is not running as PID 1 here (/run/systemd/system is missing)\n", r.out(),
				r.toString());
		assertEquals("", r.err());
		assertEquals(0, r.rc());
	}

	// ------------------------------------------------------------------

	/** Writes a unit file into the box (through /proc/PID/root). */
	static void unit(String path, String content) throws IOException {
		Path p = box.inside(path);
		Files.createDirectories(p.getParent());
		Files.writeString(p, content);
	}

	/** Asks the probe; expects OK and returns the values. */
	static List<String> ok(String... request) throws Exception {
		String answer = ask(request);
		if (!answer.startsWith("OK\t") && !answer.equals("OK")) {
			fail(String.join(" ", request) + " -> " + answer);
		}
		return Arrays.asList(answer.substring(Math.min(3, answer.length())).split("\t", -1));
	}

	static synchronized String ask(String... request) throws Exception {
		toProbe.write(String.join("\t", request) + "\n");
		toProbe.flush();
		String answer = fromProbe.poll(ANSWER_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
		if (answer == null || answer.equals("EOF")) {
			fail(String.join(" ", request) + ": no answer from the probe (" + answer + "); its stderr:\n"
					+ Files.readString(probeErr.toPath()));
		}
		return answer;
	}

	static Map<String, String> fields(List<String> values) {
		Map<String, String> m = new LinkedHashMap<>();
		for (String v : values) {
			int eq = v.indexOf('=');
			m.put(v.substring(0, eq), v.substring(eq + 1));
		}
		return m;
	}

	static String java() {
		return Path.of(System.getProperty("java.home"), "bin", "java").toString();
	}

	/**
	 * Copies the class path into the box (through its /proc/PID/root) and
	 * returns it as the box sees it: the reactor may live where the box does
	 * not see it (under /tmp, which the box mounts afresh).
	 */
	static String intoBox(String hostClassPath) throws IOException {
		List<String> inBox = new ArrayList<>();
		int i = 0;
		for (String entry : hostClassPath.split(File.pathSeparator)) {
			Path from = Path.of(entry);
			String name = "/opt/psi-probe/" + (i++) + "-" + from.getFileName();
			Path to = box.root().resolve(name.substring(1));
			Files.createDirectories(to.getParent());
			if (Files.isDirectory(from)) {
				try (Stream<Path> walk = Files.walk(from)) {
					for (Path p : walk.toList()) {
						Path t = to.resolve(from.relativize(p).toString());
						if (Files.isDirectory(p)) {
							Files.createDirectories(t);
						} else {
							Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
						}
					}
				}
			} else {
				Files.copy(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
			}
			inBox.add(name);
		}
		return String.join(File.pathSeparator, inBox);
	}

	/** The probe's class path: this module's test classes, psi.api, the manager and the wrapped dbus-java, from their target/; org.osgi.dto. */
	static String classPath() throws IOException {
		Path base = TestBox.basedir();
		List<String> cp = new ArrayList<>();
		cp.add(base.resolve("itest/target/test-classes").toString());
		for (String module : List.of("bundles/api", "bundles/manager-systemd", "bundles/dbus-java", "bundles/dbus-java-transport")) {
			Path target = base.resolve(module).resolve("target");
			List<Path> jars;
			try (Stream<Path> s = Files.list(target)) {
				jars = s.filter(p -> p.getFileName().toString().endsWith(".jar")
						&& !p.getFileName().toString().endsWith("-tests.jar")
						&& !p.getFileName().toString().endsWith("-sources.jar")).collect(Collectors.toList());
			} catch (IOException e) {
				throw new IOException(target + " is missing: build the reactor first (mvn install -DskipTests)", e);
			}
			if (jars.size() != 1) {
				fail("expected one bundle in " + target + ", found " + jars);
			}
			cp.add(jars.get(0).toString());
		}
		// the SPI's value types are OSGi DTOs
		try {
			cp.add(Path.of(org.osgi.dto.DTO.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
		} catch (java.net.URISyntaxException e) {
			throw new IOException("cannot find the org.osgi.dto jar", e);
		}
		return String.join(File.pathSeparator, cp);
	}
}
