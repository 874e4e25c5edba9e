package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The SFTP client against {@link FakeSftpServer}: the protocol, pipelining and misbehaving servers. */
class SftpClientTest {

	static byte[] random(int n) {
		byte[] b = new byte[n];
		new Random(n).nextBytes(b);
		return b;
	}

	static SftpClient client(FakeSftpServer server) throws Exception {
		SftpClient c = new SftpClient(server.replies(), server.requests());
		c.init();
		return c;
	}

	/** Opens /f and downloads it from {@code from}, collecting what the sink got. */
	static long download(FakeSftpServer server, SftpClient c, long from, int chunk, int window, ByteArrayOutputStream sink)
			throws Exception {
		byte[] h = c.open("/f".getBytes(StandardCharsets.UTF_8));
		long size = c.fstat(h).size();
		return c.download(h, from, size, chunk, window, sink::write);
	}

	@Test
	void downloadsInOrderWithTheWindowFull() throws Exception {
		byte[] content = random(1_000_003);
		FakeSftpServer server = new FakeSftpServer(content);
		SftpClient c = client(server);
		ByteArrayOutputStream got = new ByteArrayOutputStream();
		assertEquals(content.length, download(server, c, 0, 4096, 16, got));
		assertArrayEquals(content, got.toByteArray());
		assertEquals(16, server.maxOutstanding, "READs outstanding at once");
		long[] last = server.reads.get(server.reads.size() - 1);
		assertEquals(content.length, last[0], "the last READ checks the end of the file");
	}

