package psi.itest.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import psi.itest.box.TestBox;

/**
 * psi's own service manager (issue 12) on this very host, where systemd is
 * not PID 1: real images (a directory and a naked squashfs made by
 * mksquashfs) holding busybox, attached under the real profiles, started by
 * a real {@code psi daemon} in real bubblewrap sandboxes. The services
 * answer; a probe service records from inside its sandbox who it runs as
 * and what it can reach, and the test checks the record; a crashing service
 * is restarted until start-rate limiting stops it; a forking service is
 * tracked; a daemon killed with SIGKILL leaves nothing running once the
 * next one starts.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EmbeddedIT {

	static final Duration CMD = Duration.ofSeconds(120);

	static Path base;
	static Path psi;
	static Path work;
	static Path root;
	static Process daemon;
	static Path daemonLog;
	static int webPort;
	static int forkPort;
	static int gptPort;
	static Path escMarker;
	static Path tool;
	static int sockPort;
	static int upPort;
	static int updPort;
	static int inetdPort;
	static int pidPort;
	static int udpPort;
	static HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

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
		assertTrue(Files.isExecutable(base.resolve("distribution/target/psi-exec")), "build psi first: mvn -B install -DskipTests");
		for (String tool : List.of("/usr/bin/bwrap", "/bin/busybox", "/usr/bin/mksquashfs", "/usr/bin/systemd-dissect")) {
			assertTrue(Files.isExecutable(Path.of(tool)), tool + " is missing: the README's apt-get line installs it");
		}
		work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-embedded-");
		Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
		root = Files.createDirectories(work.resolve("root"));
		webPort = freePort();
		forkPort = freePort();
		Path pool = Files.createDirectories(root.resolve("var/lib/portables"));
		image(pool.resolve("web_1"), Map.of("web.service", """
			[Unit]
			Description=psi test: busybox httpd

			[Service]
			ExecStart=/usr/bin/busybox httpd -f -v -p 127.0.0.1:%d -h /srv/www
			""".formatted(webPort)));
		image(pool.resolve("probe_1"), Map.of("probe.service", """
			[Service]
			Type=oneshot
			StateDirectory=probe
			ExecStart=/usr/bin/busybox sh /usr/lib/probe.sh %d
			""".formatted(webPort)));
		image(pool.resolve("left_1"), Map.of("left.service", """
			[Service]
			DynamicUser=yes
			StateDirectory=left
			CacheDirectory=left
			LogsDirectory=left
			ExecStart=/usr/bin/busybox sh -c 'echo s >$STATE_DIRECTORY/s; echo c >$CACHE_DIRECTORY/c; echo l >$LOGS_DIRECTORY/l; echo wrote; exec /usr/bin/busybox sleep 600'
			"""));
		// the mount points of its directories, as a portable image carries them (bwrap binds onto the read-only root)
		for (String d : List.of("var/lib/left", "var/cache/left", "var/log/left")) {
			Files.createDirectories(pool.resolve("left_1").resolve(d));
		}
		upPort = freePort();
		updPort = freePort();
		for (int v = 1; v <= 5; v++) {
			// up_3 crashes at start; the others serve "hello from up_V"; up_5's own health check asks for a page it lacks
			image(pool.resolve("up_" + v), Map.of("up.service", """
				[Unit]
				Description=psi test: up version %d
				StartLimitIntervalSec=0

				[Service]
				ExecStart=%s
				%s
				""".formatted(v, v == 3 ? "/usr/bin/busybox sh -c 'echo up 3 cannot start; exit 3'"
				: "/usr/bin/busybox httpd -f -p 127.0.0.1:" + upPort + " -h /srv/www",
				v == 5 ? "X-Psi-HealthCheck=/usr/bin/busybox wget -q -O /dev/null http://127.0.0.1:" + upPort + "/missing" : "")));
		}
		image(pool.resolve("crash_1"), Map.of("crash.service", """
			[Unit]
			StartLimitIntervalSec=60s
			StartLimitBurst=3

			[Service]
			ExecStart=/usr/bin/busybox sh -c 'printf "\\033[2Jcleared\\n"; echo crashing; exit 3'
			Restart=on-failure
			RestartSec=200ms
			"""));
		image(pool.resolve("fork_1"), Map.of("fork.service", """
			[Service]
			Type=forking
			ExecStart=/usr/bin/busybox httpd -p 127.0.0.1:%d -h /srv/www
			""".formatted(forkPort)));
		image(pool.resolve("dev_1"), Map.of("dev.service", """
			[Service]
			DeviceAllow=/dev/null rw
			ExecStart=/usr/bin/busybox sleep 600
			"""));
		image(pool.resolve("tick_1"), Map.of("tick.timer", """
			[Timer]
			OnActiveSec=1s
			OnUnitActiveSec=1s
			AccuracySec=1ms
			""", "tick.service", """
			[Service]
			Type=oneshot
			ExecStart=/usr/bin/busybox echo tick
			""", "tick-cal.timer", """
			[Timer]
			OnCalendar=*:*:0/2
			Unit=tick-cal.service
			""", "tick-cal.service", """
			[Service]
			Type=oneshot
			ExecStart=/usr/bin/busybox echo calendar
			"""));
		image(pool.resolve("need_1"), Map.of("need.service", """
			[Unit]
			Requires=need-gone.service
			Wants=need-other.service

			[Service]
			ExecStart=/usr/bin/busybox sleep 600
			""", "need-other.service", """
			[Unit]
			Conflicts=need-rival.service

			[Service]
			ExecStart=/usr/bin/busybox sleep 600
			""", "need-rival.service", """
			[Service]
			ExecStart=/usr/bin/busybox sleep 600
			"""));
		image(pool.resolve("ord_1"), Map.of("ord-a.service", """
			[Unit]
			After=ord-b.service

			[Service]
			Type=oneshot
			RemainAfterExit=yes
			ExecStart=/usr/bin/busybox echo first-by-name
			""", "ord-b.service", """
			[Service]
			Type=oneshot
			RemainAfterExit=yes
			ExecStart=/usr/bin/busybox echo second-by-name
			"""));
		// sd_notify and socket activation, with a static tool of the tests' own (busybox has no datagram UNIX sockets)
		tool = buildTool(work);
		image(pool.resolve("notify_1"), Map.of("notify.service", """
			[Service]
			Type=notify
			ExecStart=/usr/bin/busybox sh -c 'echo preparing; /usr/bin/busybox sleep 2; exec /usr/bin/psi-test-tool notify "READY=1\\nSTATUS=serving requests" -- /usr/bin/busybox sleep 600'
			""", "notify-all.service", """
			[Service]
			Type=notify
			NotifyAccess=all
			ExecStart=/usr/bin/busybox sh -c '/usr/bin/psi-test-tool notify READY=1; /usr/bin/busybox sleep 600'
			"""));
		image(pool.resolve("nchild_1"), Map.of("nchild.service", """
			[Service]
			Type=notify
			TimeoutStartSec=3s
			ExecStart=/usr/bin/busybox sh -c '/usr/bin/psi-test-tool notify READY=1; /usr/bin/busybox sleep 600'
			"""));
		image(pool.resolve("execok_1"), Map.of("execok.service", """
			[Service]
			Type=exec
			ExecStart=/usr/bin/busybox sleep 600
			"""));
		image(pool.resolve("execbad_1"), Map.of("execbad.service", """
			[Service]
			Type=exec
			ExecStart=/usr/bin/no-such-program
			"""));
		image(pool.resolve("never_1"), Map.of("never.service", """
			[Service]
			Type=notify
			TimeoutStartSec=infinity
			ExecStart=/usr/bin/busybox sleep 600
			"""));
		// dog-fed's notifier lives on after sending (it execs sleep): a sender gone before the manager looks up its
		// control group is dropped, by systemd as by psi (under load the test saw that happen)
		image(pool.resolve("dog_1"), Map.of("dog.service", """
			[Service]
			Type=notify
			WatchdogSec=1s
			ExecStart=/usr/bin/busybox sh -c 'exec /usr/bin/psi-test-tool notify READY=1 -- /usr/bin/busybox sleep 600'
			""", "dog-fed.service", """
			[Service]
			WatchdogSec=1s
			NotifyAccess=all
			ExecStart=/usr/bin/busybox sh -c 'while :; do /usr/bin/psi-test-tool notify WATCHDOG=1 -- /usr/bin/busybox sleep 0.2; done'
			"""));
		sockPort = freePort();
		inetdPort = freePort();
		image(pool.resolve("sock_1"), Map.of("sock.socket", """
			[Socket]
			ListenStream=127.0.0.1:%d
			FileDescriptorName=web
			""".formatted(sockPort), "sock.service", """
			[Service]
			ExecStart=/usr/bin/psi-test-tool serve-fd3 activated
			"""));
		image(pool.resolve("inetd_1"), Map.of("inetd.socket", """
			[Socket]
			ListenStream=127.0.0.1:%d
			Accept=yes
			""".formatted(inetdPort), "inetd@.service", """
			[Service]
			StandardInput=socket
			StandardError=journal
			ExecStart=/usr/bin/busybox httpd -i -v -h /srv/www
			""", "inetd-fifo.socket", """
			[Socket]
			ListenFIFO=/run/psi-test-inetd.fifo
			""", "inetd-fifo.service", """
			[Service]
			ExecStart=/usr/bin/busybox sh -c 'while read line <&3; do echo "fifo said: $line"; done'
			"""));
		image(pool.resolve("pers_1"), Map.of("pers.timer", """
			[Timer]
			OnCalendar=*-*-* 00:00:00
			Persistent=true
			""", "pers.service", """
			[Service]
			Type=oneshot
			ExecStart=/usr/bin/busybox echo caught up
			"""));
		image(pool.resolve("clash_1"), Map.of("clash.socket", """
			[Socket]
			ListenStream=/run/psi-test-clash
			""", "clash.service", """
			[Service]
			ExecStart=/usr/bin/psi-test-tool serve-fd3 clash
			"""));
		image(pool.resolve("rel_1"), Map.of("rel.service", """
			[Service]
			ExecStart=/usr/bin/busybox sh -c 'trap "echo reloaded" HUP; echo ready; while :; do /usr/bin/busybox sleep 1 & wait $!; done'
			ExecReload=/usr/bin/busybox kill -HUP $MAINPID
			"""));
		udpPort = freePort();
		image(pool.resolve("more_1"), Map.of("more-udp.socket", """
			[Socket]
			ListenDatagram=127.0.0.1:%d
			""".formatted(udpPort), "more-udp.service", """
			[Service]
			ExecStart=/usr/bin/busybox sh -c 'while :; do /usr/bin/busybox dd bs=512 count=1 status=none <&3; done'
			""", "more-unix.socket", """
			[Socket]
			ListenStream=/run/psi-test-more.sock
			Accept=yes
			SocketMode=0600
			SocketUser=nobody
			SocketGroup=nogroup
			""", "more-unix@.service", """
			[Service]
			StandardInput=socket
			ExecStart=/usr/bin/busybox sh -c 'read line; echo "unix said: $line"'
			"""));
		pidPort = freePort();
		image(pool.resolve("pidf_1"), Map.of("pidf.service", """
			[Service]
			Type=forking
			RuntimeDirectory=pidf
			PIDFile=/run/pidf/main.pid
			ExecStart=/usr/bin/busybox sh -c '/usr/bin/busybox httpd -f -p 127.0.0.1:%d -h /srv/www & echo $! > /run/pidf/main.pid; /usr/bin/busybox sleep 600 & exit 0'
			""".formatted(pidPort)));
		// a GPT image with a signed dm-verity root hash, made by systemd-repart (itest/box/raw-lib.sh)
		Result verity = run(List.of("bash", "-c", "set -e; work=\"$1\"; \"$2/itest/box/make-images.sh\" \"$1/dirs\" >/dev/null; . \"$2/itest/box/raw-lib.sh\"; "
			+ "verity_image vfoo \"$3\" \"$1/verity.key\" \"$1/verity.crt\"", "bash", Files.createDirectories(work.resolve("verity")).toString(), base.toString(),
			pool.resolve("vfoo_1.raw").toString()));
		assertEquals(0, verity.rc(), verity.toString());
		// its signing certificate trusted, as an admin installs one
		Files.copy(work.resolve("verity/verity.crt"), Files.createDirectories(root.resolve("etc/verity.d")).resolve("psi-test.crt"));
		escMarker = Path.of("/var/tmp", "psi-esc-" + System.nanoTime() + ".txt");
		image(pool.resolve("esc_1"), Map.of("esc.service", """
			[Service]
			Type=oneshot
			RemainAfterExit=yes
			ExecStartPre=+/usr/bin/busybox sh -c "id > %s"
			ExecStart=/usr/bin/busybox true
			""".formatted(escMarker)));
		// the same probe as a naked squashfs, a RootImage=
		Path tree = work.resolve("sqprobe");
		image(tree, Map.of("sqprobe.service", """
			[Service]
			Type=oneshot
			StateDirectory=sqprobe
			ExecStart=/usr/bin/busybox sh /usr/lib/probe.sh %d
			""".formatted(webPort)));
		Files.createDirectories(tree.resolve("var/lib/sqprobe"));
		Result mk = run(List.of("mksquashfs", tree.toString(), pool.resolve("sqprobe_1.raw").toString(), "-all-root", "-noappend", "-quiet", "-no-progress"));
		assertEquals(0, mk.rc(), mk.toString());
		// a GPT disk image: the squashfs in a root partition of this architecture's Discoverable Partitions type
		gptPort = freePort();
		Path gtree = work.resolve("gptweb");
		image(gtree, Map.of("gptweb.service", """
			[Service]
			ExecStart=/usr/bin/busybox httpd -f -p 127.0.0.1:%d -h /srv/www
			""".formatted(gptPort)));
		Path sq = work.resolve("gptweb.squashfs");
		assertEquals(0, run(List.of("mksquashfs", gtree.toString(), sq.toString(), "-all-root", "-noappend", "-quiet", "-no-progress")).rc());
		long sectors = (Files.size(sq) + 511) / 512;
		Path raw = pool.resolve("gptweb_1.raw");
		try (var f = java.nio.channels.FileChannel.open(raw, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
			f.write(java.nio.ByteBuffer.wrap(new byte[1]), (2048 + sectors + 2048) * 512 - 1);
		}
		String rootType = System.getProperty("os.arch").equals("aarch64") ? "b921b045-1df0-41c3-af44-4c6f280d3fae" : "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";
		Result part = run(List.of("sh", "-c", "printf 'label: gpt\\nstart=2048, size=%d, type=%s\\n' \"$1\" \"$2\" | sfdisk -q \"$3\" && dd if=\"$4\" of=\"$3\" bs=512 seek=2048 conv=notrunc status=none",
			"sh", Long.toString(sectors), rootType, raw.toString(), sq.toString()));
		assertEquals(0, part.rc(), part.toString());
		startDaemon();
	}

	@AfterAll
	static void down() throws Exception {
		if (daemon != null && daemon.isAlive()) {
			new ProcessBuilder("kill", "-TERM", Long.toString(daemon.pid())).start().waitFor();
			if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
				daemon.destroyForcibly();
			}
		}
		if (work != null) {
			TestBox.deleteTree(work);
		}
	}

	static int freePort() throws IOException {
		try (ServerSocket s = new ServerSocket(0)) {
			return s.getLocalPort();
		}
	}

	/** A directory image: busybox, a page, the probe script, the units; the files the profiles bind onto. */
	static void image(Path dir, Map<String, String> units) throws IOException {
		for (String d : List.of("usr/bin", "usr/lib/systemd/system", "etc", "srv/www", "proc", "sys", "dev", "run", "tmp", "var/tmp", "var/lib", "var/cache", "var/log", "home/alice")) {
			Files.createDirectories(dir.resolve(d));
		}
		Files.copy(Path.of("/bin/busybox"), dir.resolve("usr/bin/busybox"));
		if (tool != null && Files.exists(tool)) {
			Files.copy(tool, dir.resolve("usr/bin/psi-test-tool"));
		}
		Files.writeString(dir.resolve("usr/lib/os-release"), "ID=psi-test\nVERSION_ID=1\n");
		Files.writeString(dir.resolve("etc/machine-id"), "");
		Files.writeString(dir.resolve("etc/resolv.conf"), "");
		Files.writeString(dir.resolve("home/alice/notes"), "private\n");
		Files.writeString(dir.resolve("srv/www/index.html"), "hello from " + dir.getFileName() + "\n");
		Files.writeString(dir.resolve("usr/lib/probe.sh"), """
			exec > "$STATE_DIRECTORY/facts" 2>&1
			echo "uid=$(/usr/bin/busybox id -u)"
			echo "home=$(/usr/bin/busybox ls -A /home | /usr/bin/busybox wc -l)"
			/usr/bin/busybox touch /usr/psi-probe 2>/dev/null && echo usr=writable || echo usr=readonly
			/usr/bin/busybox touch /srv/psi-probe 2>/dev/null && echo srv=writable || echo srv=readonly
			echo inside > /tmp/psi-probe-marker && echo tmp=writable
			/usr/bin/busybox grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status | /usr/bin/busybox tr -d '\\t '
			/usr/bin/busybox unshare -U /usr/bin/busybox true 2>/dev/null && echo userns=allowed || echo userns=refused
			/usr/bin/busybox swapon /tmp/psi-probe-marker 2>&1 | /usr/bin/busybox grep -q 'Operation not permitted' && echo swapon=EPERM || echo swapon=other
			/usr/bin/busybox nc -w 3 127.0.0.1 $1 </dev/null >/dev/null 2>&1 && echo host-loopback=reached || echo host-loopback=unreachable
			echo done
			""");
		for (Map.Entry<String, String> u : units.entrySet()) {
			Files.writeString(dir.resolve("usr/lib/systemd/system/" + u.getKey()), u.getValue());
			Files.createDirectories(dir.resolve("var/lib/" + u.getKey().substring(0, u.getKey().indexOf('.'))));
		}
	}

	/** @return itest/src/test/c/psi-test-tool.c built static in a folder, for images (see there) */
	static Path buildTool(Path dir) throws Exception {
		Path t = dir.resolve("psi-test-tool");
		Result cc = run(List.of("cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-static", "-o", t.toString(),
			TestBox.basedir().resolve("itest/src/test/c/psi-test-tool.c").toString()));
		assertEquals(0, cc.rc(), "the test tool builds: " + cc);
		return t;
	}

	static void startDaemon() throws Exception {
		daemonLog = work.resolve("daemon-" + System.nanoTime() + ".log");
		ProcessBuilder pb = new ProcessBuilder(psi.toString(), "daemon", "--root", root.toString());
		pb.redirectErrorStream(true).redirectOutput(daemonLog.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
		daemon = pb.start();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		while (!(Files.isRegularFile(daemonLog) && Files.readString(daemonLog).contains("listening on"))) {
			if (!daemon.isAlive() || System.nanoTime() > deadline) {
				daemon.destroyForcibly();
				fail("psi daemon did not start: " + Files.readString(daemonLog));
			}
			Thread.sleep(50);
		}
	}

	static Result psi(String... args) throws Exception {
		List<String> cmd = new ArrayList<>(List.of(psi.toString(), "--root", root.toString()));
		cmd.addAll(List.of(args));
		return run(cmd);
	}

	static Result run(List<String> cmd) throws Exception {
		Path out = Files.createTempFile(work, "out", ".txt");
		Path err = Files.createTempFile(work, "err", ".txt");
		try {
			ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
			pb.environment().remove("PSI_SOCKET");
			Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
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

	static String get(int port) {
		try {
			HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).timeout(Duration.ofSeconds(3)).build(),
				HttpResponse.BodyHandlers.ofString());
			return r.statusCode() + " " + r.body().trim();
		} catch (IOException e) {
			return "unreachable: " + e;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return "interrupted";
		}
	}

	static String awaitGet(int port, String expected) throws InterruptedException {
		String last = "";
		for (int i = 0; i < 100; i++) {
			last = get(port);
			if (last.equals(expected)) {
				return last;
			}
			Thread.sleep(100);
		}
		return last;
	}

	/** @return the probe's record, key to value */
	static Map<String, String> facts(String unit) throws IOException {
		Path f = root.resolve("var/lib/private/" + unit + "/facts");
		assertTrue(Files.isRegularFile(f), "the probe wrote no record at " + f);
		Map<String, String> m = new TreeMap<>();
		for (String l : Files.readAllLines(f)) {
			int i = l.indexOf(l.contains("=") ? '=' : ':');
			m.put(i > 0 ? l.substring(0, i) : l, i > 0 ? l.substring(i + 1) : "");
		}
		assertEquals("", m.getOrDefault("done", "missing"), "the probe ran to its end: " + m);
		return m;
	}

	/** @return the processes in a unit's control group: psi.embedded/ROOT-AS-NAME/UNIT, ROOT escaped as systemd escapes paths */
	static List<String> cgroupProcs(String unit) throws IOException {
		String scope = root.toString().substring(1).replace("-", "\\x2d").replace("/", "-");
		for (String base : List.of("/sys/fs/cgroup/unified/psi.embedded", "/sys/fs/cgroup/psi.embedded")) {
			Path p = Path.of(base, scope, unit, "cgroup.procs");
			if (Files.exists(p)) {
				return Files.readAllLines(p).stream().filter(l -> !l.isBlank()).toList();
			}
		}
		return List.of();
	}

	// ------------------------------------------------------------------

	@Test
	@Order(1)
	void aWebServiceStartsAnswersLogsAndStops() throws Exception {
		Result start = psi("start", "web_1");
		assertEquals(0, start.rc(), start.toString());
		assertTrue(start.err().contains("Started portable service web.service."), start.toString());
		assertEquals("200 hello from web_1", awaitGet(webPort, "200 hello from web_1"));
		Result status = psi("status", "web_1");
		assertEquals(0, status.rc(), status.toString());
		assertTrue(status.out().contains("Active: active (running)"), status.out());
		assertTrue(status.out().contains("Memory:") && status.out().contains("Tasks:"), status.out());
		Result logs = psi("logs", "web_1");
		assertEquals(0, logs.rc(), logs.toString());
		assertTrue(logs.out().contains("response:200"), "httpd -v logged the request: " + logs);
		assertFalse(cgroupProcs("web.service").isEmpty(), "tracked in its control group");
		// its private /tmp lives under a directory of root's alone: no other host user reaches it
		assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("run/psi/embedded/units/web.service"))));
		// psi logs -f: a line appears as the service writes it
		Path followed = work.resolve("follow.out");
		Process follow = new ProcessBuilder(psi.toString(), "--root", root.toString(), "logs", "-f", "-n", "0", "web_1")
			.redirectOutput(followed.toFile()).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
		try {
			Thread.sleep(1000);
			assertEquals("200 hello from web_1", get(webPort));
			String seen = "";
			for (int i = 0; i < 100 && !seen.contains("response:200"); i++) {
				Thread.sleep(100);
				seen = Files.readString(followed);
			}
			assertTrue(seen.contains("response:200"), "psi logs -f showed the new line: " + seen);
		} finally {
			follow.destroy();
			follow.waitFor(10, TimeUnit.SECONDS);
		}

		Result stop = psi("stop", "web_1");
		assertEquals(0, stop.rc(), stop.toString());
		assertTrue(get(webPort).startsWith("unreachable"), "stopped: " + get(webPort));
		assertEquals(List.of(), cgroupProcs("web.service"), "no process left");
		Result after = psi("status", "web_1");
		assertEquals(3, after.rc(), after.toString());
		assertTrue(after.out().contains("inactive (dead)"), after.out());

		// the same from a GPT disk image (RootImage=, mounted read-only by systemd-dissect)
		Result gpt = psi("start", "gptweb_1");
		assertEquals(0, gpt.rc(), gpt.toString());
		assertEquals("200 hello from gptweb", awaitGet(gptPort, "200 hello from gptweb"));
		assertEquals(0, psi("stop", "gptweb_1").rc());
		assertTrue(get(gptPort).startsWith("unreachable"));
		assertEquals(List.of(), cgroupProcs("gptweb.service"));
		Result mounts = run(List.of("grep", "-c", root.toString(), "/proc/self/mounts"));
		assertEquals("0", mounts.out().strip(), "the image is unmounted after the stop");
	}

	/**
	 * Versions under psi's own manager: psi start of a newer version upgrades
	 * the running image (the new one answers, the old stays in the pool), an
	 * older one is refused without --allow-downgrade, psi rollback goes back,
	 * a version whose service crashes is rolled back by itself to the one
	 * that ran (which answers again, exit status 1, its log lines shown),
	 * a good upgrade prunes the pool to the newest three versions and the
	 * one it moved from, and a failing health check (the image's own
	 * X-Psi-HealthCheck=, run inside the sandbox) rolls back while one asked
	 * for with --health-cmd passes.
	 */
	@Test
	@Order(1)
	void upgradesRollBackByThemselvesAndOnRequest() throws Exception {
		try {
			assertEquals(0, psi("start", "up_1").rc());
			assertEquals("200 hello from up_1", awaitGet(upPort, "200 hello from up_1"));
			// the upgrade in the background: while it is watched, psi status says so
			Path bgOut = work.resolve("upgrade.out");
			ProcessBuilder pb = new ProcessBuilder(psi.toString(), "--root", root.toString(), "start", "--settle", "3", "up_2")
				.redirectErrorStream(true).redirectOutput(bgOut.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
			pb.environment().remove("PSI_SOCKET");
			Process bg = pb.start();
			Result seen = null;
			for (int i = 0; i < 100 && (seen == null || !seen.out().contains("Moving: up_1 -> up_2 (watching)")); i++) {
				Thread.sleep(50);
				seen = psi("status", "up");
			}
			assertTrue(seen.out().contains("    Moving: up_1 -> up_2 (watching)\n"), "psi status during the watch: " + seen);
			assertTrue(bg.waitFor(60, TimeUnit.SECONDS), "the upgrade ends");
			Result up = new Result(bg.exitValue(), "", Files.readString(bgOut));
			assertEquals(0, up.rc(), up.toString());
			assertFalse(psi("status", "up").out().contains("Moving:"), "done: no move under way");
			assertTrue(up.err().contains("Upgrading up_1 to up_2."), up.toString());
			assertEquals("200 hello from up_2", awaitGet(upPort, "200 hello from up_2"));
			assertTrue(Files.isDirectory(root.resolve("var/lib/portables/up_1")), "the old version stays in the pool");

			Result down = psi("start", "up_1");
			assertEquals(1, down.rc(), down.toString());
			assertTrue(down.err().contains("up_1 is older than the attached up_2: not started."), down.toString());
			assertEquals("200 hello from up_2", get(upPort), "a refused downgrade changes nothing");

			Result back = psi("rollback", "--settle", "1", "up");
			assertEquals(0, back.rc(), back.toString());
			assertTrue(back.err().contains("Downgrading up_2 to up_1"), back.toString());
			assertEquals("200 hello from up_1", awaitGet(upPort, "200 hello from up_1"));
			assertEquals(0, psi("start", "--settle", "1", "up_2").rc());
			assertEquals("200 hello from up_2", awaitGet(upPort, "200 hello from up_2"));

			Result crash = psi("start", "--settle", "2", "up_3");
			assertEquals(1, crash.rc(), crash.toString());
			assertTrue(crash.err().contains("up_3 did not hold (up.service: exit-code, status 3): rolled back to up_2, which runs again."), crash.toString());
			assertTrue(crash.out().contains("up 3 cannot start"), "the failed unit's last log lines: " + crash);
			assertEquals("200 hello from up_2", awaitGet(upPort, "200 hello from up_2"), "the previous version answers again");
			Result v = psi("versions", "--no-legend", "up");
			assertEquals(0, v.rc(), v.toString());
			assertTrue(v.out().lines().anyMatch(l -> l.matches("2 +up_2 +running .*")), v.toString());
			assertTrue(v.out().lines().anyMatch(l -> l.matches("3 +up_3 +detached .*")), v.toString());

			Result allowed = psi("start", "--allow-downgrade", "--settle", "1", "up_1");
			assertEquals(0, allowed.rc(), allowed.toString());
			assertTrue(allowed.err().contains("Downgrading up_2 to up_1 (--allow-downgrade)."), allowed.toString());
			Result two = psi("start", "--settle", "1", "up_2");
			assertEquals(0, two.rc(), two.toString());
			assertTrue(Files.isDirectory(root.resolve("var/lib/portables/up_1")), "the version it moved from stays, beyond three: " + two);
			Result four = psi("start", "--settle", "1", "up_4");
			assertEquals(0, four.rc(), four.toString());
			assertEquals("200 hello from up_4", awaitGet(upPort, "200 hello from up_4"));
			assertTrue(four.err().contains("Removed /var/lib/portables/up_1."), "pruned to the newest three: " + four);
			assertFalse(Files.exists(root.resolve("var/lib/portables/up_1")));
			for (String kept : List.of("up_2", "up_3", "up_4")) {
				assertTrue(Files.isDirectory(root.resolve("var/lib/portables/" + kept)), kept + " kept");
			}
			// a health check: the image's own fails (a page it lacks), so psi goes back; one asked for passes
			Result sick = psi("start", "--settle", "1", "up_5");
			assertEquals(1, sick.rc(), sick.toString());
			assertTrue(sick.err().contains("up.service: health check '/usr/bin/busybox wget -q -O /dev/null http://127.0.0.1:" + upPort
				+ "/missing' exited 1: wget: server returned error: HTTP/1.") && sick.err().contains("404 Not Found")
				&& sick.err().contains("rolled back to up_4, which runs again."), sick.toString());
			assertEquals("200 hello from up_4", awaitGet(upPort, "200 hello from up_4"));
			Result healthy = psi("start", "--settle", "1", "--health-cmd", "/usr/bin/busybox wget -q -O /dev/null http://127.0.0.1:" + upPort + "/", "up_5");
			assertEquals(0, healthy.rc(), healthy.toString());
			assertEquals("200 hello from up_5", awaitGet(upPort, "200 hello from up_5"));
		} finally {
			psi("purge", "--yes", "up");
		}
	}

	/**
	 * psi update under psi's own manager, from a file: origin: nothing newer
	 * at first; then a new release beside the image (upd_2.psi and the
	 * SHA256SUMS listing it): --check reports it, a held image is skipped,
	 * and psi update pulls it (its checksum checked) and moves the running
	 * service to it.
	 */
	@Test
	@Order(1)
	void updateFromAFileOrigin() throws Exception {
		Path repo = Files.createDirectories(work.resolve("repo"));
		for (int v = 1; v <= 2; v++) {
			Path t = work.resolve("upd-tree-" + v);
			image(t, Map.of("upd.service", "[Service]\nExecStart=/usr/bin/busybox httpd -f -p 127.0.0.1:" + updPort + " -h /srv/www\n"));
			Files.writeString(t.resolve("srv/www/index.html"), "hello from upd " + v + "\n");
			assertEquals(0, run(List.of("mksquashfs", t.toString(), work.resolve("upd_" + v + ".psi").toString(), "-all-root", "-noappend", "-quiet",
				"-no-progress")).rc());
		}
		Files.copy(work.resolve("upd_1.psi"), repo.resolve("upd_1.psi"));
		assertEquals(0, run(List.of("sh", "-c", "cd " + repo + " && sha256sum upd_1.psi > SHA256SUMS")).rc());
		try {
			Result start = psi("start", "file://" + repo.resolve("upd_1.psi"));
			assertEquals(0, start.rc(), start.toString());
			assertEquals("200 hello from upd 1", awaitGet(updPort, "200 hello from upd 1"));
			Result none = psi("update", "--check", "upd");
			assertTrue(none.out().lines().anyMatch(l -> l.matches("upd +1 +1 +up to date.*")), none.toString());
			Files.copy(work.resolve("upd_2.psi"), repo.resolve("upd_2.psi"));
			assertEquals(0, run(List.of("sh", "-c", "cd " + repo + " && sha256sum upd_1.psi upd_2.psi > SHA256SUMS")).rc());
			Result check = psi("update", "--check");
			assertEquals(0, check.rc(), check.toString());
			assertTrue(check.out().lines().anyMatch(l -> l.matches("upd +1 +2 +available .*upd_2.psi")), check.toString());
			assertEquals(0, psi("hold", "upd").rc());
			Result held = psi("update", "upd");
			assertTrue(held.out().lines().anyMatch(l -> l.matches("upd +1 +- +held.*")), held.toString());
			assertEquals("200 hello from upd 1", get(updPort));
			assertEquals(0, psi("unhold", "upd").rc());
			Result up = psi("update", "--settle", "1", "upd");
			assertEquals(0, up.rc(), up.toString());
			assertTrue(up.out().lines().anyMatch(l -> l.matches("upd +1 +2 +updated .*")), up.toString());
			assertTrue(up.err().contains("Verified: checksum (checksum: SHA-256 matches SHA256SUMS)"), up.toString());
			assertEquals("200 hello from upd 2", awaitGet(updPort, "200 hello from upd 2"));
		} finally {
			psi("purge", "--yes", "upd");
		}
	}

	/**
	 * psi purge under psi's own manager: a DynamicUser=yes service that wrote
	 * to its state, cache and logs directories is stopped, detached and
	 * removed with everything it left, and psi's log of it; each path below
	 * is checked gone.
	 */
	@Test
	@Order(1)
	void purgeRemovesTheServiceAndWhatItLeft() throws Exception {
		Result start = psi("start", "left_1");
		assertEquals(0, start.rc(), start.toString());
		Path wrote = root.resolve("var/log/private/left/l");
		for (int i = 0; i < 100 && !Files.exists(wrote); i++) {
			Thread.sleep(100);
		}
		for (String f : List.of("var/lib/private/left/s", "var/cache/private/left/c", "var/log/private/left/l", "var/log/psi/left.service.log")) {
			assertTrue(Files.exists(root.resolve(f)), f + " written by left.service: " + psi("status", "left_1"));
		}
		// at a terminal (a pseudo-terminal made by script(1)), through the daemon: it lists, asks, and takes the answer
		String cmd = psi + " --root " + root + " purge left";
		Result no = run(List.of("sh", "-c", "printf 'n\\n' | script -qec '" + cmd + "' /dev/null"));
		assertEquals(1, no.rc(), "answered n: " + no);
		assertTrue(no.out().contains("Purge all of this? [y/N]") && no.out().contains("Not purged: nothing was changed."), no.toString());
		assertTrue(no.out().lines().anyMatch(l -> l.startsWith("remove") && l.contains("/var/lib/private/left")), "listed first: " + no);
		assertTrue(Files.exists(root.resolve("var/lib/private/left/s")), "n changed nothing");
		Result p = run(List.of("sh", "-c", "printf 'y\\n' | script -qec '" + cmd + "' /dev/null"));
		assertEquals(0, p.rc(), p.toString());
		assertTrue(p.out().contains("Removed /var/lib/private/left."), p.toString());
		for (String f : List.of("var/lib/private/left", "var/cache/private/left", "var/log/private/left", "var/lib/left", "var/cache/left",
			"var/log/left", "var/log/psi/left.service.log", "var/lib/portables/left_1", "etc/systemd/system.attached/left.service",
			"etc/systemd/system.attached/left.service.d", "etc/portables/left_1")) {
			assertFalse(Files.exists(root.resolve(f), java.nio.file.LinkOption.NOFOLLOW_LINKS), f + " left by psi purge: " + p);
		}
		assertEquals(List.of(), cgroupProcs("left.service"), "no process left");
		assertEquals(4, psi("status", "left").rc(), "no such image any more");
	}

	/**
	 * --json: every command that has it prints JSON a script can parse,
	 * holding what the text shows.
	 */
	@Test
	@Order(2)
	void jsonForScripts() throws Exception {
		Result start = psi("start", "web_1");
		assertEquals(0, start.rc(), start.toString());
		try {
			com.google.gson.JsonArray list = json(psi("list", "--json=short")).getAsJsonArray();
			com.google.gson.JsonObject web = null;
			for (com.google.gson.JsonElement e : list) {
				if (e.getAsJsonObject().get("name").getAsString().equals("web_1"))
					web = e.getAsJsonObject();
			}
			assertTrue(web != null, "web_1 in " + list);
			assertEquals("running", web.get("state").getAsString(), web.toString());
			assertEquals("directory", web.get("type").getAsString(), web.toString());
			com.google.gson.JsonObject all = json(psi("list", "--all", "--json=pretty")).getAsJsonObject();
			assertEquals(list.size(), all.getAsJsonArray("images").size(), all.toString());
			assertTrue(all.get("partials").isJsonArray(), all.toString());

			com.google.gson.JsonObject m = json(psi("inspect", "--json", "pretty", "web_1")).getAsJsonObject();
			assertEquals("web_1", m.get("name").getAsString(), m.toString());
			assertEquals("web.service", m.getAsJsonArray("units").get(0).getAsJsonObject().get("name").getAsString(), m.toString());
			assertTrue(m.getAsJsonObject("osRelease").has("ID"), m.toString());
			assertFalse(m.has("osReleaseBytes"), "byte copies of text are left out: " + m);

			Result attached = psi("is-attached", "--json=short", "web_1");
			assertEquals(0, attached.rc(), attached.toString());
			assertEquals("{\"image\":\"web_1\",\"state\":\"running\"}", attached.out().strip());

			Result st = psi("status", "--json=short", "web_1");
			assertEquals(0, st.rc(), st.toString());
			com.google.gson.JsonObject status = json(st).getAsJsonObject();
			assertEquals("running", status.get("state").getAsString(), status.toString());
			assertEquals("active", status.getAsJsonArray("units").get(0).getAsJsonObject().get("activeState").getAsString(), status.toString());
			assertTrue(status.get("log").isJsonArray(), status.toString());

			com.google.gson.JsonArray profiles = json(psi("profiles", "--json=short")).getAsJsonArray();
			assertTrue(profiles.toString().contains("\"strict\""), profiles.toString());

			Result bad = psi("list", "--json=yaml");
			assertEquals(1, bad.rc(), bad.toString());
			assertEquals("Unknown argument to --json= 'yaml': pretty, short or off", bad.err().strip());
		} finally {
			psi("stop", "web_1");
		}
	}

	/** An extension image attaches (the files are portabled's), but psi's own manager refuses to start what it cannot layer. */
	@Test
	@Order(2)
	void anExtensionImageIsRefusedAtStartNotRunWithoutIt() throws Exception {
		Path ext = root.resolve("var/lib/portables/webext");
		Files.createDirectories(ext.resolve("usr/lib/extension-release.d"));
		Files.createDirectories(ext.resolve("usr/lib/systemd/system"));
		Files.writeString(ext.resolve("usr/lib/extension-release.d/extension-release.webext"), "ID=psi-test\nVERSION_ID=1\n");
		Files.writeString(ext.resolve("usr/lib/systemd/system/webext.service"), "[Service]\nExecStart=/usr/bin/busybox sleep 60\n");
		Result attach = psi("attach", "--extension", "webext", "web_1", "webext");
		assertEquals(0, attach.rc(), attach.toString());
		try {
			assertTrue(Files.readString(root.resolve("etc/systemd/system.attached/webext.service.d/20-portable.conf"))
				.contains("ExtensionDirectories=/var/lib/portables/webext\n"), "the drop-in layers the extension");
			Result start = psi("start", "--allow-unsandboxed", "web_1", "webext");
			assertTrue(start.rc() != 0, start.toString());
			assertTrue(start.err().contains("cannot layer extension images yet (ExtensionDirectories="), start.toString());
		} finally {
			psi("stop", "web_1");
			Result d = psi("detach", "--now", "--extension", "webext", "web_1");
			assertEquals(0, d.rc(), d.toString());
		}
		assertEquals(1, psi("is-attached", "--extension", "webext", "web_1").rc(), "detached again");
	}

	static com.google.gson.JsonElement json(Result r) {
		assertEquals(0, r.rc() == 3 ? 0 : r.rc(), r.toString());
		try {
			return com.google.gson.JsonParser.parseString(r.out());
		} catch (com.google.gson.JsonParseException e) {
			throw new AssertionError("not JSON: " + r, e);
		}
	}

	/**
	 * The example policy {@code hardened} dropped into the running daemon's
	 * plugin folder takes effect under psi's own service manager too: its
	 * drop-in is applied, and seen from inside the service may not make a
	 * file set-user-ID (RestrictSUIDSGID=yes) and its host name is its own
	 * (ProtectHostname=yes: a UTS namespace), which without it it may and
	 * is not (the default profile already locks the personality).
	 */
	@Test
	@Order(3)
	void theHardenedPolicyTakesEffectUnderPsisOwnManager() throws Exception {
		Path pool = root.resolve("var/lib/portables");
		image(pool.resolve("hard_1"), Map.of("hard.service", """
			[Service]
			Type=oneshot
			RemainAfterExit=yes
			StateDirectory=hard
			ExecStart=/usr/bin/busybox sh -c 'exec >$STATE_DIRECTORY/facts 2>&1; /usr/bin/busybox touch $STATE_DIRECTORY/s; /usr/bin/busybox chmod 4755 $STATE_DIRECTORY/s 2>/dev/null && echo suid=set || echo suid=refused; echo uts=$(/usr/bin/busybox readlink /proc/self/ns/uts); echo done'
			"""));
		Files.createDirectories(pool.resolve("hard_1/var/lib/hard"));
		Path jar = base.resolve("plugins/policy-hardened/target/psi.policy.hardened-0.1.0-SNAPSHOT.jar");
		Path folder = root.resolve("var/lib/psi/plugins");
		String hostUts = Files.readSymbolicLink(Path.of("/proc/self/ns/uts")).toString();
		try {
			Result plain = psi("start", "hard_1");
			assertEquals(0, plain.rc(), plain.toString());
			Map<String, String> without = facts("hard");
			assertEquals("set", without.get("suid"), without.toString());
			assertEquals(hostUts, without.get("uts"), without.toString());
			assertEquals(0, psi("detach", "--now", "hard_1").rc());

			Files.copy(jar, folder.resolve("hardened.jar"));
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
			while (!psi("plugins").out().contains("psi.policy.hardened")) {
				assertTrue(System.nanoTime() < deadline, "the daemon took in hardened.jar: " + Files.readString(daemonLog));
				Thread.sleep(200);
			}
			Result hard = psi("start", "hard_1");
			assertEquals(0, hard.rc(), hard.toString());
			assertTrue(Files.exists(root.resolve("etc/systemd/system.attached/hard.service.d/15-policy-hardened.conf")));
			Map<String, String> with = facts("hard");
			assertEquals("refused", with.get("suid"), with.toString());
			assertNotEquals(hostUts, with.get("uts"), with.toString());
			Result st = psi("status", "hard_1");
			assertTrue(st.out().contains("  Policies: hardened\n"), st.toString());
			for (String d : List.of("ProtectClock", "ProtectKernelLogs", "ProtectKernelModules", "ProtectHostname", "RestrictSUIDSGID",
				"LockPersonality", "RestrictRealtime", "SystemCallFilter")) {
				assertFalse(st.out().contains(d), "every directive of hardened is implemented, no warning names " + d + ": " + st);
			}
		} finally {
			psi("detach", "--now", "hard_1");
			Files.deleteIfExists(folder.resolve("hardened.jar"));
		}
	}

	/** The sandbox as the profiles ask, seen from inside: default for the directory image and the squashfs, nonetwork with a network test. */
	@Test
	@Order(2)
	void theSandboxSeenFromInside() throws Exception {
		// a listener on the host's loopback, for the network assertions
		assertEquals(0, psi("start", "web_1").rc());
		assertEquals("200 hello from web_1", awaitGet(webPort, "200 hello from web_1"));
		try {
			Result r = psi("start", "probe_1");
			assertEquals(0, r.rc(), r.toString());
			Map<String, String> dflt = facts("probe");
			Result sq = psi("start", "sqprobe_1");
			assertEquals(0, sq.rc(), sq.toString());
			Map<String, String> squash = facts("sqprobe");
			assertEquals(0, psi("detach", "probe_1").rc());
			Result nonet = psi("start", "--profile", "nonetwork", "probe_1");
			assertEquals(0, nonet.rc(), nonet.toString());
			Map<String, String> nonetwork = facts("probe");

			for (Map<String, String> f : List.of(dflt, squash, nonetwork)) {
				int uid = Integer.parseInt(f.get("uid"));
				assertTrue(uid >= 61184 && uid <= 65519, "a dynamic uid: " + f);
				assertEquals("0", f.get("home").trim(), "ProtectHome=yes: /home is empty: " + f);
				assertEquals("readonly", f.get("usr"), "ProtectSystem=strict: " + f);
				assertEquals("readonly", f.get("srv"), "the image is read-only: " + f);
				assertEquals("writable", f.get("tmp"), f.toString());
				assertEquals("2", f.get("Seccomp"), "a seccomp filter: " + f);
				assertEquals("1", f.get("NoNewPrivs"), f.toString());
				assertEquals("0000000000000000", f.get("CapEff"), f.toString());
				assertEquals("refused", f.get("userns"), "RestrictNamespaces=yes: " + f);
				assertEquals("EPERM", f.get("swapon"), "SystemCallErrorNumber=EPERM: " + f);
			}
			assertEquals("reached", dflt.get("host-loopback"), "default shares the host's network: " + dflt);
			assertEquals("reached", squash.get("host-loopback"), squash.toString());
			assertEquals("unreachable", nonetwork.get("host-loopback"), "nonetwork: PrivateNetwork=yes: " + nonetwork);
			assertFalse(Files.exists(Path.of("/tmp/psi-probe-marker")), "PrivateTmp=yes: the host's /tmp is not the service's");
			assertFalse(Files.exists(root.resolve("tmp/psi-probe-marker")), "PrivateTmp=yes");
			// the state directory belongs to the dynamic user, under /var/lib/private with the /var/lib link
			assertTrue(Files.isSymbolicLink(root.resolve("var/lib/probe")), "the /var/lib/probe link");
			assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("var/lib/private"))));
		} finally {
			psi("stop", "web_1");
		}
	}

	@Test
	@Order(3)
	void aCrashLoopIsRestartedThenStoppedByTheStartLimit() throws Exception {
		Result r = psi("start", "crash_1");
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		Result status;
		do {
			Thread.sleep(200);
			status = psi("status", "crash_1");
		} while (!status.out().contains("start-limit-hit") && System.nanoTime() < deadline);
		assertTrue(status.out().contains("Active: failed") && status.out().contains("start-limit-hit"), status + "\nstart: " + r);
		assertEquals(3, status.rc(), status.toString());
		Result logs = psi("logs", "-n", "50", "crash_1");
		assertEquals(3, logs.out().lines().filter(l -> l.endsWith(": crashing")).count(), "started 3 times (StartLimitBurst=3): " + logs);
		assertTrue(logs.out().contains("Start request repeated too quickly."), logs.toString());
		// a hostile service cannot drive the admin's terminal: its escape sequence is shown, not sent
		assertTrue(logs.out().contains(": \\x1b[2Jcleared") && !logs.out().contains("\u001b"), logs.toString());
	}

	@Test
	@Order(4)
	void aForkingServiceIsTrackedAndStopped() throws Exception {
		Result r = psi("start", "fork_1");
		assertEquals(0, r.rc(), r.toString());
		assertEquals("200 hello from fork_1", awaitGet(forkPort, "200 hello from fork_1"));
		Result status = psi("status", "fork_1");
		assertTrue(status.out().contains("active (running)") && status.out().contains("Main PID:"), status.out());
		assertEquals(1, cgroupProcs("fork.service").size(), "the daemonized httpd alone: " + cgroupProcs("fork.service"));
		assertEquals(0, psi("stop", "fork_1").rc());
		assertTrue(get(forkPort).startsWith("unreachable"));
		assertEquals(List.of(), cgroupProcs("fork.service"));
	}

	/** A sandbox directive psi's own manager lacks refuses the start, unless the admin says --allow-unsandboxed, which status shows. */
	@Test
	@Order(5)
	void aSandboxDirectiveItLacksRefusesTheStart() throws Exception {
		Result refused = psi("start", "dev_1");
		assertEquals(1, refused.rc(), refused.toString());
		assertTrue(refused.err().contains("does not implement DeviceAllow=") && refused.err().contains("--allow-unsandboxed"), refused.toString());
		assertEquals(1, refused.err().lines().count(), "one line: " + refused);
		assertEquals(List.of(), cgroupProcs("dev.service"), "nothing runs");
		Result allowed = psi("start", "--allow-unsandboxed", "dev_1");
		assertEquals(0, allowed.rc(), allowed.toString());
		Result status = psi("status", "dev_1");
		assertEquals(0, status.rc(), status.toString());
		assertTrue(status.out().contains("Warning: running WITHOUT DeviceAllow="), status.out());
		assertEquals(0, psi("stop", "dev_1").rc());
	}

	/**
	 * Issue 19 under psi's own manager: an image cannot widen its sandbox; the
	 * refusal comes at psi start, before anything is written or run; under
	 * --profile trusted the same unit runs its + command as root, as it asks.
	 */
	@Test
	@Order(6)
	void anImageCannotWidenItsSandboxAtStart() throws Exception {
		Path attached = root.resolve("etc/systemd/system.attached/esc.service");
		Result refused = psi("start", "esc_1");
		assertEquals(1, refused.rc(), refused.toString());
		assertTrue(refused.err().contains("esc.service:4: ExecStartPre= with '+' runs outside the sandbox (profile 'default'; --profile trusted allows it)"), refused.toString());
		assertFalse(Files.exists(attached), "nothing attached");
		assertFalse(Files.exists(escMarker), "nothing ran");
		Result trusted = psi("start", "--profile", "trusted", "esc_1");
		try {
			assertEquals(0, trusted.rc(), trusted.toString());
			assertTrue(Files.readString(escMarker).startsWith("uid=0(root) gid=0(root)"), Files.readString(escMarker));
			assertEquals(0, psi("stop", "esc_1").rc());
			assertEquals(0, psi("detach", "esc_1").rc());
		} finally {
			Files.deleteIfExists(escMarker);
		}
	}

	/** Requires= of a unit that does not exist fails the start (dependency); Wants= starts what exists. */
	@Test
	@Order(7)
	void dependencies() throws Exception {
		Result r = psi("start", "need_1");
		assertEquals(1, r.rc(), r.toString());
		assertTrue(r.err().contains("need.service failed (job dependency)"), r.toString());
		assertEquals(List.of(), cgroupProcs("need.service"), "not started");
		assertFalse(cgroupProcs("need-other.service").isEmpty() && cgroupProcs("need-rival.service").isEmpty(), "the wanted unit runs: " + r);
		// need-other and need-rival conflict: of the two, the one started last runs (name order: need-rival)
		assertEquals(List.of(), cgroupProcs("need-other.service"), "stopped by the start of the unit it conflicts with");
		assertFalse(cgroupProcs("need-rival.service").isEmpty());
		assertEquals(0, psi("stop", "need_1").rc());
		assertEquals(List.of(), cgroupProcs("need-rival.service"));
		assertEquals(List.of(), cgroupProcs("need-other.service"));
	}

	/** After= orders an image's units: ord-a, first by name, starts after ord-b. */
	@Test
	@Order(8)
	void afterOrdersTheStarts() throws Exception {
		Result r = psi("start", "ord_1");
		assertEquals(0, r.rc(), r.toString());
		assertTrue(r.err().indexOf("Started portable service ord-b.service.") < r.err().indexOf("Started portable service ord-a.service."), r.toString());
		List<String> lines = psi("logs", "ord_1").out().lines().toList();
		assertTrue(lines.size() == 2 && lines.get(0).endsWith("second-by-name") && lines.get(1).endsWith("first-by-name"), lines.toString());
		assertEquals(0, psi("stop", "ord_1").rc());
	}

	/** Timers: a monotonic one (OnActiveSec=, OnUnitActiveSec=) and a calendar one (every 2 s) start their services. */
	@Test
	@Order(9)
	void timersFire() throws Exception {
		Result r = psi("start", "tick_1");
		assertEquals(0, r.rc(), r.toString());
		Thread.sleep(5500);
		Result status = psi("status", "tick_1");
		assertTrue(status.out().contains("tick.timer") && status.out().contains("active (waiting)") && status.out().contains("Trigger:"), status.out());
		Result logs = psi("logs", "-n", "100", "tick_1");
		long ticks = logs.out().lines().filter(l -> l.endsWith(": tick")).count();
		long calendar = logs.out().lines().filter(l -> l.endsWith(": calendar")).count();
		assertTrue(ticks >= 3 && ticks <= 6, "OnActiveSec=1s, then every 1 s after each start, for 5.5 s: " + ticks + "\n" + logs.out());
		assertTrue(calendar >= 2 && calendar <= 3, "every 2 s for 5.5 s: " + calendar + "\n" + logs.out());
		assertEquals(0, psi("stop", "tick_1").rc());
		// counted once stopped (a trigger may have fired between the count above and the stop)
		long stopped = psi("logs", "-n", "100", "tick_1").out().lines().filter(l -> l.endsWith(": tick") || l.endsWith(": calendar")).count();
		Thread.sleep(2500);
		long after = psi("logs", "-n", "100", "tick_1").out().lines().filter(l -> l.endsWith(": tick") || l.endsWith(": calendar")).count();
		assertEquals(stopped, after, "stopped timers start nothing");
	}

	/** Type=notify: psi start returns when the service says READY=1, and status shows its STATUS=. */
	@Test
	@Order(12)
	void aNotifyServiceIsStartedWhenItSaysSo() throws Exception {
		Result r = psi("start", "notify_1");
		assertEquals(0, r.rc(), r.toString());
		// the start waited for READY=1 (sent 2 s after the start): already active, with the status it sent
		Result status = psi("status", "notify_1");
		String notify = unitBlock(status.out(), "notify.service");
		assertTrue(notify.contains("Active: active (running)") && notify.contains("Status: \"serving requests\""), status.out());
		// NotifyAccess=all: READY=1 from a child of the main process is heard
		assertTrue(unitBlock(status.out(), "notify-all.service").contains("Active: active (running)"), status.out());
		assertEquals(0, psi("stop", "notify_1").rc());
		assertEquals(3, psi("status", "notify_1").rc());
		assertTrue(Files.notExists(root.resolve("run/psi/embedded/notify/notify.service")), "the notification socket is gone with the service");

		// NotifyAccess=main (the default): it is not; the start times out and fails
		Result child = psi("start", "nchild_1");
		assertTrue(child.rc() != 0, child.toString());
		status = psi("status", "nchild_1");
		assertTrue(status.out().contains("Active: failed") && status.out().contains("result timeout"), status.out());
		String logs = psi("logs", "-n", "50", "nchild_1").out();
		assertTrue(logs.contains("Got notification message from PID") && logs.contains("reception only permitted for main PID"), logs);
		assertEquals(List.of(), cgroupProcs("nchild.service"), "nothing left of the failed start");

		// a stop while the start still waits for READY=1 (never, here) ends that start, as systemd's stop job replaces it
		Thread starter = new Thread(() -> {
			try {
				psi("start", "never_1");
			} catch (Exception e) {
				// its result does not matter: the stop does
			}
		});
		starter.start();
		Result waiting = psi("status", "never_1");
		for (int i = 0; i < 100 && !waiting.out().contains("activating (start)"); i++) {
			Thread.sleep(100);
			waiting = psi("status", "never_1");
		}
		assertTrue(waiting.out().contains("activating (start)"), waiting.out());
		Result stop = psi("stop", "never_1");
		assertEquals(0, stop.rc(), stop.toString());
		starter.join(TimeUnit.SECONDS.toMillis(30));
		assertFalse(starter.isAlive(), "the waiting start ended with the stop");
		assertEquals(List.of(), cgroupProcs("never.service"));
		assertEquals(3, psi("status", "never_1").rc());
	}

	/** WatchdogSec=: a service that stops pinging is aborted with result watchdog; one that pings runs on. */
	@Test
	@Order(13)
	void theWatchdogAbortsAServiceThatHangs() throws Exception {
		Result r = psi("start", "dog_1");
		assertEquals(0, r.rc(), r.toString());
		Result status = psi("status", "dog_1");
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
		while (!unitBlock(status.out(), "dog.service").contains("result watchdog") && System.nanoTime() < deadline) {
			Thread.sleep(200);
			status = psi("status", "dog_1");
		}
		assertTrue(unitBlock(status.out(), "dog.service").contains("Active: failed") && unitBlock(status.out(), "dog.service").contains("result watchdog"), status.out());
		assertTrue(unitBlock(status.out(), "dog-fed.service").contains("Active: active (running)"), "the fed one runs on: " + status.out());
		assertTrue(psi("logs", "-n", "50", "dog_1").out().contains("Watchdog timeout (limit 1s)!"));
		assertEquals(0, psi("stop", "dog_1").rc());
	}

	/** A .socket unit (Accept=no): psi listens, the service starts on the first connection and gets the socket as fd 3. */
	@Test
	@Order(14)
	void aSocketStartsItsServiceOnTheFirstConnection() throws Exception {
		Result r = psi("start", "sock_1");
		assertEquals(0, r.rc(), r.toString());
		Result status = psi("status", "sock_1");
		assertTrue(unitBlock(status.out(), "sock.socket").contains("Active: active (listening)"), status.out());
		assertTrue(cgroupProcs("sock.service").isEmpty(), "nothing runs before a connection");
		assertEquals("activated LISTEN_FDS=1 LISTEN_FDNAMES=web LISTEN_PID=mine", line(sockPort));
		assertEquals("activated LISTEN_FDS=1 LISTEN_FDNAMES=web LISTEN_PID=mine", line(sockPort), "the same service answers again");
		status = psi("status", "sock_1");
		assertTrue(unitBlock(status.out(), "sock.service").contains("Active: active (running)"), status.out());
		assertTrue(unitBlock(status.out(), "sock.socket").contains("Active: active (running)"), status.out());
		assertEquals(0, psi("stop", "sock_1").rc());
		assertTrue(line(sockPort).startsWith("unreachable"), "the socket is closed with the stop");
		assertEquals(List.of(), cgroupProcs("sock.service"));
	}

	/** Accept=yes: one instance of the template per connection (inetd style, StandardInput=socket); a FIFO starts its service. */
	@Test
	@Order(15)
	void anAcceptingSocketStartsOneInstancePerConnection() throws Exception {
		Result r = psi("start", "inetd_1");
		assertEquals(0, r.rc(), r.toString());
		assertEquals("200 hello from inetd_1", get(inetdPort), () -> diagnose("inetd_1"));
		assertEquals("200 hello from inetd_1", get(inetdPort), () -> diagnose("inetd_1"));
		Result logs = psi("logs", "-n", "100", "inetd_1");
		for (int i = 0; i < 50 && logs.out().lines().filter(l -> l.contains("response:200")).count() < 2; i++) {
			Thread.sleep(100);
			logs = psi("logs", "-n", "100", "inetd_1");
		}
		// two connections, two processes (httpd -i serves one), each an instance in a group of its own, gone when done
		assertEquals(2, logs.out().lines().filter(l -> l.contains("response:200")).map(l -> l.replaceAll(".*busybox\\[([0-9]+)\\].*", "$1")).distinct().count(),
			logs.out());
		String scope = root.toString().substring(1).replace("-", "\\x2d").replace("/", "-");
		Path groups = Path.of(Files.isDirectory(Path.of("/sys/fs/cgroup/unified/psi.embedded")) ? "/sys/fs/cgroup/unified/psi.embedded" : "/sys/fs/cgroup/psi.embedded", scope);
		if (Files.isDirectory(groups)) {
			try (var g = Files.list(groups)) {
				assertEquals(List.of(), g.map(x -> x.getFileName().toString()).filter(x -> x.startsWith("inetd@")).toList(), "the instances' groups are gone");
			}
		}
		// their lines are in the template's log file, not one file per connection
		try (var files = Files.list(root.resolve("var/log/psi"))) {
			assertEquals(List.of("inetd@.service.log"), files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("inetd@")).toList());
		}
		assertTrue(Files.readString(root.resolve("var/log/psi/inetd@.service.log")).contains("response:200"));
		// the FIFO: a line written to it starts the service, which reads it from fd 3
		Files.writeString(root.resolve("run/psi-test-inetd.fifo"), "ping\n");
		logs = awaitLogs("inetd_1", "fifo said: ping");
		assertTrue(logs.out().contains("fifo said: ping"), logs.out());
		assertEquals(0, psi("stop", "inetd_1").rc());
		assertTrue(get(inetdPort).startsWith("unreachable"), get(inetdPort));
		assertEquals(List.of(), cgroupProcs("inetd-fifo.service"));
	}

	/** ListenDatagram= (UDP): the first datagram starts the service, which reads it from fd 3; a UNIX socket with Accept=yes, SocketMode=, SocketUser=, SocketGroup=. */
	@Test
	@Order(19)
	void datagramAndUnixSockets() throws Exception {
		Result r = psi("start", "more_1");
		assertEquals(0, r.rc(), r.toString());
		try (java.net.DatagramSocket d = new java.net.DatagramSocket()) {
			byte[] m = "a datagram for psi\n".getBytes(StandardCharsets.UTF_8);
			d.send(new java.net.DatagramPacket(m, m.length, java.net.InetAddress.getLoopbackAddress(), udpPort));
		}
		Result logs = psi("logs", "-n", "50", "more_1");
		logs = awaitLogs("more_1", "a datagram for psi");
		assertTrue(logs.out().contains(": a datagram for psi"), diagnose("more_1"));

		Path sock = root.resolve("run/psi-test-more.sock");
		assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)), "SocketMode=0600");
		assertEquals("nobody", Files.getOwner(sock, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName(), "SocketUser=");
		assertEquals("nogroup", Files.readAttributes(sock, java.nio.file.attribute.PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS).group().getName(), "SocketGroup=");
		try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(sock))) {
			c.write(java.nio.ByteBuffer.wrap("knock knock\n".getBytes(StandardCharsets.UTF_8)));
			java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(100);
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
			while (c.read(in) >= 0 && System.nanoTime() < deadline && !new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).contains("\n")) {
				// until the line
			}
			assertEquals("unix said: knock knock\n", new String(in.array(), 0, in.position(), StandardCharsets.UTF_8), diagnose("more_1"));
		}
		assertEquals(0, psi("stop", "more_1").rc());
		assertEquals(List.of(), cgroupProcs("more-udp.service"));

		// a socket path where a file of the host's is: the file is left as it is, the start refused
		Path precious = Files.createDirectories(root.resolve("run")).resolve("psi-test-clash");
		Files.writeString(precious, "precious\n");
		Result clash = psi("start", "clash_1");
		assertTrue(clash.rc() != 0, clash.toString());
		assertEquals("precious\n", Files.readString(precious));
		assertTrue(psi("logs", "-n", "20", "clash_1").out().contains("exists and is no socket: not replaced"), diagnose("clash_1"));
		assertEquals(0, psi("detach", "clash_1").rc());
	}

	/**
	 * psi reload runs ExecReload= with $MAINPID, the service's own process
	 * (not bubblewrap's, which the service could not signal), as systemctl
	 * reload; an image whose services cannot reload says so; psi restart
	 * gives the service a new main process.
	 */
	@Test
	@Order(11)
	void reloadAndRestart() throws Exception {
		assertEquals(0, psi("start", "rel_1").rc());
		Result logs = psi("logs", "-n", "20", "rel_1");
		logs = awaitLogs("rel_1", ": ready");
		String pid = mainPid(psi("status", "rel_1").out());
		assertTrue(Files.readString(Path.of("/proc", pid, "cmdline")).startsWith("/usr/bin/busybox\0sh"), "Main PID is the service's shell: " + pid);
		Result reload = psi("reload", "rel_1");
		assertEquals(0, reload.rc(), reload.toString());
		assertTrue(reload.err().contains("Reloaded portable service rel.service."), reload.toString());
		logs = awaitLogs("rel_1", ": reloaded");
		assertTrue(logs.out().contains(": reloaded"), diagnose("rel_1"));
		assertTrue(psi("status", "rel_1").out().contains("active (running)"));

		Result restart = psi("restart", "rel_1");
		assertEquals(0, restart.rc(), restart.toString());
		String after = mainPid(psi("status", "rel_1").out());
		assertFalse(after.equals(pid), "a new main process: " + pid + " then " + after);
		assertEquals(0, psi("stop", "rel_1").rc());

		assertEquals(0, psi("start", "execok_1").rc());
		Result cannot = psi("reload", "execok_1");
		assertTrue(cannot.rc() != 0 && cannot.err().contains("Job type reload is not applicable for execok.service"), cannot.toString());
		assertEquals(0, psi("stop", "execok_1").rc());
	}

	static String mainPid(String status) {
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("Main PID: ([0-9]+)").matcher(status);
		assertTrue(m.find(), status);
		return m.group(1);
	}

	/** Type=forking with PIDFile=: the main process is the one the file names, though two are left. */
	@Test
	@Order(16)
	void aForkingServiceIsFoundByItsPidFile() throws Exception {
		Result r = psi("start", "pidf_1");
		assertEquals(0, r.rc(), r.toString());
		assertEquals("200 hello from pidf_1", awaitGet(pidPort, "200 hello from pidf_1"));
		String pid = Files.readString(root.resolve("run/pidf/main.pid")).strip();
		Result status = psi("status", "pidf_1");
		assertTrue(status.out().contains("Main PID: " + pid + "\n"), "the main PID is the PID file's " + pid + ": " + status.out());
		assertEquals(2, cgroupProcs("pidf.service").size(), cgroupProcs("pidf.service").toString());
		assertEquals(0, psi("stop", "pidf_1").rc());
		assertTrue(get(pidPort).startsWith("unreachable"));
		assertEquals(List.of(), cgroupProcs("pidf.service"));
	}

	/**
	 * An image with dm-verity runs only through the kernel's dm-verity, which
	 * checks every block as it is read, as systemd runs it. Where the kernel
	 * has no device-mapper (these machines), psi refuses to run it rather
	 * than run it unchecked.
	 */
	@Test
	@Order(17)
	void aVerityImageRunsOnlyThroughDmVerity() throws Exception {
		// the kernel's device-mapper registers its misc device (a /dev/mapper/control node alone proves nothing)
		boolean dm = Files.readString(Path.of("/proc/misc")).contains("device-mapper");
		Result r = psi("start", "vfoo_1");
		if (dm) {
			assertEquals(0, r.rc(), r.toString());
			assertTrue(psi("status", "vfoo_1").out().contains("active (running)"));
			assertEquals(0, psi("stop", "vfoo_1").rc());
			return;
		}
		System.err.println("EmbeddedIT: this kernel has no device-mapper: the verity image must be refused, not run unchecked");
		assertTrue(r.rc() != 0, r.toString());
		Result status = psi("status", "vfoo_1");
		assertTrue(status.out().contains("Active: failed"), status.out());
		assertTrue(psi("logs", "-n", "20", "vfoo_1").out().contains("the kernel has no device-mapper, which a verity-protected image needs"), diagnose("vfoo_1"));
		assertEquals("0", run(List.of("grep", "-c", root.toString(), "/proc/self/mounts")).out().strip(), "nothing of it stays mounted");
		assertEquals(0, psi("detach", "vfoo_1").rc());
	}

	/** Type=exec: started once the program runs; a program that cannot run fails the start with status 203. */
	@Test
	@Order(18)
	void anExecServiceFailsItsStartWhenItsProgramCannotRun() throws Exception {
		Result ok = psi("start", "execok_1");
		assertEquals(0, ok.rc(), ok.toString());
		assertTrue(psi("status", "execok_1").out().contains("active (running)"));
		assertEquals(0, psi("stop", "execok_1").rc());
		Result bad = psi("start", "execbad_1");
		assertTrue(bad.rc() != 0, bad.toString());
		Result status = psi("status", "execbad_1");
		assertTrue(status.out().contains("Active: failed") && status.out().contains("result exit-code, status 203"), status.out());
		assertTrue(psi("logs", "-n", "20", "execbad_1").out().contains("/usr/bin/no-such-program: No such file or directory"), diagnose("execbad_1"));
	}

	/** @return psi logs of an image once a line contains the text, or after 10 s */
	static Result awaitLogs(String image, String text) throws Exception {
		Result logs = psi("logs", "-n", "100", image);
		for (int i = 0; i < 100 && !logs.out().contains(text); i++) {
			Thread.sleep(100);
			logs = psi("logs", "-n", "100", image);
		}
		return logs;
	}

	/** @return what an admin would look at when an image's service does not answer */
	static String diagnose(String image) {
		try {
			return psi("status", image).out() + "\n" + psi("logs", "-n", "30", image).out() + "\n" + Files.readString(daemonLog);
		} catch (Exception e) {
			return e.toString();
		}
	}

	/** @return one unit's part of psi status's output */
	static String unitBlock(String status, String unit) {
		int i = status.indexOf(" " + unit);
		if (i < 0) {
			return "";
		}
		int end = status.indexOf("\n\n", i);
		int next = status.indexOf("\n  \u25cf ", i + 1);
		int next2 = status.indexOf("\n  \u00d7 ", i + 1);
		int next3 = status.indexOf("\n  \u25cb ", i + 1);
		int stop = status.length();
		for (int n : new int[] {end, next, next2, next3}) {
			if (n > i && n < stop) {
				stop = n;
			}
		}
		return status.substring(i, stop);
	}

	/** @return the first line a TCP server on 127.0.0.1 sends, or "unreachable: ..." */
	static String line(int port) {
		try (java.net.Socket so = new java.net.Socket()) {
			so.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2000);
			so.setSoTimeout(10_000);
			java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(so.getInputStream(), StandardCharsets.UTF_8));
			String l = in.readLine();
			return l == null ? "unreachable: closed" : l;
		} catch (IOException e) {
			return "unreachable: " + e;
		}
	}

	/** Persistent=: a daily event missed while the timer was not running (its last trigger two days ago) fires at the start. */
	@Test
	@Order(10)
	void aPersistentTimerCatchesUpOnAMissedEvent() throws Exception {
		Path stamp = Files.createDirectories(root.resolve("var/lib/psi/timers")).resolve("stamp-pers.timer");
		long twoDaysAgo = (System.currentTimeMillis() - TimeUnit.DAYS.toMillis(2)) * 1000;
		Files.writeString(stamp, Long.toString(twoDaysAgo));
		Result r = psi("start", "pers_1");
		assertEquals(0, r.rc(), r.toString());
		Result logs = psi("logs", "-n", "20", "pers_1");
		logs = awaitLogs("pers_1", ": caught up");
		assertTrue(logs.out().contains(": caught up"), diagnose("pers_1"));
		assertTrue(Long.parseLong(Files.readString(stamp).strip()) > twoDaysAgo, "the trigger is kept for the next start");
		assertTrue(psi("status", "pers_1").out().contains("Trigger:"), "and it waits for the next midnight");
		assertEquals(0, psi("stop", "pers_1").rc());
	}

	/**
	 * Images psi build made, as user nobody (no privilege, no loop device),
	 * run under psi's own manager: a GPT image without verity and a naked
	 * squashfs. A tree holding a file nobody cannot read is a one-line error
	 * and leaves nothing. A signed verity image pulls with its signature
	 * checked against the certificates the root trusts: refused before its
	 * certificate is installed, verified after.
	 */
	@Test
	@Order(19)
	void imagesPsiBuildMadeRunAndTheirSignatureIsChecked() throws Exception {
		Path out = Files.createDirectories(work.resolve("built"));
		run(List.of("chown", "nobody", out.toString()));
		int gport = freePort();
		int sport = freePort();
		image(work.resolve("bweb"), Map.of("bweb.service", """
			[Service]
			ExecStart=/usr/bin/busybox httpd -f -p 127.0.0.1:%d -h /srv/www
			""".formatted(gport)));
		image(work.resolve("bsq"), Map.of("bsq.service", """
			[Service]
			ExecStart=/usr/bin/busybox httpd -f -p 127.0.0.1:%d -h /srv/www
			""".formatted(sport)));

		Path secret = work.resolve("bweb/etc/secret");
		Files.writeString(secret, "root only\n");
		Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
		Result denied = run(List.of("runuser", "-u", "nobody", "--", psi.toString(), "build", "--no-verity", "--version", "1", "-o",
			out.resolve("bweb_1.raw").toString(), work.resolve("bweb").toString()));
		assertEquals(1, denied.rc(), denied.toString());
		assertTrue(denied.err().strip().endsWith(secret + ": cannot read it: permission denied"), denied.toString());
		try (var l = Files.list(out)) {
			assertEquals(List.of(), l.toList(), "nothing written");
		}
		Files.delete(secret);

		Result g = run(List.of("runuser", "-u", "nobody", "--", psi.toString(), "build", "--no-verity", "--version", "1", "-o",
			out.resolve("bweb_1.raw").toString(), work.resolve("bweb").toString()));
		assertEquals(0, g.rc(), g.toString());
		assertTrue(g.out().startsWith("Built " + out.resolve("bweb_1.raw") + ": raw disk image"), g.toString());
		Result q = run(List.of("runuser", "-u", "nobody", "--", psi.toString(), "build", "--format", "squashfs", "-o",
			out.resolve("bsq_1.raw").toString(), work.resolve("bsq").toString()));
		assertEquals(0, q.rc(), q.toString());
		Path pool = root.resolve("var/lib/portables");
		Files.copy(out.resolve("bweb_1.raw"), pool.resolve("bweb_1.raw"));
		Files.copy(out.resolve("bsq_1.raw"), pool.resolve("bsq_1.raw"));
		try {
			assertEquals(0, psi("start", "bweb_1").rc(), diagnose("bweb_1"));
			assertEquals("200 hello from bweb", awaitGet(gport, "200 hello from bweb"));
			assertEquals(0, psi("start", "bsq_1").rc(), diagnose("bsq_1"));
			assertEquals("200 hello from bsq", awaitGet(sport, "200 hello from bsq"));
		} finally {
			psi("stop", "bweb_1");
			psi("stop", "bsq_1");
			psi("detach", "bweb_1");
			psi("detach", "bsq_1");
		}

		// signed: the root trusts repart's test certificate only
		Path key = work.resolve("bsig.key");
		Path cert = work.resolve("bsig.crt");
		assertEquals(0, run(List.of("openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=psi build signer", "-days", "30",
			"-keyout", key.toString(), "-out", cert.toString())).rc());
		Path repo = Files.createDirectories(work.resolve("bsigrepo"));
		Result signed = run(List.of(psi.toString(), "build", "--no-lint", "--name", "bsig", "--version", "1", "--sign", key.toString(), "--cert", cert.toString(),
			"-o", repo.resolve("bsig_1.raw").toString(), work.resolve("bsq").toString()));
		assertEquals(0, signed.rc(), signed.toString());
		Result refused = psi("pull", "--verify=signature", "file://" + repo.resolve("bsig_1.raw"));
		assertTrue(refused.rc() != 0, refused.toString());
		assertTrue(refused.err().contains("signed by CN=psi build signer"), refused.toString());
		assertFalse(Files.exists(pool.resolve("bsig_1.raw")), "a refused image stays out of the pool");
		Files.copy(cert, root.resolve("etc/verity.d/psi-build-signer.crt"));
		try {
			Result pulled = psi("pull", "--verify=signature", "file://" + repo.resolve("bsig_1.raw"));
			assertEquals(0, pulled.rc(), pulled.toString());
			assertTrue((pulled.out() + pulled.err()).contains("signed by CN=psi build signer"), pulled.toString());
			assertTrue(Files.exists(pool.resolve("bsig_1.raw")));
		} finally {
			Files.delete(root.resolve("etc/verity.d/psi-build-signer.crt"));
		}
	}

	/**
	 * Services stop with the daemon; what a daemon killed with SIGKILL left
	 * (a forking service's daemon, which bubblewrap's --die-with-parent does
	 * not reach) is stopped by the next one.
	 */
	@Test
	@Order(20)
	void servicesDoNotOutliveTheirDaemon() throws Exception {
		assertEquals(0, psi("start", "web_1").rc());
		assertEquals(0, psi("start", "fork_1").rc());
		assertEquals("200 hello from web_1", awaitGet(webPort, "200 hello from web_1"));
		assertEquals("200 hello from fork_1", awaitGet(forkPort, "200 hello from fork_1"));
		new ProcessBuilder("kill", "-KILL", Long.toString(daemon.pid())).start().waitFor();
		assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
		assertEquals("200 hello from fork_1", get(forkPort), "the forked daemon outlived the killed psi daemon, for now");
		// a service that did not fork died with its sandbox, which died with psi (the parent-death signal)
		String web = get(webPort);
		for (int i = 0; i < 50 && !web.startsWith("unreachable"); i++) {
			Thread.sleep(100);
			web = get(webPort);
		}
		assertTrue(web.startsWith("unreachable"), "the httpd outlived its killed daemon: " + web);
		startDaemon();
		assertTrue(get(forkPort).startsWith("unreachable"), "the next daemon stopped what the killed one left: " + get(forkPort));
		assertTrue(get(webPort).startsWith("unreachable"), get(webPort));
		assertEquals(List.of(), cgroupProcs("fork.service"));
		assertEquals(List.of(), cgroupProcs("web.service"));
		Result status = psi("status", "fork_1");
		assertEquals(3, status.rc(), status.toString());
		assertTrue(Files.readString(root.resolve("var/log/psi/fork.service.log")).contains("left running by a psi daemon that ended"));

		// and SIGTERM stops the daemon's services with it
		assertEquals(0, psi("start", "web_1").rc());
		assertEquals("200 hello from web_1", awaitGet(webPort, "200 hello from web_1"));
		new ProcessBuilder("kill", "-TERM", Long.toString(daemon.pid())).start().waitFor();
		assertTrue(daemon.waitFor(120, TimeUnit.SECONDS));
		assertEquals(0, daemon.exitValue(), Files.readString(daemonLog));
		assertTrue(get(webPort).startsWith("unreachable"), "stopped with its daemon");
		assertEquals(List.of(), cgroupProcs("web.service"));
	}

	/**
	 * An admin's psi start with no daemon serving the root: root's psi starts
	 * one in the background (psi's own manager must outlive the command), says
	 * so, and the service runs; stopping that daemon stops it.
	 */
	@Test
	@Order(21)
	void psiStartStartsTheDaemonItNeeds() throws Exception {
		Path other = Files.createDirectories(work.resolve("other"));
		image(Files.createDirectories(other.resolve("var/lib/portables")).resolve("web_1"), Map.of("web.service", """
			[Service]
			ExecStart=/usr/bin/busybox httpd -f -p 127.0.0.1:%d -h /srv/www
			""".formatted(webPort)));
		List<String> cmd = List.of(psi.toString(), "--root", other.toString(), "start", "web_1");
		Result r = run(cmd);
		long pid = 0;
		try {
			assertEquals(0, r.rc(), r.toString());
			assertTrue(r.err().contains("no psi daemon serves the root " + other + ": starting one in the background"), r.toString());
			assertEquals("200 hello from web_1", awaitGet(webPort, "200 hello from web_1"));
			String log = Files.readString(other.resolve("var/log/psi/psi.log"));
			java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(pid ([0-9]+)\\)").matcher(log);
			assertTrue(m.find(), log);
			pid = Long.parseLong(m.group(1));
		} finally {
			if (pid > 0) {
				new ProcessBuilder("kill", "-TERM", Long.toString(pid)).start().waitFor();
				for (int i = 0; i < 600 && ProcessHandle.of(pid).isPresent(); i++) {
					Thread.sleep(100);
				}
			}
		}
		assertFalse(ProcessHandle.of(pid).isPresent(), "the daemon stopped");
		assertTrue(get(webPort).startsWith("unreachable"), "its service stopped with it");
	}
}
