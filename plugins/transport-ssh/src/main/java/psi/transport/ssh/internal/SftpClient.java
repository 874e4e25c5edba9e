package psi.transport.ssh.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The SFTP version 3 client psi needs to download one file
 * (draft-ietf-secsh-filexfer-02), over a pair of streams: ssh's stdout and
 * stdin. Not thread safe: one client per session, used by one thread.
 * <p>
 * The server's replies are bounded by {@link SftpPacket}; a reply that breaks
 * the protocol or a refused request throws {@link SftpException}; the end of
 * the stream, or a failure to write to it, throws {@link Disconnected}.
 */
final class SftpClient {

	/** OpenSSH's extension stating the server's limits (OpenSSH PROTOCOL, section 4.8). */
	static final String LIMITS = "limits@openssh.com";

	/** The READ length when the server states no limits: what OpenSSH's sftp uses. */
	static final int DEFAULT_READ = 32 * 1024;

	/** The most extensions kept from the server's VERSION. */
	private static final int MAX_EXTENSIONS = 64;

	/** The stream ended or could not be written: ssh exited or the connection dropped. */
	static final class Disconnected extends IOException {
		private static final long serialVersionUID = 1L;

		Disconnected(String message) {
			super(message);
		}
	}

	/** Where {@link #download} puts the file's bytes, in order. */
	@FunctionalInterface
	interface Sink {
		/**
		 * @param bytes holds the next bytes of the file; valid only during the call
		 * @param offset where they start in {@code bytes}
		 * @param length how many
		 */
		void write(byte[] bytes, int offset, int length) throws IOException;
	}

	private final InputStream in;
	private final SftpRequests out;
	private final SftpPacket packet = new SftpPacket();
	private final Set<String> extensions = new TreeSet<>();
	private int nextId = 1;

	/**
	 * @param in the server's output
	 * @param out the server's input, buffered: nothing is sent until the client waits for a reply
	 */
	SftpClient(InputStream in, OutputStream out) {
		this.in = in;
		this.out = new SftpRequests(out);
	}

	/**
	 * Sends {@code INIT} and reads the server's {@code VERSION}.
	 *
	 * @throws SftpException if the server does not speak version 3
	 */
	void init() throws IOException {
		out.init();
		flush();
		int type = receive();
		if (type != SftpPacket.VERSION) {
			throw new SftpException("not an SFTP server: its first reply is of type " + type);
		}
		int version = packet.u32();
		if (version != 3) {
			throw new SftpException("the server speaks SFTP version " + Integer.toUnsignedString(version) + ", psi version 3");
		}
		while (packet.remaining() > 0 && extensions.size() < MAX_EXTENSIONS) {
			String name = Printable.line(packet.text(), 100);
			packet.string();
			extensions.add(name);
		}
	}

	/** @return the names of the extensions the server announced */
	Set<String> extensions() {
		return extensions;
	}

	/**
	 * @return the longest READ the server serves in one reply, at most
	 *         {@link SftpPacket#MAX_READ}: from {@value #LIMITS} when the
	 *         server has it, else {@link #DEFAULT_READ}
	 */
	int maxRead() throws IOException {
		if (!extensions.contains(LIMITS)) {
			return DEFAULT_READ;
		}
		int id = id();
		out.extended(id, LIMITS);
		flush();
		int type = reply(id);
		if (type == SftpPacket.STATUS) {
			return DEFAULT_READ;
		}
		expect(type, SftpPacket.EXTENDED_REPLY, "the " + LIMITS + " request");
		long maxPacket = packet.u64();
		long maxRead = packet.u64();
		long max = SftpPacket.MAX_READ;
		// 0 means no limit; a packet carries the DATA header (4 + 1 + 4 + 4 bytes) around the data
		if (maxRead > 0) {
			max = Math.min(max, maxRead);
		}
		if (maxPacket > 0) {
			max = Math.min(max, maxPacket - 13);
		}
		return max < 1024 ? DEFAULT_READ : (int) max;
	}

	/**
	 * Opens a file for reading.
	 *
	 * @param path the path as the server takes it: absolute, or relative to the start directory
	 * @return the handle
	 * @throws SftpException with the server's status, e.g. {@link SftpPacket#NO_SUCH_FILE}
	 */
	byte[] open(byte[] path) throws IOException {
		int id = id();
		out.open(id, path);
		flush();
		int type = reply(id);
		expect(type, SftpPacket.HANDLE, "OPEN");
		return packet.bytesString(SftpRequests.MAX_HANDLE);
	}

	/**
	 * @param path as for {@link #open}
	 * @return the attributes of the file a path names, symbolic links followed
	 * @throws SftpException with the server's status, e.g. {@link SftpPacket#NO_SUCH_FILE}
	 */
	SftpAttributes stat(byte[] path) throws IOException {
		int id = id();
		out.stat(id, path);
		flush();
		int type = reply(id);
		expect(type, SftpPacket.ATTRS, "STAT");
		return SftpAttributes.read(packet);
	}

	/** @return the attributes of an open file */
	SftpAttributes fstat(byte[] handle) throws IOException {
		int id = id();
		out.fstat(id, handle);
		flush();
		int type = reply(id);
		expect(type, SftpPacket.ATTRS, "FSTAT");
		return SftpAttributes.read(packet);
	}

