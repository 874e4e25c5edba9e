package psi.itest.parity;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Parity of psi with systemd 252's {@code portablectl}: in ONE throwaway box
 * (itest/box/testbox.sh, a real systemd in namespaces over a copy-on-write
 * view of the host) every case is run once with psi and once with
 * portablectl, from the same clean state, and the trees that both leave in
 * {@code /etc/systemd/system.attached}, {@code /run/systemd/system.attached},
 * {@code /etc/portables} and {@code /run/portables} (path, type, mode,
 * owner, symlink target, sha256 of the content) must be identical, after
 * attach and after detach. The box set-up, the tree snapshot and the
 * clean-up are in itest/box/parity.sh.
 *
 * <p>
 * This test must not be skipped: without root or the tools it fails.
 * Needs: root, systemd 252 ({@code /lib/systemd/systemd}),
 * systemd-container ({@code portablectl}, {@code systemd-portabled}),
 * busybox-static, util-linux ({@code unshare}, {@code nsenter}), and a built
 * psi ({@code distribution/target/psi.jar}). The system property
 * {@code psi.basedir} names the reactor root.
 */
public class PortablectlParityIT {

	static final String PSI = "/opt/psi/psi";
	static final String PCTL = "portablectl";
	static final String INBOX = "/opt/psi-parity/parity.sh";
	static final Duration CMD_TIMEOUT = Duration.ofSeconds(120);

	static Path basedir;
	static Path testbox;
	static Path parity;
	static Path state;
	static Path box;
	/** the box's systemd as the host sees it: /proc/PID/root is the box's root */
	static String boxPid;
	static volatile boolean down;
	static Thread hook;
	/** testbox.sh: "Do not run two boxes at once" (their systemds share the host's cgroup trees). */
	static final Path BOX_LOCK = Paths.get(Files.isDirectory(Paths.get("/run/lock")) ? "/run/lock" : "/tmp",
			"psi-testbox.lock");
	static FileChannel lockChannel;
	static FileLock lock;

	// ------------------------------------------------------------------
	// the cases

	/**
	 * One success case: steps to run, then snapshot, then the clean-up steps,
	 * then snapshot. {@code expect}: entries both trees after the steps must
	 * have, as {@code "PATH -> TARGET"} (a symlink), or {@code "!PATH"} (absent).
	 */
	record Case(String name, List<List<String>> steps, List<List<String>> cleanup, String setup, String teardown,
			List<String> expect) {
		Case expecting(String... e) {
			return new Case(name, steps, cleanup, setup, teardown, List.of(e));
		}

		Case around(String setUp, String tearDown) {
			return new Case(name, steps, cleanup, setUp, tearDown, expect);
		}
	}

	static Case attach(String attachArgs, String detachArgs) {
		return new Case(attachArgs, List.of(cmd("attach " + attachArgs)), List.of(cmd("detach " + detachArgs)), null,
				null, List.of());
	}

	static List<String> cmd(String s) {
		return List.of(s.trim().split(" +"));
	}

	static final String HOST_UNIT = "/etc/systemd/system/single.service";
	static final String MAKE_HOST_UNIT = "cp /var/lib/portables/single/usr/lib/systemd/system/single.service "
			+ HOST_UNIT + " && systemctl daemon-reload";
	static final String RM_HOST_UNIT = "rm -f " + HOST_UNIT + " && systemctl daemon-reload";

