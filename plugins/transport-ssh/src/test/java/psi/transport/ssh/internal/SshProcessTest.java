package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** What ssh's stderr becomes in a one-line message (texts as OpenSSH 9.2 writes them). */
class SshProcessTest {

	@Test
	void anUnknownHostKey() {
		assertEquals("Host key verification failed (no ED25519 host key is known for [127.0.0.1]:2222)", SshProcess.cause("""
			No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.
			Host key verification failed.
			""", 255));
	}

	@Test
	void aChangedHostKey() {
		assertEquals("REMOTE HOST IDENTIFICATION HAS CHANGED (host key for [127.0.0.1]:2222 differs from /root/.ssh/known_hosts:1)",
			SshProcess.cause("""
				@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
				@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
				@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
				IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
				Someone could be eavesdropping on you right now (man-in-the-middle attack)!
				It is also possible that a host key has just been changed.
				The fingerprint for the ED25519 key sent by the remote host is
				SHA256:kVd7cQOoEd+4Y6nXpXzhI/TYDBLUfGVcxn674i6akGU.
				Please contact your system administrator.
				Add correct host key in /root/.ssh/known_hosts to get rid of this message.
				Offending ED25519 key in /root/.ssh/known_hosts:1
				  remove with:
				  ssh-keygen -f "/root/.ssh/known_hosts" -R "[127.0.0.1]:2222"
				Host key for [127.0.0.1]:2222 has changed and you have requested strict checking.
				Host key verification failed.
				""", 255));
	}

	@Test
	void theLastMeaningfulLine() {
		assertEquals("connect to host 127.0.0.1 port 1: Connection refused",
			SshProcess.cause("ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n", 255));
		assertEquals("me@h: Permission denied (publickey).",
			SshProcess.cause("debug1: x\nme@h: Permission denied (publickey).\ndebug1: y\n\n", 255));
		assertEquals("subsystem request failed on channel 0", SshProcess.cause("subsystem request failed on channel 0\n", 255));
		assertEquals("ssh exited with status 255 without a message", SshProcess.cause("\n\n", 255));
		assertEquals("ssh was ended by signal 9", SshProcess.cause("", 137));
		assertEquals("a [31mred [0m line", SshProcess.cause("a \u001b[31mred\u001b[0m line\n", 1));
		assertTrue(SshProcess.cause("x".repeat(10_000), 1).length() <= 303);
	}

	@Test
	void aProgramThatCannotRun() {
		IOException e = assertThrows(IOException.class, () -> SshProcess.start(List.of("/nonexistent/ssh"), Map.of()));
		assertTrue(e.getMessage().startsWith("cannot run /nonexistent/ssh: "), e.getMessage());
		assertTrue(!e.getMessage().contains("\n"), e.getMessage());
	}

	@Test
	void closeEndsAProgramThatRuns() throws Exception {
		SshProcess p = SshProcess.start(List.of("sleep", "60"), Map.of());
		ProcessHandle sleep = ProcessHandle.current().children().filter(h -> h.info().command().orElse("").endsWith("sleep"))
			.findFirst().orElseThrow();
		p.close();
		assertTrue(!sleep.isAlive());
		p.close();
	}
}
