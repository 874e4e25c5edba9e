package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host lock across processes: several psi processes (each its own JVM,
 * as every {@code psi} command is) attach, detach and reattach the same and
 * different images under one root; afterwards every image is fully attached
 * or fully detached, nothing is left behind, and every command either
 * succeeded or failed with one line.
 */
class HostLockTest {

	static final int ROUNDS = 50;

	@TempDir
	Path root;

	void image(String name, String... units) throws IOException {
		Path img = root.resolve("var/lib/portables").resolve(name);
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		for (String u : units) {
			Files.writeString(img.resolve("usr/lib/systemd/system").resolve(u), "[Service]\nExecStart=/bin/true\n");
		}
	}

	@Test
	void twoProcessesOnTheSameImages() throws Exception {
		image("app_1", "app.service", "app.socket");
		image("app_2", "app.service", "app-web.service");
		run(List.of(List.of("app_1", "app_2"), List.of("app_2", "app_1")));
	}

	@Test
	void fourProcessesOnTheSameAndDifferentImages() throws Exception {
		image("app_1", "app.service", "app.socket");
		image("app_2", "app.service", "app-web.service");
		image("db_1", "db.service");
		image("log_1", "log.service", "log.timer");
		run(List.of(List.of("app_1", "app_2", "db_1"), List.of("app_2", "db_1"), List.of("log_1", "app_1"), List.of("log_1", "db_1")));
	}

	private void run(List<List<String>> workers) throws Exception {
		List<Process> processes = new ArrayList<>();
		String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		for (int i = 0; i < workers.size(); i++) {
			List<String> cmd = new ArrayList<>(List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
				System.getProperty("java.class.path"), HostLockWorker.class.getName(), root.toString(), Integer.toString(1000 + i),
				Integer.toString(ROUNDS)));
			cmd.addAll(workers.get(i));
			processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).start());
		}
		int ok = 0;
		int refused = 0;
		StringBuilder all = new StringBuilder();
		for (Process p : processes) {
			String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			all.append(out);
			assertTrue(p.waitFor(120, TimeUnit.SECONDS), "a worker hangs");
			assertEquals(0, p.exitValue(), out);
			List<String> lines = out.lines().toList();
			assertEquals(ROUNDS, lines.size(), out);
			for (String l : lines) {
				if (l.startsWith("ok ")) {
					ok++;
				} else if (l.startsWith("refused ")) {
					refused++;
					// the refusals the race allows: attached already, not attached
					assertTrue(l.contains("exists on the host already") || l.contains("Image not attached?"), l);
				} else {
					fail("unexpected line: " + l);
				}
			}
		}
		assertTrue(ok > workers.size() * ROUNDS / 4, "too few operations succeeded: " + ok + " of " + workers.size() * ROUNDS);
		System.out.println(getClass().getSimpleName() + ": " + workers.size() + " processes, " + workers.size() * ROUNDS
			+ " operations: " + ok + " succeeded, " + refused + " refused with one line");
		try {
			assertWhole();
		} catch (AssertionError e) {
			throw new AssertionError(e.getMessage() + "; the operations, in the order each process ran them:\n" + all, e);
		}
	}

	/** Every attached unit is whole (unit, both drop-ins, the image's link); no temporary or half-removed file anywhere. */
	private void assertWhole() throws IOException {
		Path attached = root.resolve("etc/systemd/system.attached");
		AtomicInteger units = new AtomicInteger();
		if (Files.isDirectory(attached)) {
			try (Stream<Path> s = Files.list(attached)) {
				for (Path p : s.toList()) {
					String n = p.getFileName().toString();
					if (n.endsWith(".d")) {
						assertTrue(Files.isRegularFile(attached.resolve(n.substring(0, n.length() - 2))), "a drop-in without its unit: " + n);
						continue;
					}
					units.incrementAndGet();
					Path conf = attached.resolve(n + ".d/20-portable.conf");
					assertTrue(Files.isRegularFile(conf), "a unit without its drop-in: " + n);
					if (n.endsWith(".service")) {
						assertTrue(Files.exists(attached.resolve(n + ".d/10-profile.conf")), "a service without its profile: " + n);
					}
					String marker = DropInWriter.parseMarker(Files.readAllLines(conf).get(0)).get(0);
					String file = DropInWriter.lastComponent(marker);
					assertTrue(Files.isSymbolicLink(root.resolve("etc/portables").resolve(file)), "no link for " + file);
					// every unit of that image is attached
					try (Stream<Path> u = Files.list(root.resolve("var/lib/portables").resolve(file).resolve("usr/lib/systemd/system"))) {
						for (Path unit : u.toList()) {
							assertTrue(Files.isRegularFile(attached.resolve(unit.getFileName())), file + " is half attached: "
								+ unit.getFileName() + " is missing");
						}
					}
				}
			}
		}
		try (Stream<Path> s = Files.walk(root)) {
			List<Path> left = s.filter(p -> p.getFileName().toString().startsWith(".#")).toList();
			assertEquals(List.of(), left, "left behind");
		}
		// the links in /etc/portables belong to attached images only
		Path links = root.resolve("etc/portables");
		if (Files.isDirectory(links)) {
			try (Stream<Path> s = Files.list(links)) {
				for (Path l : s.toList()) {
					assertTrue(Files.isSymbolicLink(l), l + " is not a link");
					assertFalse(new TestHost(new HostLayout(root), List.of(), List.of()).state(l.getFileName().toString()) == psi.api.dto.AttachState.DETACHED,
						"the link " + l + " outlived its image's units");
				}
			}
		}
		System.out.println(getClass().getSimpleName() + ": " + units + " units attached at the end, all whole");
	}

	@Test
	void threadsOfOneProcessQueueAndOneMayTakeItAgain() throws Exception {
		HostLayout layout = new HostLayout(root);
		List<String> said = new ArrayList<>();
		CountDownLatch held = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		Thread other = new Thread(() -> {
			try (HostLock.Held l = HostLock.take(layout, said::add)) {
				held.countDown();
				release.await();
			} catch (IOException | InterruptedException e) {
				throw new IllegalStateException(e);
			}
		});
		other.start();
		assertTrue(held.await(10, TimeUnit.SECONDS));
		Thread releaser = new Thread(() -> {
			try {
				Thread.sleep(HostLock.QUIET_MILLIS * 3);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
			release.countDown();
		});
		releaser.start();
		List<String> mine = new ArrayList<>();
		try (HostLock.Held l = HostLock.take(layout, mine::add); HostLock.Held again = HostLock.take(layout, mine::add)) {
			assertEquals(0, release.getCount(), "taken while the other thread held it");
		}
		assertEquals(1, mine.size(), "said once that it waits: " + mine);
		assertTrue(mine.get(0).startsWith("Waiting for another operation"), mine.get(0));
		other.join();
		assertTrue(Files.isRegularFile(root.resolve("run/psi/host.lock"), LinkOption.NOFOLLOW_LINKS));
	}
}
