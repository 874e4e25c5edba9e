package psi.itest.plugins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import psi.itest.RootSnapshot;
import psi.itest.box.TestBox;

/**
 * The plugin platform (issue 16) with the real launcher and a real
 * {@code psi daemon} serving a scratch root: bundle jars dropped into its
 * plugin folder ({@code ROOT/var/lib/psi/plugins}) are installed, replaced
 * and uninstalled while it runs (Apache Felix FileInstall); the example
 * plugins of {@code plugins/} (the tar format, the hardened and signed-only
 * policies), a bundle that does not resolve, and two formats claiming one
 * file by ranking.
 */
class PluginsIT {

	static Path base;
	static Path psi;
	static Path work;
	static Path root;
	static Path folder;
	static Process daemon;
	static Path daemonLog;

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
		work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-plugins-");
		Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
		root = Files.createDirectories(work.resolve("root"));
		image(root.resolve("srv/tree/app_1"), "app");
		image(root.resolve("var/lib/portables/hard_1"), "hard");
		image(root.resolve("var/lib/portables/plain_1"), "plain");
		Result tar = run(List.of("tar", "--zstd", "-C", root.resolve("srv/tree/app_1").toString(), "-cf", root.resolve("srv/app_1.tar.zst").toString(), "."));
		assertEquals(0, tar.rc(), tar.toString());
		daemonLog = work.resolve("daemon.log");
		ProcessBuilder pb = new ProcessBuilder(psi.toString(), "daemon", "--root", root.toString());
		pb.environment().put("PSI_CONFIG_DIR", work.resolve("etc-psi").toString());
		pb.redirectErrorStream(true).redirectOutput(daemonLog.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
		daemon = pb.start();
		await("the daemon listens", () -> Files.isRegularFile(daemonLog) && Files.readString(daemonLog).contains("listening on"));
		// the daemon makes its plugin folder
		folder = root.resolve("var/lib/psi/plugins");
		assertTrue(Files.isDirectory(folder), "the daemon made " + folder);
	}

