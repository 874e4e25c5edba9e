package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.transport.Transport.Request;

/**
 * A server that trickles is given up (issue 10, item 6): OpenSSH's real
 * {@code sftp-server}, its replies trickled through a pipe at a few bytes a
 * second, stands in for a slow ssh connection (the "ssh" the transport
 * runs is a script starting it, as {@code ssh host -s sftp} would start it
 * remotely).
 */
@org.junit.jupiter.api.Timeout(120)
class SshSpeedLimitTest {

	private static final Path SFTP_SERVER = Path.of("/usr/lib/openssh/sftp-server");

	@TempDir
	Path tmp;

	private Path source;

	@BeforeEach
	void source() throws IOException {
		assertTrue(Files.isExecutable(SFTP_SERVER), SFTP_SERVER + " is missing: apt-get install openssh-server");
		byte[] b = new byte[256 * 1024];
		new Random(7).nextBytes(b);
		source = Files.write(tmp.resolve("slow_1.raw"), b);
	}

	@AfterEach
	void noProcessLeft() {
		List<String> left = ProcessHandle.current().children().filter(ProcessHandle::isAlive)
			.map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList();
		assertEquals(List.of(), left, "processes the transport left running");
	}

	/** An "ssh" that serves SFTP from this machine, the server's output trickled at {@code rate} bytes a second. */
	private SshTransport trickling(int rate, SshTransport.Limits limits) throws IOException {
		Path throttle = tmp.resolve("throttle.py");
		Files.writeString(throttle, """
			import os, subprocess, sys, threading, time
			rate = int(sys.argv[1])
			p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
			def up():
			    while True:
			        b = os.read(0, 65536)
			        if not b:
			            p.stdin.close()
			            return
			        p.stdin.write(b)
			threading.Thread(target=up, daemon=True).start()
			while True:
			    b = p.stdout.read(rate)
			    if not b:
			        break
			    os.write(1, b)
			    time.sleep(len(b) / rate)
			""");
		Path ssh = tmp.resolve("ssh");
		Files.writeString(ssh, "#!/bin/sh\nexec python3 " + throttle + " " + rate + " " + SFTP_SERVER + "\n");
		Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwxr-xr-x"));
		// READs of 4 KiB: what a slow connection brings arrives packet by packet
		return new SshTransport(new SshCommand(ssh.toString(), "", 10), Map.of(), 4096, 4).limits(limits);
	}

	private URI url() {
		return URI.create("ssh://psitest" + source);
	}

	@Test
	void aServerSendingTooLittleForTooLongIsGivenUp() throws Exception {
		SshTransport t = trickling(100, new SshTransport.Limits(10_000, Duration.ofSeconds(2), null));
		Path target = tmp.resolve("target");
		long started = System.nanoTime();
		IOException e = assertThrows(IOException.class, () -> t.fetch(new Request(url(), target, Long.MAX_VALUE), new SshTransportTest.Recorder()));
		SshTransportTest.assertOneLine(e, url() + ": too slow: ", "bytes in the last 2 s, less than 10000 bytes a second",
			"speedLimit, speedTime of psi.transport.ssh");
		assertTrue(System.nanoTime() - started < Duration.ofSeconds(30).toNanos(), "given up within the window, not at the end");
	}

	@Test
	void aFetchOutlastingItsDeadlineIsGivenUpKeepingItsBytes() throws Exception {
		SshTransport t = trickling(20_000, new SshTransport.Limits(0, Duration.ofSeconds(60), Duration.ofSeconds(3)));
		Path target = tmp.resolve("target");
		IOException e = assertThrows(IOException.class, () -> t.fetch(new Request(url(), target, Long.MAX_VALUE), new SshTransportTest.Recorder()));
		SshTransportTest.assertOneLine(e, url() + ": not done within 3 s (deadline of psi.transport.ssh)");
		long kept = Files.size(target);
		assertTrue(kept > 0 && kept < Files.size(source), "kept " + kept + " bytes to resume");
	}

	@Test
	void aServerFastEnoughIsNotGivenUp() throws Exception {
		SshTransport t = trickling(1_000_000, new SshTransport.Limits(1024, Duration.ofSeconds(5), Duration.ofSeconds(60)));
		Path target = tmp.resolve("target");
		t.fetch(new Request(url(), target, Long.MAX_VALUE), new SshTransportTest.Recorder());
		assertEquals(-1, Files.mismatch(source, target));
	}
}
