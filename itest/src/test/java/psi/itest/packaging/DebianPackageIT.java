package psi.itest.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import psi.itest.box.TestBox;
import psi.itest.box.TestBox.Result;

/**
 * The Debian package the build makes (distribution/deb/build-deb.sh),
 * installed with dpkg (removed and purged with apt-get) into a throwaway real systemd (a {@link TestBox}): the
 * socket is enabled and started, {@code psi list} answers through socket
 * activation, {@code man psi} renders, bash completes commands, options and
 * option values from the installed completion; then remove stops and
 * disables psi, and purge leaves none of the package's files nor psi's
 * state, while an image in /var/lib/portables stays. And lintian finds
 * nothing to say.
 */
class DebianPackageIT {

	static final Duration CMD = Duration.ofMinutes(2);
	static TestBox box;
	static Path deb;

	@BeforeAll
	static void up() throws Exception {
		Path target = TestBox.basedir().resolve("distribution/target");
		try (Stream<Path> s = Files.list(target)) {
			deb = s.filter(p -> p.getFileName().toString().matches("psi_.*\\.deb")).findFirst()
				.orElseThrow(() -> new AssertionError("no psi_*.deb in " + target + ": build it first (mvn -B install -DskipTests)"));
		}
		box = TestBox.boot("deb");
		Files.copy(deb, box.inside("/root/psi.deb"));
	}

	@AfterAll
	static void down() throws Exception {
		if (box != null) {
			box.close();
		}
	}

	static Result in(String... cmd) {
		return box.exec(CMD, List.of(cmd));
	}

	static Result ok(String... cmd) {
		Result r = in(cmd);
		if (r.rc() != 0) {
			fail(String.join(" ", cmd) + ": " + r);
		}
		return r;
	}

