package psi.itest.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import psi.itest.box.TestBox;
import psi.itest.box.TestBox.Result;

/**
 * Running portable services with psi in a real systemd 252 (a {@link TestBox}):
 * start/stop/status/detach/reattach of directory and raw images, socket,
 * timer, template and failing units, a comparison with portablectl, and psi
 * without a service manager on this host. One box for the class; every test
 * detaches what it attached (detach --now in finally) and starts from a clean
 * box (checked before each test).
 * <p>
 * Images: itest/box/make-images.sh, make-raw-images.sh and make-run-images.sh
 * (sock, tim, bad), copied into the box's /var/lib/portables; psi
 * (distribution/psi, target/psi.jar, etc/) into /opt/psi.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RunIT {

	static final Duration CMD = Duration.ofSeconds(120);

	static TestBox box;
	static Path work;

	// ------------------------------------------------------------------
	// box

	@BeforeAll
	static void up() throws Exception {
		Path bd = TestBox.basedir();
		long t0 = System.nanoTime();
		work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-runit-");
		Path img = work.resolve("img");
		for (String script : List.of("make-images.sh", "make-raw-images.sh", "make-run-images.sh")) {
			Result r = TestBox.run(List.of("bash", bd.resolve("itest/box/" + script).toString(), img.toString()),
					Duration.ofMinutes(5));
			if (r.rc() != 0)
				fail(script + " failed: " + r);
		}
		System.out.printf("[run] images built in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
		box = TestBox.boot("run");
		Path root = box.root();
		host("mkdir", "-p", root + "/var/lib/portables");
		host("cp", "-a", img + "/.", root + "/var/lib/portables/");
		box.installPsi();
		Result l = psi("list");
		if (l.rc() != 0)
			fail("psi does not run in the box: `psi list` " + l);
		System.out.println("[run] " + box.exec("systemctl", "--version").out().lines().findFirst().orElse("?"));
	}

	@AfterAll
	static void down() throws Exception {
		try {
			if (box != null)
				box.close();
		} finally {
			TestBox.deleteTree(work);
		}
		Result mounts = TestBox.run(List.of("grep", "-c", "overlay", "/proc/mounts"), Duration.ofSeconds(10));
		Result loops = TestBox.run(List.of("losetup", "-a"), Duration.ofSeconds(10));
		System.out.println("[run] after close: overlay mounts " + mounts.out().strip() + ", loops: ["
				+ loops.out().strip() + "]");
	}

	/** Every test starts from a box with nothing attached and no failed unit. */
	@BeforeEach
	void clean() {
		box.exec("systemctl", "reset-failed");
		Result a = box.exec("sh", "-c",
				"ls -A /etc/systemd/system.attached /run/systemd/system.attached /etc/portables /run/portables 2>/dev/null");
		assertTrue(a.out().lines().noneMatch(l -> !l.isBlank() && !l.endsWith(":")),
				"the box is not clean before the test (a previous test left something attached):\n" + a.out());
	}

	static void host(String... cmd) {
		Result r = TestBox.run(List.of(cmd), Duration.ofMinutes(2));
		if (r.rc() != 0)
			fail(String.join(" ", cmd) + ": " + r);
	}

	// ------------------------------------------------------------------
	// tests

	@Test
	@Order(1)
	void startDirectoryImage() {
		try {
			startAndCheck("single", "single.service");
		} finally {
			detachNow("single");
		}
	}

	@Test
	@Order(2)
	void startRawGptImage() {
		try {
			startAndCheck("gpt_1", "gpt.service");
		} finally {
			detachNow("gpt_1");
		}
	}

	/** What psi writes into a drop-in, systemd parses back to the same value: a path with a space and a %. */
	@Test
	@Order(2)
	void oddPathsAreReadBackAsWritten() {
		String odd = "/var/lib/portables/my img%n 50%";
		box.exec("cp", "-a", "/var/lib/portables/single", odd);
		try {
			Result a = psi("attach", odd, "single");
			assertEquals(0, a.rc(), "psi attach '" + odd + "' single: " + a);
			assertEquals(odd, prop("single.service", "RootDirectory"), "RootDirectory= as systemd read it");
			// systemctl shows an entry holding a space in quotes
			assertEquals("\"PORTABLE=my img%n 50%\"", prop("single.service", "Environment"), "Environment= as systemd read it");
			assertTrue(box.exec("systemctl", "show", "-p", "LogExtraFields", "single.service").out().contains("PORTABLE=my img%n 50%"),
				"LogExtraFields= as systemd read it: " + box.exec("systemctl", "show", "-p", "LogExtraFields", "single.service").out());
			Result d = psi("detach", odd);
			assertEquals(0, d.rc(), "psi detach: " + d);
		} finally {
			detachNow(odd);
			box.exec("rm", "-rf", odd);
		}
	}

	/**
	 * Issue 19: an image cannot widen its own sandbox. Its ExecStartPre=+ is
	 * refused under the default profile, nothing written, nothing run; under
	 * --profile trusted it runs as root, as it asked (and as portablectl
	 * would let it).
	 */
	@Test
	@Order(2)
	void anImageCannotWidenItsSandbox() {
		try {
			Result a = psi("attach", "--now", "esc");
			assertEquals(1, a.rc(), "psi attach --now esc: " + a);
			// after portablectl's "(Matching unit files with prefix 'esc'.)"
			assertEquals("esc.service:3: ExecStartPre= with '+' runs outside the sandbox (profile 'default'; --profile trusted allows it)",
				a.err().strip().lines().reduce((x, y) -> y).orElse(""), "psi attach --now esc: " + a);
			assertEquals("", attachedFiles(), "nothing attached");
			assertTrue(!exists("/var/lib/portables/esc/var/tmp/esc-plus.txt") && !exists("/var/tmp/esc-plus.txt"), "nothing ran");
			Result i = psi("inspect", "esc");
			assertEquals(0, i.rc(), "psi inspect esc: " + i);
			assertTrue(i.out().contains("Refused by psi attach --profile default (outside the sandbox):\n\tesc.service:3: ExecStartPre= with '+'"),
				"psi inspect esc shows what attach refuses: " + i);
			Result t = psi("attach", "--now", "--profile", "trusted", "esc");
			assertEquals(0, t.rc(), "psi attach --now --profile trusted esc: " + t);
			Result id = box.exec("cat", "/var/lib/portables/esc/var/tmp/esc-plus.txt");
			assertTrue(id.out().startsWith("uid=0") && id.out().contains(" gid=0"), "under trusted the + command ran as root: " + id);
			Result st = psi("status", "esc");
			assertTrue(st.out().contains("Profile: trusted (no sandbox"), "psi status says the image runs unsandboxed: " + st);
		} finally {
			detachNow("esc");
			box.exec("rm", "-f", "/var/lib/portables/esc/var/tmp/esc-plus.txt");
		}
	}

	@Test
	@Order(3)
	void stopKeepsAttached() {
		try {
			ok(psi("start", "single"), "psi start single", "single.service");
			Result stop = psi("stop", "single");
			ok(stop, "psi stop single", "single.service");
			String ctx = "after psi stop single: " + stop;
			assertEquals("inactive", prop("single.service", "ActiveState"), ctx + journal("single.service"));
			Result st = psi("status", "single");
			assertEquals(3, st.rc(), "psi status single after stop: " + st);
			Result ia = psi("is-attached", "single");
			assertTrue(ia.out().strip().startsWith("attached"), "psi is-attached single after stop: " + ia);
			assertEquals("loaded", prop("single.service", "LoadState"), ctx);
		} finally {
			detachNow("single");
		}
	}

	@Test
	@Order(4)
	void detachRefusedWhileRunning() {
		try {
			ok(psi("start", "single"), "psi start single", "single.service");
			Result d = psi("detach", "single");
			assertNotEquals(0, d.rc(), "psi detach single while running must fail: " + d);
			assertTrue(d.err().contains("is active, can't detach"), "psi detach single while running: " + d);
			assertTrue(exists("/etc/systemd/system.attached/single.service"),
					"refused detach removed the unit: " + d + "\n" + attachedFiles());
			assertTrue(exists("/etc/portables/single"), "refused detach removed the image link: " + d);
			assertEquals("active", prop("single.service", "ActiveState"), "after refused detach: " + d);

			Result dn = psi("detach", "--now", "single");
			assertEquals(0, dn.rc(), "psi detach --now single: " + dn + journal("single.service"));
			assertEquals("not-found", prop("single.service", "LoadState"), "after psi detach --now single: " + dn);
			String left = attachedFiles();
			assertTrue(left.isBlank(), "left after psi detach --now single:\n" + left);
		} finally {
			detachNow("single");
		}
	}

	@Test
	@Order(5)
	void socketActivation() {
		try {
			Result s = psi("start", "sock");
			ok(s, "psi start sock", "sock.socket");
			assertEquals("active", prop("sock.socket", "ActiveState"), "psi start sock: " + s + journal("sock.socket"));
			assertEquals("listening", prop("sock.socket", "SubState"), "psi start sock: " + s);
			Result units = box.exec("systemctl", "list-units", "--all", "--no-legend", "--plain", "sock@*");
			assertTrue(units.out().lines().noneMatch(l -> l.contains(" active ")),
					"a sock@ service runs before any connection: " + units);
			Result st = psi("status", "sock");
			assertEquals(0, st.rc(), "psi status sock: " + st);
			assertTrue(st.out().contains("sock.socket") && st.out().contains("listening"),
					"psi status sock should show the listening socket: " + st);

			Result c = box.exec(Duration.ofSeconds(30), List.of("bash", "-c",
					"exec 3<>/dev/tcp/127.0.0.1/7777 && timeout 10 cat <&3"));
			assertEquals(0, c.rc(), "connect to 127.0.0.1:7777: " + c + journal("sock.socket"));
			assertTrue(c.out().contains("psi test image (sock)"),
					"the connection should get the image's os-release (served by sock@.service): " + c
							+ journal("sock@*"));
			Result acc = box.exec("systemctl", "show", "-p", "NAccepted", "--value", "sock.socket");
			assertEquals("1", acc.out().strip(), "sock.socket NAccepted: " + acc);
		} finally {
			detachNow("sock");
		}
	}

	@Test
	@Order(6)
	void timer() {
		try {
			Result s = psi("start", "tim");
			ok(s, "psi start tim", "tim.timer");
			assertEquals("active", prop("tim.timer", "ActiveState"), "psi start tim: " + s + journal("tim.timer"));
			assertEquals("waiting", prop("tim.timer", "SubState"), "psi start tim: " + s);
			assertEquals("inactive", prop("tim.service", "ActiveState"),
					"psi start tim must not start tim.service itself: " + s + journal("tim.service"));
			Result st = psi("status", "tim");
			assertTrue(st.out().contains("tim.timer"), "psi status tim: " + st);
		} finally {
			detachNow("tim");
		}
	}

	@Test
	@Order(7)
	void template() {
		try {
			Result a = psi("attach", "tmpl");
			assertEquals(0, a.rc(), "psi attach tmpl: " + a);
			Result sc = box.exec("systemctl", "start", "tmpl@x.service");
			assertEquals(0, sc.rc(), "systemctl start tmpl@x.service: " + sc + journal("tmpl@x.service"));
			Result st = psi("status", "tmpl");
			assertEquals(0, st.rc(), "psi status tmpl with tmpl@x.service running: " + st);
			assertTrue(st.out().contains("tmpl@x.service"), "psi status tmpl should list tmpl@x.service: " + st);
			assertTrue(st.out().contains("active (running)"), "psi status tmpl: " + st);
			box.exec("systemctl", "stop", "tmpl@x.service");
		} finally {
			box.exec("systemctl", "stop", "tmpl@*.service");
			detachNow("tmpl");
		}
	}

	@Test
	@Order(8)
	void failingService() {
		try {
			Result s = psi("start", "bad");
			assertNotEquals(0, s.rc(), "psi start bad must fail: " + s + journal("bad.service"));
			assertTrue(s.err().contains("bad.service") && s.err().contains("failed"),
					"psi start bad should name bad.service and say failed: " + s);
			assertTrue(s.err().contains("Created symlink /etc/portables/bad") && s.err().contains("to call StartUnit on portable service bad.service"),
					"psi start bad still reports what it attached and the job it ran: " + s);
			assertTrue(s.out().contains("psi-bad-was-here"), "psi start bad shows the failed unit's log lines: " + s);
			Result logs = psi("logs", "bad");
			assertEquals(0, logs.rc(), "psi logs bad: " + logs);
			assertTrue(logs.out().contains("psi-bad-was-here"), "psi logs bad: " + logs);
			assertEquals("failed", prop("bad.service", "ActiveState"), "after psi start bad: " + s);
			Result st = psi("status", "bad");
			assertEquals(3, st.rc(), "psi status bad: " + st);
			assertTrue(st.out().contains("failed"), "psi status bad should show the failure: " + st);
		} finally {
			box.exec("systemctl", "reset-failed", "bad.service");
			detachNow("bad");
		}
	}

	@Test
	@Order(9)
	void reattachNow() {
		try {
			ok(psi("start", "ver_1"), "psi start ver_1", "ver.service");
			assertEquals("psi test: ver version 1", prop("ver.service", "Description"));
			String pid1 = prop("ver.service", "MainPID");
			Result r = psi("reattach", "--now", "ver_2");
			assertEquals(0, r.rc(), "psi reattach --now ver_2: " + r + journal("ver.service"));
			assertEquals("active", prop("ver.service", "ActiveState"), "after reattach: " + r + journal("ver.service"));
			assertEquals("psi test: ver version 2", prop("ver.service", "Description"), "after reattach: " + r);
			assertNotEquals(pid1, prop("ver.service", "MainPID"), "ver.service was not restarted: " + r);
			assertTrue(exists("/etc/portables/ver_2") && !exists("/etc/portables/ver_1"),
					"image links after reattach: " + r + "\n" + attachedFiles());
		} finally {
			detachNow("ver_2");
			detachNow("ver_1");
		}
	}

	@Test
	@Order(10)
	void sameStatesAsPortablectl() {
		// a directory image, a raw GPT image, and a timer with its oneshot service
		for (String[] c : new String[][] { { "single", "single.service" }, { "gpt_1", "gpt.service" },
				{ "tim", "tim.timer", "tim.service" } }) {
			String image = c[0];
			List<String> units = List.of(c).subList(1, c.length);
			List<String> pctl;
			List<String> psi;
			try {
				pctl = flow("portablectl", image, units);
			} finally {
				box.exec("portablectl", "detach", "--now", image);
			}
			try {
				psi = flow(TestBox.PSI, image, units);
			} finally {
				detachNow(image);
			}
			assertEquals(pctl, psi, "unit states of " + image + " after attach --now / detach --now: portablectl (expected) vs psi");
		}
	}

	/** attach --now IMAGE, show the units, detach --now IMAGE, show them; with portablectl or psi. */
	List<String> flow(String tool, String image, List<String> units) {
		List<String> states = new ArrayList<>();
		Result a = tool.equals(TestBox.PSI) ? psi("attach", "--now", image) : box.exec(tool, "attach", "--now", image);
		assertEquals(0, a.rc(), tool + " attach --now " + image + ": " + a + journal(units.get(0)));
		units.forEach(u -> states.add(u + ": " + show(u)));
		Result d = tool.equals(TestBox.PSI) ? psi("detach", "--now", image) : box.exec(tool, "detach", "--now", image);
		assertEquals(0, d.rc(), tool + " detach --now " + image + ": " + d);
		units.forEach(u -> states.add(u + ": " + show(u)));
		return states;
	}

	@Test
	@Order(11)
	void noServiceManagerOnHost() {
		assertTrue(!Files.isDirectory(Path.of("/run/systemd/system")),
				"this host runs systemd as PID 1: the test needs a host without it");
		// in-process (--no-daemon): without a daemon, psi's own manager cannot run services either
		// (root's plain psi start would start a daemon for /: EmbeddedIT tries that on a scratch root)
		Path launcher = TestBox.basedir().resolve("distribution/psi");
		Result r = TestBox.run(List.of("sh", launcher.toString(), "--no-daemon", "start", "single"), CMD);
		assertNotEquals(0, r.rc(), "host psi start single: " + r);
		List<String> lines = (r.out() + r.err()).lines().filter(l -> !l.isBlank()).toList();
		assertEquals(1, lines.size(), "one line expected from host psi start single: " + r);
		assertTrue(lines.get(0).contains("systemd is not running as PID 1"), "host psi start single: " + r);
		assertTrue(lines.get(0).contains("psi's own service manager runs services only inside the psi daemon"), "host psi start single: " + r);
	}

	/**
	 * detach --clean (systemd 256's portablectl detach --clean): the unit
	 * stops, and its state, cache and logs go, the dynamic user's
	 * private/ directories and the links to them; the image stays.
	 */
	@Test
	@Order(9)
	void detachCleanRemovesWhatTheServiceKept() {
		try {
			Result s = psi("start", "kept");
			ok(s, "psi start kept", "kept.service");
			String files = "/var/lib/private/kept/s /var/cache/private/kept/c /var/log/private/kept/l";
			Result seen = null;
			for (int i = 0; i < 50; i++) {
				seen = box.exec("sh", "-c", "cat " + files);
				if (seen.rc() == 0)
					break;
				box.exec("sleep", "0.1");
			}
			assertEquals("s\nc\nl\n", seen.out(), "what kept.service wrote: " + seen + journal("kept.service"));
			Result d = psi("detach", "--clean", "kept");
			assertEquals(0, d.rc(), "psi detach --clean kept: " + d);
			for (String p : List.of("/var/lib/kept", "/var/lib/private/kept", "/var/cache/kept", "/var/cache/private/kept", "/var/log/kept",
					"/var/log/private/kept")) {
				assertFalse(exists(p), p + " left by psi detach --clean: " + d);
				assertTrue(d.err().contains("Removed " + p + "."), "psi detach --clean says it removed " + p + ": " + d);
			}
			assertEquals("inactive", prop("kept.service", "ActiveState"), "kept.service stopped");
			assertTrue(exists("/var/lib/portables/kept/usr/lib/os-release"), "the image stays");
			assertEquals("", attachedFiles(), "kept is detached");
		} finally {
			detachNow("kept");
		}
	}

	/**
	 * psi purge of a DynamicUser=yes service that wrote to its state, cache
	 * and logs directories, with two versions in the pool (one attached and
	 * running) and psi's origin record of one: afterwards none of what is
	 * listed below exists, the unit is gone from systemd, and the other
	 * images are untouched. Without --yes and without a terminal it refuses
	 * and changes nothing; --dry-run lists the same paths.
	 */
	@Test
	@Order(9)
	void purgeRemovesEveryVersionAndWhatTheServiceLeft() {
		box.exec("sh", "-c", "set -e; cd /var/lib/portables; for v in 1 2; do cp -a kept gone_$v;"
				+ " mv gone_$v/usr/lib/systemd/system/kept.service gone_$v/usr/lib/systemd/system/gone.service;"
				+ " sed -i 's/=kept/=gone/; s/psi test: kept/psi test: gone/' gone_$v/usr/lib/systemd/system/gone.service; done;"
				+ " mkdir -p /var/lib/psi/images; printf 'source=https://127.0.0.1/gone_1.raw\\nsha256=00\\nlevel=checksum\\nverified=x\\n'"
				+ " > /var/lib/psi/images/gone_1.origin");
		List<String> gone = List.of("/var/lib/gone", "/var/lib/private/gone", "/var/cache/gone", "/var/cache/private/gone", "/var/log/gone",
				"/var/log/private/gone", "/var/lib/portables/gone_1", "/var/lib/portables/gone_2", "/var/lib/psi/images/gone_1.origin",
				"/etc/systemd/system.attached/gone.service", "/etc/systemd/system.attached/gone.service.d", "/etc/portables/gone_2");
		try {
			ok(psi("start", "gone_2"), "psi start gone_2", "gone.service");
			Result seen = null;
			for (int i = 0; i < 50; i++) {
				seen = box.exec("sh", "-c", "cat /var/lib/private/gone/s /var/cache/private/gone/c /var/log/private/gone/l");
				if (seen.rc() == 0)
					break;
				box.exec("sleep", "0.1");
			}
			assertEquals("s\nc\nl\n", seen.out(), "what gone.service wrote: " + seen + journal("gone.service"));
			Result refused = psi("purge", "gone");
			assertEquals(1, refused.rc(), "psi purge without --yes and no terminal refuses: " + refused);
			assertTrue(refused.err().contains("pass --yes"), "says how: " + refused);
			assertEquals("active", prop("gone.service", "ActiveState"), "nothing changed by the refusal");
			Result plan = psi("purge", "--dry-run", "gone");
			assertEquals(0, plan.rc(), "psi purge --dry-run gone: " + plan);
			for (String p : List.of("/var/lib/private/gone", "/var/cache/private/gone", "/var/log/private/gone", "/var/lib/portables/gone_1",
					"/var/lib/portables/gone_2", "/var/lib/psi/images/gone_1.origin", "/etc/systemd/system.attached/gone.service"))
				assertTrue(plan.out().lines().anyMatch(l -> l.startsWith("remove ") && l.contains(" " + p + " ")), "the plan lists " + p + ": " + plan);
			assertTrue(exists("/var/lib/portables/gone_1"), "the dry run changed nothing");
			Result p = psi("purge", "--yes", "gone");
			assertEquals(0, p.rc(), "psi purge --yes gone: " + p);
			for (String g : gone)
				assertFalse(exists(g), g + " left by psi purge: " + p);
			assertTrue(p.err().contains("Removed /var/lib/private/gone."), "says what it removed: " + p);
			assertEquals("not-found", prop("gone.service", "LoadState"), "systemd forgot gone.service: " + p);
			assertEquals("", attachedFiles(), "nothing attached");
			assertTrue(exists("/var/lib/portables/kept/usr/lib/os-release"), "other images stay");
			assertEquals(4, psi("status", "gone").rc(), "psi status gone: no such image");
			Result again = psi("purge", "--yes", "gone");
			assertEquals(1, again.rc(), "a second purge finds nothing: " + again);
			assertTrue(again.err().contains("No image 'gone' found, nor anything attached or left of it."), again.toString());
		} finally {
			detachNow("gone_2");
			box.exec("sh", "-c", "rm -rf /var/lib/portables/gone_* /var/lib/psi/images/gone_*");
		}
	}

	/**
	 * Versions under systemd: psi start of up_2 while up_1 runs upgrades it
	 * (systemd runs version 2, up_1 stays in the pool), an older version is
	 * refused, psi rollback goes back to up_1, a failing health command sends
	 * it back too while a passing one keeps it, and up_3, which fails at
	 * start, is rolled back to up_2 by itself (exit status 1, systemd runs
	 * version 2 again).
	 */
	@Test
	@Order(9)
	void upgradesRollBackByThemselvesAndOnRequest() {
		try {
			ok(psi("start", "up_1"), "psi start up_1", "up.service");
			assertEquals("psi test: up version 1", prop("up.service", "Description"));
			Result up = psi("start", "--settle", "2", "up_2");
			ok(up, "psi start up_2", "up.service");
			assertTrue(up.err().contains("Upgrading up_1 to up_2."), up.toString());
			assertEquals("psi test: up version 2", prop("up.service", "Description"));
			assertEquals("active", prop("up.service", "ActiveState"));
			assertTrue(exists("/var/lib/portables/up_1/usr/lib/os-release"), "the old version stays");
			Result down = psi("start", "up_1");
			assertEquals(1, down.rc(), down.toString());
			assertTrue(down.err().contains("up_1 is older than the attached up_2: not started."), down.toString());
			assertEquals("psi test: up version 2", prop("up.service", "Description"), "nothing changed");
			Result back = psi("rollback", "--settle", "1", "up");
			ok(back, "psi rollback up", "up.service");
			assertEquals("psi test: up version 1", prop("up.service", "Description"));
			assertEquals("active", prop("up.service", "ActiveState"));
			// a health check run inside the service's sandbox (as its dynamic user): one that fails sends it back
			Result sick = psi("start", "--settle", "1", "--health-cmd", "/usr/bin/busybox sh -c 'test -e /usr/lib/os-release && id -u && exit 7'", "up_2");
			assertEquals(1, sick.rc(), sick.toString());
			assertTrue(sick.err().matches("(?s).*up.service: health check '.*' exited 7: [1-9][0-9]*\\): rolled back to up_1, which runs again\\..*"),
					"ran in the image, as the service's own user (not root): " + sick);
			assertEquals("psi test: up version 1", prop("up.service", "Description"));
			ok(psi("start", "--settle", "1", "--health-cmd", "/usr/bin/busybox true", "up_2"), "psi start up_2 again", "up.service");
			Result crash = psi("start", "--settle", "2", "up_3");
			assertEquals(1, crash.rc(), crash.toString());
			assertTrue(crash.err().contains("up_3 did not hold (up.service: exit-code, status 3): rolled back to up_2, which runs again."),
					crash.toString());
			assertTrue(crash.out().contains("up 3 cannot start"), "its last log lines: " + crash);
			assertEquals("psi test: up version 2", prop("up.service", "Description"), "systemd runs version 2 again");
			assertEquals("active", prop("up.service", "ActiveState"));
			assertTrue(box.exec("cat", "/etc/systemd/system.attached/up.service.d/20-portable.conf").out()
					.contains("/var/lib/portables/up_2"), "up_2 attached");
		} finally {
			detachNow("up_2");
			detachNow("up_1");
			detachNow("up_3");
		}
	}

	/**
	 * A .v/ directory (systemd 256's vpick): psi start picks the newest
	 * version and pins it; a newer version appears, psi reattach --now
	 * moves to it; psi list shows each version and which is attached.
	 */
	@Test
	@Order(10)
	void aVersionedDirectoryPicksTheNewest() {
		try {
			Result s = psi("start", "vp");
			ok(s, "psi start vp", "vp.service");
			assertEquals("psi test: vp version 2", prop("vp.service", "Description"));
			assertTrue(box.exec("cat", "/etc/systemd/system.attached/vp.service.d/20-portable.conf").out()
					.contains("RootDirectory=/var/lib/portables/vp.v/vp_2\n"), "pinned to vp_2");
			box.exec("sh", "-c", "cp -a /var/lib/portables/vp.v/vp_2 /var/lib/portables/vp.v/vp_10 && sed -i 's/version 2/version 10/'"
					+ " /var/lib/portables/vp.v/vp_10/usr/lib/systemd/system/vp.service");
			assertEquals("psi test: vp version 2", prop("vp.service", "Description"), "attached stays pinned");
			Result r = psi("reattach", "--now", "vp");
			ok(r, "psi reattach --now vp", "vp.service");
			assertEquals("psi test: vp version 10", prop("vp.service", "Description"), "moved to the newest: " + r);
			assertEquals("active", prop("vp.service", "ActiveState"));
			Result l = psi("list", "--no-legend");
			List<String> rows = l.out().lines().filter(x -> x.startsWith("vp_")).map(x -> x.split("\\s+")[0] + " " + x.substring(x.lastIndexOf(' ') + 1)).toList();
			assertEquals(List.of("vp_1 detached", "vp_10 running", "vp_2 detached"), rows, l.out());
		} finally {
			detachNow("vp");
			box.exec("rm", "-rf", "/var/lib/portables/vp.v/vp_10");
		}
	}

	/** The journal records systemd 256's portabled writes for attach and detach (MESSAGE_ID= PORTABLE_ATTACHED, PORTABLE_DETACHED). */
	@Test
	@Order(11)
	void attachAndDetachAreRecordedInTheJournal() {
		try {
			ok(psi("attach", "--runtime", "single"), "psi attach --runtime single", "single.service");
			ok(psi("detach", "--runtime", "single"), "psi detach --runtime single", "single.service");
			String attached = awaitJournal("MESSAGE_ID=187c62eb1e7f463bb530394f52cb090f", "PORTABLE_ROOT=single");
			assertEquals("Successfully attached ephemeral '/var/lib/portables/single' using profile 'default'", attached);
			String detached = awaitJournal("MESSAGE_ID=76c5c754d628490d8ecba4c9d042112b", "PORTABLE_ROOT=single");
			assertEquals("Successfully detached ephemeral 'single'", detached);
		} finally {
			detachNow("single");
		}
	}

	/**
	 * The example policy {@code hardened} (plugins/policy-hardened) dropped
	 * into the plugin folder: its drop-in reaches systemd, which runs the
	 * service with those protections, and systemd-analyze security scores it
	 * better than without.
	 */
	@Test
	@Order(12)
	void theHardenedPolicyTightensTheService() throws Exception {
		Path jar = TestBox.basedir().resolve("plugins/policy-hardened/target/psi.policy.hardened-0.1.0-SNAPSHOT.jar");
		assertTrue(Files.isRegularFile(jar), "build first: " + jar);
		Path folder = box.inside("/var/lib/psi/plugins");
		try {
			ok(psi("start", "single"), "psi start single", "single.service");
			double without = exposure("single.service");
			assertEquals("no", prop("single.service", "ProtectClock"));
			detachNow("single");
			Files.createDirectories(folder);
			Files.copy(jar, folder.resolve("hardened.jar"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
			ok(psi("start", "single"), "psi start single (hardened)", "single.service");
			assertTrue(exists("/etc/systemd/system.attached/single.service.d/15-policy-hardened.conf"), attachedFiles());
			for (String p : List.of("ProtectClock", "ProtectKernelLogs", "ProtectKernelModules", "ProtectHostname", "RestrictSUIDSGID",
				"LockPersonality", "RestrictRealtime")) {
				assertEquals("yes", prop("single.service", p), p);
			}
			String filter = prop("single.service", "SystemCallFilter");
			for (String call : List.of("settimeofday", "reboot", "mount", "swapon", "init_module", "ptrace")) {
				assertFalse((" " + filter + " ").contains(" " + call + " "), call + " is filtered out: " + filter);
			}
			double with = exposure("single.service");
			System.out.println("[run] systemd-analyze security single.service: " + without + " without hardened, " + with + " with");
			assertTrue(with < without, "exposure " + with + " with hardened, " + without + " without");
			assertTrue(psi("status", "single").out().contains("  Policies: hardened\n"));
		} finally {
			detachNow("single");
			Files.deleteIfExists(folder.resolve("hardened.jar"));
		}
	}

	/** @return systemd-analyze security's overall exposure of a unit (0 safest, 10 most exposed) */
	double exposure(String unit) {
		Result r = box.exec("systemd-analyze", "security", "--no-pager", unit);
		String last = r.out().lines().filter(l -> l.contains("Overall exposure level")).findFirst().orElse("");
		java.util.regex.Matcher m = java.util.regex.Pattern.compile(": ([0-9]+\\.[0-9]+)").matcher(last);
		assertTrue(m.find(), "systemd-analyze security " + unit + ": " + r);
		return Double.parseDouble(m.group(1));
	}

	/**
	 * The admin's firewall ({@code --deny-ip any --allow-ip 127.0.0.1/32}):
	 * the service reaches a listener on 127.0.0.1 and not on 127.0.0.2, and
	 * psi status shows its IP traffic. Where systemd cannot filter (no BPF
	 * firewall in this kernel or cgroup setup), the test shows systemd's own
	 * word on it, and the drop-in is still checked.
	 */
	@Test
	@Order(13)
	void theFirewallLetsThroughOnlyWhatTheAdminAllows() throws Exception {
		// one listener on every address of the box, port 7001
		box.exec("sh", "-c", "setsid busybox nc -ll -p 7001 -e /bin/true </dev/null >/dev/null 2>&1 &");
		try {
			ok(psi("start", "--deny-ip", "any", "--allow-ip", "127.0.0.1/32", "--memory-max", "256M", "--tasks-max", "32", "fw"),
				"psi start fw", "fw.service");
			String conf = box.exec("cat", "/etc/systemd/system.attached/fw.service.d/30-psi-limits.conf").out();
			assertTrue(conf.contains("\nIPAddressDeny=\nIPAddressDeny=any\n") && conf.contains("\nIPAddressAllow=\nIPAddressAllow=127.0.0.1/32\n"), conf);
			assertEquals("268435456", prop("fw.service", "MemoryMax"));
			assertEquals("32", prop("fw.service", "TasksMax"));
			assertEquals("yes", prop("fw.service", "IPAccounting"));
			String log = "";
			for (int i = 0; i < 100 && !log.contains("127.0.0.2"); i++) {
				box.exec("sleep", "0.2");
				log = box.exec("journalctl", "--no-pager", "-o", "cat", "-u", "fw.service").out();
			}
			assertTrue(log.contains("reached 127.0.0.1"), "the allowed address is reached: " + log);
			if (log.contains("reached 127.0.0.2")) {
				// systemd says why it could not filter: the test shows it, and it must be that
				String why = box.exec("journalctl", "--no-pager", "-o", "cat", "-b", "-g", "BPF|firewall").out();
				System.out.println("[run] systemd cannot enforce IPAddressDeny= here: " + why);
				assertTrue(why.contains("BPF") || why.contains("firewall"), "127.0.0.2 reached, and systemd gave no reason: " + log);
			} else {
				assertTrue(log.contains("blocked 127.0.0.2"), log);
			}
			Result st = psi("status", "fw");
			java.util.regex.Matcher m = java.util.regex.Pattern.compile("IP: (\\S+) in \\(([0-9]+) packets\\), (\\S+) out \\(([0-9]+) packets\\)")
				.matcher(st.out());
			assertTrue(m.find(), "psi status shows IP accounting: " + st);
			assertTrue(Long.parseLong(m.group(4)) > 0, "packets out: " + st);
		} finally {
			detachNow("fw");
			box.exec("pkill", "-f", "nc -ll -p 7001");
		}
	}

	String awaitJournal(String... match) {
		List<String> cmd = new java.util.ArrayList<>(List.of("journalctl", "--no-pager", "-o", "cat"));
		cmd.addAll(List.of(match));
		String out = "";
		for (int i = 0; i < 50 && out.isEmpty(); i++) {
			out = box.exec(cmd.toArray(String[]::new)).out().strip();
			if (out.isEmpty())
				box.exec("sleep", "0.1");
		}
		return out.lines().reduce((a, b) -> b).orElse("");
	}

	// ------------------------------------------------------------------
	// helpers

	void startAndCheck(String image, String unit) {
		Result s = psi("start", image);
		ok(s, "psi start " + image, unit);
		String ctx = "psi start " + image + ": " + s;
		assertEquals("active", prop(unit, "ActiveState"), ctx + journal(unit));
		assertEquals("running", prop(unit, "SubState"), ctx + journal(unit));
		String pid = prop(unit, "MainPID");
		Result uid = box.exec("stat", "-c", "%u", "/proc/" + pid);
		int u = Integer.parseInt(uid.out().strip());
		assertTrue(u >= 61184 && u <= 65519, "MainPID " + pid + " of " + unit + " runs as uid " + u
				+ ", not a DynamicUser uid (61184-65519)\n" + show(unit));
		Result st = psi("status", image);
		assertEquals(0, st.rc(), "psi status " + image + ": " + st);
		assertTrue(st.out().contains("State: running"), "psi status " + image + ": " + st);
		assertTrue(st.out().contains("Profile: default"), "psi status " + image + " names the profile: " + st);
		assertTrue(st.out().contains("Active: active (running)"), "psi status " + image + ": " + st);
		Result again = psi("start", image);
		assertEquals(0, again.rc(), "second psi start " + image + ": " + again);
		assertTrue(again.err().contains("is running already"), "second psi start " + image + ": " + again);
		assertEquals(pid, prop(unit, "MainPID"), "second psi start restarted " + unit + ": " + again);
	}

	void ok(Result r, String what, String unit) {
		assertEquals(0, r.rc(), what + ": " + r + journal(unit));
	}

	void detachNow(String image) {
		Result r = psi("detach", "--now", image);
		if (r.rc() != 0 && !r.err().contains("not attached") && !r.err().contains("No image"))
			System.out.println("[run] clean-up psi detach --now " + image + ": " + r);
	}

	static Result psi(String... args) {
		return box.psi("run", CMD, args);
	}

	String prop(String unit, String p) {
		return box.exec("systemctl", "show", "-p", p, "--value", unit).out().strip();
	}

	String show(String unit) {
		return box.exec("systemctl", "show", "-p", "ActiveState,SubState,LoadState", unit).out();
	}

	boolean exists(String path) {
		return box.exec("test", "-e", path).rc() == 0 || box.exec("test", "-L", path).rc() == 0;
	}

	String attachedFiles() {
		return box.exec("sh", "-c",
				"find /etc/systemd/system.attached /etc/portables /run/systemd/system.attached /run/portables -mindepth 1 2>/dev/null")
				.out();
	}

	String journal(String unit) {
		Result j = box.exec("journalctl", "--no-pager", "-u", unit, "-n", "20");
		return "\njournalctl -u " + unit + " -n 20:\n" + j.out() + j.err();
	}
}