	static List<Case> cases() {
		List<Case> c = new ArrayList<>();
		c.add(attach("single", "single").expecting("/etc/portables/single -> /var/lib/portables/single"));
		c.add(attach("sst", "sst"));
		c.add(attach("tmpl", "tmpl"));
		c.add(attach("foo", "foo"));
		c.add(attach("foo foo-bar", "foo"));
		c.add(attach("pfx pfx-a", "pfx"));
		c.add(attach("pfx pfx-a pfx-b", "pfx"));
		// lnk also holds lnk-abs.service, an absolute symlink: see lnkAbsoluteSymlinkIsTheOnlyDifference()
		c.add(attach("lnk lnk.service", "lnk"));
		c.add(attach("lnkrel", "lnkrel"));
		c.add(attach("--copy=symlink lnkrel", "lnkrel").expecting(
				"/etc/systemd/system.attached/lnkrel.service -> /var/lib/portables/lnkrel/usr/lib/systemd/system/lnkrel.service"));
		c.add(attach("--runtime sst", "--runtime sst").expecting("/run/portables/sst -> /var/lib/portables/sst",
				"!/etc/systemd/system.attached"));
		c.add(attach("--runtime --copy=copy --profile=trusted tmpl", "--runtime tmpl"));
		c.add(attach("--copy=copy single", "single"));
		c.add(attach("--copy=symlink single", "single").expecting(
				"/etc/systemd/system.attached/single.service -> /var/lib/portables/single/usr/lib/systemd/system/single.service"));
		c.add(attach("--copy=auto single", "single"));
		for (String p : List.of("default", "nonetwork", "strict", "trusted"))
			c.add(attach("--profile=" + p + " single", "single"));
		c.add(attach("--profile=strict --copy=copy single", "single"));
		c.add(attach("etcosr", "etcosr"));
		c.add(attach("/srv/images/single", "/srv/images/single")
				.expecting("/etc/portables/single -> /srv/images/single"));
		c.add(new Case("reattach ver_1 -> ver_2", List.of(cmd("attach ver_1"), cmd("reattach ver_2")),
				List.of(cmd("detach ver_2")), null, null, List.of())
				.expecting("/etc/portables/ver_2 -> /var/lib/portables/ver_2", "!/etc/portables/ver_1"));
		// raw images: RootImage=, PORTABLE= the file name, units copied (never linked) without a source
		c.add(attach("naked", "naked").expecting("/etc/portables/naked.raw -> /var/lib/portables/naked.raw"));
		c.add(attach("--runtime naked", "--runtime naked"));
		c.add(attach("gpt_1", "gpt_1"));
		c.add(attach("--copy=symlink gpt_1", "gpt_1"));
		c.add(attach("--copy=copy --profile=strict gpt_1", "gpt_1"));
		c.add(attach("onepart", "onepart"));
		c.add(attach("verity", "verity"));
		c.add(attach("/var/lib/portables/gpt_2.raw", "gpt_2"));
		c.add(new Case("reattach gpt_1 -> gpt_2", List.of(cmd("attach gpt_1"), cmd("reattach gpt_2")),
				List.of(cmd("detach gpt_2")), null, null, List.of())
				.expecting("/etc/portables/gpt_2.raw -> /var/lib/portables/gpt_2.raw", "!/etc/portables/gpt_1.raw"));
		// made by psi build: a signed GPT image (root, verity, signature) and a naked squashfs with .roothash/.verity
		c.add(attach("built_1", "built_1"));
		c.add(attach("--copy=symlink --profile=strict built_1", "built_1"));
		c.add(attach("builtsq", "builtsq"));
		c.add(attach("builtnv_1", "builtnv_1"));
		c.add(new Case("--force single (unit on the host)", List.of(cmd("attach --force single")),
				List.of(cmd("detach single")), null, null, List.of()).around(MAKE_HOST_UNIT, RM_HOST_UNIT));
		c.addAll(extensionCases());
		return c;
	}

	/**
	 * Extension images (itest/box/make-ext-images.sh): a directory base and a
	 * raw one, directory and raw extensions, by name and by path, one and two,
	 * --runtime, --copy=symlink, --force for a release file of another name,
	 * and reattach swapping the base or an extension for a newer version.
	 */
	static List<Case> extensionCases() {
		List<Case> c = new ArrayList<>();
		c.add(attach("--extension app0 rt app0", "--extension app0 rt").expecting(
				"/etc/portables/app0 -> /var/lib/portables/app0", "/etc/portables/rt -> /var/lib/portables/rt"));
		// detach names the base alone: as 252, every attachment of it goes, with its extensions' links
		c.add(attach("--extension app0 --extension /srv/ext/app1.raw rt rt app0 app1", "rt").expecting(
				"/etc/portables/app1.raw -> /srv/ext/app1.raw"));
		c.add(attach("--runtime --extension app1 rtraw app1", "--runtime --extension app1 rtraw").expecting(
				"/run/portables/app1.raw -> /var/lib/portables/app1.raw", "/run/portables/rtraw.raw -> /var/lib/portables/rtraw.raw"));
		c.add(attach("--copy=symlink --extension app0 rt app0", "--extension app0 rt").expecting(
				"/etc/systemd/system.attached/app0.service -> /var/lib/portables/app0/usr/lib/systemd/system/app0.service"));
		// app10.raw carries extension-release.app1: only --force takes it, and the drop-in relaxes PID 1's check too
		c.add(attach("--force --extension /srv/ext/app10.raw rtraw app1", "--extension /srv/ext/app10.raw rtraw"));
		c.add(new Case("reattach swapping app1 for app1_2",
				List.of(cmd("attach --extension /srv/ext/app1.raw rt app1"),
						cmd("reattach --extension /srv/ext/app1_2.raw /var/lib/portables/rt app1")),
				List.of(cmd("detach --extension /srv/ext/app1_2.raw rt")), null, null, List.of())
				.expecting("/etc/portables/app1_2.raw -> /srv/ext/app1_2.raw", "!/etc/portables/app1.raw"));
		c.add(new Case("reattach rt -> rt_2 keeping app0",
				List.of(cmd("attach --extension /var/lib/portables/app0 rt rt app0"),
						cmd("reattach --extension /var/lib/portables/app0 rt_2 rt app0")),
				List.of(cmd("detach --extension /var/lib/portables/app0 rt_2")), null, null, List.of())
				.expecting("/etc/portables/rt_2 -> /var/lib/portables/rt_2", "!/etc/portables/rt"));
		return c;
	}