	@AfterAll
	static void down() throws Exception {
		if (daemon != null && daemon.isAlive()) {
			daemon.destroy();
			if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
				daemon.destroyForcibly();
			}
		}
		if (work != null) {
			TestBox.deleteTree(work);
		}
	}

	@AfterEach
	void emptyTheFolder() throws Exception {
		try (var s = Files.list(folder)) {
			for (Path p : s.toList()) {
				Files.delete(p);
			}
		}
		await("the plugin folder's bundles are gone", () -> !plugins().out().contains("psi.format.tar") && !plugins().out().contains("example.")
			&& !plugins().out().contains("psi.policy.hardened") && !plugins().out().contains("psi.policy.signedonly")
			&& !plugins().out().contains(".shadow"));
	}

	/** A directory image with an os-release and one service. */
	static void image(Path dir, String name) throws IOException {
		Files.createDirectories(dir.resolve("usr/lib/systemd/system"));
		for (String d : List.of("etc", "proc", "sys", "dev", "run", "tmp", "var/tmp")) {
			Files.createDirectories(dir.resolve(d));
		}
		Files.writeString(dir.resolve("usr/lib/os-release"), "ID=test\nVERSION_ID=1\nPORTABLE_PRETTY_NAME=" + name + "\n");
		Files.writeString(dir.resolve("usr/lib/systemd/system/" + name + ".service"), "[Service]\nExecStart=/bin/true\n");
	}

	static Path plugin(String module, String artifact) {
		Path jar = base.resolve("plugins/" + module + "/target/" + artifact + "-0.1.0-SNAPSHOT.jar");
		assertTrue(Files.isRegularFile(jar), "build the plugin first: " + jar);
		return jar;
	}

	/** Drops a jar into the plugin folder as FileInstall wants it: complete, under its final name at once. */
	static void drop(Path jar, String name) throws IOException {
		Path tmp = folder.resolve("." + name + ".part");
		Files.copy(jar, tmp, StandardCopyOption.REPLACE_EXISTING);
		Files.move(tmp, folder.resolve(name), StandardCopyOption.ATOMIC_MOVE);
	}

	static Result psi(String... args) throws Exception {
		List<String> cmd = new ArrayList<>(List.of(psi.toString(), "--root", root.toString()));
		cmd.addAll(List.of(args));
		return run(cmd);
	}

	static Result plugins() throws Exception {
		return psi("plugins", "--no-legend");
	}

	static Result run(List<String> cmd) throws Exception {
		ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
		pb.environment().put("PSI_CONFIG_DIR", work.resolve("etc-psi").toString());
		pb.environment().put("LANG", "C.UTF-8");
		pb.environment().remove("PSI_SOCKET");
		pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
		Process p = pb.start();
		ByteArrayOutputStream err = new ByteArrayOutputStream();
		Thread t = new Thread(() -> {
			try (InputStream in = p.getErrorStream()) {
				in.transferTo(err);
			} catch (IOException e) {
				// the process went
			}
		});
		t.start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (!p.waitFor(120, TimeUnit.SECONDS)) {
			p.destroyForcibly();
			fail("no answer in 120 s: " + cmd);
		}
		t.join();
		return new Result(p.exitValue(), out, err.toString(StandardCharsets.UTF_8));
	}

	interface Check {
		boolean holds() throws Exception;
	}

	/** Waits at most 20 s for what FileInstall (polling each second) and DS do in the background. */
	static void await(String what, Check c) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
		while (!c.holds()) {
			if (System.nanoTime() > deadline) {
				fail("not within 20 s: " + what + "\ndaemon log:\n" + (Files.isRegularFile(daemonLog) ? Files.readString(daemonLog) : ""));
			}
			Thread.sleep(100);
		}
	}

	static void awaitPlugins(String what, Predicate<String> p) throws Exception {
		await(what, () -> p.test(plugins().out()));
	}

	/** The root's tree, but psi's own log and socket. */
	static Map<String, String> snapshot() throws Exception {
		return RootSnapshot.of(root, (rel, p) -> rel.startsWith("var/log/psi") || rel.startsWith("run/psi"));
	}

	static String line(String out, String containing) {
		return out.lines().filter(l -> l.contains(containing)).findFirst().orElse("");
	}

	// ------------------------------------------------------------------

	@Test
	void aFormatDroppedIntoTheFolderReadsImagesUntilItIsRemoved() throws Exception {
		Result before = psi("inspect", "/srv/app_1.tar.zst");
		assertNotEquals(0, before.rc(), before.toString());
		assertTrue(before.err().contains("is of no type psi knows"), before.toString());

		drop(plugin("format-tar", "psi.format.tar"), "psi.format.tar.jar");
		awaitPlugins("psi plugins lists the tar format", o -> line(o, "psi.format.tar").contains("active"));
		assertTrue(line(plugins().out(), "psi.format.tar").startsWith("format    tar "), plugins().out());
		Result inspect = psi("inspect", "/srv/app_1.tar.zst");
		assertEquals(0, inspect.rc(), inspect.toString());
		assertTrue(inspect.out().contains("Read by:\n\tpsi.format.tar 0.1.0"), inspect.toString());
		assertTrue(inspect.out().contains("Unit files:\n\tapp.service\n"), inspect.toString());

		// attached, the archive is unpacked into the pool as a directory image
		Result attach = psi("attach", "/srv/app_1.tar.zst");
		assertEquals(0, attach.rc(), attach.toString());
		assertEquals("ID=test\nVERSION_ID=1\nPORTABLE_PRETTY_NAME=app\n", Files.readString(root.resolve("var/lib/portables/app_1/usr/lib/os-release")));
		assertTrue(Files.readString(root.resolve("etc/systemd/system.attached/app.service.d/20-portable.conf"))
			.contains("RootDirectory=/var/lib/portables/app_1"));
		assertEquals(0, psi("detach", "app_1").rc());

		// an in-process psi picks the folder up at its start
		Result inProcess = psi("--no-daemon", "inspect", "/srv/app_1.tar.zst");
		assertEquals(0, inProcess.rc(), inProcess.toString());

		Files.delete(folder.resolve("psi.format.tar.jar"));
		awaitPlugins("the tar format is gone", o -> !o.contains("psi.format.tar"));
		Result after = psi("inspect", "/srv/app_1.tar.zst");
		assertNotEquals(0, after.rc(), after.toString());
		assertTrue(after.err().contains("is of no type psi knows"), after.toString());
		String log = Files.readString(daemonLog);
		assertTrue(log.contains("plugin folder: psi.format.tar.jar (psi.format.tar 0.1.0") && log.contains(") installed")
			&& log.contains(") uninstalled"), log);
	}

	@Test
	void aBundleThatDoesNotResolveIsReportedAndChangesNothingElse() throws Exception {
		String before = plugins().out();
		Manifest m = new Manifest();
		m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
		m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
		m.getMainAttributes().putValue("Bundle-SymbolicName", "example.broken");
		m.getMainAttributes().putValue("Bundle-Version", "1.0.0");
		m.getMainAttributes().putValue("Import-Package", "com.example.missing");
		Path jar = work.resolve("broken.jar");
		try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, m)) {
			j.flush();
		}
		drop(jar, "broken.jar");
		awaitPlugins("psi plugins reports the broken bundle", o -> line(o, "example.broken").contains("not resolved"));
		String row = line(plugins().out(), "example.broken");
		assertTrue(row.startsWith("bundle ") && row.contains("broken.jar") && row.contains("osgi.wiring.package=com.example.missing"), row);
		// every plugin that was there is there as it was
		assertEquals(before, plugins().out().lines().filter(l -> !l.contains("example.broken")).reduce("", (a, b) -> a + b + "\n"));
		assertEquals(0, psi("list").rc());
		await("the daemon's log says why", () -> Files.readString(daemonLog).contains("broken.jar (example.broken 1.0.0) does not resolve: Unable to resolve"));
	}

	@Test
	void hardenedExtendsEveryProfileUntilItIsRemoved() throws Exception {
		drop(plugin("policy-hardened", "psi.policy.hardened"), "hardened.jar");
		awaitPlugins("the hardened policy is active", o -> line(o, "psi.policy.hardened").contains("active"));
		Result inspect = psi("inspect", "hard_1");
		assertTrue(inspect.out().contains("Sandbox policies (extending profile default):\n\thardened\n"), inspect.toString());
		Result attach = psi("attach", "hard_1");
		assertEquals(0, attach.rc(), attach.toString());
		Path dropIn = root.resolve("etc/systemd/system.attached/hard.service.d/15-policy-hardened.conf");
		String conf = Files.readString(dropIn);
		for (String d : List.of("ProtectClock=yes", "ProtectKernelLogs=yes", "ProtectKernelModules=yes", "ProtectHostname=yes", "RestrictSUIDSGID=yes",
			"LockPersonality=yes", "RestrictRealtime=yes",
			"SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap")) {
			assertTrue(conf.contains("\n" + d + "\n"), d + " in " + conf);
		}
		assertTrue(attach.out().contains(dropIn.toString().substring(root.toString().length())) || attach.err().contains("15-policy-hardened.conf"),
			"attach lists the drop-in it wrote: " + attach);
		Result status = psi("status", "hard_1");
		assertTrue(status.out().contains("  Policies: hardened\n"), status.toString());

		Files.delete(folder.resolve("hardened.jar"));
		awaitPlugins("the hardened policy is gone", o -> !o.contains("psi.policy.hardened"));
		Result reattach = psi("reattach", "hard_1");
		assertEquals(0, reattach.rc(), reattach.toString());
		assertFalse(Files.exists(dropIn), "reattached without the policy: its drop-in is gone");
		assertTrue(Files.exists(root.resolve("etc/systemd/system.attached/hard.service.d/20-portable.conf")));
		assertFalse(psi("status", "hard_1").out().contains("Policies:"));
		assertEquals(0, psi("detach", "hard_1").rc());
		assertFalse(Files.exists(root.resolve("etc/systemd/system.attached/hard.service.d")));
	}

	@Test
	void signedOnlyRefusesAnUnsignedImage() throws Exception {
		drop(plugin("policy-signed-only", "psi.policy.signedonly"), "signed-only.jar");
		awaitPlugins("the signed-only policy is active", o -> line(o, "psi.policy.signedonly").contains("active"));
		Map<String, String> before = snapshot();
		Result attach = psi("attach", "plain_1");
		assertEquals(1, attach.rc(), attach.toString());
		assertEquals("Image /var/lib/portables/plain_1: Refused by sandbox policy 'signed-only': image is not signed by a trusted key (nothing vouches for it)",
			attach.err().strip().lines().reduce((a, b) -> b).orElse(""), attach.toString());
		assertEquals(before, snapshot(), "nothing changed");
	}

	@Test
	void theHigherRankingFormatReadsAnImageThenTheOtherOnceItIsGone() throws Exception {
		drop(plugin("format-tar", "psi.format.tar"), "psi.format.tar.jar");
		drop(shadow(plugin("format-tar", "psi.format.tar"), 50), "shadow.jar");
		awaitPlugins("both tar formats are active",
			o -> line(o, "psi.format.tar.shadow").contains("active") && line(o, "psi.format.tar ").contains("active"));
		assertTrue(psi("inspect", "/srv/app_1.tar.zst").out().contains("Read by:\n\tpsi.format.tar.shadow 0.1.0"), psi("inspect", "/srv/app_1.tar.zst").out());
		Files.delete(folder.resolve("shadow.jar"));
		awaitPlugins("the shadow format is gone", o -> !o.contains("psi.format.tar.shadow"));
		Result inspect = psi("inspect", "/srv/app_1.tar.zst");
		assertTrue(inspect.out().contains("Read by:\n\tpsi.format.tar 0.1.0") && inspect.out().contains("service.ranking 0)"), inspect.toString());
	}

	/** A setting changed in the configuration directory takes effect at the daemon's next command; a wrong value is one line, and the old value stays. */
	@Test
	void aSettingChangedWhileTheDaemonRunsTakesEffectAtTheNextCommand() throws Exception {
		Path etc = Files.createDirectories(work.resolve("etc-psi"));
		Path cfg = etc.resolve("psi.engine.cfg");
		try {
			Files.writeString(cfg, "keepVersions=7\n");
			Result c = psi("config", "--no-legend", "psi.engine");
			assertEquals(0, c.rc(), c.toString());
			assertEquals(List.of("psi.engine", "keepVersions", "7", cfg.toString()), List.of(line(c.out(), "keepVersions").split(" +")), c.toString());
			assertTrue(line(c.out(), "settle").endsWith(" default"), c.toString());

			Files.writeString(cfg, "keepVersions=seven\n");
			Result l = psi("list");
			assertEquals(0, l.rc(), "the command runs: " + l);
			assertEquals("psi: " + cfg + ": keepVersions=seven: not a whole number (Versions of an image kept in /var/lib/portables after a successful upgrade (older detached ones are removed); 0 keeps all); still 7\n",
				l.err(), l.toString());
			Result again = psi("config", "--no-legend", "psi.engine");
			assertEquals(1, again.rc(), "psi config says something is wrong: " + again);
			assertTrue(line(again.out(), "keepVersions").contains(" 7 "), "the old value stays: " + again);
			assertTrue(again.out().contains("Refused in the files:\npsi: " + cfg + ": keepVersions=seven"), again.toString());
			assertEquals("", psi("list").err(), "said once, by the command that found it");
			assertTrue(Files.readString(daemonLog).contains("keepVersions=seven: not a whole number"), "and in the daemon's log");

			// the profile attach uses when none is named, and a value that is not one of the choices
			Files.writeString(cfg, "defaultProfile=nonetwork\nverify=sometimes\n");
			Result attach = psi("attach", "plain_1");
			assertEquals(0, attach.rc(), attach.toString());
			assertTrue(attach.err().contains(cfg + ": verify=sometimes: not one of (empty), signature, checksum, no; the default stays in force"),
				attach.toString());
			assertTrue(psi("status", "plain_1").out().contains("   Profile: nonetwork"), psi("status", "plain_1").toString());
			assertEquals(0, psi("detach", "plain_1").rc());

			Files.delete(cfg);
			Result back = psi("config", "--no-legend", "psi.engine");
			assertEquals(0, back.rc(), back.toString());
			assertTrue(line(back.out(), "keepVersions").matches("psi.engine keepVersions +3 +default"), "back to the default: " + back);
		} finally {
			Files.deleteIfExists(cfg);
		}
	}

	/** The setting folder of psi.plugins: another plugin folder, watched from the next command on; one others may write is refused. */
	@Test
	void anotherPluginFolderIsASetting() throws Exception {
		Path etc = Files.createDirectories(work.resolve("etc-psi"));
		Path cfg = etc.resolve("psi.plugins.cfg");
		Path extra = Files.createDirectories(work.resolve("more-plugins"));
		try {
			Files.setPosixFilePermissions(extra, PosixFilePermissions.fromString("rwxrwxrwx"));
			Files.writeString(cfg, "folder=" + extra + "\n");
			Result refused = psi("list");
			assertEquals(0, refused.rc(), refused.toString());
			assertEquals("psi: " + cfg + ": folder=" + extra + ": not a folder psi may watch: writable by others than its owner (chmod go-w);"
				+ " the default stays in force\n", refused.err(), refused.toString());
			Files.setPosixFilePermissions(extra, PosixFilePermissions.fromString("rwxr-xr-x"));
			Files.writeString(cfg, "folder=" + extra + "\n# now safe\n");
			Files.copy(plugin("policy-hardened", "psi.policy.hardened"), extra.resolve("hardened.jar"));
			assertEquals("", psi("list").err());
			awaitPlugins("the hardened policy from the other folder is active", o -> line(o, "psi.policy.hardened").contains("active"));
			Files.delete(cfg);
			awaitPlugins("the other folder is not watched any more", o -> !o.contains("psi.policy.hardened"));
		} finally {
			Files.deleteIfExists(cfg);
			Files.deleteIfExists(extra.resolve("hardened.jar"));
		}
	}

	/**
	 * A transport that leaves while a pull through it is under way: the pull
	 * fails at once with one line naming it, and a pull through another
	 * transport at the same time finishes. The https transport of the
	 * distribution cannot be removed, so a copy of it under another name and
	 * a higher ranking serves https here, from the plugin folder.
	 */
	@Test
	void aPullInFlightFailsCleanlyWhenItsTransportIsRemovedAndAnotherFinishes() throws Exception {
		Path nginx = Files.createDirectories(work.resolve("nginx"));
		Files.createDirectories(nginx.resolve("www"));
		Files.createDirectories(nginx.resolve("server.d"));
		// 64 MiB at 4 MiB/s: 16 s in which to remove the transport
		Files.writeString(nginx.resolve("server.d/slow.conf"), "location /slow/ { alias " + nginx.resolve("www") + "/; limit_rate 4m; }\n");
		byte[] chunk = new byte[1 << 20];
		new java.util.Random(5).nextBytes(chunk);
		try (OutputStream o = Files.newOutputStream(nginx.resolve("www/big_1.raw"))) {
			for (int i = 0; i < 64; i++) {
				o.write(chunk);
			}
		}
		Path src = Files.createDirectories(work.resolve("src"));
		try (OutputStream o = Files.newOutputStream(src.resolve("small_1.raw"))) {
			for (int i = 0; i < 8; i++) {
				o.write(chunk);
			}
		}
		Result up = run(List.of("bash", base.resolve("itest/servers/nginx.sh").toString(), "start", nginx.toString()));
		assertEquals(0, up.rc(), "nginx.sh start: " + up);
		Path etc = Files.createDirectories(work.resolve("etc-psi"));
		Path ca = Files.createDirectories(work.resolve("ca.d"));
		Files.copy(nginx.resolve("pki/ca.crt"), ca.resolve("test.crt"), StandardCopyOption.REPLACE_EXISTING);
		try {
			Files.writeString(etc.resolve("psi.transport.https.cfg"), "caDirectory=" + ca + "\n");
			String port = up.out().replaceAll("(?s).*\\bPORT=([0-9]+).*", "$1").strip();
			drop(shadow(base.resolve("plugins/transport-https/target/psi.transport.https-0.1.0-SNAPSHOT.jar"), 50), "https-shadow.jar");
			awaitPlugins("the shadow https transport is active", o -> line(o, "psi.transport.https.shadow").contains("active"));
			java.util.concurrent.CompletableFuture<Result> slow = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
				try {
					return psi("pull", "--verify=no", "https://127.0.0.1:" + port + "/slow/big_1.raw");
				} catch (Exception e) {
					throw new IllegalStateException(e);
				}
			});
			Path pool = root.resolve("var/lib/portables");
			await("the https pull is under way", () -> {
				try (var l = Files.list(pool)) {
					// the download's staging file: /var/lib/portables/.psi-KEY.partial
					return l.anyMatch(p -> p.getFileName().toString().endsWith(".partial") && sizeOf(p) > (2 << 20));
				} catch (java.nio.file.NoSuchFileException e) {
					return false;
				}
			});
			Files.delete(folder.resolve("https-shadow.jar"));
			Result file = psi("pull", "file://" + src.resolve("small_1.raw"));
			Result gone = slow.get(60, TimeUnit.SECONDS);
			assertEquals(0, file.rc(), "the file: pull finishes: " + file);
			assertTrue(Files.isRegularFile(pool.resolve("small_1.raw")), file.toString());
			assertNotEquals(0, gone.rc(), gone + "\ndaemon log:\n" + Files.readString(daemonLog));
			String last = gone.err().strip().lines().reduce((a, b) -> b).orElse("");
			assertTrue(last.contains("transport psi.transport.https.internal.HttpsTransport (bundle psi.transport.https.shadow 0.1.0")
				&& last.contains("was removed while"), gone.toString());
			assertFalse(Files.exists(pool.resolve("big_1.raw")), "nothing half placed");
		} finally {
			Files.deleteIfExists(etc.resolve("psi.transport.https.cfg"));
			run(List.of("bash", base.resolve("itest/servers/nginx.sh").toString(), "stop", nginx.toString()));
		}
	}

	static long sizeOf(Path p) {
		try {
			if (Files.isDirectory(p)) {
				try (var w = Files.walk(p)) {
					return w.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
				}
			}
			return Files.size(p);
		} catch (IOException e) {
			return 0;
		}
	}

	/** A copy of a plugin jar under another symbolic name, its components registered with this service.ranking. */
	static Path shadow(Path jar, int ranking) throws IOException {
		Path out = work.resolve("shadow-" + ranking + ".jar");
		try (JarFile in = new JarFile(jar.toFile()); JarOutputStream o = new JarOutputStream(Files.newOutputStream(out))) {
			Manifest m = new Manifest(in.getManifest());
			String bsn = m.getMainAttributes().getValue("Bundle-SymbolicName");
			m.getMainAttributes().putValue("Bundle-SymbolicName", bsn + ".shadow");
			o.putNextEntry(new JarEntry(JarFile.MANIFEST_NAME));
			m.write(o);
			for (Enumeration<JarEntry> e = in.entries(); e.hasMoreElements();) {
				JarEntry je = e.nextElement();
				if (je.getName().equals(JarFile.MANIFEST_NAME)) {
					continue;
				}
				byte[] b = in.getInputStream(je).readAllBytes();
				if (je.getName().startsWith("OSGI-INF/") && new String(b, StandardCharsets.UTF_8).contains("<scr:component")) {
					String x = new String(b, StandardCharsets.UTF_8);
					int at = x.indexOf('>', x.indexOf("<scr:component")) + 1;
					x = x.substring(0, at) + "\n  <property name=\"service.ranking\" type=\"Integer\" value=\"" + ranking + "\"/>" + x.substring(at);
					b = x.getBytes(StandardCharsets.UTF_8);
				}
				o.putNextEntry(new JarEntry(je.getName()));
				o.write(b);
			}
		}
		return out;
	}
}
