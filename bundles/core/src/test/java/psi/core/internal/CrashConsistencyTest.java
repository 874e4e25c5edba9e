package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.dto.AttachRequestDTO;

/**
 * The crash-consistency harness: a psi process ({@link CrashWorker}) is
 * killed with SIGKILL at a random instant of an attach, detach, reattach,
 * remove, pull, purge, or a change of version (psi start of a newer one, psi
 * rollback: the reattach, the watch of the units, keeping it or going back), spread over the whole operation (from just before it
 * starts to just after it would end, as timed in a run that is not killed);
 * then the next psi command (a fresh engine's {@code list}) must find the
 * host exactly as before the operation or exactly as after it, byte for
 * byte, with no temporary file, nothing moved aside and no journal left.
 * A pull killed while fetching keeps its partial download (and what it was
 * writing of it) for the next pull of the URL to resume, as designed: the
 * next command after a killed pull is that pull, which must end exactly
 * after, with nothing left.
 * <p>
 * {@code -Dpsi.crash.runs=N} sets the number of kills (default 136: 17 of
 * each operation, 51 of upgrade, rollback and purge together, a short run
 * for every build); {@code itest/harness/crash-consistency.sh} runs a
 * long one and prints the counts.
 */
class CrashConsistencyTest {

	private static final List<String> OPS = List.of("attach", "detach", "reattach", "remove", "pull", "purge", "upgrade", "rollback");

	@TempDir
	Path scratch;

	/** A prepared host before an operation, and the states before and after it. */
	private record Case(Path template, Map<String, String> before, Map<String, String> after, long millis) {
	}

	@Test
	void aKillAtAnyInstantLeavesTheHostBeforeOrAfter() throws Exception {
		int runs = Integer.getInteger("psi.crash.runs", 136);
		long seed = Long.getLong("psi.crash.seed", System.nanoTime());
		Random random = new Random(seed);
		Map<String, Case> cases = new LinkedHashMap<>();
		for (String op : OPS) {
			cases.put(op, prepare(op));
		}
		Map<String, int[]> counts = new TreeMap<>();
		for (int i = 0; i < runs; i++) {
			String op = OPS.get(i % OPS.size());
			Case c = cases.get(op);
			Path root = scratch.resolve("run" + i);
			copy(c.template(), root);
			// anywhere from just before the operation to just after it would have ended
			long delayMicros = (long) (random.nextDouble() * c.millis() * 1200);
			boolean finished = runAndKill(root, op, i, delayMicros);
			boolean pending = Journal.pending(new HostLayout(root));
			boolean moving = Moving.any(new HostLayout(root));
			long partials = partials(root);
			// the next command: it recovers before it reads (and finishes a change of version whose psi died)
			CrashWorker.engine(root, op).list(null);
			Map<String, String> now = snapshot(root);
			String outcome;
			if (now.equals(c.before())) {
				outcome = "before";
			} else if (now.equals(c.after())) {
				outcome = "after";
			} else {
				fail("run " + i + " (seed " + seed + "): " + op + " killed after " + delayMicros + " µs left a state neither before nor after it:\n"
					+ diff(c.before(), now) + "\nagainst after:\n" + diff(c.after(), now));
				return;
			}
			if (op.equals("pull") && outcome.equals("before")) {
				// what a killed pull keeps is for the next pull of the URL: it resumes and leaves nothing
				CrashWorker.run(CrashWorker.engine(root), "pull");
				assertEquals(c.after(), snapshot(root), "run " + i + " (seed " + seed + "): the pull after the killed one");
				assertEquals(0, partials(root), "run " + i + " (seed " + seed + "): a partial after the next pull");
			}
			assertEquals(List.of(), leftovers(root), "run " + i + " (seed " + seed + "): leftovers");
			String key = op + " " + outcome + (pending ? ", recovered" : "") + (moving ? ", move finished by the next command" : "")
				+ (finished ? ", not killed" : "")
				+ (partials > 0 ? ", partial kept" : "");
			counts.computeIfAbsent(key, k -> new int[1])[0]++;
		}
		StringBuilder report = new StringBuilder("crash consistency: " + runs + " kills (seed " + seed + ")\n");
		counts.forEach((k, v) -> report.append(String.format("  %4d  %s%n", v[0], k)));
		System.out.print(report);
		// the kills must really land inside operations: some recoveries happened
		assertTrue(runs < 20 || counts.keySet().stream().anyMatch(k -> k.contains("recovered")), report.toString());
	}

