package psi.transport.https.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The target of one fetch: keeps the bytes of an earlier fetch being resumed
 * (hashing them first), appends the body while hashing it, forces it to disk
 * at the end, and on a refusal undoes what this fetch did. Used by one
 * thread.
 */
final class StagingFile implements Closeable {

	private static final int READ_CHUNK = 1 << 20;
	/** Body bytes gathered before one write: a few hundred system calls for an image, not one per TLS record. */
	private static final int WRITE_CHUNK = 1 << 20;

	private final Path path;
	private final boolean created;
	private final long kept;
	private final FileChannel channel;
	private final MessageDigest sha = sha256();
	private final ByteBuffer pending = ByteBuffer.allocateDirect(WRITE_CHUNK);
	private long size;

	private StagingFile(Path path, boolean created, long kept, FileChannel channel) {
		this.path = path;
		this.created = created;
		this.kept = kept;
		this.channel = channel;
		this.size = kept;
	}

	/**
	 * Opens the target, keeping its first {@code keep} bytes (hashed) and
	 * dropping the rest.
	 *
	 * @param path the target
	 * @param keep bytes to keep, 0 to start over
	 * @return the open file, positioned after the kept bytes
	 * @throws IOException if the target cannot be opened or read, or holds fewer bytes than {@code keep}
	 */
	static StagingFile open(Path path, long keep) throws IOException {
		boolean created = !Files.exists(path);
		FileChannel ch;
		try {
			ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
		} catch (IOException e) {
			throw named(path, e);
		}
		try {
			StagingFile f = new StagingFile(path, created, keep, ch);
			if (keep > 0) {
				f.hashKept();
			}
			ch.truncate(keep);
			ch.position(keep);
			return f;
		} catch (IOException e) {
			ch.close();
			throw named(path, e);
		} catch (RuntimeException e) {
			ch.close();
			throw e;
		}
	}

	/** An I/O error on the file, in one line naming it (the JDK's often name only the system call's error). */
	private static IOException named(Path path, IOException e) {
		String m = e.getMessage();
		if (m != null && m.startsWith(path.toString())) {
			return e;
		}
		return new IOException(path + ": " + (m == null ? e.getClass().getSimpleName() : m), e);
	}

	private void hashKept() throws IOException {
		ByteBuffer buf = ByteBuffer.allocate(READ_CHUNK);
		long pos = 0;
		while (pos < kept) {
			buf.clear().limit((int) Math.min(buf.capacity(), kept - pos));
			int n = channel.read(buf, pos);
			if (n < 0) {
				throw new IOException(path + ": holds fewer than the " + kept + " bytes to resume after");
			}
			sha.update(buf.array(), 0, n);
			pos += n;
		}
	}

	/**
	 * Hashes and appends buffers.
	 *
	 * @param buffers the bytes, consumed
	 * @return the number of bytes written
	 */
	long write(List<ByteBuffer> buffers) throws IOException {
		long n = 0;
		for (ByteBuffer b : buffers) {
			int len = b.remaining();
			if (b.hasArray()) {
				sha.update(b.array(), b.arrayOffset() + b.position(), len);
			} else {
				sha.update(b.duplicate());
			}
			n += len;
			while (b.hasRemaining()) {
				if (!pending.hasRemaining()) {
					flush();
				}
				int k = Math.min(b.remaining(), pending.remaining());
				pending.put(pending.position(), b, b.position(), k);
				pending.position(pending.position() + k);
				b.position(b.position() + k);
			}
		}
		size += n;
		return n;
	}

	private void flush() throws IOException {
		pending.flip();
		try {
			while (pending.hasRemaining()) {
				channel.write(pending);
			}
		} catch (IOException e) {
			throw named(path, e);
		}
		pending.clear();
	}

	/** @return bytes in the file */
	long size() {
		return size;
	}

	/**
	 * Forces the file to disk and closes it.
	 *
	 * @return the hex SHA-256 of the whole file, kept bytes included
	 */
	String finish() throws IOException {
		flush();
		try {
			channel.force(true);
			channel.close();
		} catch (IOException e) {
			throw named(path, e);
		}
		return HexFormat.of().formatHex(sha.digest());
	}

	/**
	 * Undoes this fetch: deletes the file if this fetch created it, else cuts
	 * it back to the bytes kept (empty when it started over). Closes it.
	 */
	void undo() throws IOException {
		try (channel) {
			if (!created) {
				channel.truncate(kept);
			}
		}
		if (created) {
			Files.deleteIfExists(path);
		}
	}

	/** Closes the file, keeping what was written (an interrupted fetch can resume). */
	@Override
	public void close() throws IOException {
		try (channel) {
			flush();
		}
	}

	private static MessageDigest sha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
		}
	}
}
