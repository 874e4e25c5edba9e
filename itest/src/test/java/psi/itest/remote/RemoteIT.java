package psi.itest.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import psi.itest.box.TestBox;

/**
 * psi -H: two test hosts made as network namespaces with their own
 * addresses (itest/servers/hosts.sh), each with its own real OpenSSH sshd
 * and its own psi root; psi on this side runs ssh with a client
 * configuration naming them (strict known_hosts, a key of its own). A
 * naked squashfs image (busybox httpd) is copied, pulled, attached and
 * started on a host by {@code psi start -H h1 ./workproject_1.psi}, and it
 * answers on that host's address; then status, stop and purge over -H,
 * a resumed and a damaged copy, several hosts in a row and in parallel,
 * unknown and changed host keys, and a host without psi.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RemoteIT {

	static Path base;
	static Path work;
	static Path hosts;
	static Path local;
	static Path config;
	static String net;
	static boolean btrfsPool;
	static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	record Result(int rc, String out, String err) {
		@Override
		public String toString() {
			return "rc=" + rc + "\nstdout: " + out + "\nstderr: " + err;
		}
	}

	@BeforeAll
	static void up() throws Exception {
		base = TestBox.basedir();
		for (String tool : List.of("/usr/sbin/sshd", "/usr/bin/ssh", "/usr/sbin/ip", "/usr/bin/nsenter", "/usr/bin/mksquashfs", "/usr/bin/bwrap", "/bin/busybox")) {
			assertTrue(Files.isExecutable(Path.of(tool)), tool + " is missing: the README's apt-get line installs it");
		}
		work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-remote-");
		hosts = Files.createDirectories(work.resolve("hosts"));
		Result h = run(List.of("bash", base.resolve("itest/servers/hosts.sh").toString(), "start", hosts.toString(), "2"), null);
		assertEquals(0, h.rc(), "hosts.sh start: " + h);
		net = h.out().replaceAll("(?s).*NET=([0-9.]+).*", "$1");
		config = Files.createDirectories(work.resolve("etc-psi"));
		Files.writeString(config.resolve("psi.remote.cfg"), "configFile=" + hosts.resolve("ssh_config") + "\ncommand=" + hosts.resolve("bin/psi") + "\n");
		local = Files.createDirectories(work.resolve("local"));
		image(1);
		image(2);
		image(3);
		// workdir_1: a directory image (version 1's tree, its unit named workdir.service)
		Path dir = local.resolve("workdir_1");
		assertEquals(0, run(List.of("cp", "-a", work.resolve("tree1").toString(), dir.toString()), null).rc());
		Files.move(dir.resolve("usr/lib/systemd/system/workproject.service"), dir.resolve("usr/lib/systemd/system/workdir.service"));
		Files.writeString(dir.resolve("srv/www/index.html"), "hello from workdir 1\n");
		// h2's pool on btrfs (a loop file system), where a directory image is placed as a read-only snapshot
		Path fs = work.resolve("h2-pool.btrfs");
		for (List<String> cmd : List.of(List.of("truncate", "-s", "300M", fs.toString()), List.of("mkfs.btrfs", "-q", fs.toString()),
			List.of("mount", "-o", "loop", fs.toString(), pool(2).toString()))) {
			Result r = run(cmd, null);
			assertEquals(0, r.rc(), String.join(" ", cmd) + ": " + r);
		}
		btrfsPool = true;
	}

	/** workproject_V.psi: a naked squashfs with busybox httpd on port 8080 serving "hello from workproject V"; version 3 fails at start. */
	static void image(int version) throws Exception {
		Path t = work.resolve("tree" + version);
		for (String d : List.of("usr/bin", "usr/lib/systemd/system", "etc", "srv/www", "proc", "sys", "dev", "run", "tmp", "var/tmp", "var/lib",
			"var/cache", "var/log")) {
			Files.createDirectories(t.resolve(d));
		}
		Files.copy(Path.of("/bin/busybox"), t.resolve("usr/bin/busybox"));
		Files.writeString(t.resolve("usr/lib/os-release"), "ID=psi-test\nVERSION_ID=1\n");
		Files.writeString(t.resolve("etc/machine-id"), "");
		Files.writeString(t.resolve("etc/resolv.conf"), "");
		Files.writeString(t.resolve("srv/www/index.html"), "hello from workproject " + version + "\n");
		// version 3 cannot start
		Files.writeString(t.resolve("usr/lib/systemd/system/workproject.service"), "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart="
			+ (version == 3 ? "/usr/bin/busybox sh -c 'echo version 3 cannot start; exit 3'" : "/usr/bin/busybox httpd -f -v -p 0.0.0.0:8080 -h /srv/www")
			+ "\n");
		Result mk = run(List.of("mksquashfs", t.toString(), local.resolve("workproject_" + version + ".psi").toString(), "-all-root", "-noappend",
			"-quiet", "-no-progress"), null);
		assertEquals(0, mk.rc(), mk.toString());
	}

	@AfterAll
	static void down() throws Exception {
		if (hosts != null) {
			Result r = run(List.of("bash", base.resolve("itest/servers/hosts.sh").toString(), "stop", hosts.toString()), null);
			if (r.rc() != 0) {
				System.out.println("[remote] hosts.sh stop: " + r);
			}
		}
		if (btrfsPool) {
			Result u = run(List.of("umount", pool(2).toString()), null);
			if (u.rc() != 0) {
				System.out.println("[remote] umount " + pool(2) + ": " + u);
			}
		}
		run(List.of("sh", "-c", "rm -rf /var/tmp/psi-incoming-0"), null);
		TestBox.deleteTree(work);
	}

	static Result psi(String... args) throws Exception {
		List<String> cmd = new ArrayList<>(List.of(base.resolve("distribution/psi").toString()));
		cmd.addAll(List.of(args));
		return run(cmd, Map.of("PSI_CONFIG_DIR", config.toString()));
	}

	static Result run(List<String> cmd, Map<String, String> env) throws Exception {
		Path out = Files.createTempFile("psi-remote", ".out");
		Path err = Files.createTempFile("psi-remote", ".err");
		try {
			ProcessBuilder pb = new ProcessBuilder(cmd).directory(local == null ? null : local.toFile()).redirectOutput(out.toFile())
				.redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
			pb.environment().remove("PSI_SOCKET");
			pb.environment().put("LANG", "C.UTF-8");
			if (env != null) {
				pb.environment().putAll(env);
			}
			Process p = pb.start();
			if (!p.waitFor(5, TimeUnit.MINUTES)) {
				p.destroyForcibly();
				fail(String.join(" ", cmd) + ": did not end in 5 minutes");
			}
			return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
		} finally {
			Files.deleteIfExists(out);
			Files.deleteIfExists(err);
		}
	}

	static String get(int host) {
		try {
			HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + net + "." + host + ".2:8080/")).timeout(Duration.ofSeconds(3))
				.build(), HttpResponse.BodyHandlers.ofString());
			return r.statusCode() + " " + r.body().strip();
		} catch (IOException e) {
			return "unreachable: " + e;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return "interrupted";
		}
	}

	static String awaitGet(int host, String want) throws InterruptedException {
		String got = get(host);
		for (int i = 0; i < 50 && !got.equals(want); i++) {
			Thread.sleep(100);
			got = get(host);
		}
		return got;
	}

	static Path pool(int host) {
		return hosts.resolve("h" + host + "/root/var/lib/portables");
	}

	@Test
	@Order(1)
	void startCopiesALocalImageThereAndRunsItThere() throws Exception {
		Result start = psi("start", "-H", "h1", "./workproject_1.psi");
		assertEquals(0, start.rc(), start.toString());
		assertTrue(start.err().contains("psi: copying workproject_1.psi to h1"), start.toString());
		assertTrue(start.err().contains("Started portable service workproject.service."), start.toString());
		assertTrue(Files.isRegularFile(pool(1).resolve("workproject_1.raw")), "placed in h1's pool");
		assertFalse(Files.exists(pool(2).resolve("workproject_1.raw")), "not on h2");
		assertEquals("200 hello from workproject 1", awaitGet(1, "200 hello from workproject 1"), "answers on h1's address");
		assertTrue(get(2).startsWith("unreachable"), "nothing on h2");
		Result status = psi("-H", "h1", "status", "workproject");
		assertEquals(0, status.rc(), status.toString());
		assertTrue(status.out().contains("Active: active (running)"), status.toString());
		// a copy brought by -H has no origin to ask for updates (its staging directory went): said, not a failure
		Result update = psi("-H", "h1", "update");
		assertEquals(0, update.rc(), update.toString());
		assertTrue(update.out().lines().anyMatch(l -> l.matches("workproject +1 +- +no origin +the directory it was pulled from is gone: .*")), update.toString());
		Result stop = psi("--host=h1", "stop", "workproject");
		assertEquals(0, stop.rc(), stop.toString());
		assertTrue(get(1).startsWith("unreachable"), "stopped there");
		assertEquals(3, psi("-H", "h1", "status", "workproject").rc(), "the remote exit status comes back: 3 not running");
		Result purge = psi("-H", "h1", "purge", "--yes", "workproject");
		assertEquals(0, purge.rc(), purge.toString());
		assertFalse(Files.exists(pool(1).resolve("workproject_1.raw")), "purged there");
		Result list = psi("-Hh1", "list");
		assertEquals("No images.\n", list.out(), list.toString());
	}

	@Test
	@Order(2)
	void aCopyResumesAndADamagedOneIsRefused() throws Exception {
		Path img = local.resolve("workproject_2.psi");
		byte[] bytes = Files.readAllBytes(img);
		String sha = sha256(bytes);
		Path staging = Files.createDirectories(Path.of("/var/tmp/psi-incoming-0").resolve(sha));
		// half of it arrived in an earlier run
		Files.write(staging.resolve("workproject_2.psi.part"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
		Result r = psi("-H", "h2", "inspect", "./workproject_2.psi");
		assertEquals(0, r.rc(), r.toString());
		assertTrue(r.err().contains("resuming at " + bytes.length / 2), r.toString());
		assertTrue(r.out().contains("/var/lib/portables/workproject_2.raw") && r.out().contains("workproject.service"), "inspected there: " + r);
		assertFalse(Files.exists(staging), "the staging directory goes once pulled");
		// a partial copy that is not the start of this image: refused on arrival, then the next run starts again
		Files.createDirectories(staging);
		byte[] wrong = java.util.Arrays.copyOf(bytes, bytes.length / 2);
		wrong[0] ^= 1;
		Files.write(staging.resolve("workproject_2.psi.part"), wrong);
		Files.delete(pool(2).resolve("workproject_2.raw"));
		Result damaged = psi("-H", "h2", "inspect", "./workproject_2.psi");
		assertTrue(damaged.rc() != 0, damaged.toString());
		assertTrue(damaged.err().contains("the copy arrived damaged"), damaged.toString());
		assertFalse(Files.exists(pool(2).resolve("workproject_2.raw")), "nothing placed");
		Result again = psi("-H", "h2", "inspect", "./workproject_2.psi");
		assertEquals(0, again.rc(), again.toString());
		assertFalse(again.err().contains("resuming"), again.toString());
		Files.delete(pool(2).resolve("workproject_2.raw"));
		for (String origin : List.of("workproject_2.raw.origin")) {
			Files.deleteIfExists(hosts.resolve("h2/root/var/lib/psi/images").resolve(origin));
		}
	}

	@Test
	@Order(3)
	void unknownAndChangedHostKeysAreRefusedBeforeAnythingIsSentAndARefusedKeyIsSaidSo() throws Exception {
		Result stranger = psi("-H", "h1-stranger", "start", "./workproject_1.psi");
		assertEquals(255, stranger.rc(), stranger.toString());
		assertTrue(stranger.err().contains("psi: h1-stranger: its host key is not the one known_hosts holds for it"), stranger.toString());
		assertFalse(stranger.err().contains("copying"), "nothing copied: " + stranger);
		Result changed = psi("-H", "h2-changed", "list");
		assertEquals(255, changed.rc(), changed.toString());
		assertTrue(changed.err().contains("REMOTE HOST IDENTIFICATION HAS CHANGED"), "ssh's own warning is shown: " + changed);
		assertTrue(changed.err().contains("psi: h2-changed: its host key is not the one known_hosts holds for it"), changed.toString());
		assertFalse(Files.exists(pool(1).resolve("workproject_1.raw")));
		Result nokey = psi("-H", "h1-nokey", "list");
		assertEquals(255, nokey.rc(), nokey.toString());
		assertTrue(nokey.err().contains("psi: h1-nokey: it refused the login (the key, or the user)"), nokey.toString());
	}

	@Test
	@Order(4)
	void aHostWithoutPsiIsSaidSo() throws Exception {
		Path other = Files.createDirectories(work.resolve("etc-psi-nopsi"));
		Files.writeString(other.resolve("psi.remote.cfg"), "configFile=" + hosts.resolve("ssh_config") + "\ncommand=/nonexistent/psi\n");
		List<String> cmd = List.of(base.resolve("distribution/psi").toString(), "-H", "h1", "list");
		Result r = run(cmd, Map.of("PSI_CONFIG_DIR", other.toString()));
		assertEquals(127, r.rc(), r.toString());
		assertTrue(r.err().contains("psi: h1: psi is not installed there (the remote command '/nonexistent/psi' was not found)"), r.toString());
		Result bad = psi("-H", "-oProxyCommand=x", "list");
		assertEquals(1, bad.rc(), "a host that ssh would read as an option is refused: " + bad);
		assertTrue(bad.err().contains("is not [user@]host[:port]"), bad.toString());
	}

	/** A URL is not copied: the remote host fetches it itself (here a file: URL, the hosts sharing this file system). */
	@Test
	@Order(4)
	void aUrlIsFetchedByTheRemoteHostItself() throws Exception {
		String url = "file://" + local.resolve("workproject_1.psi");
		Result r = psi("-H", "h2", "pull", url);
		assertEquals(0, r.rc(), r.toString());
		assertFalse(r.err().contains("copying"), "not copied from here: " + r);
		assertTrue(r.err().contains("Fetching " + url), "fetched there: " + r);
		assertTrue(Files.isRegularFile(pool(2).resolve("workproject_1.raw")));
		assertEquals(0, psi("-H", "h2", "purge", "--yes", "workproject").rc());
	}

	/**
	 * The staging directory must be the remote user's own, mode 0700: one
	 * another user made first (here: a link to elsewhere, then a directory
	 * open to all) is refused before anything is sent.
	 */
	@Test
	@Order(4)
	void aStagingDirectoryNotTheUsersOwnIsRefused() throws Exception {
		Path staging = Path.of("/var/tmp/psi-incoming-0");
		TestBox.deleteTree(staging);
		Path elsewhere = Files.createDirectories(work.resolve("elsewhere"));
		Files.createSymbolicLink(staging, elsewhere);
		try {
			Result link = psi("-H", "h1", "inspect", "./workproject_1.psi");
			assertEquals(5, link.rc(), link.toString());
			assertTrue(link.err().contains("psi: /var/tmp/psi-incoming-0 is not this user's own directory of mode 0700: refused"), link.toString());
			try (var entries = Files.list(elsewhere)) {
				assertEquals(0, entries.count(), "nothing written through the link");
			}
			Files.delete(staging);
			Files.createDirectory(staging);
			Files.setPosixFilePermissions(staging, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
			Result open = psi("-H", "h1", "inspect", "./workproject_1.psi");
			assertEquals(5, open.rc(), open.toString());
		} finally {
			Files.deleteIfExists(staging);
			TestBox.deleteTree(staging);
		}
	}

	@Test
	@Order(5)
	void severalHostsOneAfterAnotherStoppingAtTheFirstFailure() throws Exception {
		Result both = psi("-H", "h1,h2", "start", "./workproject_1.psi");
		assertEquals(0, both.rc(), both.toString());
		assertTrue(both.err().contains("psi: on h1:") && both.err().contains("psi: on h2:"), both.toString());
		assertEquals("200 hello from workproject 1", awaitGet(1, "200 hello from workproject 1"));
		assertEquals("200 hello from workproject 1", awaitGet(2, "200 hello from workproject 1"));
		Path list = local.resolve("hosts.txt");
		Files.writeString(list, "# the test hosts\nh1\n\nh2-changed\nh2\n");
		Result stopped = psi("-H", "@hosts.txt", "stop", "workproject");
		assertEquals(255, stopped.rc(), stopped.toString());
		assertTrue(stopped.err().contains("psi: stopped at h2-changed (exit status 255); not run on h2"), stopped.toString());
		assertTrue(get(1).startsWith("unreachable"), "stopped on h1, the host before the failure");
		assertEquals("200 hello from workproject 1", get(2), "h2, after the failure, untouched");
		Result par = psi("-H", "h1,h2", "--parallel", "2", "status", "workproject");
		assertEquals(3, par.rc(), "h1's status, first in order: " + par);
		assertTrue(par.out().lines().anyMatch(l -> l.startsWith("h1: ")) && par.out().lines().anyMatch(l -> l.startsWith("h2: ")), par.toString());
		Result parChange = psi("-H", "h1,h2", "--parallel", "2", "stop", "workproject");
		assertEquals(1, parChange.rc(), parChange.toString());
		assertTrue(parChange.err().contains("--parallel runs only commands that change nothing"), parChange.toString());
		assertEquals("200 hello from workproject 1", get(2), "refused before anything ran");
		// a rolling upgrade: each host moves to version 2 and holds before the next is touched
		assertEquals(0, psi("-H", "h1", "start", "workproject").rc());
		Result rolling = psi("-H", "h1,h2", "start", "--settle", "1", "./workproject_2.psi");
		assertEquals(0, rolling.rc(), rolling.toString());
		assertTrue(rolling.err().contains("Upgrading workproject_1 to workproject_2."), rolling.toString());
		assertEquals("200 hello from workproject 2", awaitGet(1, "200 hello from workproject 2"));
		assertEquals("200 hello from workproject 2", awaitGet(2, "200 hello from workproject 2"));
		// a version that does not come up: rolled back on the first host, the second never touched
		Result broken = psi("-H", "h1,h2", "start", "--settle", "1", "./workproject_3.psi");
		assertEquals(1, broken.rc(), broken.toString());
		assertTrue(broken.err().contains("rolled back to workproject_2, which runs again."), broken.toString());
		assertTrue(broken.err().contains("psi: stopped at h1 (exit status 1); not run on h2"), broken.toString());
		assertEquals("200 hello from workproject 2", awaitGet(1, "200 hello from workproject 2"), "h1 runs version 2 again");
		assertFalse(Files.exists(pool(2).resolve("workproject_3.raw")), "h2 never got version 3");
		for (String h : List.of("h1", "h2")) {
			Result p = psi("-H", h, "purge", "--yes", "workproject");
			assertEquals(0, p.rc(), p.toString());
		}
	}

	static String sha256(byte[] b) throws Exception {
		return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
	}

	/**
	 * A directory image goes too: packed, copied and checked as one file,
	 * unpacked there and pulled into the pool as a directory (h1), or as a
	 * read-only btrfs snapshot where the pool is on btrfs (h2); it runs and
	 * answers there, and purge removes the snapshot.
	 */
	@Test
	@Order(6)
	void aDirectoryImageIsCopiedAndPlacedAsASnapshotOnBtrfs() throws Exception {
		for (int h : new int[] { 1, 2 }) {
			Result start = psi("-H", "h" + h, "start", "./workdir_1");
			assertEquals(0, start.rc(), start.toString());
			assertTrue(start.err().contains("psi: copying workdir_1.tar to h" + h), start.toString());
			assertTrue(Files.isDirectory(pool(h).resolve("workdir_1/usr/lib/systemd/system")), "a directory in h" + h + "'s pool");
			assertEquals("200 hello from workdir 1", awaitGet(h, "200 hello from workdir 1"));
		}
		Result ro = run(List.of("btrfs", "property", "get", "-ts", pool(2).resolve("workdir_1").toString(), "ro"), null);
		assertEquals("ro=true", ro.out().strip(), "a read-only subvolume on h2: " + ro);
		assertTrue(Files.notExists(pool(2).resolve(".psi-dir-workdir_1")), "no staging left");
		for (int h : new int[] { 1, 2 }) {
			Result p = psi("-H", "h" + h, "purge", "--yes", "workdir");
			assertEquals(0, p.rc(), p.toString());
			assertFalse(Files.exists(pool(h).resolve("workdir_1")), "purged on h" + h);
		}
	}
}