	/** One error case: the command must fail with both tools and change nothing. */
	record ErrorCase(String name, List<String> command, String setup, String teardown) {
	}

	static ErrorCase err(String command) {
		return new ErrorCase(command, cmd(command), null, null);
	}

	static List<ErrorCase> errorCases() {
		return List.of(err("attach noosr"), err("attach noid"), err("attach nounit"), err("attach pfx zzz"),
				err("attach pfx"), err("attach single zzz"), err("attach nosuchimage"),
				err("attach /srv/images/nosuch"), err("attach --profile=a/b single"),
				err("attach --copy=bogus single"), err("detach single"), err("reattach single"),
				new ErrorCase("attach single (single.service exists on the host)", cmd("attach single"),
						MAKE_HOST_UNIT, RM_HOST_UNIT),
				// extensions: another level, a release file of another name, another ID, none of that name,
				// no unit in any layer, prefixes the extension refuses, nothing attached so, a name twice
				err("attach --extension /srv/ext/app1.raw rtv app1"), err("attach --extension /srv/ext/app10.raw rtraw app1"),
				err("attach --extension /srv/ext/badid rt badid"), err("attach --extension nosuch rt"),
				err("attach --extension app0 rt nomatch"), err("attach --extension /srv/ext/app2.raw rt rt app2"),
				err("detach --extension app1 rt"), err("attach --extension app0 --extension app0 rt app0"),
				// no quota on a directory image
				err("set-limit single 1G"));
	}

	// ------------------------------------------------------------------
	// box life cycle

	@BeforeAll
	static void bootBox() throws Exception {
		state = null;
		boxPid = null;
		down = false;
		String bd = System.getProperty("psi.basedir");
		basedir = bd != null && !bd.isBlank() ? Paths.get(bd).toAbsolutePath().normalize() : findBasedir();
		testbox = basedir.resolve("itest/box/testbox.sh");
		parity = basedir.resolve("itest/box/parity.sh");
		checkPreconditions();

		takeBoxLock();
		state = Files.createTempDirectory("psi-parity-");
		box = state.resolve("box");
		hook = new Thread(PortablectlParityIT::shutdownBox, "psi-parity-box-stop");
		Runtime.getRuntime().addShutdownHook(hook);

		long t0 = System.nanoTime();
		Result up = host(List.of("bash", parity.toString(), "up", state.toString(), basedir.toString()));
		if (up.rc != 0)
			fail("could not set up the box (parity.sh up, exit " + up.rc + "):\n" + up.err + up.out);
		boxPid = up.out.trim();
		System.out.printf("[parity] box up (systemd pid %s) in %d ms, state %s%n", boxPid,
				(System.nanoTime() - t0) / 1_000_000, state);
		Result v = inBox(List.of("portablectl", "--version"));
		System.out.println("[parity] " + v.out.lines().findFirst().orElse("?"));
		// psi must run in the box at all, or every error case would pass for the wrong reason
		Result l = inBox(List.of(PSI, "list"));
		if (l.rc != 0)
			fail("psi does not run in the box: `psi list` exited " + l.rc + ":\n" + l.err + l.out);
		// the cases then run through a resident psi, as on an installed host (the answers are the same:
		// DaemonIT compares every command in-process and through the daemon); the command above ran in-process
		Result d = inBox(List.of(PSI, "daemon", "--background"));
		if (d.rc != 0)
			fail("psi daemon --background in the box exited " + d.rc + ":\n" + d.err + d.out);
		Result viaDaemon = inBox(List.of("sh", "-c", "test -S /run/psi/psi.sock && " + PSI + " list"));
		if (viaDaemon.rc != 0 || !viaDaemon.out.equals(l.out))
			fail("psi list through the daemon differs from in-process:\n" + viaDaemon.err + viaDaemon.out + "\nin-process:\n" + l.out);
	}

	@AfterAll
	static void stopBox() throws Exception {
		if (state == null) {
			releaseBoxLock();
			return;
		}
		Result r = shutdownBox();
		releaseBoxLock();
		if (hook != null) {
			try {
				Runtime.getRuntime().removeShutdownHook(hook);
			} catch (IllegalStateException e) {
				// shutting down already
			}
		}
		if (r != null && r.rc != 0)
			fail("box clean-up incomplete (parity.sh down, exit " + r.rc + "):\n" + r.err + r.out);
		System.out.println("[parity] box stopped and cleaned; no mount or loop device left under " + state);
	}

	static synchronized Result shutdownBox() {
		if (down || state == null)
			return null;
		down = true;
		try {
			return host(List.of("bash", parity.toString(), "down", state.toString()));
		} catch (Exception e) {
			return new Result(-1, "", "parity.sh down failed: " + e + "\n");
		}
	}

