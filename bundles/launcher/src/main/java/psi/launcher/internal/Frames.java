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
 * in order (none: the interactive shell, which with {@code console=1},
 * {@code cols=N} and {@code rows=N} runs on the client's terminal, put in raw
 * mode: psi's line editor then runs in the daemon); then any number of
 * {@link #STDIN} (bytes), {@link #STDIN_EOF}, {@link #INTERRUPT} (Ctrl-C) and
 * {@link #WINDOW} (the console's terminal resized: 2 bytes columns, 2 bytes rows).
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
	static final byte WINDOW = 'W';
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
		private final Sink sink;
		private final byte type;

		FrameOutputStream(Sink sink, byte type) {
			this.sink = sink;
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
				sink.frame(type, b, off, n);
				off += n;
				len -= n;
			}
		}
	}

	/** Where frames go: the channel, one frame at a time. */
	@FunctionalInterface
	interface Sink {
		void frame(byte type, byte[] b, int off, int len) throws IOException;

		/** @return a sink writing on the caller's thread, one frame at a time under {@code lock} */
		static Sink direct(WritableByteChannel channel, Object lock) {
			return (type, b, off, len) -> {
				synchronized (lock) {
					Frames.write(channel, type, b, off, len);
				}
			};
		}
	}

	/**
	 * Frames written to the channel by a thread of its own, in the order they
	 * come. A thread interrupted while it writes to a channel closes the
	 * channel (NIO's rule); the interactive shell's line editor interrupts its
	 * own thread on Ctrl-C, so its frames must not be written there. Writers
	 * wait (uninterruptibly) while 64 frames are queued; after a write failed
	 * (the client gone) every write fails.
	 */
	static final class Writer implements Sink, AutoCloseable {
		private static final Frame END = new Frame((byte) 0, new byte[0]);
		private final java.util.concurrent.BlockingQueue<Frame> queue = new java.util.concurrent.ArrayBlockingQueue<>(64);
		private final Thread thread;
		private volatile IOException failure;

		Writer(WritableByteChannel channel, String name) {
			thread = new Thread(() -> drain(channel), name);
			thread.setDaemon(true);
			thread.start();
		}

		@Override
		public void frame(byte type, byte[] b, int off, int len) throws IOException {
			IOException f = failure;
			if (f != null) {
				throw new IOException(f.getMessage(), f);
			}
			put(new Frame(type, java.util.Arrays.copyOfRange(b, off, off + len)));
		}

		private void put(Frame f) {
			boolean interrupted = false;
			while (true) {
				try {
					queue.put(f);
					break;
				} catch (InterruptedException e) {
					interrupted = true; // kept for the caller, after the frame is queued
				}
			}
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}

		private void drain(WritableByteChannel channel) {
			while (true) {
				Frame f;
				try {
					f = queue.take();
				} catch (InterruptedException e) {
					return; // nobody interrupts this thread
				}
				if (f == END) {
					return;
				}
				if (failure == null) {
					try {
						Frames.write(channel, f.type(), f.data(), 0, f.data().length);
					} catch (IOException e) {
						failure = e; // what is queued after is dropped: nobody reads it
					}
				}
			}
		}

		/** Writes what is queued, then stops the thread (waits at most 10 s). */
		@Override
		public void close() throws IOException {
			put(END);
			boolean interrupted = false;
			long deadline = System.nanoTime() + 10_000_000_000L;
			while (thread.isAlive() && System.nanoTime() < deadline) {
				try {
					thread.join(100);
				} catch (InterruptedException e) {
					interrupted = true;
				}
			}
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
			if (failure != null) {
				throw failure;
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
