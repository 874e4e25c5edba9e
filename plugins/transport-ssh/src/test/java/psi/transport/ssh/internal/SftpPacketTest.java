package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

/** The SFTP packet codec: what it reads and writes, and the bounds it keeps. */
class SftpPacketTest {

	static ByteArrayInputStream stream(byte[]... parts) {
		ByteArrayOutputStream b = new ByteArrayOutputStream();
		for (byte[] p : parts) {
			b.writeBytes(p);
		}
		return new ByteArrayInputStream(b.toByteArray());
	}

	static byte[] u32(long v) {
		return ByteBuffer.allocate(4).putInt((int) v).array();
	}

	@Test
	void readsAStatusReply() throws Exception {
		byte[] msg = "No such file".getBytes(StandardCharsets.UTF_8);
		byte[] body = ByteBuffer.allocate(1 + 4 + 4 + 4 + msg.length + 4).put((byte) SftpPacket.STATUS).putInt(7)
			.putInt(SftpPacket.NO_SUCH_FILE).putInt(msg.length).put(msg).putInt(0).array();
		SftpPacket p = new SftpPacket();
		assertEquals(SftpPacket.STATUS, p.read(stream(u32(body.length), body)));
		assertEquals(7, p.u32());
		assertEquals(SftpPacket.NO_SUCH_FILE, p.u32());
		assertEquals("No such file", p.text());
		assertEquals("", p.text());
		assertEquals(0, p.remaining());
		assertThrows(SftpException.class, p::u8, "nothing beyond the packet");
	}

	@Test
	void readsUint64AndStringsInPlace() throws Exception {
		byte[] body = ByteBuffer.allocate(1 + 8 + 4 + 3).put((byte) SftpPacket.DATA).putLong(0x8000_0000_0000_0001L).putInt(3)
			.put(new byte[] { 9, 8, 7 }).array();
		SftpPacket p = new SftpPacket();
		p.read(stream(u32(body.length), body));
		assertEquals(0x8000_0000_0000_0001L, p.u64());
		int at = p.string();
		assertEquals(3, p.lastLength());
		assertEquals(9, p.bytes()[at]);
		assertEquals(7, p.bytes()[at + 2]);
	}

	@Test
	void refusesAnOversizedPacketBeforeReadingIt() throws Exception {
		for (long n : new long[] { SftpPacket.MAX_LENGTH + 1L, 0x7fffffffL, 0xffffffffL }) {
			ByteArrayInputStream in = stream(u32(n), new byte[100]);
			SftpException e = assertThrows(SftpException.class, () -> new SftpPacket().read(in));
			assertTrue(e.getMessage().startsWith("not an SFTP reply: a " + n + "-byte packet, the most accepted is "
				+ SftpPacket.MAX_LENGTH), e.getMessage());
			assertEquals(100, in.available(), "nothing read past the length");
		}
	}

	@Test
	void acceptsTheLargestDataReply() throws Exception {
		byte[] body = new byte[SftpPacket.MAX_LENGTH];
		ByteBuffer.wrap(body).put((byte) SftpPacket.DATA).putInt(1).putInt(SftpPacket.MAX_READ);
		SftpPacket p = new SftpPacket();
		assertEquals(SftpPacket.DATA, p.read(stream(u32(body.length), body)));
		assertEquals(1, p.u32());
		p.string();
		assertEquals(256 * 1024, p.lastLength());
	}

	@Test
	void refusesAnEmptyPacket() {
		SftpException e = assertThrows(SftpException.class, () -> new SftpPacket().read(stream(u32(0))));
		assertTrue(e.getMessage().startsWith("not an SFTP reply: a 0-byte packet"), e.getMessage());
	}

	@Test
	void aTruncatedPacketIsTheEndOfTheStream() {
		assertThrows(EOFException.class, () -> new SftpPacket().read(stream(new byte[] { 0, 0 })));
		assertThrows(EOFException.class, () -> new SftpPacket().read(stream(u32(10), new byte[] { 101, 0, 0 })));
		assertThrows(EOFException.class, () -> new SftpPacket().read(stream()));
	}

	@Test
	void refusesAStringLongerThanThePacket() throws Exception {
		for (long n : new long[] { 6, 0x7fffffffL, 0xffffffffL }) {
			byte[] body = ByteBuffer.allocate(1 + 4 + 5).put((byte) SftpPacket.HANDLE).putInt((int) n).put(new byte[5]).array();
			SftpPacket p = new SftpPacket();
			p.read(stream(u32(body.length), body));
			SftpException e = assertThrows(SftpException.class, p::string);
			assertEquals("malformed SFTP packet (type 102): a " + n + "-byte string with 5 bytes left", e.getMessage());
		}
	}

	@Test
	void boundsAStringCopied() throws Exception {
		byte[] body = ByteBuffer.allocate(1 + 4 + 300).put((byte) SftpPacket.HANDLE).putInt(300).put(new byte[300]).array();
		SftpPacket p = new SftpPacket();
		p.read(stream(u32(body.length), body));
		SftpException e = assertThrows(SftpException.class, () -> p.bytesString(SftpRequests.MAX_HANDLE));
		assertEquals("malformed SFTP packet (type 102): a 300-byte field, the most accepted is 256", e.getMessage());
	}

	@Test
	void writesRequestsAsTheDraftLaysThemOut() throws Exception {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		SftpRequests r = new SftpRequests(out);
		r.init();
		assertEquals(0, out.size(), "nothing sent before flush");
		r.flush();
		assertEquals("00000005" + "01" + "00000003", HexFormat.of().formatHex(out.toByteArray()));
		out.reset();
		r.read(0x01020304, new byte[] { 'h' }, 0x1_0000_0002L, 32768);
		r.open(9, "/a".getBytes(StandardCharsets.UTF_8));
		r.flush();
		assertEquals("00000016" + "05" + "01020304" + "00000001" + "68" + "0000000100000002" + "00008000"
			+ "00000013" + "03" + "00000009" + "00000002" + "2f61" + "00000001" + "00000000",
			HexFormat.of().formatHex(out.toByteArray()));
	}

	@Test
	void refusesToSendOversizedFields() {
		SftpRequests r = new SftpRequests(new ByteArrayOutputStream());
		assertThrows(IllegalArgumentException.class, () -> r.open(1, new byte[SftpRequests.MAX_PATH + 1]));
		assertThrows(IllegalArgumentException.class, () -> r.read(1, new byte[SftpRequests.MAX_HANDLE + 1], 0, 1));
	}

	@Test
	void collectsManyRequestsBeforeAFlush() throws Exception {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		SftpRequests r = new SftpRequests(out);
		byte[] handle = new byte[SftpRequests.MAX_HANDLE];
		for (int i = 0; i < 1000; i++) {
			r.read(i, handle, i, 1);
		}
		r.flush();
		assertEquals(1000 * (4 + 1 + 4 + 4 + 256 + 8 + 4), out.size());
		byte[] sent = out.toByteArray();
		assertArrayEquals(new byte[] { 0, 0, 1, 21, 5 }, java.util.Arrays.copyOf(sent, 5));
	}
}