	/** Waits (up to 10 min) while another test holding the same lock runs its box. */
	static void takeBoxLock() throws Exception {
		lockChannel = FileChannel.open(BOX_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
		long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
		boolean said = false;
		while ((lock = lockChannel.tryLock()) == null) {
			if (!said) {
				System.out.println("[parity] waiting for " + BOX_LOCK + ": another box is running");
				said = true;
			}
			if (System.nanoTime() > deadline)
				fail("another test box kept " + BOX_LOCK + " locked for 10 minutes");
			Thread.sleep(500);
		}
	}

	static void releaseBoxLock() {
		try {
			if (lock != null)
				lock.release();
			if (lockChannel != null)
				lockChannel.close();
		} catch (IOException e) {
			// the lock goes with the process anyway
		}
		lock = null;
		lockChannel = null;
	}

	static Path findBasedir() {
		for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent())
			if (Files.isRegularFile(p.resolve("itest/box/testbox.sh")))
				return p;
		fail("system property psi.basedir is not set and no itest/box/testbox.sh above " + Paths.get("").toAbsolutePath());
		return null;
	}

	static void checkPreconditions() throws IOException {
		List<String> missing = new ArrayList<>();
		String uid = Files.readAllLines(Paths.get("/proc/self/status")).stream()
				.filter(l -> l.startsWith("Uid:")).map(l -> l.split("\\s+")[2]).findFirst().orElse("?");
		if (!uid.equals("0"))
			missing.add("must run as root (effective uid is " + uid + "): it boots systemd in namespaces");
		for (Path p : List.of(testbox, parity))
			if (!Files.isRegularFile(p))
				missing.add(p + " missing");
		Path jar = basedir.resolve("distribution/target/psi.jar");
		if (!Files.isRegularFile(jar))
			missing.add(jar + " missing: build psi first (mvn -B install -DskipTests)");
		if (!Files.isRegularFile(basedir.resolve("distribution/psi")))
			missing.add(basedir.resolve("distribution/psi") + " missing");
		if (!Files.isExecutable(Paths.get("/lib/systemd/systemd")))
			missing.add("/lib/systemd/systemd missing (systemd 252)");
		if (!Files.isExecutable(Paths.get("/lib/systemd/systemd-portabled")))
			missing.add("/lib/systemd/systemd-portabled missing (apt-get install systemd-container)");
		String bb = System.getenv().getOrDefault("BUSYBOX", "/bin/busybox");
		if (!Files.isExecutable(Paths.get(bb)))
			missing.add(bb + " missing (apt-get install busybox-static)");
		for (String tool : List.of("portablectl", "nsenter", "unshare", "setsid", "losetup", "sha256sum"))
			if (which(tool) == null)
				missing.add(tool + " not on PATH"
						+ (tool.equals("portablectl") ? " (apt-get install systemd-container)" : ""));
		if (!missing.isEmpty())
			fail("PortablectlParityIT cannot run (it must not be skipped; fix the machine):\n  - "
					+ String.join("\n  - ", missing));
	}

