package psi.itest.box;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway real systemd (itest/box/testbox.sh) for one test class: boots
 * on {@link #boot}, runs commands inside, and is stopped, cleaned and
 * unlocked by {@link #close()} (or by a shutdown hook if the JVM ends
 * first). Only one box runs on a machine at a time: the same lock file as
 * PortablectlParityIT ({@value #LOCK_NAME} under /run/lock), a POSIX lock
 * held while the box lives.
 * <p>
 * Needs root, systemd 252 and util-linux; without them {@link #boot} fails
 * (a system test is never skipped).
 */
public final class TestBox implements AutoCloseable {

	public static final String LOCK_NAME = "psi-testbox.lock";
	static final Duration LOCK_WAIT = Duration.ofMinutes(10);

	/** What a command did: exit status, standard output and error. */
	public record Result(int rc, String out, String err) {
		@Override
		public String toString() {
			return "exit " + rc + (out.isEmpty() ? "" : "\nstdout: " + out) + (err.isEmpty() ? "" : "\nstderr: " + err);
		}
	}

	private final Path basedir;
	private final Path testbox;
	private final Path state;
	private final String pid;
	private final FileChannel lockChannel;
	private final FileLock lock;
	private final Thread hook;
	private boolean closed;

	private TestBox(Path basedir, Path state, String pid, FileChannel lockChannel, FileLock lock, Thread hook) {
		this.basedir = basedir;
		this.testbox = basedir.resolve("itest/box/testbox.sh");
		this.state = state;
		this.pid = pid;
		this.lockChannel = lockChannel;
		this.lock = lock;
		this.hook = hook;
	}

	/** @return the reactor root: the system property psi.basedir (failsafe sets it) */
	public static Path basedir() {
		String bd = System.getProperty("psi.basedir");
		if (bd == null || bd.isBlank()) {
			fail("system property psi.basedir (the reactor root) is not set; run the test through mvn verify");
		}
		return Path.of(bd).toAbsolutePath().normalize();
	}

	/**
	 * Takes the box lock (waiting while another box runs), then boots a box.
	 *
	 * @param label a name for the state directory
	 */
	public static TestBox boot(String label) throws Exception {
		Path basedir = basedir();
		checkPreconditions(basedir);
		Path lockFile = Path.of(Files.isDirectory(Path.of("/run/lock")) ? "/run/lock" : "/tmp", LOCK_NAME);
		FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
		FileLock lock;
		long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
		boolean said = false;
		while ((lock = channel.tryLock()) == null) {
			if (!said) {
				System.out.println("[" + label + "] waiting for " + lockFile + ": another box is running");
				said = true;
			}
			if (System.nanoTime() > deadline) {
				channel.close();
				fail("another test box kept " + lockFile + " locked for " + LOCK_WAIT.toMinutes() + " minutes");
			}
			Thread.sleep(500);
		}
		Path state = Files.createTempDirectory("psi-" + label + "-").resolve("box");
		Path testbox = basedir.resolve("itest/box/testbox.sh");
		Thread hook = new Thread(() -> run(List.of("bash", testbox.toString(), "clean", state.toString()), Duration.ofMinutes(1)),
				"psi-testbox-clean");
		Runtime.getRuntime().addShutdownHook(hook);
		long t0 = System.nanoTime();
		Result up = run(List.of("bash", testbox.toString(), "start", state.toString()), Duration.ofSeconds(120));
		if (up.rc != 0) {
			run(List.of("bash", testbox.toString(), "clean", state.toString()), Duration.ofMinutes(1));
			lock.release();
			channel.close();
			fail("the test box did not boot (testbox.sh start): " + up);
		}
		String pid = up.out.strip();
		System.out.printf("[%s] box up (systemd pid %s) in %d ms, state %s%n", label, pid,
				(System.nanoTime() - t0) / 1_000_000, state);
		return new TestBox(basedir, state, pid, channel, lock, hook);
	}

	/** @return the box's systemd as the host sees it */
	public String pid() {
		return pid;
	}

	/** @return the box's root seen from the host ({@code /proc/PID/root}): files written there appear inside at once */
	public Path root() {
		return Path.of("/proc", pid, "root");
	}

	/** @return a path inside the box, reached from the host */
	public Path inside(String absolutePath) {
		return root().resolve(absolutePath.substring(1));
	}

	/** @return the command line that runs {@code cmd} inside the box */
	public List<String> command(List<String> cmd) {
		List<String> c = new ArrayList<>(List.of("bash", testbox.toString(), "exec", state.toString()));
		c.addAll(cmd);
		return c;
	}

	/** Runs a command inside the box, at most {@code timeout}. */
	public Result exec(Duration timeout, List<String> cmd) {
		return run(command(cmd), timeout);
	}

	public Result exec(String... cmd) {
		return exec(Duration.ofSeconds(120), List.of(cmd));
	}

	/** Deletes a directory tree of the host (a test's scratch directory), if it exists. */
	public static void deleteTree(Path dir) throws IOException {
		if (dir == null || !Files.exists(dir)) {
			return;
		}
		try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
			for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList())
				Files.delete(p);
		}
	}

	/** Where {@link #installPsi()} puts psi in the box. */
	public static final String PSI = "/opt/psi/psi";

	/**
	 * Copies the built psi (distribution/psi, target/psi.jar, target/psi-client, etc/) into the
	 * box's /opt/psi; fails the test when it is not built.
	 */
	public void installPsi() throws IOException {
		Path jar = basedir.resolve("distribution/target/psi.jar");
		if (!Files.isRegularFile(jar))
			fail(jar + " missing: build first (mvn -B -o -q install -DskipTests)");
		Path opt = inside("/opt/psi");
		Files.createDirectories(opt);
		Files.copy(jar, opt.resolve("psi.jar"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
		Files.copy(basedir.resolve("distribution/psi"), opt.resolve("psi"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
		Files.setPosixFilePermissions(opt.resolve("psi"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
		// the thin client: with no daemon in the box it hands every command back to the launcher script
		Path client = basedir.resolve("distribution/target/psi-client");
		if (!Files.isRegularFile(client))
			fail(client + " missing: build first (mvn -B -o -q install -DskipTests)");
		Files.copy(client, opt.resolve("psi-client"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
		Files.setPosixFilePermissions(opt.resolve("psi-client"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
		Path etc = basedir.resolve("distribution/etc");
		if (Files.isDirectory(etc)) {
			Result r = run(List.of("cp", "-a", etc.toString(), opt.toString() + "/"), Duration.ofMinutes(1));
			if (r.rc != 0)
				fail("cannot copy " + etc + " into the box: " + r);
		}
	}

	/** Runs psi in the box (as {@link #installPsi()} put it there), printing the command and its result under {@code label}. */
	public Result psi(String label, Duration timeout, String... args) {
		List<String> c = new ArrayList<>(List.of("env", "SYSTEMD_COLORS=0", "PSI_JAR=", PSI));
		c.addAll(List.of(args));
		Result r = exec(timeout, c);
		System.out.println("[" + label + "] psi " + String.join(" ", args) + " -> " + r.toString().replace("\n", "\n      "));
		return r;
	}

	/** Runs a command on the host, at most {@code timeout}; standard input is empty. */
	public static Result run(List<String> cmd, Duration timeout) {
		try {
			return run(cmd, timeout, null);
		} catch (IOException e) {
			return new Result(-1, "", "cannot run " + cmd + ": " + e + "\n");
		}
	}

	/** Runs a command on the host with {@code input} as standard input. */
	public static Result run(List<String> cmd, Duration timeout, String input) throws IOException {
		ProcessBuilder pb = new ProcessBuilder(cmd);
		pb.environment().put("LANG", "C.UTF-8");
		pb.environment().put("SYSTEMD_PAGER", "");
		File in = File.createTempFile("psi-box-", ".in");
		File out = File.createTempFile("psi-box-", ".out");
		File err = File.createTempFile("psi-box-", ".err");
		try {
			Files.writeString(in.toPath(), input == null ? "" : input);
			pb.redirectInput(in).redirectOutput(out).redirectError(err);
			Process p = pb.start();
			if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
				p.descendants().forEach(ProcessHandle::destroyForcibly);
				p.destroyForcibly();
				p.waitFor(10, TimeUnit.SECONDS);
				return new Result(-1, Files.readString(out.toPath()),
						Files.readString(err.toPath()) + "\ntimeout (" + timeout.toSeconds() + " s): " + cmd);
			}
			return new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
					Files.readString(err.toPath(), StandardCharsets.UTF_8));
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException("interrupted", e);
		} finally {
			in.delete();
			out.delete();
			err.delete();
		}
	}

	/** Stops the box, removes its state, releases the lock; fails if something was left mounted. */
	@Override
	public synchronized void close() throws IOException {
		if (closed) {
			return;
		}
		closed = true;
		Result r = run(List.of("bash", testbox.toString(), "clean", state.toString()), Duration.ofMinutes(1));
		try {
			Runtime.getRuntime().removeShutdownHook(hook);
		} catch (IllegalStateException e) {
			// shutting down already
		}
		lock.release();
		lockChannel.close();
		if (r.rc != 0) {
			fail("box clean-up incomplete (testbox.sh clean): " + r);
		}
		// what is left: boot.log and the like (clean refuses while anything is mounted under it)
		try (Stream<Path> s = Files.walk(state.getParent())) {
			for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
				Files.delete(p);
			}
		}
	}

	static void checkPreconditions(Path basedir) throws IOException {
		List<String> missing = new ArrayList<>();
		String uid = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
				.map(l -> l.split("\\s+")[2]).findFirst().orElse("?");
		if (!uid.equals("0")) {
			missing.add("must run as root (effective uid is " + uid + "): it boots systemd in namespaces");
		}
		if (!Files.isRegularFile(basedir.resolve("itest/box/testbox.sh"))) {
			missing.add(basedir.resolve("itest/box/testbox.sh") + " missing");
		}
		if (!Files.isExecutable(Path.of("/lib/systemd/systemd"))) {
			missing.add("/lib/systemd/systemd missing (systemd 252)");
		}
		for (String tool : List.of("nsenter", "unshare", "setsid")) {
			if (List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin").stream().noneMatch(d -> Files.isExecutable(Path.of(d, tool)))) {
				missing.add(tool + " not found (util-linux)");
			}
		}
		if (!missing.isEmpty()) {
			fail("the test box cannot run (a system test must not be skipped; fix the machine):\n  - "
					+ String.join("\n  - ", missing));
		}
	}

	@Override
	public String toString() {
		return "test box " + state + " (systemd pid " + pid + ", reactor " + basedir + ")";
	}
}