	@Test
	void attributesAndValidatorFields() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(10));
		SftpClient c = client(server);
		SftpAttributes a = c.fstat(c.open("/f".getBytes(StandardCharsets.UTF_8)));
		assertEquals(new SftpAttributes(10, 0100644, 2000), a);
		assertFalse(a.notRegularFile());
		assertTrue(new SftpAttributes(10, 040755, 2000).notRegularFile());
		assertFalse(new SftpAttributes(10, -1, 2000).notRegularFile());
	}

	@Test
	void handlesRepliesOutOfOrder() throws Exception {
		byte[] content = random(300_001);
		FakeSftpServer server = new FakeSftpServer(content);
		server.reverse = true;
		SftpClient c = client(server);
		ByteArrayOutputStream got = new ByteArrayOutputStream();
		assertEquals(content.length, download(server, c, 0, 1000, 32, got));
		assertArrayEquals(content, got.toByteArray());
	}

	@Test
	void asksForTheRestOfShortReads() throws Exception {
		byte[] content = random(200_000);
		FakeSftpServer server = new FakeSftpServer(content);
		server.maxData = 777;
		server.reverse = true;
		SftpClient c = client(server);
		ByteArrayOutputStream got = new ByteArrayOutputStream();
		assertEquals(content.length, download(server, c, 0, 4096, 8, got));
		assertArrayEquals(content, got.toByteArray());
	}

	@Test
	void startsWhereAskedForResuming() throws Exception {
		byte[] content = random(50_000);
		FakeSftpServer server = new FakeSftpServer(content);
		SftpClient c = client(server);
		ByteArrayOutputStream got = new ByteArrayOutputStream();
		assertEquals(content.length, download(server, c, 12_345, 4096, 4, got));
		assertArrayEquals(Arrays.copyOfRange(content, 12_345, content.length), got.toByteArray());
		assertEquals(12_345, server.reads.get(0)[0]);
	}

	@Test
	void reportsGrowthWithoutHandingOverTheNewBytes() throws Exception {
		byte[] content = random(100_000);
		FakeSftpServer server = new FakeSftpServer(content);
		server.beforeRead = n -> {
			if (n == 1) {
				server.content = Arrays.copyOf(content, content.length + 10);
			}
		};
		SftpClient c = client(server);
		ByteArrayOutputStream got = new ByteArrayOutputStream();
		long end = download(server, c, 0, 4096, 4, got);
		assertTrue(end > content.length, "end " + end);
		assertTrue(got.size() <= content.length);
		assertArrayEquals(Arrays.copyOf(content, got.size()), got.toByteArray());
	}

	@Test
	void reportsShrinking() throws Exception {
		byte[] content = random(100_000);
		FakeSftpServer server = new FakeSftpServer(content);
		server.beforeRead = n -> {
			if (n == 1) {
				server.content = Arrays.copyOf(content, 30_000);
			}
		};
		SftpClient c = client(server);
		ByteArrayOutputStream got = new ByteArrayOutputStream();
		assertEquals(30_000, download(server, c, 0, 4096, 4, got));
		assertArrayEquals(Arrays.copyOf(content, 30_000), got.toByteArray());
	}

	@Test
	void usesTheServersReadLimit() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(10));
		assertEquals(SftpClient.DEFAULT_READ, client(server).maxRead(), "without limits@openssh.com");
		server = new FakeSftpServer(random(10));
		server.limitsMaxRead = 261_120;
		SftpClient c = client(server);
		assertTrue(c.extensions().contains(SftpClient.LIMITS));
		assertEquals(261_120, c.maxRead());
		server = new FakeSftpServer(random(10));
		server.limitsMaxRead = 1L << 40;
		// the fake states a max-packet-length of 256 KiB, which holds 13 bytes around the data
		assertEquals(256 * 1024 - 13, client(server).maxRead(), "capped by max-packet-length");
	}

	@Test
	void statusCodesComeWithTheServersText() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(10));
		SftpClient c = client(server);
		SftpException e = assertThrows(SftpException.class, () -> c.open("/other".getBytes(StandardCharsets.UTF_8)));
		assertEquals(SftpPacket.NO_SUCH_FILE, e.status());
		assertEquals("No such file", e.getMessage());

		FakeSftpServer denying = new FakeSftpServer(random(10));
		denying.openStatus = SftpPacket.PERMISSION_DENIED;
		SftpClient d = client(denying);
		e = assertThrows(SftpException.class, () -> d.open("/f".getBytes(StandardCharsets.UTF_8)));
		assertEquals(SftpPacket.PERMISSION_DENIED, e.status());
	}

	@Test
	void theEndOfTheStreamIsDisconnected() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(10));
		server.raw = new byte[0];
		SftpClient c = new SftpClient(server.replies(), server.requests());
		assertThrows(SftpClient.Disconnected.class, c::init);
	}

	@Test
	void refusesAnotherVersion() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(10));
		server.raw = ByteBuffer.allocate(9).putInt(5).put((byte) SftpPacket.VERSION).putInt(6).array();
		SftpException e = assertThrows(SftpException.class, () -> new SftpClient(server.replies(), server.requests()).init());
		assertEquals("the server speaks SFTP version 6, psi version 3", e.getMessage());
	}

	@Test
	void refusesTextWhereTheVersionShouldBe() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(10));
		server.raw = "Welcome to my shell\n".getBytes(StandardCharsets.US_ASCII);
		SftpException e = assertThrows(SftpException.class, () -> new SftpClient(server.replies(), server.requests()).init());
		assertTrue(e.getMessage().startsWith("not an SFTP reply: a 1466264675-byte packet"), e.getMessage());
		assertTrue(e.getMessage().endsWith("(does the remote shell's startup print text?)"), e.getMessage());
	}

	@Test
	void refusesMoreDataThanAskedFor() throws Exception {
		byte[] content = random(10_000);
		FakeSftpServer server = new FakeSftpServer(content);
		SftpClient c = client(server);
		byte[] h = c.open("/f".getBytes(StandardCharsets.UTF_8));
		c.fstat(h);
		// a DATA reply of 20 bytes to the first READ (INIT has no id; OPEN is 1, FSTAT 2, the first READ 3)
		ByteBuffer reply = ByteBuffer.allocate(4 + 1 + 4 + 4 + 20).putInt(1 + 4 + 4 + 20).put((byte) SftpPacket.DATA).putInt(3).putInt(20);
		server.raw = reply.array();
		SftpException e = assertThrows(SftpException.class, () -> c.download(h, 0, content.length, 10, 1, (b, o, n) -> {
		}));
		assertEquals("a DATA reply of 20 bytes to a READ of 10", e.getMessage());
	}

	@Test
	void refusesAnEmptyDataReply() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(100));
		SftpClient c = client(server);
		byte[] h = c.open("/f".getBytes(StandardCharsets.UTF_8));
		c.fstat(h);
		server.raw = ByteBuffer.allocate(13).putInt(9).put((byte) SftpPacket.DATA).putInt(3).putInt(0).array();
		SftpException e = assertThrows(SftpException.class, () -> c.download(h, 0, 100, 10, 1, (b, o, n) -> {
		}));
		assertEquals("a DATA reply of 0 bytes to a READ of 10", e.getMessage());
	}

	@Test
	void refusesRepliesToRequestsNotOutstanding() throws Exception {
		FakeSftpServer server = new FakeSftpServer(random(100));
		SftpClient c = client(server);
		byte[] h = c.open("/f".getBytes(StandardCharsets.UTF_8));
		c.fstat(h);
		server.raw = ByteBuffer.allocate(14).putInt(10).put((byte) SftpPacket.DATA).putInt(99).putInt(1).put((byte) 7).array();
		SftpException e = assertThrows(SftpException.class, () -> c.download(h, 0, 100, 10, 1, (b, o, n) -> {
		}));
		assertEquals("a reply to request 99, which is not outstanding", e.getMessage());
	}
}