	static Path which(String tool) {
		for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
			Path p = Paths.get(d.isEmpty() ? "." : d, tool);
			if (Files.isExecutable(p))
				return p;
		}
		for (String d : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
			Path p = Paths.get(d, tool);
			if (Files.isExecutable(p))
				return p;
		}
		return null;
	}

	// ------------------------------------------------------------------
	// tests

	@TestFactory
	Stream<DynamicTest> attachParity() {
		return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> runCase(c)));
	}

	@TestFactory
	Stream<DynamicTest> errorParity() {
		return errorCases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> runErrorCase(c)));
	}

	/**
	 * portabled 252 resolves the absolute unit symlink lnk-abs.service of a
	 * directory image against the host's root (the box lacks its target, so it
	 * is skipped); psi resolves it inside the image (deliberately). The trees
	 * of {@code attach lnk} may differ in lnk-abs.service's entries only.
	 */
	@Test
	void lnkAbsoluteSymlinkIsTheOnlyDifference() throws Exception {
		Case c = attach("lnk", "lnk");
		Run psi = runTool(PSI, c);
		Run pctl = runTool(PCTL, c);
		Predicate<String> abs = l -> path(l).startsWith("/etc/systemd/system.attached/lnk-abs.service");
		List<String> psiRest = psi.attached.stream().filter(abs.negate()).toList();
		List<String> psiAbs = psi.attached.stream().filter(abs).toList();
		System.out.println("[parity] lnk: psi attaches in addition:\n    " + String.join("\n    ", psiAbs));
		List<Executable> checks = new ArrayList<>();
		checks.addAll(Arrays.asList(psi.checks()));
		checks.addAll(Arrays.asList(pctl.checks()));
		checks.add(() -> assertTrue(pctl.attached.stream().noneMatch(abs),
				"portabled 252 attached lnk-abs.service although the box lacks /usr/share/lnk/real-abs.service"));
		checks.add(() -> same("tree after attach lnk, without lnk-abs.service", pctl.attached, psiRest, pctl.content,
				psi.content));
		checks.add(() -> same("tree after detach lnk", pctl.detached, psi.detached));
		assertAll("lnk", checks);
	}

	/**
	 * A raw image attached by psi runs in the box's real systemd, as a
	 * DynamicUser (uid 61184-65519) under the default profile, rooted in the
	 * image: one made by sfdisk and mksquashfs, and one psi build made
	 * without verity.
	 */
	@ParameterizedTest
	@CsvSource({ "gpt_1,gpt.service", "builtnv_1,builtnv.service" })
	void aRawImageAttachedByPsiRunsUnderDynamicUser(String image, String service) throws Exception {
		Result attach = inBox(List.of(PSI, "attach", image));
		assertEquals(0, attach.rc(), "psi attach " + image + ": " + attach.err());
		try {
			// active at fork (Type=simple): wait until the main process runs the image's busybox
			Result start = inBox(List.of("sh", "-c", "systemctl daemon-reload && systemctl start " + service
					+ " && for i in $(seq 100); do p=$(systemctl show -p MainPID --value " + service + "); "
					+ "case $(readlink /proc/$p/exe 2>/dev/null) in */busybox) break ;; esac; sleep 0.1; done; "
					+ "systemctl show -p ActiveState --value " + service + " && systemctl show -p MainPID --value " + service));
			assertEquals(0, start.rc(), "systemctl start " + service + ": " + start.err() + start.out()
					+ inBox(List.of("journalctl", "-u", service, "--no-pager", "-n", "20")).out());
			List<String> lines = start.out().lines().toList();
			assertEquals("active", lines.get(0), start.out() + inBox(List.of("journalctl", "-u", service, "--no-pager", "-n", "20")).out());
			String pid = lines.get(1).trim();
			Result uid = inBox(List.of("stat", "-c", "%u", "/proc/" + pid));
			assertEquals(0, uid.rc(), service + " is gone: " + uid + inBox(List.of("journalctl", "-u", service, "--no-pager", "-n", "20")).out());
			int u = Integer.parseInt(uid.out().trim());
			assertTrue(u >= 61184 && u <= 65519, service + " runs as uid " + u + ", not a DynamicUser");
			Result release = inBox(List.of("cat", "/proc/" + pid + "/root/usr/lib/os-release"));
			assertTrue(release.out().contains("ID=debian-psi-test"), "the service's root is the image: " + release.out());
		} finally {
			inBox(List.of("sh", "-c", "systemctl stop " + service + "; " + PSI + " detach " + image + "; systemctl daemon-reload"));
		}
	}

	/**
	 * The verity images psi build made (a signed GPT image, a squashfs with
	 * .roothash and .verity) start in the box's systemd as systemd-repart's
	 * signed image does: running where the kernel has device-mapper, and
	 * where it has none (these machines) failing alike, at the verity device
	 * systemd sets up for them, never run unchecked.
	 */
	@Test
	void verityImagesBuiltByPsiStartAsRepartsDoes() throws Exception {
		boolean dm = Files.readString(Path.of("/proc/misc")).contains("device-mapper");
		String repart = startOutcome("verity", "verity.service");
		for (String[] built : new String[][] { { "built_1", "built.service" }, { "builtsq", "builtsq.service" } }) {
			String outcome = startOutcome(built[0], built[1]);
			assertEquals(repart, outcome, built[0] + " starts as repart's verity image");
		}
		assertEquals(dm ? "active" : "failed at its verity device", repart);
	}

	/** @return {@code active}, or how the start failed: {@code failed at its verity device}, else the journal */
	static String startOutcome(String image, String service) throws Exception {
		Result attach = inBox(List.of(PSI, "attach", image));
		assertEquals(0, attach.rc(), "psi attach " + image + ": " + attach.err());
		try {
			Result start = inBox(List.of("sh", "-c", "systemctl daemon-reload; systemctl start " + service
					+ "; for i in $(seq 50); do s=$(systemctl show -p ActiveState --value " + service + "); "
					+ "p=$(systemctl show -p MainPID --value " + service + "); "
					+ "case $s:$(readlink /proc/$p/exe 2>/dev/null) in active:*/busybox|failed:*) break ;; esac; sleep 0.1; done; echo $s"));
			if (start.out().strip().equals("active"))
				return "active";
			String journal = inBox(List.of("journalctl", "-u", service, "--no-pager", "-n", "20")).out();
			return journal.contains("-verity, name is invalid or still in use") ? "failed at its verity device" : "failed: " + journal;
		} finally {
			inBox(List.of("sh", "-c", "systemctl stop " + service + "; systemctl reset-failed " + service + "; " + PSI + " detach " + image + "; systemctl daemon-reload"));
		}
	}

	/**
	 * A service that came from a directory extension runs in the box's
	 * systemd with the extension over the base's /usr: it sees the
	 * extension's files, and the base's busybox.
	 */
	@Test
	void aServiceFromAnExtensionSeesTheExtension() throws Exception {
		Result attach = inBox(List.of(PSI, "attach", "--now", "--extension", "app0", "rt", "app0"));
		assertEquals(0, attach.rc(), "psi attach --now --extension app0 rt app0: " + attach.err());
		try {
			Result show = inBox(List.of("sh", "-c", "systemctl show -p ActiveState --value app0.service"
					+ " && cat /proc/$(systemctl show -p MainPID --value app0.service)/root/usr/share/app0/hello"));
			assertEquals(0, show.rc(), "app0.service: " + show.err() + show.out()
					+ inBox(List.of("journalctl", "-u", "app0.service", "--no-pager", "-n", "20")).out());
			assertEquals(List.of("active", "app0 from its extension"), show.out().lines().toList());
			Result state = inBox(List.of(PSI, "is-attached", "--extension", "app0", "rt"));
			assertEquals("running", state.out().trim(), "is-attached while app0.service runs");
			Result pstate = inBox(List.of(PCTL, "is-attached", "--extension", "app0", "rt"));
			assertEquals(pstate.out(), state.out(), "portablectl is-attached says the same");
		} finally {
			inBox(List.of("sh", "-c", PSI + " detach --now --extension app0 rt; systemctl daemon-reload"));
		}
	}

	// ------------------------------------------------------------------
	// running a case

	/** What one tool did in one case. */
	static final class Run {
		final String tool;
		final List<Result> results = new ArrayList<>();
		final List<String> problems = new ArrayList<>();
		List<String> attached = List.of();
		/** content of the regular files of {@link #attached}, for a readable diff */
		Map<String, String> content = Map.of();
		List<String> detached = List.of();

		Run(String tool) {
			this.tool = tool;
		}

		Executable[] checks() {
			return problems.stream().map(p -> (Executable) () -> fail(tool + ": " + p)).toArray(Executable[]::new);
		}

		/** stderr lines of all commands, sorted: portabled's order between units follows a hash table. */
		List<String> outputLines() {
			return results.stream().flatMap(r -> r.err.lines()).sorted().toList();
		}

		String stdout() {
			return results.stream().map(r -> r.out).collect(Collectors.joining());
		}
	}

	void runCase(Case c) throws Exception {
		Run psi = runTool(PSI, c);
		Run pctl = runTool(PCTL, c);
		List<Executable> checks = new ArrayList<>();
		checks.addAll(Arrays.asList(psi.checks()));
		checks.addAll(Arrays.asList(pctl.checks()));
		checks.add(() -> same("tree after " + describe(c.steps()), pctl.attached, psi.attached, pctl.content,
				psi.content));
		checks.add(() -> same("tree after " + describe(c.cleanup()) + " (what is left)", pctl.detached, psi.detached));
		checks.add(() -> same("stderr lines (sorted) of " + describe(c.steps()) + " and " + describe(c.cleanup()),
				pctl.outputLines(), psi.outputLines()));
		checks.add(() -> assertEquals(pctl.stdout(), psi.stdout(), "stdout"));
		System.out.print("[parity] tree after " + describe(c.steps()) + " (portablectl):\n" + indent("", String.join("\n", pctl.attached)));
		assertAll(c.name(), checks);
	}

	Run runTool(String tool, Case c) throws Exception {
		Run run = new Run(tool);
		cleanState(run);
		if (c.setup() != null)
			sh(c.setup());
		try {
			List<String> before = snapshot();
			if (!before.isEmpty())
				run.problems.add("box not clean before the case:\n" + String.join("\n", before));
			for (List<String> step : c.steps())
				exec(run, tool, step, true);
			run.attached = snapshot();
			run.content = contents(run.attached);
			for (String e : c.expect()) {
				boolean ok;
				if (e.startsWith("!")) {
					ok = run.attached.stream().noneMatch(l -> path(l).equals(e.substring(1)));
				} else {
					String[] pt = e.split(" -> ", 2);
					ok = run.attached.stream().anyMatch(l -> path(l).equals(pt[0]) && type(l).equals("l")
							&& l.endsWith("\t-> " + pt[1]));
				}
				if (!ok)
					run.problems.add("after " + describe(c.steps()) + " expected " + (e.startsWith("!") ? "no " + e.substring(1) : e)
							+ ", tree:\n" + run.attached.stream().map(PortablectlParityIT::show).collect(Collectors.joining("\n")));
			}
			for (List<String> step : c.cleanup())
				exec(run, tool, step, true);
			run.detached = snapshot();
			// what may be left: the empty /etc/portables and /run/portables directories
			for (String l : run.detached) {
				String p = path(l);
				if (!(p.equals("/etc/portables") || p.equals("/run/portables")) || !type(l).equals("d"))
					run.problems.add("left behind after " + describe(c.cleanup()) + ": " + l.replace('\t', ' '));
			}
		} finally {
			if (c.teardown() != null)
				sh(c.teardown());
		}
		return run;
	}

	void runErrorCase(ErrorCase c) throws Exception {
		List<Run> runs = new ArrayList<>();
		List<List<String>> after = new ArrayList<>();
		for (String tool : List.of(PSI, PCTL)) {
			Run run = new Run(tool);
			cleanState(run);
			if (c.setup() != null)
				sh(c.setup());
			try {
				List<String> b = snapshot();
				Result r = exec(run, tool, c.command(), false);
				List<String> a = snapshot();
				after.add(a);
				if (r.rc == 0)
					run.problems.add(describe(List.of(c.command())) + " exited 0, expected a failure");
				if (!a.equals(b))
					run.problems.add(describe(List.of(c.command())) + " changed the tree:\n" + diff(b, a, "before", "after"));
			} finally {
				if (c.teardown() != null)
					sh(c.teardown());
			}
			runs.add(run);
		}
		Run psi = runs.get(0), pctl = runs.get(1);
		List<Executable> checks = new ArrayList<>();
		checks.addAll(Arrays.asList(psi.checks()));
		checks.addAll(Arrays.asList(pctl.checks()));
		checks.add(() -> same("tree after the failed command", after.get(1), after.get(0)));
		assertAll(c.name(), checks);
	}

	/** Run one psi/portablectl command in the box and print what it said. */
	Result exec(Run run, String tool, List<String> args, boolean mustSucceed) throws Exception {
		List<String> cmd = new ArrayList<>();
		cmd.add(tool);
		cmd.addAll(args);
		long t0 = System.nanoTime();
		Result r = inBox(cmd);
		long ms = (System.nanoTime() - t0) / 1_000_000;
		run.results.add(r);
		String label = tool.equals(PSI) ? "psi" : "portablectl";
		System.out.printf("[parity] $ %s %s   (exit %d, %d ms)%n%s%s", label, String.join(" ", args), r.rc, ms,
				indent("stderr| ", r.err), indent("stdout| ", r.out));
		if (tool.equals(PSI) && r.err.contains("psi: unknown command"))
			run.problems.add("psi's launcher did not find the command (a launcher failure, not psi's answer): "
					+ r.err.strip());
		if (mustSucceed && r.rc != 0)
			run.problems.add(label + " " + String.join(" ", args) + " exited " + r.rc + ":\n" + r.err + r.out);
		return r;
	}

	/** Clean state before a run; a run that left something makes the run fail, and is cleaned by force. */
	void cleanState(Run run) throws Exception {
		Result r = inBox(List.of(INBOX, "reset"));
		if (r.rc != 0) {
			run.problems.add("the box was not clean before this run (left by the run before it):\n" + r.err);
			Result f = inBox(List.of(INBOX, "reset", "--force"));
			if (f.rc != 0)
				fail("could not clean the box: " + f.err);
		}
	}

	List<String> snapshot() throws Exception {
		Result r = inBox(List.of(INBOX, "snapshot"));
		if (r.rc != 0)
			fail("snapshot failed (exit " + r.rc + "): " + r.err);
		return r.out.lines().toList();
	}

	void sh(String script) throws Exception {
		Result r = inBox(List.of("sh", "-c", script));
		if (r.rc != 0)
			fail("in the box, `" + script + "` failed (exit " + r.rc + "): " + r.err);
	}

	// ------------------------------------------------------------------
	// comparison

	static String path(String snapshotLine) {
		int i = snapshotLine.indexOf('\t');
		return i < 0 ? snapshotLine : snapshotLine.substring(0, i);
	}

	static String type(String snapshotLine) {
		String[] f = snapshotLine.split("\t", -1);
		return f.length > 1 ? f[1] : "";
	}

	static void same(String what, List<String> portablectl, List<String> psi) {
		same(what, portablectl, psi, Map.of(), Map.of());
	}

	/** Fails with a diff of the trees, and of the contents of files present in both that differ. */
	static void same(String what, List<String> portablectl, List<String> psi, Map<String, String> pctlContent,
			Map<String, String> psiContent) {
		if (Objects.equals(portablectl, psi))
			return;
		StringBuilder sb = new StringBuilder(what + " differs between portablectl (-) and psi (+):\n");
		sb.append(diff(portablectl, psi, "portablectl", "psi"));
		Map<String, List<String>> a = byKey(portablectl), b = byKey(psi);
		for (String p : new TreeSet<>(pctlContent.keySet())) {
			String ca = pctlContent.get(p), cb = psiContent.get(p);
			if (cb != null && !ca.equals(cb) && !Objects.equals(a.get(p), b.get(p)))
				sb.append("--- portablectl ").append(p).append("\n+++ psi ").append(p).append('\n')
						.append(lineDiff(ca.lines().toList(), cb.lines().toList()));
		}
		fail(sb.toString());
	}

	/** Contents (as UTF-8 text, at most 64 KiB each) of the regular files in a snapshot, read through /proc/PID/root. */
	static Map<String, String> contents(List<String> snapshot) {
		Map<String, String> m = new TreeMap<>();
		for (String l : snapshot) {
			if (!type(l).equals("f"))
				continue;
			try {
				byte[] data = Files.readAllBytes(Paths.get("/proc", boxPid, "root", path(l)));
				m.put(path(l), new String(data, 0, Math.min(data.length, 65536), StandardCharsets.UTF_8)
						+ (data.length > 65536 ? "\n[... truncated]" : "") + (data.length > 0 && data[data.length - 1] != '\n'
								? "\n[no newline at end]" : ""));
			} catch (IOException e) {
				m.put(path(l), "[unreadable: " + e + "]");
			}
		}
		return m;
	}

	/** A minimal line diff (longest common subsequence); the files compared are small. */
	static String lineDiff(List<String> a, List<String> b) {
		int n = a.size(), m = b.size();
		int[][] lcs = new int[n + 1][m + 1];
		for (int i = n - 1; i >= 0; i--)
			for (int j = m - 1; j >= 0; j--)
				lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
		StringBuilder sb = new StringBuilder();
		int i = 0, j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && a.get(i).equals(b.get(j))) {
				sb.append("  ").append(a.get(i++)).append('\n');
				j++;
			} else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
				sb.append("+ ").append(b.get(j++)).append('\n');
			} else {
				sb.append("- ").append(a.get(i++)).append('\n');
			}
		}
		return sb.toString();
	}

	/** A readable diff of two sorted lists, keyed by the part before the first tab. */
	static String diff(List<String> a, List<String> b, String aName, String bName) {
		Map<String, List<String>> ma = byKey(a), mb = byKey(b);
		TreeSet<String> keys = new TreeSet<>(ma.keySet());
		keys.addAll(mb.keySet());
		StringBuilder sb = new StringBuilder();
		int w = Math.max(aName.length(), bName.length());
		for (String k : keys) {
			List<String> la = ma.getOrDefault(k, List.of()), lb = mb.getOrDefault(k, List.of());
			if (la.equals(lb)) {
				for (String l : la)
					sb.append("  ").append(" ".repeat(w + 2)).append(show(l)).append('\n');
				continue;
			}
			for (String l : la)
				sb.append("- ").append(pad(aName, w)).append(": ").append(show(l)).append('\n');
			for (String l : lb)
				sb.append("+ ").append(pad(bName, w)).append(": ").append(show(l)).append('\n');
		}
		return sb.toString();
	}

	static Map<String, List<String>> byKey(List<String> lines) {
		Map<String, List<String>> m = new TreeMap<>();
		for (String l : lines)
			m.computeIfAbsent(path(l), k -> new ArrayList<>()).add(l);
		return m;
	}

	static String show(String l) {
		return l.replace('\t', ' ').stripTrailing();
	}

	static String pad(String s, int w) {
		return s + " ".repeat(w - s.length());
	}

	static String describe(List<List<String>> cmds) {
		return cmds.stream().map(c -> String.join(" ", c)).collect(Collectors.joining("; "));
	}

	static String indent(String prefix, String text) {
		if (text.isEmpty())
			return "";
		return text.lines().map(l -> "    " + prefix + l + "\n").collect(Collectors.joining());
	}

	// ------------------------------------------------------------------
	// processes

	record Result(int rc, String out, String err) {
	}

	static Result inBox(List<String> cmd) throws Exception {
		List<String> c = new ArrayList<>(List.of("bash", testbox.toString(), "exec", box.toString()));
		c.addAll(cmd);
		return host(c);
	}

	static Result host(List<String> cmd) throws Exception {
		ProcessBuilder pb = new ProcessBuilder(cmd);
		Map<String, String> env = pb.environment();
		// what GROUND-TRUTH.md was captured with
		for (String k : List.of("LC_ALL", "LC_CTYPE", "LC_MESSAGES", "LANGUAGE", "SYSTEMD_UTF8", "PSI_JAVA_OPTS",
				"PSI_JAR"))
			env.remove(k);
		env.put("LANG", "C.UTF-8");
		env.put("SYSTEMD_PAGER", "");
		env.put("SYSTEMD_COLORS", "0");
		// the psi launcher runs `java`: the one running this test (the box sees the host's files)
		env.put("PATH", Paths.get(System.getProperty("java.home"), "bin") + ":"
				+ env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin") + ":/usr/local/sbin:/usr/sbin:/sbin");
		File out = File.createTempFile("psi-parity-", ".out");
		File err = File.createTempFile("psi-parity-", ".err");
		try {
			pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
			pb.redirectOutput(out);
			pb.redirectError(err);
			Process p = pb.start();
			if (!p.waitFor(CMD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
				p.descendants().forEach(ProcessHandle::destroyForcibly);
				p.destroyForcibly();
				p.waitFor(10, TimeUnit.SECONDS);
				fail("timeout (" + CMD_TIMEOUT.toSeconds() + " s): " + String.join(" ", cmd));
			}
			return new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
					Files.readString(err.toPath(), StandardCharsets.UTF_8));
		} finally {
			out.delete();
			err.delete();
		}
	}
}
