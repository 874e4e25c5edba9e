package psi.manager.embedded.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

/** The native parts of sd_notify and socket activation, on real sockets of this host. */
class NotifyTest {

	@TempDir
	Path dir;

	record Message(long pid, long uid, Map<String, String> fields) {
	}

	@Test
	void aNotificationArrivesWithItsSendersPid() throws Exception {
		BlockingQueue<Message> got = new ArrayBlockingQueue<>(10);
		try (Poller poller = new Poller()) {
			Notify n = Notify.open(dir.resolve("notify"), poller, (pid, uid, f) -> got.add(new Message(pid, uid, f)));
			try {
				assertEquals("rw-rw-rw-", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(n.path())));
				try (UnixDatagramChannel c = UnixDatagramChannel.open()) {
					c.send(ByteBuffer.wrap("READY=1\nSTATUS=up and running\nno assignment\n".getBytes(StandardCharsets.UTF_8)),
						new UnixSocketAddress(n.path().toFile()));
				}
				Message m = got.poll(10, TimeUnit.SECONDS);
				assertNotNull(m, "the poller told the message");
				assertEquals(ProcessHandle.current().pid(), m.pid(), "the kernel's credentials name the sender");
				assertEquals(new com.sun.security.auth.module.UnixSystem().getUid(), m.uid());
				assertEquals(Map.of("READY", "1", "STATUS", "up and running"), m.fields());
			} finally {
				n.close();
			}
			assertTrue(Files.notExists(dir.resolve("notify")), "closed, the socket file is gone");
		}
	}

	@Test
	void messagesAreParsedAsSystemdParsesThem() {
		assertEquals(Map.of("A", "b=c", "WATCHDOG", "1"), Notify.parse("A=b=c\n=x\nnoise\nWATCHDOG=1"));
		assertEquals(Map.of(), Notify.parse(""));
	}

	@Test
	void pollTellsWhichDescriptorIsReadable() throws Exception {
		int[] a = Native.pipe();
		int[] b = Native.pipe();
		try {
			assertArrayEquals(new boolean[] {false, false}, Native.poll(new int[] {a[0], b[0]}, 10));
			Native.libc().write(b[1], new byte[] {1}, 1);
			assertArrayEquals(new boolean[] {false, true}, Native.poll(new int[] {a[0], b[0]}, 1000));
		} finally {
			for (int fd : new int[] {a[0], a[1], b[0], b[1]}) {
				Native.close(fd);
			}
		}
	}

	@Test
	void addressesAreShownAsSystemdNamesInstances() throws Exception {
		byte[] v4 = Native.inetAddress(java.net.InetAddress.getByName("127.0.0.1"), 8080);
		assertEquals("127.0.0.1:8080", Native.show(v4, v4.length));
		byte[] v6 = Native.inetAddress(java.net.InetAddress.getByName("::1"), 443);
		assertEquals("::1:443", Native.show(v6, v6.length));
		assertEquals("fe80::1:2:0:0:3", Native.ntop(java.net.InetAddress.getByName("fe80:0:0:1:2:0:0:3").getAddress()));
		assertEquals("::", Native.ntop(new byte[16]));
		byte[] mapped = Native.inetAddress(java.net.InetAddress.getByName("::ffff:10.0.0.1"), 22);
		assertEquals("10.0.0.1:22", Native.show(mapped, mapped.length));
		assertEquals(2 + 5, Native.unixAddress("@name").length, "an abstract name has no trailing NUL");
		assertEquals(2 + 6 + 1, Native.unixAddress("/a/b.s").length);
	}
}
