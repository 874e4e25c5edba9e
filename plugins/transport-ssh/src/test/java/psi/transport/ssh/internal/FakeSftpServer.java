package psi.transport.ssh.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * An SFTP version 3 server in memory, without threads: what the client
 * writes to {@link #requests()} is answered when it next reads
 * {@link #replies()}. Serves one file, {@code /f}, and can misbehave: short
 * reads, replies out of order, a file that grows or shrinks, raw bytes
 * instead of replies.
 */
final class FakeSftpServer {

	byte[] content;
	/** Most bytes one READ returns. */
	int maxData = Integer.MAX_VALUE;
	/** Answer each batch of requests last first. */
	boolean reverse;
	/** Announce limits@openssh.com with this max-read-length, if positive. */
	long limitsMaxRead;
	/** Runs before each READ is answered, with the READs answered so far. */
	java.util.function.IntConsumer beforeRead = n -> {
	};
	/** Sent instead of any reply, if set. */
	byte[] raw;
	/** Status for OPEN, if not OK. */
	int openStatus;

	final List<long[]> reads = new ArrayList<>();
	int maxOutstanding;

	private final ByteArrayOutputStream written = new ByteArrayOutputStream();
	private final ArrayDeque<Byte> pending = new ArrayDeque<>();
	private int consumed;
	private int readsAnswered;

	FakeSftpServer(byte[] content) {
		this.content = content;
	}

	OutputStream requests() {
		return written;
	}

	InputStream replies() {
		return new InputStream() {
			@Override
			public int read() throws IOException {
				if (pending.isEmpty()) {
					answer();
				}
				return pending.isEmpty() ? -1 : pending.poll() & 0xff;
			}

			@Override
			public int read(byte[] b, int off, int len) throws IOException {
				if (len == 0) {
					return 0;
				}
				int c = read();
				if (c < 0) {
					return -1;
				}
				b[off] = (byte) c;
				int n = 1;
				while (n < len && !pending.isEmpty()) {
					b[off + n++] = pending.poll();
				}
				return n;
			}
		};
	}

	private void answer() throws IOException {
		if (raw != null) {
			for (byte b : raw) {
				pending.add(b);
			}
			raw = null;
			return;
		}
		byte[] all = written.toByteArray();
		List<byte[]> batch = new ArrayList<>();
		while (all.length - consumed >= 4) {
			int n = ByteBuffer.wrap(all, consumed, 4).getInt();
			if (all.length - consumed - 4 < n) {
				break;
			}
			batch.add(Arrays.copyOfRange(all, consumed + 4, consumed + 4 + n));
			consumed += 4 + n;
		}
		long readsInBatch = batch.stream().filter(p -> p[0] == SftpPacket.READ).count();
		maxOutstanding = (int) Math.max(maxOutstanding, readsInBatch);
		if (reverse) {
			Collections.reverse(batch);
		}
		for (byte[] p : batch) {
			reply(ByteBuffer.wrap(p));
		}
	}

	private void reply(ByteBuffer p) throws IOException {
		int type = p.get() & 0xff;
		if (type == SftpPacket.INIT) {
			send(SftpPacket.VERSION, out -> {
				out.writeInt(3);
				if (limitsMaxRead > 0) {
					string(out, SftpClient.LIMITS.getBytes(StandardCharsets.US_ASCII));
					string(out, "1".getBytes(StandardCharsets.US_ASCII));
				}
			});
			return;
		}
		int id = p.getInt();
		switch (type) {
			case SftpPacket.OPEN -> {
				byte[] path = string(p);
				if (openStatus != 0) {
					status(id, openStatus, "refused");
				} else if (!new String(path, StandardCharsets.UTF_8).equals("/f")) {
					status(id, SftpPacket.NO_SUCH_FILE, "No such file");
				} else {
					send(SftpPacket.HANDLE, out -> {
						out.writeInt(id);
						string(out, new byte[] { 'h', '1' });
					});
				}
			}
			case SftpPacket.FSTAT -> send(SftpPacket.ATTRS, out -> {
				out.writeInt(id);
				out.writeInt(SftpPacket.ATTR_SIZE | SftpPacket.ATTR_PERMISSIONS | SftpPacket.ATTR_ACMODTIME);
				out.writeLong(content.length);
				out.writeInt(0100644);
				out.writeInt(1000);
				out.writeInt(2000);
			});
			case SftpPacket.EXTENDED -> send(SftpPacket.EXTENDED_REPLY, out -> {
				out.writeInt(id);
				out.writeLong(256 * 1024);
				out.writeLong(limitsMaxRead);
				out.writeLong(256 * 1024);
				out.writeLong(64);
			});
			case SftpPacket.READ -> {
				string(p);
				long offset = p.getLong();
				int length = p.getInt();
				reads.add(new long[] { offset, length });
				beforeRead.accept(readsAnswered++);
				if (offset >= content.length) {
					status(id, SftpPacket.EOF, "");
				} else {
					int n = (int) Math.min(Math.min(length, maxData), content.length - offset);
					send(SftpPacket.DATA, out -> {
						out.writeInt(id);
						out.writeInt(n);
						out.write(content, (int) offset, n);
					});
				}
			}
			case SftpPacket.CLOSE -> status(id, SftpPacket.OK, "");
			default -> status(id, SftpPacket.OP_UNSUPPORTED, "unsupported");
		}
	}

	private void status(int id, int code, String message) throws IOException {
		send(SftpPacket.STATUS, out -> {
			out.writeInt(id);
			out.writeInt(code);
			string(out, message.getBytes(StandardCharsets.UTF_8));
			string(out, new byte[0]);
		});
	}

	interface Body {
		void write(DataOutputStream out) throws IOException;
	}

	private void send(int type, Body body) throws IOException {
		ByteArrayOutputStream b = new ByteArrayOutputStream();
		DataOutputStream out = new DataOutputStream(b);
		out.writeByte(type);
		body.write(out);
		byte[] payload = b.toByteArray();
		ByteBuffer len = ByteBuffer.allocate(4).putInt(payload.length);
		for (byte x : len.array()) {
			pending.add(x);
		}
		for (byte x : payload) {
			pending.add(x);
		}
	}

	static void string(DataOutputStream out, byte[] b) throws IOException {
		out.writeInt(b.length);
		out.write(b);
	}

	static byte[] string(ByteBuffer p) {
		byte[] b = new byte[p.getInt()];
		p.get(b);
		return b;
	}
}
