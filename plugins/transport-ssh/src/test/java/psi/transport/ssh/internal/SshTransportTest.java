package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.transport.Transport.Fetched;
import psi.spi.transport.Transport.Progress;
import psi.spi.transport.Transport.Request;

/**
 * The ssh transport against a real OpenSSH sshd on 127.0.0.1 and the real
 * ssh client ({@link Sshd}).
 */
class SshTransportTest {

	@TempDir
	static Path shared;

	static Sshd sshd;
	static Path files;
	static SshTransport transport;

	@TempDir
	Path tmp;

	@BeforeAll
	static void startSshd() throws Exception {
		Sshd.requireInstalled();
		sshd = Sshd.start(shared.resolve("sshd"));
		files = Files.createDirectories(shared.resolve("files"));
		transport = transport(sshd.config(), Map.of());
	}

	@AfterAll
	static void stopSshd() throws Exception {
		if (sshd != null) {
			sshd.close();
			assertFalse(ProcessHandle.of(sshd.pid).map(ProcessHandle::isAlive).orElse(false), "sshd still runs");
		}
	}

	@AfterEach
	void noSshLeft() {
		List<String> left = ProcessHandle.current().children().filter(ProcessHandle::isAlive)
			.map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList();
		assertEquals(List.of(), left, "processes the transport left running");
	}

	static SshTransport transport(Path config, Map<String, String> environment) {
		return new SshTransport(new SshCommand("ssh", config.toString(), 10), environment, SshTransport.CHUNK, SshTransport.WINDOW);
	}

	/** A file of random bytes under the served directory. */
	static Path source(String name, int size) throws IOException {
		byte[] b = new byte[size];
		new Random(name.hashCode()).nextBytes(b);
		Path p = files.resolve(name);
		Files.createDirectories(p.getParent());
		Files.write(p, b);
		return p;
	}

	static URI url(String authority, Path path) {
		try {
			return new URI("ssh", authority, path.toString(), null, null);
		} catch (URISyntaxException e) {
			throw new IllegalArgumentException(e);
		}
	}

	static URI url(Path path) {
		return url("psitest", path);
	}

	static String sha256(Path p) throws Exception {
		return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
	}

	static void assertOneLine(Exception e, String... parts) {
		String m = e.getMessage();
		assertFalse(m.contains("\n") || m.contains("\r"), () -> "not one line: " + m);
		for (String part : parts) {
			assertTrue(m.contains(part), () -> "'" + m + "' does not name '" + part + "'");
		}
	}

	/** Records what the transport reports; {@code onUpdate} runs on each update. */
	static final class Recorder implements Progress {
		long total = -2;
		String validator;
		long resumedFrom = -1;
		int starts;
		final List<Long> updates = new ArrayList<>();
		LongConsumer onUpdate = bytes -> {
		};

		@Override
		public void started(long total, String validator, long resumedFrom) {
			starts++;
			this.total = total;
			this.validator = validator;
			this.resumedFrom = resumedFrom;
		}

		@Override
		public void update(long bytes, long total) {
			assertEquals(this.total, total);
			updates.add(bytes);
			onUpdate.accept(bytes);
		}
	}

	@Test
	void fetchesAFileWithItsHashSizeAndProgress() throws Exception {
		Path src = source("small.raw", 3 * 1024 * 1024 + 17);
		Path target = tmp.resolve("small.raw");
		Recorder progress = new Recorder();
		Fetched f = transport.fetch(new Request(url(src), target, 1L << 30), progress);
		assertEquals(Files.size(src), f.size());
		assertEquals(sha256(src), f.sha256());
		assertFalse(f.unchanged());
		assertEquals(-1, Files.mismatch(src, target));
		long mtime = Files.getLastModifiedTime(src).to(TimeUnit.SECONDS);
		assertEquals(Files.size(src) + "-" + mtime, f.validator());
		assertEquals(1, progress.starts);
		assertEquals(Files.size(src), progress.total);
		assertEquals(f.validator(), progress.validator);
		assertEquals(0, progress.resumedFrom);
		assertFalse(progress.updates.isEmpty());
		assertEquals(Files.size(src), progress.updates.get(progress.updates.size() - 1));
		for (int i = 1; i < progress.updates.size(); i++) {
			assertTrue(progress.updates.get(i) > progress.updates.get(i - 1), "updates grow");
		}
	}

