package psi.itest.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import psi.itest.RootSnapshot;

/**
 * The hostile-input corpus ({@code src/test/resources/hostile/cases.txt}):
 * every case runs the real launcher ({@code distribution/psi}) under a
 * scratch root and must get psi's expected answer: the exit status; for a
 * refusal exactly one line on standard error, matching the case, and the
 * root unchanged byte for byte; never a stack trace, a raw control
 * character on the terminal, a change outside the root, or a hang.
 */
class HostileInputIT {

	private static final long TIMEOUT_SECONDS = 60;
	private static final java.util.regex.Pattern NOTICE = java.util.regex.Pattern
		.compile("\\(Matching unit files with prefix(es)? .*\\)|Fetching [a-z]+:.*|Placed /.*");

	@TempDir
	Path scratch;

	/** One case of the corpus. */
	record Case(String name, String why, List<String> setup, String run, int exit, String stderr, String stdout, boolean changes) {
	}

	/** The psi daemon the cases run through the second time, serving a root of its own (root may name any --root). */
	static Process daemon;
	static Path daemonDir;

	@org.junit.jupiter.api.AfterAll
	static void stopDaemon() throws Exception {
		if (daemon != null) {
			new ProcessBuilder("kill", "-TERM", Long.toString(daemon.pid())).start().waitFor();
			if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
				daemon.destroyForcibly();
				fail("psi daemon did not stop on SIGTERM");
			}
		}
		if (daemonDir != null) {
			psi.itest.box.TestBox.deleteTree(daemonDir);
		}
	}

	/** Every case twice: in-process (no daemon answers: the client runs it itself), then through a psi daemon. */
	@TestFactory
	Stream<DynamicTest> everyCase() throws Exception {
		Path base = Paths.get(System.getProperty("psi.basedir", "..")).toAbsolutePath().normalize();
		Path psi = base.resolve("distribution/psi");
		assertTrue(Files.isRegularFile(base.resolve("distribution/target/psi.jar")), "build psi first: mvn -B install -DskipTests");
		Path dir = base.resolve("itest/src/test/resources/hostile");
		String prelude = Files.readString(dir.resolve("prelude.sh"));
		List<Case> cases = parse(Files.readAllLines(dir.resolve("cases.txt")));
		assertTrue(cases.size() >= 30, "the corpus holds " + cases.size() + " cases");
		daemonDir = Files.createTempDirectory("psi-hostile-daemon");
		Path log = daemonDir.resolve("daemon.log");
		daemon = new ProcessBuilder(psi.toString(), "daemon", "--root", Files.createDirectories(daemonDir.resolve("root")).toString())
			.redirectErrorStream(true).redirectOutput(log.toFile()).start();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		while (!Files.readString(log).contains("listening on")) {
			assertTrue(daemon.isAlive() && System.nanoTime() < deadline, "psi daemon did not start: " + Files.readString(log));
			Thread.sleep(50);
		}
		String socket = daemonDir.resolve("root/run/psi/psi.sock").toString();
		return Stream.concat(
			cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> run(c, psi, prelude, daemonDir.resolve("nothing-listens-here.sock").toString()))),
			cases.stream().map(c -> DynamicTest.dynamicTest("through the daemon: " + c.name(), () -> run(c, psi, prelude, socket))));
	}

	static List<Case> parse(List<String> lines) {
		List<Case> out = new ArrayList<>();
		Map<String, List<String>> f = null;
		for (String line : lines) {
			if (line.startsWith("#") || line.isBlank()) {
				continue;
			}
			int colon = line.indexOf(':');
			if (colon < 0) {
				throw new IllegalArgumentException("cases.txt: not KEY: VALUE: " + line);
			}
			String key = line.substring(0, colon);
			String value = line.substring(colon + 1).strip();
			if (key.equals("case")) {
				if (f != null) {
					out.add(build(f));
				}
				f = new TreeMap<>();
			}
			if (f == null) {
				throw new IllegalArgumentException("cases.txt: " + key + " before the first case");
			}
			f.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
		}
		if (f != null) {
			out.add(build(f));
		}
		return out;
	}

	private static Case build(Map<String, List<String>> f) {
		String name = one(f, "case");
		int exit = Integer.parseInt(one(f, "exit"));
		return new Case(name, f.containsKey("why") ? one(f, "why") : "", f.getOrDefault("setup", List.of()), one(f, "run"), exit,
			f.containsKey("stderr") ? one(f, "stderr") : "", f.containsKey("stdout") ? one(f, "stdout") : null,
			f.containsKey("changes") && one(f, "changes").equals("any"));
	}

	private static String one(Map<String, List<String>> f, String key) {
		List<String> v = f.get(key);
		if (v == null || v.size() != 1) {
			throw new IllegalArgumentException("cases.txt: case " + f.get("case") + " needs one " + key);
		}
		return v.get(0);
	}

	private void run(Case c, Path psi, String prelude, String socket) throws Exception {
		Path dir = scratch.resolve((socket.endsWith("nothing-listens-here.sock") ? "" : "daemon-") + c.name());
		Path root = dir.resolve("root");
		Path repo = dir.resolve("repo");
		Path outside = dir.resolve("outside");
		Files.createDirectories(root);
		Files.createDirectories(repo);
		Files.createDirectories(outside);
		Files.writeString(outside.resolve("sentinel"), "outside the root\n");
		Map<String, String> env = Map.of("ROOT", root.toString(), "REPO", repo.toString(), "OUT", outside.toString(), "CASE",
			dir.toString(), "PSI", psi.toString(), "PSI_SOCKET", socket);
		for (String s : c.setup()) {
			Result r = sh(prelude + "\n" + s, env);
			assertEquals(0, r.exit(), c.name() + ": setup failed: " + s + "\n" + r.stderr());
		}
		Map<String, String> rootBefore = snapshot(root);
		Map<String, String> outsideBefore = snapshot(outside);
		Result r = sh(prelude + "\nexec \"$PSI\" " + c.run(), env);
		String where = c.name() + " (" + c.why() + "): psi " + c.run() + "\nstdout: " + r.stdout() + "\nstderr: " + r.stderr();
		for (String out : List.of(r.stdout(), r.stderr())) {
			assertTrue(!out.contains("\tat ") && !out.contains("Exception"), "a stack trace or exception name: " + where);
			for (char ch : out.toCharArray()) {
				if (ch < 0x20 && ch != '\n' && ch != '\t' || ch == 0x7f) {
					fail("a raw control character \\x" + Integer.toHexString(ch) + " reaches the terminal: " + where);
				}
			}
		}
		assertEquals(c.exit(), r.exit(), "exit status: " + where);
		// notices and steps (portablectl's "(Matching unit files ...)", a pull's "Fetching URL") precede the answer
		List<String> errorLines = r.stderr().lines().filter(l -> !l.isBlank() && !NOTICE.matcher(l).matches()).toList();
		if (c.exit() != 0) {
			assertEquals(1, errorLines.size(), "a refusal is one line: " + where);
			assertTrue(errorLines.get(0).matches(c.stderr()), "the refusal does not match /" + c.stderr() + "/: " + where);
		} else if (!c.stderr().isEmpty()) {
			assertTrue(errorLines.stream().allMatch(l -> l.matches(c.stderr())), where);
		}
		if (c.stdout() != null) {
			assertTrue(java.util.regex.Pattern.compile(c.stdout(), java.util.regex.Pattern.DOTALL).matcher(r.stdout()).find(),
				"stdout does not hold /" + c.stdout() + "/: " + where);
		}
		if (!c.changes()) {
			assertEquals(rootBefore, snapshot(root), "the root changed: " + where);
		}
		assertEquals(outsideBefore, snapshot(outside), "a change outside the root: " + where);
	}

	record Result(int exit, String stdout, String stderr) {
	}

	private static Result sh(String script, Map<String, String> env) throws Exception {
		ProcessBuilder pb = new ProcessBuilder("sh", "-c", script);
		pb.environment().putAll(env);
		Path out = Files.createTempFile("psi-hostile", ".out");
		Path err = Files.createTempFile("psi-hostile", ".err");
		try {
			Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
			if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
				p.descendants().forEach(ProcessHandle::destroyForcibly);
				p.destroyForcibly();
				fail("no answer in " + TIMEOUT_SECONDS + " s (a hang): " + script.lines().reduce((a, b) -> b).orElse(""));
			}
			return new Result(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1), Files.readString(err, StandardCharsets.ISO_8859_1));
		} finally {
			Files.deleteIfExists(out);
			Files.deleteIfExists(err);
		}
	}

	/**
	 * Path → kind, mode and content hash or link target of everything under
	 * {@code dir} but psi's lock and its journal's empty directory.
	 */
	private static Map<String, String> snapshot(Path dir) throws IOException, java.security.NoSuchAlgorithmException {
		return RootSnapshot.of(dir, (rel, p) -> rel.equals("run/psi") || rel.startsWith("run/psi/")
			|| rel.equals("run") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
			|| (rel.equals("var/lib/psi") || rel.equals("var/lib/psi/journal")) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
	}

}