	@Test
	void installedItAnswersAndIsDocumentedAndCompletesThenLeavesNothing() throws Exception {
		// a host as installed, not a container image: these machines carry Docker's policy-rc.d, which
		// (rightly) keeps deb-systemd-invoke from starting anything; the box drops it, on its overlay only
		ok("rm", "-f", "/usr/sbin/policy-rc.d");
		ok("dpkg", "-i", "/root/psi.deb");
		List<String> files = new ArrayList<>(ok("dpkg", "-L", "psi").out().lines().filter(l -> !l.isBlank()).toList());
		assertTrue(files.contains("/usr/bin/psi") && files.contains("/usr/share/man/man1/psi.1.gz"), files.toString());

		assertEquals("active", in("systemctl", "is-active", "psi.socket").out().strip(), "the postinst started the socket");
		assertEquals("inactive", in("systemctl", "is-active", "psi.service").out().strip(), "the daemon waits for its first command");
		Result list = ok("psi", "list");
		assertTrue(list.out().contains("No images.") || list.out().contains("NAME"), list.toString());
		assertEquals("active", in("systemctl", "is-active", "psi.service").out().strip(), "psi list started the daemon through its socket");
		assertTrue(ok("journalctl", "-u", "psi.service", "--no-pager").out().contains("list"), "the daemon ran the command");

		Result man = ok("sh", "-c", "MANWIDTH=80 man -P cat psi 2>&1");
		assertTrue(man.out().contains("psi - portable system services"), man.out());
		assertTrue(man.out().contains("psi attach [OPTIONS] IMAGE PREFIXES..."), man.out());
		Result conf = ok("sh", "-c", "MANWIDTH=80 man -P cat 5 psi.conf 2>&1");
		assertTrue(conf.out().contains("psi.engine.cfg") && conf.out().contains("defaultProfile (text, default default)"), conf.out());

		String complete = "source /usr/share/bash-completion/completions/psi; "
			+ "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _psi; echo \"${COMPREPLY[*]}\"; }; "
			+ "t psi att; t psi attach --profile ''; t psi attach --copy ''; t psi build --for";
		assertEquals(List.of("attach", "default nonetwork strict trusted", "copy symlink auto mixed", "--format"),
			ok("bash", "-c", complete).out().lines().toList());

		// an admin's image, which purge must leave
		ok("sh", "-c", "mkdir -p /var/lib/portables/keep_1 && echo ID=keep > /var/lib/portables/keep_1/os-release");
		ok("apt-get", "remove", "-y", "psi");
		assertEquals("inactive", in("systemctl", "is-active", "psi.socket").out().strip());
		assertEquals("inactive", in("systemctl", "is-active", "psi.service").out().strip());
		assertEquals("", in("pgrep", "-f", "psi.jar").out().strip(), "no psi left running");
		assertTrue(Files.exists(box.inside("/etc/psi/psi.engine.cfg")), "remove keeps the configuration");
		ok("apt-get", "purge", "-y", "psi");
		List<String> left = new ArrayList<>();
		for (String f : files) {
			if (!f.equals("/.") && !isShared(f) && Files.exists(box.inside(f), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
				left.add(f);
			}
		}
		for (String f : List.of("/etc/psi", "/var/lib/psi", "/var/log/psi", "/run/psi", "/etc/systemd/system/sockets.target.wants/psi.socket")) {
			if (Files.exists(box.inside(f), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
				left.add(f);
			}
		}
		assertEquals(List.of(), left, "purge leaves none of psi's files");
		assertTrue(Files.exists(box.inside("/var/lib/portables/keep_1/os-release")), "purge leaves the admin's images");
		assertFalse(in("dpkg", "-s", "psi").rc() == 0, "psi is gone from dpkg's database");
	}

	/**
	 * Where systemd is not PID 1 (the CI machine, containers): the package
	 * installs on a throwaway overlay of this machine (itest/box/overlay-run.sh:
	 * no systemd boots), its postinst starts nothing, and the README's main
	 * job runs with the installed psi: the image built with psi build, pulled,
	 * attached, started by psi's own manager, its page fetched, stopped.
	 */
	@Test
	void installedWhereSystemdIsNotPid1TheExampleRuns() throws Exception {
		boolean installedHere = Files.exists(Path.of("/var/lib/dpkg/info/psi.list"));
		Path stage = Files.createTempDirectory(Path.of("/var/tmp"), "psi-deb-");
		try {
			Files.copy(deb, stage.resolve("psi.deb"));
			Files.copy(TestBox.basedir().resolve("distribution/example.sh"), stage.resolve("example.sh"));
			Result r = TestBox.run(List.of(TestBox.basedir().resolve("itest/box/overlay-run.sh").toString(), stage.resolve("overlay").toString(),
				"sh", "-c", "set -e; [ ! -d /run/systemd/system ]; dpkg -i \"$1/psi.deb\"; command -v psi; "
					+ "PSI=psi sh \"$1/example.sh\" /var/tmp/psi-example-deb", "sh", stage.toString()), Duration.ofMinutes(5));
			assertEquals(0, r.rc(), r.toString());
			assertTrue(r.out().contains("/usr/bin/psi"), r.out());
			assertTrue(r.out().contains("hello from a portable service"), "the service answered: " + r);
			assertTrue((r.out() + r.err()).contains("Stopped portable service hello.service."), r.toString());
			assertFalse(r.err().contains("psi.socket") && r.err().contains("Failed"), r.err());
		} finally {
			TestBox.deleteTree(stage);
		}
		assertEquals(installedHere, Files.exists(Path.of("/var/lib/dpkg/info/psi.list")), "the install stayed on the overlay");
	}

	/** lintian, Debian's own checker, finds no error and no warning in the package (overridden: psi-exec is static on purpose). */
	@Test
	void lintianFindsNothing() {
		Result r = TestBox.run(List.of("lintian", "--tag-display-limit", "0", deb.toString()), CMD);
		assertEquals(0, r.rc(), r.toString());
		List<String> tags = r.out().lines().filter(l -> l.startsWith("E:") || l.startsWith("W:")).toList();
		assertEquals(List.of(), tags, r.out());
	}

	/** @return whether a directory of the package is one other packages own too (/usr, /usr/share/man ...) */
	private static boolean isShared(String f) {
		return List.of("/etc", "/usr", "/usr/bin", "/usr/lib", "/usr/share", "/usr/lib/systemd", "/usr/lib/systemd/system", "/usr/lib/tmpfiles.d",
			"/usr/share/dbus-1", "/usr/share/dbus-1/system.d", "/usr/share/man", "/usr/share/man/man1", "/usr/share/man/man5", "/usr/share/bash-completion",
			"/usr/share/bash-completion/completions", "/usr/share/zsh", "/usr/share/zsh/vendor-completions", "/usr/share/doc", "/usr/share/lintian",
			"/usr/share/lintian/overrides", "/var", "/var/lib").contains(f);
	}
}