	@Test
	void fetchesALargeFileThroughThePipeline() throws Exception {
		// more than 64 READs of the largest size are outstanding at once
		Path src = source("large.raw", 40 * 1024 * 1024 + 4097);
		Path target = tmp.resolve("large.raw");
		Fetched f = transport.fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE);
		assertEquals(sha256(src), f.sha256());
		assertEquals(-1, Files.mismatch(src, target));
	}

	@Test
	void fetchesThroughSmallReadsToo() throws Exception {
		// the size OpenSSH's sftp uses without limits@openssh.com, ending on a partial read
		Path src = source("small-reads.raw", 5 * 1024 * 1024 + 1);
		Path target = tmp.resolve("small-reads.raw");
		SshTransport t = new SshTransport(new SshCommand("ssh", sshd.config().toString(), 10), Map.of(), 32 * 1024, 16);
		Fetched f = t.fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE);
		assertEquals(sha256(src), f.sha256());
		assertEquals(-1, Files.mismatch(src, target));
	}

	@Test
	void fetchesAnEmptyFile() throws Exception {
		Path src = source("empty.raw", 0);
		Path target = tmp.resolve("empty.raw");
		Fetched f = transport.fetch(new Request(url(src), target, 10), Progress.NONE);
		assertEquals(0, f.size());
		assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", f.sha256());
		assertEquals(0, Files.size(target));
	}

	@Test
	void servesSftpUrlsToo() throws Exception {
		Path src = source("sftp.raw", 100_000);
		Path target = tmp.resolve("sftp.raw");
		Fetched f = transport.fetch(new Request(URI.create("sftp://psitest" + src), target, Long.MAX_VALUE), Progress.NONE);
		assertEquals(sha256(src), f.sha256());
	}

	@Test
	void aMissingFileIsNoSuchFileNamingTheUrl() throws Exception {
		Path target = tmp.resolve("t.raw");
		URI u = url(files.resolve("no-such.raw"));
		NoSuchFileException e = assertThrows(NoSuchFileException.class,
			() -> transport.fetch(new Request(u, target, Long.MAX_VALUE), Progress.NONE));
		assertEquals(u.toString(), e.getMessage());
		assertFalse(Files.exists(target));
		URI home = URI.create("ssh://psitest/~/no-such.raw");
		e = assertThrows(NoSuchFileException.class, () -> transport.fetch(new Request(home, target, Long.MAX_VALUE), Progress.NONE));
		assertEquals(home.toString(), e.getMessage());
		assertFalse(Files.exists(target));
	}

	@Test
	void aDirectoryIsRefused() throws Exception {
		Path target = tmp.resolve("t.raw");
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(url(files), target, Long.MAX_VALUE), Progress.NONE));
		assertOneLine(e, url(files).toString(), "not a regular file");
		assertFalse(Files.exists(target));
	}

	@Test
	void aFifoIsRefusedWithoutOpeningIt() throws Exception {
		Path fifo = files.resolve("fifo.raw");
		Files.deleteIfExists(fifo);
		assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
		Path target = tmp.resolve("t.raw");
		// the server's open(2) of a FIFO without a writer would never return
		IOException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(IOException.class,
			() -> transport.fetch(new Request(url(fifo), target, Long.MAX_VALUE), Progress.NONE)));
		assertOneLine(e, url(fifo) + ": not a regular file");
		assertFalse(Files.exists(target));
	}

	@Test
	void permissionDeniedIsOneLine() throws Exception {
		// the second port's SFTP server refuses every OPEN: root is denied nothing by file modes
		Path src = source("denied.raw", 1000);
		Path target = tmp.resolve("t.raw");
		URI u = url("psitest:" + sshd.deniedPort, src);
		IOException e = assertThrows(IOException.class, () -> transport.fetch(new Request(u, target, Long.MAX_VALUE), Progress.NONE));
		assertEquals(u + ": permission denied", e.getMessage());
		assertFalse(Files.exists(target));
	}

	@Test
	void anUnknownHostKeyIsRefused() throws Exception {
		Path empty = Files.writeString(sshd.dir.resolve("known_hosts.empty"), "");
		Path config = sshd.configWith("ssh_config.unknown", "UserKnownHostsFile " + sshd.dir.resolve("known_hosts"),
			"UserKnownHostsFile " + empty);
		Path src = source("hostkey.raw", 1000);
		Path target = tmp.resolve("t.raw");
		IOException e = assertThrows(IOException.class,
			() -> transport(config, Map.of()).fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE));
		assertOneLine(e, url(src) + ": Host key verification failed", "[127.0.0.1]:" + sshd.port);
		assertFalse(Files.exists(target));
		assertEquals("", Files.readString(empty), "ssh must not have learned the key");
	}

	@Test
	void aChangedHostKeyIsRefused() throws Exception {
		Path other = sshd.dir.resolve("known_hosts.other");
		Path config = sshd.configWith("ssh_config.changed", "UserKnownHostsFile " + sshd.dir.resolve("known_hosts"),
			"UserKnownHostsFile " + other);
		Path src = source("hostkey.raw", 1000);
		Path target = Files.writeString(tmp.resolve("t.raw"), "old");
		IOException e = assertThrows(IOException.class,
			() -> transport(config, Map.of()).fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE));
		assertOneLine(e, url(src) + ": REMOTE HOST IDENTIFICATION HAS CHANGED", "host key for [127.0.0.1]:" + sshd.port, other.toString());
		assertEquals("old", Files.readString(target));
	}

	@Test
	void resumesAnInterruptedFetch() throws Exception {
		Path src = source("resume.raw", 32 * 1024 * 1024 + 5);
		Path target = tmp.resolve("resume.raw");
		Recorder first = new Recorder();
		first.onUpdate = bytes -> {
			if (bytes >= 3 * 1024 * 1024) {
				throw new IllegalStateException("interrupted on purpose");
			}
		};
		IllegalStateException stop = assertThrows(IllegalStateException.class,
			() -> transport.fetch(new Request(url(src), target, Long.MAX_VALUE), first));
		assertEquals("interrupted on purpose", stop.getMessage());
		long kept = Files.size(target);
		assertTrue(kept >= 3 * 1024 * 1024 && kept < Files.size(src), "kept " + kept);
		assertEquals(-1, Files.mismatch(target, Files.write(tmp.resolve("prefix"), Arrays.copyOf(Files.readAllBytes(src), (int) kept))));

		Recorder second = new Recorder();
		Fetched f = transport.fetch(new Request(url(src), target, Long.MAX_VALUE, null, first.validator), second);
		assertEquals(kept, second.resumedFrom);
		assertEquals(Files.size(src), second.total);
		assertTrue(second.updates.get(0) > kept);
		assertEquals(sha256(src), f.sha256(), "the hash covers the resumed bytes");
		assertEquals(-1, Files.mismatch(src, target));
	}

	@Test
	void aConnectionLostKeepsTheBytesForResuming() throws Exception {
		Path src = source("lost.raw", 32 * 1024 * 1024);
		Path target = tmp.resolve("lost.raw");
		Recorder progress = new Recorder();
		progress.onUpdate = bytes -> {
			if (progress.updates.size() == 1) {
				ProcessHandle.current().children().forEach(ProcessHandle::destroyForcibly);
			}
		};
		IOException e = assertThrows(IOException.class, () -> transport.fetch(new Request(url(src), target, Long.MAX_VALUE), progress));
		assertOneLine(e, url(src) + ": the connection ended: ssh was ended by signal 9");
		long kept = Files.size(target);
		assertTrue(kept > 0 && kept < Files.size(src), "kept " + kept);
		Recorder again = new Recorder();
		Fetched f = transport.fetch(new Request(url(src), target, Long.MAX_VALUE, null, progress.validator), again);
		assertEquals(kept, again.resumedFrom);
		assertEquals(sha256(src), f.sha256());
	}

	@Test
	void startsOverWhenTheSourceChanged() throws Exception {
		Path src = source("stale.raw", 2 * 1024 * 1024);
		Path target = Files.write(tmp.resolve("stale.raw"), new byte[1000]);
		Recorder progress = new Recorder();
		String stale = Files.size(src) + "-1";
		Fetched f = transport.fetch(new Request(url(src), target, Long.MAX_VALUE, null, stale), progress);
		assertEquals(0, progress.resumedFrom);
		assertEquals(sha256(src), f.sha256());
		assertEquals(-1, Files.mismatch(src, target));
	}

	@Test
	void anUnchangedSourceWritesNothing() throws Exception {
		Path src = source("unchanged.raw", 500_000);
		Fetched first = transport.fetch(new Request(url(src), tmp.resolve("first.raw"), Long.MAX_VALUE), Progress.NONE);
		Path target = tmp.resolve("second.raw");
		Recorder progress = new Recorder();
		Fetched again = transport.fetch(new Request(url(src), target, Long.MAX_VALUE, first.validator(), null), progress);
		assertEquals(new Fetched(first.size(), null, true, first.validator()), again);
		assertFalse(Files.exists(target));
		assertEquals(0, progress.starts);

		Files.setLastModifiedTime(src, FileTime.fromMillis(Files.getLastModifiedTime(src).toMillis() - 5000));
		Fetched changed = transport.fetch(new Request(url(src), target, Long.MAX_VALUE, first.validator(), null), Progress.NONE);
		assertFalse(changed.unchanged());
		assertNotEquals(first.validator(), changed.validator());
		assertEquals(first.sha256(), changed.sha256());
	}

	@Test
	void aFileLargerThanAcceptedIsRefusedBeforeWriting() throws Exception {
		Path src = source("big.raw", 1024 * 1024);
		Path target = tmp.resolve("big.raw");
		Recorder progress = new Recorder();
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(url(src), target, 1024 * 1024 - 1), progress));
		assertOneLine(e, url(src).toString(), "1048576 bytes, more than the 1048575 accepted");
		assertFalse(Files.exists(target));
		assertEquals(0, progress.starts);

		Files.writeString(target, "earlier");
		assertThrows(IOException.class, () -> transport.fetch(new Request(url(src), target, 1000), Progress.NONE));
		assertEquals("earlier", Files.readString(target));
	}

	@Test
	void aFileGrowingWhileFetchedIsRefused() throws Exception {
		// larger than 64 READs of the largest size, so the check at the end is asked for after the append
		Path src = source("growing.raw", 32 * 1024 * 1024);
		long size = Files.size(src);
		Path target = tmp.resolve("growing.raw");
		Recorder progress = new Recorder();
		progress.onUpdate = bytes -> {
			if (progress.updates.size() == 1) {
				try {
					Files.write(src, new byte[] { 1, 2, 3 }, StandardOpenOption.APPEND);
				} catch (IOException e) {
					throw new UncheckedIOException(e);
				}
			}
		};
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(url(src), target, Long.MAX_VALUE), progress));
		assertEquals(url(src) + ": the file grew beyond the " + size + " bytes announced", e.getMessage());
		assertFalse(Files.exists(target), "a target this fetch created is removed");

		// a target that was there (an interrupted fetch's start) is cut back to what was kept
		Fetched whole = transport.fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE);
		Files.write(target, Arrays.copyOf(Files.readAllBytes(target), 1000));
		Recorder again = new Recorder();
		again.onUpdate = bytes -> {
			if (again.updates.size() == 1) {
				try {
					Files.write(src, new byte[] { 4 }, StandardOpenOption.APPEND);
				} catch (IOException x) {
					throw new UncheckedIOException(x);
				}
			}
		};
		assertThrows(IOException.class,
			() -> transport.fetch(new Request(url(src), target, Long.MAX_VALUE, null, whole.validator()), again));
		assertEquals(1000, again.resumedFrom);
		assertEquals(1000, Files.size(target));
	}

	@Test
	void aFileShrinkingWhileFetchedIsRefused() throws Exception {
		Path src = source("shrinking.raw", 32 * 1024 * 1024);
		long size = Files.size(src);
		Path target = tmp.resolve("shrinking.raw");
		Recorder progress = new Recorder();
		progress.onUpdate = bytes -> {
			if (progress.updates.size() == 1) {
				try (var ch = java.nio.channels.FileChannel.open(src, StandardOpenOption.WRITE)) {
					ch.truncate(size - 20 * 1024 * 1024);
				} catch (IOException e) {
					throw new UncheckedIOException(e);
				}
			}
		};
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(url(src), target, Long.MAX_VALUE), progress));
		assertOneLine(e, url(src) + ": the file shrank to " + (size - 20 * 1024 * 1024) + " bytes of the " + size + " announced");
		assertFalse(Files.exists(target));
	}

	@Test
	void aPathUnderTheRemoteHome() throws Exception {
		// sshd.sh makes DIR/home the SFTP start directory, where paths without a leading slash resolve
		Path home = sshd.dir.resolve("home");
		byte[] b = "a file under the home directory".getBytes(StandardCharsets.UTF_8);
		Files.createDirectories(home.resolve("sub dir"));
		Files.write(home.resolve("sub dir/rel é.raw"), b);
		Path target = tmp.resolve("rel.raw");
		Fetched f = transport.fetch(new Request(URI.create("ssh://psitest/~/sub%20dir/rel%20%C3%A9.raw"), target, 1000), Progress.NONE);
		assertEquals(b.length, f.size());
		assertArrayEquals(b, Files.readAllBytes(target));
		// the same name taken as absolute does not exist
		assertThrows(NoSuchFileException.class,
			() -> transport.fetch(new Request(URI.create("ssh://psitest/sub%20dir/rel%20%C3%A9.raw"), tmp.resolve("x"), 1000), Progress.NONE));
	}

	@Test
	void theUserAndPortOfTheUrlWinOverTheConfiguration() throws Exception {
		Path src = source("user.raw", 10_000);
		Fetched f = transport.fetch(new Request(url(sshd.user + "@psitest:" + sshd.port, src), tmp.resolve("a.raw"), Long.MAX_VALUE),
			Progress.NONE);
		assertEquals(sha256(src), f.sha256());

		Path target = tmp.resolve("b.raw");
		URI wrongUser = url("nosuchuser@psitest", src);
		IOException e = assertThrows(IOException.class, () -> transport.fetch(new Request(wrongUser, target, Long.MAX_VALUE), Progress.NONE));
		assertOneLine(e, wrongUser + ": nosuchuser@127.0.0.1: Permission denied (publickey)");
		// nothing listens on port 1 of 127.0.0.1
		URI wrongPort = url("psitest:1", src);
		e = assertThrows(IOException.class, () -> transport.fetch(new Request(wrongPort, target, Long.MAX_VALUE), Progress.NONE));
		assertOneLine(e, wrongPort + ": connect to host 127.0.0.1 port 1: Connection refused");
		assertFalse(Files.exists(target));
	}

	@Test
	void authenticatesThroughAnAgent() throws Exception {
		// no IdentityFile: the key is only in the agent
		Path config = sshd.configWith("ssh_config.agent", "IdentityFile " + sshd.dir.resolve("id_ed25519"), "");
		Files.writeString(config, Files.readString(config).replace("IdentitiesOnly yes", "IdentitiesOnly no"));
		Path socket = sshd.dir.resolve("agent.sock");
		Files.deleteIfExists(socket);
		Process agent = new ProcessBuilder("ssh-agent", "-s", "-a", socket.toString()).redirectErrorStream(true).start();
		String out = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertEquals(0, agent.waitFor());
		var m = java.util.regex.Pattern.compile("SSH_AGENT_PID=(\\d+)").matcher(out);
		assertTrue(m.find(), out);
		long agentPid = Long.parseLong(m.group(1));
		try {
			ProcessBuilder add = new ProcessBuilder("ssh-add", sshd.dir.resolve("id_ed25519").toString()).redirectErrorStream(true);
			add.environment().put("SSH_AUTH_SOCK", socket.toString());
			Process adding = add.start();
			String added = new String(adding.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			assertEquals(0, adding.waitFor(), added);

			Path src = source("agent.raw", 50_000);
			Map<String, String> noAgent = new HashMap<>();
			noAgent.put("SSH_AUTH_SOCK", null);
			Path target = tmp.resolve("agent.raw");
			IOException e = assertThrows(IOException.class,
				() -> transport(config, noAgent).fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE));
			assertOneLine(e, "Permission denied (publickey)");

			Fetched f = transport(config, Map.of("SSH_AUTH_SOCK", socket.toString()))
				.fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE);
			assertEquals(sha256(src), f.sha256());
		} finally {
			ProcessHandle.of(agentPid).ifPresent(ProcessHandle::destroy);
		}
	}

	@Test
	void aMissingSshProgramIsOneLine() throws Exception {
		Path src = source("x.raw", 10);
		SshTransport t = new SshTransport(new SshCommand("/nonexistent/ssh", "", 10), Map.of(), SshTransport.CHUNK, SshTransport.WINDOW);
		IOException e = assertThrows(IOException.class, () -> t.fetch(new Request(url(src), tmp.resolve("t"), 100), Progress.NONE));
		assertOneLine(e, url(src) + ": cannot run /nonexistent/ssh");
		assertFalse(Files.exists(tmp.resolve("t")));
	}

	@Test
	void fetchesInParallel() throws Exception {
		Path src = source("parallel.raw", 4 * 1024 * 1024);
		String expected = sha256(src);
		List<Thread> threads = new ArrayList<>();
		List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
		for (int i = 0; i < 4; i++) {
			Path target = tmp.resolve("parallel-" + i);
			threads.add(new Thread(() -> {
				try {
					assertEquals(expected, transport.fetch(new Request(url(src), target, Long.MAX_VALUE), Progress.NONE).sha256());
				} catch (Throwable t) {
					failures.add(t);
				}
			}));
		}
		threads.forEach(Thread::start);
		for (Thread t : threads) {
			t.join();
		}
		assertEquals(List.of(), failures);
	}
}
