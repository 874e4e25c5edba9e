package psi.transport.ssh.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes the SFTP version 3 requests psi sends (draft-ietf-secsh-filexfer-02,
 * sections 4 to 6). Requests collect in a buffer; only {@link #flush()} writes
 * to the stream, so only it fails when the server has gone. Not thread safe.
 */
final class SftpRequests {

	/** {@code SSH_FXF_READ}. */
	static final int OPEN_READ = 0x01;

	/** The longest path sent, in bytes. */
	static final int MAX_PATH = 4096;

	/** The longest handle accepted: the draft's limit. */
	static final int MAX_HANDLE = 256;

	private final OutputStream out;
	private byte[] buf = new byte[8192];
	private int start;
	private int n;

	/** @param out the server's input */
	SftpRequests(OutputStream out) {
		this.out = out;
	}

	/** {@code SSH_FXP_INIT}: asks for version 3. */
	void init() {
		begin(SftpPacket.INIT);
		u32(3);
		end();
	}

	/** {@code SSH_FXP_OPEN} for reading, with no attributes. */
	void open(int id, byte[] path) {
		check(path.length, MAX_PATH, "path");
		begin(SftpPacket.OPEN);
		u32(id);
		string(path);
		u32(OPEN_READ);
		u32(0);
		end();
	}

	/** {@code SSH_FXP_STAT}: follows symbolic links. */
	void stat(int id, byte[] path) {
		check(path.length, MAX_PATH, "path");
		begin(SftpPacket.STAT);
		u32(id);
		string(path);
		end();
	}

	void fstat(int id, byte[] handle) {
		check(handle.length, MAX_HANDLE, "handle");
		begin(SftpPacket.FSTAT);
		u32(id);
		string(handle);
		end();
	}

	void read(int id, byte[] handle, long offset, int length) {
		check(handle.length, MAX_HANDLE, "handle");
		begin(SftpPacket.READ);
		u32(id);
		string(handle);
		u64(offset);
		u32(length);
		end();
	}

	void close(int id, byte[] handle) {
		check(handle.length, MAX_HANDLE, "handle");
		begin(SftpPacket.CLOSE);
		u32(id);
		string(handle);
		end();
	}

	/** {@code SSH_FXP_EXTENDED} with no data after the request name. */
	void extended(int id, String request) {
		byte[] name = request.getBytes(StandardCharsets.US_ASCII);
		check(name.length, 256, "extension name");
		begin(SftpPacket.EXTENDED);
		u32(id);
		string(name);
		end();
	}

	/** Sends the requests collected. */
	void flush() throws IOException {
		if (n > 0) {
			out.write(buf, 0, n);
			n = 0;
		}
		out.flush();
	}

	private static void check(int length, int max, String what) {
		if (length > max) {
			throw new IllegalArgumentException("an SFTP " + what + " of " + length + " bytes, the most is " + max);
		}
	}

	private void begin(int type) {
		if (buf.length - n < 64 + MAX_PATH) {
			buf = Arrays.copyOf(buf, buf.length * 2);
		}
		start = n;
		n += 4;
		buf[n++] = (byte) type;
	}

	private void end() {
		putInt(start, n - start - 4);
	}

	private void u32(int v) {
		putInt(n, v);
		n += 4;
	}

	private void u64(long v) {
		u32((int) (v >>> 32));
		u32((int) v);
	}

	private void string(byte[] b) {
		u32(b.length);
		System.arraycopy(b, 0, buf, n, b.length);
		n += b.length;
	}

	private void putInt(int at, int v) {
		buf[at] = (byte) (v >>> 24);
		buf[at + 1] = (byte) (v >>> 16);
		buf[at + 2] = (byte) (v >>> 8);
		buf[at + 3] = (byte) v;
	}
}
