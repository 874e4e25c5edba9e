package psi.itest.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import psi.itest.box.TestBox;
import psi.itest.box.TestBox.Result;

/**
 * Delivery end to end: psi inside a real systemd 252 ({@link TestBox}) pulls,
 * verifies, attaches and starts images served by a real nginx (TLS, a test CA
 * made at test time) and a real OpenSSH sshd on the host's 127.0.0.1 (the box
 * shares the host's network), and from {@code file:} URLs. The box is set up
 * as an admin would: the test CA in {@code /etc/psi/ca.d}, the OpenPGP key in
 * {@code /etc/psi/trusted.gpg.d}, the verity certificate in
 * {@code /etc/verity.d}, and {@code /root/.ssh/config} with the sshd's key
 * in {@code known_hosts}.
 * <p>
 * Every refusal is checked to leave nothing behind: no file in the pool (not
 * even a hidden staging file), no origin record, no attached unit.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeliveryIT {

	static final Duration CMD = Duration.ofSeconds(120);

	static TestBox box;
	static Path work;
	static Path nginxDir;
	static Path sshdDir;
	static Map<String, String> nginx = new HashMap<>();
	static Map<String, String> sshd = new HashMap<>();
	static String https;
	static String ssh;
	static String www;

	@BeforeAll
	static void up() throws Exception {
		Path bd = TestBox.basedir();
		for (String tool : List.of("/usr/sbin/nginx", "/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/gpg"))
			if (!Files.isExecutable(Path.of(tool)))
				fail(tool + " is missing: install nginx-light, openssh-server, openssh-client and gnupg (.ci/run does)");
		// under /var/tmp: the box sees the host's root file system but not its /tmp
		work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-delivery-");
		nginxDir = work.resolve("nginx");
		sshdDir = work.resolve("sshd");
		Result img = TestBox.run(List.of("bash", bd.resolve("itest/box/make-delivery-images.sh").toString(), nginxDir.toString()),
				Duration.ofMinutes(5));
		if (img.rc() != 0)
			fail("make-delivery-images.sh failed: " + img);
		www = nginxDir.resolve("www").toString();
		nginx.putAll(server(bd.resolve("itest/servers/nginx.sh"), nginxDir));
		sshd.putAll(server(bd.resolve("itest/servers/sshd.sh"), sshdDir));
		https = "https://127.0.0.1:" + nginx.get("PORT");
		ssh = "ssh://" + sshd.get("USER") + "@127.0.0.1:" + sshd.get("PORT");

		box = TestBox.boot("delivery");
		Path root = box.root();
		host("mkdir", "-p", root + "/etc/psi/ca.d", root + "/etc/psi/trusted.gpg.d", root + "/etc/verity.d", root + "/root/.ssh");
		box.installPsi();
		host("cp", nginxDir.resolve("pki/ca.crt").toString(), root + "/etc/psi/ca.d/psi-test-ca.crt");
		host("cp", nginxDir.resolve("trusted.gpg").toString(), root + "/etc/psi/trusted.gpg.d/psi-test.gpg");
		host("cp", nginxDir.resolve("verity.crt").toString(), root + "/etc/verity.d/psi-test.crt");
		host("install", "-m", "0600", sshdDir.resolve("id_ed25519").toString(), root + "/root/.ssh/id_psitest");
		knownHosts("known_hosts");
		Files.writeString(root.resolve("root/.ssh/config"), "Host 127.0.0.1\n  IdentityFile /root/.ssh/id_psitest\n"
				+ "  IdentitiesOnly yes\n  UserKnownHostsFile /root/.ssh/known_hosts\n  GlobalKnownHostsFile /dev/null\n");
		Result l = psi("list");
		if (l.rc() != 0)
			fail("psi does not run in the box: `psi list` " + l);
	}

	/** Starts a test server script; returns what it printed (PORT=… PID=…). */
	static Map<String, String> server(Path script, Path dir) {
		Result r = TestBox.run(List.of("bash", script.toString(), "start", dir.toString()), Duration.ofMinutes(1));
		if (r.rc() != 0)
			fail(script.getFileName() + " start failed: " + r);
		Map<String, String> m = new HashMap<>();
		for (String kv : r.out().strip().split("\\s+")) {
			int eq = kv.indexOf('=');
			if (eq > 0)
				m.put(kv.substring(0, eq), kv.substring(eq + 1));
		}
		System.out.println("[delivery] " + script.getFileName() + ": " + m);
		return m;
	}

	/** Installs one of the sshd's known_hosts files as the box admin's. */
	static void knownHosts(String which) {
		host("install", "-m", "0644", sshdDir.resolve(which).toString(), box.root() + "/root/.ssh/known_hosts");
	}

	@AfterAll
	static void down() throws Exception {
		try {
			if (box != null)
				box.close();
		} finally {
			Path bd = TestBox.basedir();
			if (sshdDir != null)
				TestBox.run(List.of("bash", bd.resolve("itest/servers/sshd.sh").toString(), "stop", sshdDir.toString()),
						Duration.ofMinutes(1));
			if (nginxDir != null)
				TestBox.run(List.of("bash", bd.resolve("itest/servers/nginx.sh").toString(), "stop", nginxDir.toString()),
						Duration.ofMinutes(1));
			TestBox.deleteTree(work);
		}
	}

	/** Every test leaves the box as it found it: nothing attached, nothing pulled. */
	@AfterEach
	void clean() {
		for (String image : List.of("foobar", "vfoo")) {
			Result r = psi("detach", "--now", image);
			if (r.rc() != 0 && !r.err().contains("not attached") && !r.err().contains("No image"))
				System.out.println("[delivery] clean-up psi detach --now " + image + ": " + r);
		}
		box.exec("sh", "-c", "rm -rf /var/lib/portables/* /var/lib/portables/.psi-* /var/lib/psi/images");
		knownHosts("known_hosts");
		assertNothingLeft("after clean-up");
	}

	static void host(String... cmd) {
		Result r = TestBox.run(List.of(cmd), Duration.ofMinutes(2));
		if (r.rc() != 0)
			fail(String.join(" ", cmd) + ": " + r);
	}

	static Result psi(String... args) {
		return box.psi("delivery", CMD, args);
	}

	static void assertNothingLeft(String when) {
		Result pool = box.exec("sh", "-c", "ls -A /var/lib/portables /var/lib/psi/images 2>/dev/null; "
				+ "find /etc/systemd/system.attached /run/systemd/system.attached /etc/portables /run/portables -mindepth 1 2>/dev/null");
		assertTrue(pool.out().lines().noneMatch(l -> !l.isBlank() && !l.endsWith(":")),
				when + ": something was left in the pool or attached:\n" + pool.out());
	}

	/** A refusal: non-zero, one line naming the check (the last line of standard error), no stack trace, nothing left. */
	static void assertRefused(Result r, String what, String... fragments) {
		assertNotEquals(0, r.rc(), what + " was not refused: " + r);
		List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
		String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
		for (String f : fragments)
			assertTrue(last.contains(f), what + ": the error line does not say '" + f + "': " + last);
		assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), what + ": a stack trace or exception name: " + r);
		assertNothingLeft(what);
	}

	String active(String unit) {
		return box.exec("systemctl", "is-active", unit).out().strip();
	}

	// ------------------------------------------------------------------

	@Test
	@Order(1)
	void startHttpsRunsTheServiceAndASecondStartIsANoOp() {
		String url = https + "/foobar_1.psi";
		Result r = psi("start", url);
		assertEquals(0, r.rc(), "psi start " + url + ": " + r);
		assertTrue(r.err().contains("Fetching " + url), r.err());
		assertTrue(r.err().contains("Verified: signature (openpgp: SHA256SUMS signed by psi test t"), r.err());
		assertTrue(r.err().contains("Verified: checksum (checksum: "), r.err());
		assertTrue(r.err().contains("Placed /var/lib/portables/foobar_1.raw"), r.err());
		assertEquals("active", active("foobar.service"));
		assertTrue(box.exec("sh", "-c", "ls -A /var/lib/portables").out().strip().equals("foobar_1.raw"), "only the image in the pool");

		Result st = psi("status", "foobar");
		assertEquals(0, st.rc(), "psi status foobar: " + st);
		assertTrue(st.out().contains("Origin: " + url), st.out());
		assertTrue(st.out().contains("Verified: signature (openpgp"), st.out());

		String pid = box.exec("systemctl", "show", "-p", "MainPID", "--value", "foobar.service").out().strip();
		Result again = psi("start", url);
		assertEquals(0, again.rc(), "second psi start: " + again);
		assertTrue(again.err().contains("Unchanged since it was pulled"), again.err());
		assertTrue(again.err().contains("foobar.service is running already"), again.err());
		assertEquals(pid, box.exec("systemctl", "show", "-p", "MainPID", "--value", "foobar.service").out().strip());
		// the second fetch was a conditional request that nginx answered 304
		String log = TestBox.run(List.of("cat", nginxDir.resolve("logs/access.log").toString()), Duration.ofSeconds(10)).out();
		assertTrue(log.lines().anyMatch(l -> l.contains("GET /foobar_1.psi") && l.contains("\" 304 ")), "no 304 in nginx's log:\n" + log);

		Result stop = psi("stop", "foobar");
		assertEquals(0, stop.rc(), "psi stop foobar: " + stop);
		assertNotEquals("active", active("foobar.service"));
		assertEquals(3, psi("status", "foobar").rc());
	}

	@Test
	@Order(2)
	void pullOverHttpsWithAChecksumOnly() {
		Result r = psi("pull", "--verify=checksum", https + "/foobar_1.psi");
		assertEquals(0, r.rc(), r.toString());
		assertTrue(r.out().contains("Pulled: /var/lib/portables/foobar_1.raw"), r.out());
		assertTrue(r.out().contains("checksum: SHA-256 matches SHA256SUMS [checksum]"), r.out());
		assertFalse(r.out().contains("[openpgp]"), "--verify=checksum checks no signature: " + r.out());
	}

	@Test
	@Order(3)
	void pullOverHttpsVerifiedByDmVeritySignature() {
		Result r = psi("pull", https + "/verity/vfoo_1.psi");
		assertEquals(0, r.rc(), r.toString());
		assertTrue(r.out().contains("signature: dm-verity tree checked"), r.out());
		// the box cannot run it (no device-mapper for RootImage= with verity); status shows what was pulled
		Result st = psi("status", "vfoo");
		assertEquals(3, st.rc(), st.toString());
		assertTrue(st.out().contains("Origin: " + https + "/verity/vfoo_1.psi"), st.out());
		assertTrue(st.out().contains("Verified: signature (verity: dm-verity tree checked"), st.out());
	}

	@Test
	@Order(4)
	void startOverSshWithTheAdminsSshConfig() {
		String url = ssh + www + "/foobar_1.psi";
		Result r = psi("start", url);
		assertEquals(0, r.rc(), "psi start " + url + ": " + r);
		assertTrue(r.err().contains("Verified: signature (openpgp"), r.err());
		assertEquals("active", active("foobar.service"));
		Result again = psi("pull", url);
		assertEquals(0, again.rc(), again.toString());
		assertTrue(again.out().contains("Unchanged"), again.toString());
	}

	@Test
	@Order(5)
	void pullFromAFileUrlChecksWhatIsThere() {
		Result r = psi("pull", "file://" + www + "/verity/vfoo_1.psi");
		assertEquals(0, r.rc(), r.toString());
		assertTrue(r.out().contains("signature: dm-verity tree checked"), r.out());
		Result f = psi("pull", "file://" + www + "/foobar_1.psi");
		assertEquals(0, f.rc(), f.toString());
		assertTrue(f.out().contains("signature: SHA256SUMS signed by psi test t"), f.out());
	}

	@Test
	@Order(6)
	void verifyChangesNothing() {
		Result r = psi("verify", https + "/foobar_1.psi");
		assertEquals(0, r.rc(), r.toString());
		assertTrue(r.out().startsWith("Verified " + https + "/foobar_1.psi: signature"), r.out());
		assertNothingLeft("psi verify URL");
		Result local = psi("verify", www + "/verity/vfoo_1.psi");
		assertEquals(0, local.rc(), local.toString());
		assertTrue(local.out().contains("signature: dm-verity tree checked"), local.out());
		assertRefused(psi("verify", www + "/verity-flip/vfoo_1.psi"), "psi verify of a flipped verity image", "verity:");
	}

	@Test
	@Order(6)
	void aPulledImageIsCheckedAgainstWhatVerifiedIt() {
		assertEquals(0, psi("pull", https + "/foobar_1.psi").rc());
		Result ok = psi("verify", "foobar");
		assertEquals(0, ok.rc(), ok.toString());
		assertTrue(ok.out().contains("signature: SHA-256 unchanged since it was pulled from " + https + "/foobar_1.psi"), ok.out());
		box.exec("sh", "-c", "printf x | dd of=/var/lib/portables/foobar_1.raw bs=1 seek=1100000 conv=notrunc status=none");
		Result bad = psi("verify", "foobar");
		assertNotEquals(0, bad.rc(), bad.toString());
		assertTrue(bad.err().contains("refused: pulled: the image changed since it was pulled from "), bad.toString());
		Result start = psi("start", "foobar");
		assertNotEquals(0, start.rc(), "a pulled image changed in the pool was started: " + start);
		assertTrue(start.err().contains("refused: pulled: the image changed"), start.toString());
		assertEquals("", box.exec("sh", "-c", "ls -A /etc/systemd/system.attached 2>/dev/null").out().strip(), "something was attached");
	}

	@ParameterizedTest(name = "{0}")
	@Order(7)
	@CsvSource({ //
			"flip-image/foobar_1.psi, checksum:, does not match", //
			"flip-sums/foobar_1.psi, signature:, ", //
			"flip-sig/foobar_1.psi, signature:, ", //
			"untrusted/foobar_1.psi, signature:, not in", //
			"escape/foobar_1.psi, checksum:, ../foobar_1.psi", //
			"verity-flip/vfoo_1.psi, verity:, ", //
			"verity-roothash/vfoo_1.psi, verity:, root hash", //
	})
	void tamperedImagesAreRefusedOverHttps(String path, String check, String detail) {
		String url = https + "/" + path;
		Result r = psi("start", url);
		List<String> f = new ArrayList<>(List.of(url + ": refused: " + check));
		if (detail != null)
			f.add(detail);
		assertRefused(r, "psi start " + url, f.toArray(String[]::new));
	}

	@Test
	@Order(8)
	void anUnsignedImageIsRefusedUnlessTheAdminSaysSo() {
		// the verity image carries no SHA256SUMS: --verify=checksum finds only the image's own tree
		assertRefused(psi("pull", "--verify=checksum", https + "/verity-roothash/vfoo_1.psi"), "a wrong .roothash", "verity:");
		Result no = psi("pull", "--verify=no", https + "/flip-image/foobar_1.psi");
		assertEquals(0, no.rc(), "--verify=no accepts anything: " + no);
		assertTrue(no.out().contains("nothing verified (--verify=no)"), no.out());
	}

	@Test
	@Order(9)
	void tlsIsAlwaysChecked() {
		assertRefused(psi("pull", "https://127.0.0.1:" + nginx.get("WRONGNAME_PORT") + "/foobar_1.psi"), "a certificate for another name",
				"127.0.0.1");
		assertRefused(psi("pull", "https://127.0.0.1:" + nginx.get("UNTRUSTED_PORT") + "/foobar_1.psi"), "an untrusted CA",
				"https://127.0.0.1:" + nginx.get("UNTRUSTED_PORT"));
		assertRefused(psi("pull", https + "/nothere_1.psi"), "a missing image", "no such image");
	}

	@Test
	@Order(10)
	void plainHttpOnlyWhenTheAdminAllowsIt() throws Exception {
		String url = "http://127.0.0.1:" + nginx.get("HTTP_PORT") + "/foobar_1.psi";
		assertRefused(psi("pull", "--verify=checksum", url), "plain http", "allowHttp=true in /etc/psi/psi.transport.https.cfg");
		Path cfg = box.inside("/etc/psi/psi.transport.https.cfg");
		Files.writeString(cfg, "# the admin allows plain http\nallowHttp = true\n");
		try {
			Result r = psi("pull", "--verify=checksum", url);
			assertEquals(0, r.rc(), "http with allowHttp=true: " + r);
			assertTrue(r.out().contains("checksum: SHA-256 matches SHA256SUMS [checksum]"), r.out());
		} finally {
			Files.delete(cfg);
		}
	}

	@Test
	@Order(11)
	void sshHostKeysAreAlwaysChecked() {
		knownHosts("known_hosts.other");
		assertRefused(psi("pull", ssh + www + "/foobar_1.psi"), "a changed ssh host key", ssh);
		box.exec("sh", "-c", ": > /root/.ssh/known_hosts");
		assertRefused(psi("pull", ssh + www + "/foobar_1.psi"), "an unknown ssh host key", "Host key verification failed");
	}

	/**
	 * psi update against the real nginx: with nothing newer it says so;
	 * once a new release is published beside the image (foobar_2.psi and a
	 * signed SHA256SUMS listing it), --check reports it and changes nothing,
	 * a held image is skipped, and psi update pulls it (the signature
	 * checked), moves the running service to it, watched, and keeps
	 * foobar_1 in the pool; a downgrade by pull is refused.
	 */
	@Test
	@Order(12)
	void updateFindsVerifiesAndAppliesANewRelease() {
		// a copy of the release directory, for this test to publish into
		String updates = www + "/updates-run";
		host("cp", "-a", www + "/updates", updates);
		try {
			Result start = psi("start", https + "/updates-run/foobar_1.psi");
			assertEquals(0, start.rc(), start.toString());
			Result none = psi("update", "--check");
			assertEquals(0, none.rc(), none.toString());
			assertTrue(none.out().lines().anyMatch(l -> l.matches("foobar +1 +1 +up to date.*")), none.toString());
			// the new release
			host("cp", www + "/updates-next/foobar_2.psi", www + "/updates-next/SHA256SUMS", www + "/updates-next/SHA256SUMS.gpg", updates + "/");
			Result check = psi("update", "--check");
			assertEquals(0, check.rc(), check.toString());
			assertTrue(check.out().lines().anyMatch(l -> l.matches("foobar +1 +2 +available +" + java.util.regex.Pattern.quote(https + "/updates-run/foobar_2.psi"))),
					check.toString());
			assertTrue(box.exec("test", "-e", "/var/lib/portables/foobar_2.raw").rc() != 0, "--check pulled nothing");
			assertEquals(0, psi("hold", "foobar").rc());
			Result held = psi("update");
			assertEquals(0, held.rc(), held.toString());
			assertTrue(held.out().lines().anyMatch(l -> l.matches("foobar +1 +- +held.*")), held.toString());
			assertTrue(box.exec("test", "-e", "/var/lib/portables/foobar_2.raw").rc() != 0, "a held image is not updated");
			assertEquals(0, psi("unhold", "foobar").rc());
			Result up = psi("update", "--settle", "1");
			assertEquals(0, up.rc(), up.toString());
			assertTrue(up.out().lines().anyMatch(l -> l.matches("foobar +1 +2 +updated .*")), up.toString());
			assertTrue(up.err().contains("Verified: signature (openpgp: SHA256SUMS signed by psi test t"), up.toString());
			assertTrue(up.err().contains("Upgrading foobar_1 to foobar_2."), up.toString());
			assertEquals("psi test: foobar version 2", box.exec("systemctl", "show", "-p", "Description", "--value", "foobar.service").out().strip());
			assertEquals("active", active("foobar.service"));
			assertEquals(0, box.exec("test", "-e", "/var/lib/portables/foobar_1.raw").rc(), "the previous version stays in the pool");
			Result v = psi("versions", "--no-legend", "foobar");
			assertTrue(v.out().lines().anyMatch(l -> l.matches("2 +foobar_2 +running +" + java.util.regex.Pattern.quote(https) + ".*")), v.toString());
			Result again = psi("update");
			assertTrue(again.out().lines().anyMatch(l -> l.matches("foobar +2 +2 +up to date.*")), again.toString());
			Result down = psi("pull", https + "/foobar_1.psi", "foobar_0");
			assertTrue(down.rc() != 0 && down.err().contains("foobar_0 is older than foobar_2"), "a downgrade by pull: " + down);
		} finally {
			host("rm", "-rf", updates);
			psi("purge", "--yes", "foobar");
		}
	}
}