	/** Closes a handle; a refusal is ignored, since nothing was written through it. */
	void close(byte[] handle) throws IOException {
		int id = id();
		out.close(id, handle);
		flush();
		int type;
		try {
			type = reply(id);
		} catch (SftpException e) {
			if (e.status() < 0) {
				throw e;
			}
			return;
		}
		expect(type, SftpPacket.STATUS, "CLOSE");
	}

	/**
	 * Reads bytes {@code from} to {@code end} of an open file with up to
	 * {@code window} READ requests of {@code chunk} bytes outstanding, and
	 * hands them to {@code sink} in order. A reply shorter than asked is
	 * followed by a READ for the rest; replies out of order are held until
	 * the bytes before them arrive (at most {@code window × chunk} bytes).
	 * Once every byte up to {@code end} is asked for, one more READ at
	 * {@code end} checks that the file ends there; the bytes it returns are not
	 * handed to the sink.
	 *
	 * @return where the file ended: {@code end} as expected; less if the server
	 *         reported the end of the file earlier (it shrank); more if it
	 *         returned bytes at {@code end} (it grew): then the sink got
	 *         bytes up to {@code end} at most
	 * @throws SftpException for a READ the server refused
	 */
	long download(byte[] handle, long from, long end, int chunk, int window, Sink sink) throws IOException {
		if (from > end || chunk < 1 || chunk > SftpPacket.MAX_READ || window < 1) {
			throw new IllegalArgumentException("download of bytes " + from + " to " + end + " in " + window + " × " + chunk);
		}
		Map<Integer, long[]> outstanding = new HashMap<>();
		TreeMap<Long, byte[]> early = new TreeMap<>();
		long next = from;
		long done = from;
		long eof = Long.MAX_VALUE;
		boolean probed = false;
		while (true) {
			while (eof == Long.MAX_VALUE && next < end && outstanding.size() < window) {
				int length = (int) Math.min(chunk, end - next);
				read(outstanding, handle, next, length);
				next += length;
			}
			if (eof == Long.MAX_VALUE && next == end && !probed) {
				read(outstanding, handle, end, 1);
				probed = true;
			}
			if (outstanding.isEmpty()) {
				return done;
			}
			flush();
			int type = receive();
			int id = packet.u32();
			long[] request = outstanding.remove(id);
			if (request == null) {
				throw new SftpException("a reply to request " + Integer.toUnsignedString(id) + ", which is not outstanding");
			}
			long offset = request[0];
			int asked = (int) request[1];
			if (type == SftpPacket.STATUS) {
				int status = packet.u32();
				if (status != SftpPacket.EOF) {
					throw status(status);
				}
				eof = Math.min(eof, offset);
				continue;
			}
			expect(type, SftpPacket.DATA, "READ");
			int at = packet.string();
			int n = packet.lastLength();
			if (n == 0 || n > asked) {
				throw new SftpException("a DATA reply of " + n + " bytes to a READ of " + asked);
			}
			if (offset == end) {
				return end + n;
			}
			if (n < asked) {
				read(outstanding, handle, offset + n, asked - n);
			}
			if (offset != done) {
				early.put(offset, Arrays.copyOfRange(packet.bytes(), at, at + n));
				continue;
			}
			sink.write(packet.bytes(), at, n);
			done += n;
			for (byte[] b; (b = early.remove(done)) != null;) {
				sink.write(b, 0, b.length);
				done += b.length;
			}
		}
	}

	private void read(Map<Integer, long[]> outstanding, byte[] handle, long offset, int length) {
		int id = id();
		out.read(id, handle, offset, length);
		outstanding.put(id, new long[] { offset, length });
	}

	private int id() {
		return nextId++;
	}

	/** Reads the reply to request {@code id}; a {@code STATUS} other than OK is thrown. */
	private int reply(int id) throws IOException {
		int type = receive();
		int got = packet.u32();
		if (got != id) {
			throw new SftpException("a reply to request " + Integer.toUnsignedString(got) + " while waiting for " + id);
		}
		if (type == SftpPacket.STATUS) {
			int status = packet.u32();
			if (status != SftpPacket.OK) {
				throw status(status);
			}
		}
		return type;
	}

	/** The rest of a STATUS packet after its code: message and language tag, which old servers leave out. */
	private SftpException status(int status) throws IOException {
		String message = packet.remaining() >= 4 ? packet.text() : "";
		return SftpException.of(status, message);
	}

	private static void expect(int type, int expected, String request) throws SftpException {
		if (type != expected) {
			throw new SftpException("a reply of type " + type + " to " + request + ", expected " + expected);
		}
	}

	private int receive() throws IOException {
		try {
			return packet.read(in);
		} catch (SftpException e) {
			throw e;
		} catch (EOFException e) {
			throw new Disconnected(e.getMessage());
		} catch (IOException e) {
			throw new Disconnected("cannot read from ssh: " + e.getMessage());
		}
	}

	private void flush() throws IOException {
		try {
			out.flush();
		} catch (IOException e) {
			throw new Disconnected("cannot write to ssh: " + e.getMessage());
		}
	}
}
