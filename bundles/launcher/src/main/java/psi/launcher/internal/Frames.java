package psi.launcher.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The client protocol on the daemon's socket: frames of one type byte, a
 * 4-byte big-endian length and that many bytes.
 * <p>
 * Client to daemon: first {@link #REQUEST}, NUL-terminated {@code KEY=VALUE}
 * strings: {@code version=1}, {@code cwd=DIR}, {@code tty=0|1} (standard
 * error is a terminal), {@code env=NAME=VALUE}..., then {@code arg=ARG}...
 * in order (none: the interactive shell); then any number of
 * {@link #STDIN} (bytes), {@link #STDIN_EOF} and {@link #INTERRUPT} (Ctrl-C).
 * Daemon to client: {@link #STDOUT} and {@link #STDERR} (bytes, as they
 * come), {@link #WANT_STDIN} (empty) when a command first reads its standard
 * input (a one-shot client forwards it only from then on, so that a command
 * that reads none leaves the caller's input alone), and last {@link #EXIT}
 * (4 bytes: the status). The C client
 * ({@code distribution/src/main/c/psi-client.c}) speaks the same.
 */
final class Frames {

	static final byte REQUEST = 'R';
	static final byte STDIN = 'i';
	static final byte STDIN_EOF = 'z';
	static final byte INTERRUPT = 'c';
	static final byte STDOUT = 'o';
	static final byte STDERR = 'e';
	static final byte EXIT = 'x';
	static final byte WANT_STDIN = 'w';

	/** The largest request: 256 KiB holds any command line a shell passes (ARG_MAX is 2 MiB, but psi's are short). */
	static final int MAX_REQUEST = 256 * 1024;
	/** The largest other frame. */
	static final int MAX_FRAME = 64 * 1024;

	private Frames() {
	}

	/** One frame. */
	record Frame(byte type, byte[] data) {
	}

	/**
	 * Reads one frame, its length bounded before anything is allocated.
	 *
	 * @return the frame, or {@code null} at the end of the stream before a frame starts
	 * @throws IOException a frame cut off, or too long for its type
	 */
	static Frame read(ReadableByteChannel in) throws IOException {
		ByteBuffer head = ByteBuffer.allocate(5);
		if (!fill(in, head, true)) {
			return null;
		}
		head.flip();
		byte type = head.get();
		int length = head.getInt();
		int max = type == REQUEST ? MAX_REQUEST : MAX_FRAME;
		if (length < 0 || length > max) {
			throw new IOException("a frame of type '" + (char) (type & 0xff) + "' says " + Integer.toUnsignedString(length)
				+ " bytes; at most " + max + " are taken");
		}
		ByteBuffer body = ByteBuffer.allocate(length);
		fill(in, body, false);
		return new Frame(type, body.array());
	}

	/** @return false at the end of the stream before any byte, when {@code eofOk} */
	private static boolean fill(ReadableByteChannel in, ByteBuffer b, boolean eofOk) throws IOException {
		boolean first = true;
		while (b.hasRemaining()) {
			if (in.read(b) < 0) {
				if (first && eofOk && b.position() == 0) {
					return false;
				}
				throw new EOFException("the connection closed in the middle of a frame");
			}
			first = false;
		}
		return true;
	}

	/** Writes one frame. Callers writing from several threads hold a lock around it. */
	static void write(WritableByteChannel out, byte type, byte[] data, int off, int len) throws IOException {
		ByteBuffer b = ByteBuffer.allocate(5 + len);
		b.put(type).putInt(len).put(data, off, len).flip();
		while (b.hasRemaining()) {
			out.write(b);
		}
	}

	/** @return the exit frame's payload */
	static byte[] exit(int status) {
		return ByteBuffer.allocate(4).putInt(status).array();
	}

	/** @return the NUL-terminated strings of a request */
	static List<String> strings(byte[] data) throws IOException {
		List<String> out = new ArrayList<>();
		int start = 0;
		var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
			.onUnmappableCharacter(CodingErrorAction.REPLACE);
		for (int i = 0; i < data.length; i++) {
			if (data[i] == 0) {
				out.add(decoder.decode(ByteBuffer.wrap(data, start, i - start)).toString());
				start = i + 1;
			}
		}
		if (start != data.length) {
			throw new IOException("the request does not end in NUL");
		}
		return out;
	}

	/** @return the strings as a request's payload */
	static byte[] request(List<String> strings) {
		var out = new java.io.ByteArrayOutputStream();
		for (String s : strings) {
			out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
			out.write(0);
		}
		return out.toByteArray();
	}

	/**
	 * A stream writing frames of one type; chunks of at most {@link #MAX_FRAME}.
	 * A client that went away makes writes fail, which the command sees as a
	 * closed output (its work still finishes or rolls back).
	 */
	static final class FrameOutputStream extends OutputStream {
		private final WritableByteChannel channel;
		private final Object lock;
		private final byte type;

		FrameOutputStream(WritableByteChannel channel, Object lock, byte type) {
			this.channel = channel;
			this.lock = lock;
			this.type = type;
		}

		@Override
		public void write(int b) throws IOException {
			write(new byte[] { (byte) b }, 0, 1);
		}

		@Override
		public void write(byte[] b, int off, int len) throws IOException {
			while (len > 0) {
				int n = Math.min(len, MAX_FRAME);
				synchronized (lock) {
					Frames.write(channel, type, b, off, n);
				}
				off += n;
				len -= n;
			}
		}
	}

	/**
	 * A command's standard input that tells the client, once, when it is
	 * first read: the client forwards its own from then on.
	 */
	static final class WantedInputStream extends java.io.FilterInputStream {
		/** Says that the input is wanted; a failure is the read's. */
		@FunctionalInterface
		interface Want {
			void want() throws IOException;
		}

		private final Want want;
		private boolean told;

		WantedInputStream(java.io.InputStream in, Want want) {
			super(in);
			this.want = want;
		}

		private synchronized void tell() throws IOException {
			if (!told) {
				told = true;
				want.want();
			}
		}

		@Override
		public int read() throws IOException {
			tell();
			return super.read();
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			tell();
			return super.read(b, off, len);
		}
	}
}