	/** @return whether the process ended by itself before the kill */
	private static boolean runAndKill(Path root, String op, int seed, long delayMicros) throws Exception {
		Process p = worker(root, op, seed);
		try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
			String line = out.readLine();
			assertEquals("ready", line, "the worker did not start");
			TimeUnit.MICROSECONDS.sleep(delayMicros);
			boolean finished = !p.isAlive();
			p.destroyForcibly(); // SIGKILL
			p.waitFor();
			if (finished && p.exitValue() != 0) {
				fail(op + " failed by itself: " + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
			}
			return finished;
		}
	}

	private static Process worker(Path root, String op, long seed) throws IOException {
		String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		return new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
			CrashWorker.class.getName(), root.toString(), op, Long.toString(seed)).redirectErrorStream(true).start();
	}

	/** Sets up a host before {@code op}, runs it once unkilled (timing it), and keeps both states. */
	private Case prepare(String op) throws Exception {
		Path template = scratch.resolve("template-" + op);
		Files.createDirectories(template);
		image(template, "app_1", 12);
		image(template, "app_2", 10);
		Path profile = template.resolve("usr/lib/systemd/portable/profile/default/service.conf");
		Files.createDirectories(profile.getParent());
		Files.writeString(profile, "[Service]\nDynamicUser=yes\n");
		PortablesEngine engine = HostLockWorker.engine(template);
		switch (op) {
			case "upgrade" -> {
				AttachRequestDTO r = new AttachRequestDTO();
				r.image = "app_1";
				r.prefixes = List.of("app");
				engine.attach(r);
			}
			case "rollback" -> {
				AttachRequestDTO r = new AttachRequestDTO();
				r.image = "app_2";
				r.prefixes = List.of("app");
				engine.attach(r);
			}
			case "detach", "reattach" -> {
				AttachRequestDTO r = new AttachRequestDTO();
				r.image = "app_1";
				r.prefixes = List.of("app");
				engine.attach(r);
			}
			case "purge" -> {
				// an attached version whose service left its data, another version, psi's records and logs of it
				Files.writeString(template.resolve("var/lib/portables/app_1/usr/lib/systemd/system/app.service"),
					"[Service]\nExecStart=/bin/app\nStateDirectory=app\nCacheDirectory=app\n");
				AttachRequestDTO r = new AttachRequestDTO();
				r.image = "app_1";
				r.prefixes = List.of("app");
				engine.attach(r);
				Files.createDirectories(template.resolve("var/lib/private/app/data"));
				Files.writeString(template.resolve("var/lib/private/app/data/db"), "state");
				Files.createSymbolicLink(template.resolve("var/lib/app"), Path.of("private/app"));
				Files.createDirectories(template.resolve("var/cache/app"));
				Files.createDirectories(template.resolve("var/log/psi"));
				Files.writeString(template.resolve("var/log/psi/app.service.log"), "1\t2\tstdout\tapp_1\tapp\thello\n");
				Files.createDirectories(template.resolve("var/lib/psi/images"));
				Files.writeString(template.resolve("var/lib/psi/images/app_2.origin"), "source=https://h.test/app_2.raw\n");
			}
			case "remove" -> {
				Path origin = template.resolve("var/lib/psi/images/app_1.origin");
				Files.createDirectories(origin.getParent());
				Files.writeString(origin, "source=https://h.test/app_1.raw\n");
				image(template, "../../../srv/other_1", 2);
				Files.createDirectories(template.resolve("etc/portables"));
				Files.createSymbolicLink(template.resolve("etc/portables/other_1"), Path.of("/srv/other_1"));
			}
			default -> {
			}
		}
		Map<String, String> before = snapshot(template);
		Path good = scratch.resolve("good-" + op);
		copy(template, good);
		long start = 0;
		long end;
		Process p = worker(good, op, 0);
		try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
			assertEquals("ready", out.readLine());
			start = System.nanoTime();
			String done = out.readLine();
			end = System.nanoTime();
			assertEquals("done", done, op + " failed unkilled");
		}
		assertEquals(0, p.waitFor());
		Map<String, String> after = snapshot(good);
		assertTrue(!before.equals(after), op + " changed nothing");
		return new Case(template, before, after, Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - start)));
	}

	private static void image(Path root, String name, int units) throws IOException {
		Path img = root.resolve("var/lib/portables").resolve(name);
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		String base = Path.of(name).getFileName().toString().replaceAll("_.*", "");
		for (int i = 0; i < units; i++) {
			String u = i == 0 ? base + ".service" : i == 1 ? base + ".socket" : base + "-" + i + ".service";
			Files.writeString(img.resolve("usr/lib/systemd/system").resolve(u), "[Service]\nExecStart=/bin/" + u + "\n");
		}
	}

	private static void copy(Path from, Path to) throws IOException {
		try (Stream<Path> s = Files.walk(from)) {
			for (Path p : s.toList()) {
				Path t = to.resolve(from.relativize(p).toString());
				if (Files.isSymbolicLink(p)) {
					Files.createSymbolicLink(t, Files.readSymbolicLink(p));
				} else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
					Files.createDirectories(t);
				} else {
					Files.copy(p, t, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
				}
			}
		}
	}

	/**
	 * Path → kind, mode, content hash or link target, of everything under the
	 * root but the lock, the journal's (empty) directory and partial
	 * downloads; origin records without the time of their pull.
	 */
	static Map<String, String> snapshot(Path root) throws IOException {
		return FaultInjectionTest.snapshot(root, p -> {
			String rel = root.relativize(p).toString();
			String name = p.getFileName().toString();
			// FILE.attached says when an image was last attached: a record of what happened (a move undone attached it too), not the host's state
			return rel.startsWith("run/") || name.startsWith(".psi-") || name.startsWith(".#.psi-")
				|| rel.startsWith("var/lib/psi/images/") && name.endsWith(".attached");
		}, (p, content) -> {
			if (p.getFileName().toString().endsWith(".origin")) {
				String text = new String(content, StandardCharsets.ISO_8859_1).replaceAll("(?m)^(#.*|pulled=.*)\n", "");
				return FaultInjectionTest.sha256(text.getBytes(StandardCharsets.ISO_8859_1));
			}
			return FaultInjectionTest.sha256(content);
		});
	}

	/** @return temporary files, things moved aside and journal files anywhere under the root */
	private static List<String> leftovers(Path root) throws IOException {
		List<String> out = new ArrayList<>();
		try (Stream<Path> s = Files.walk(root)) {
			for (Path p : s.toList()) {
				String rel = root.relativize(p).toString();
				if (p.getFileName().toString().startsWith(".#") || rel.startsWith("var/lib/psi/journal/")) {
					out.add(rel);
				}
			}
		}
		return out;
	}

	private static long partials(Path root) throws IOException {
		Path pool = root.resolve("var/lib/portables");
		try (Stream<Path> s = Files.list(pool)) {
			return s.filter(p -> p.getFileName().toString().endsWith(".partial")).count();
		}
	}

	private static String diff(Map<String, String> expected, Map<String, String> actual) {
		StringBuilder sb = new StringBuilder();
		expected.forEach((k, v) -> {
			if (!v.equals(actual.get(k))) {
				sb.append("  - ").append(k).append(' ').append(v).append('\n');
			}
		});
		actual.forEach((k, v) -> {
			if (!v.equals(expected.get(k))) {
				sb.append("  + ").append(k).append(' ').append(v).append('\n');
			}
		});
		return sb.toString();
	}
}
