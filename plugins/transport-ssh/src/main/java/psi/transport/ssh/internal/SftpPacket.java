package psi.transport.ssh.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * One SFTP version 3 packet received from the server
 * (draft-ietf-secsh-filexfer-02, section 3): {@code uint32 length, byte type,
 * payload}. Reused from packet to packet; its buffer is allocated once, at
 * the largest length accepted, and every length read from the stream or from
 * a packet is checked against what is left before it is used. Not thread
 * safe.
 */
final class SftpPacket {

	// packet types, section 3
	static final int INIT = 1;
	static final int VERSION = 2;
	static final int OPEN = 3;
	static final int CLOSE = 4;
	static final int READ = 5;
	static final int FSTAT = 8;
	static final int STAT = 17;
	static final int STATUS = 101;
	static final int HANDLE = 102;
	static final int DATA = 103;
	static final int ATTRS = 105;
	static final int EXTENDED = 200;
	static final int EXTENDED_REPLY = 201;

	// status codes, section 7
	static final int OK = 0;
	static final int EOF = 1;
	static final int NO_SUCH_FILE = 2;
	static final int PERMISSION_DENIED = 3;
	static final int FAILURE = 4;
	static final int BAD_MESSAGE = 5;
	static final int NO_CONNECTION = 6;
	static final int CONNECTION_LOST = 7;
	static final int OP_UNSUPPORTED = 8;

	// attribute flags, section 5
	static final int ATTR_SIZE = 0x01;
	static final int ATTR_UIDGID = 0x02;
	static final int ATTR_PERMISSIONS = 0x04;
	static final int ATTR_ACMODTIME = 0x08;
	static final int ATTR_EXTENDED = 0x80000000;

	/** The most data psi asks for in one READ. */
	static final int MAX_READ = 256 * 1024;

	/** The longest packet accepted (the length field excluded): a DATA reply to a {@value #MAX_READ}-byte READ. */
	static final int MAX_LENGTH = 1 + 4 + 4 + MAX_READ;

	private final byte[] bytes = new byte[MAX_LENGTH];
	private int length;
	private int position;
	private int lastLength;

	/**
	 * Reads the next packet from {@code in}, replacing this one's content.
	 *
	 * @return the packet type
	 * @throws EOFException if the stream ends before the packet does
	 * @throws SftpException if the packet's length is zero or above {@link #MAX_LENGTH}
	 */
	int read(InputStream in) throws IOException {
		length = 0;
		position = 0;
		if (in.readNBytes(bytes, 0, 4) != 4) {
			throw new EOFException("the SFTP stream ended");
		}
		long n = Integer.toUnsignedLong(getInt(bytes, 0));
		if (n == 0 || n > MAX_LENGTH) {
			throw new SftpException("not an SFTP reply: a " + n + "-byte packet, the most accepted is " + MAX_LENGTH
				+ (n > 0x10000000L ? " (does the remote shell's startup print text?)" : ""));
		}
		if (in.readNBytes(bytes, 0, (int) n) != n) {
			throw new EOFException("the SFTP stream ended inside a " + n + "-byte packet");
		}
		length = (int) n;
		return u8();
	}

	/** @return the packet type, the first byte */
	int type() {
		return length == 0 ? -1 : bytes[0] & 0xff;
	}

	/** @return bytes of the packet not read yet */
	int remaining() {
		return length - position;
	}

	int u8() throws IOException {
		need(1, "a byte");
		return bytes[position++] & 0xff;
	}

	int u32() throws IOException {
		need(4, "a uint32");
		int v = getInt(bytes, position);
		position += 4;
		return v;
	}

	long u64() throws IOException {
		need(8, "a uint64");
		long v = (long) getInt(bytes, position) << 32 | Integer.toUnsignedLong(getInt(bytes, position + 4));
		position += 8;
		return v;
	}

	/**
	 * Reads a {@code string}'s length and skips its bytes.
	 *
	 * @return where the string's bytes start in {@link #bytes()}; its length is {@link #lastLength()}
	 */
	int string() throws IOException {
		long n = Integer.toUnsignedLong(u32());
		if (n > remaining()) {
			position -= 4;
			throw new SftpException("malformed SFTP packet (type " + type() + "): a " + n + "-byte string with " + (remaining() - 4)
				+ " bytes left");
		}
		int start = position;
		lastLength = (int) n;
		position += (int) n;
		return start;
	}

	/** @return the length of the string {@link #string()} read last */
	int lastLength() {
		return lastLength;
	}

	/**
	 * @param max the longest accepted
	 * @return a {@code string}'s bytes, copied
	 */
	byte[] bytesString(int max) throws IOException {
		int start = string();
		if (lastLength > max) {
			throw new SftpException("malformed SFTP packet (type " + type() + "): a " + lastLength + "-byte field, the most accepted is " + max);
		}
		byte[] b = new byte[lastLength];
		System.arraycopy(bytes, start, b, 0, lastLength);
		return b;
	}

	/** @return a {@code string} as UTF-8 text, malformed bytes replaced */
	String text() throws IOException {
		int start = string();
		return new String(bytes, start, lastLength, StandardCharsets.UTF_8);
	}

	/** @return the buffer the packet lies in, from its type byte; valid until the next {@link #read} */
	byte[] bytes() {
		return bytes;
	}

	private void need(int n, String what) throws IOException {
		if (remaining() < n) {
			throw new SftpException("malformed SFTP packet (type " + type() + "): " + what + " beyond its " + length + " bytes");
		}
	}

	static int getInt(byte[] b, int at) {
		return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
	}
}
