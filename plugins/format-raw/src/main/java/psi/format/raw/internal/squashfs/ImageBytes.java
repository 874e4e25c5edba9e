package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The bytes of one squashfs inside a shared file: positional reads only, so
 * any number of readers and threads can use the channel at once; never a
 * byte outside the file system. Thread safe.
 */
final class ImageBytes {
	private final FileChannel channel;
	private final long base;
	private final Corruption where;
	private volatile long limit;

	ImageBytes(FileChannel channel, long base, long limit, Corruption where) {
		this.channel = channel;
		this.base = base;
		this.limit = limit;
		this.where = where;
	}

	/** Narrows the readable bytes to the file system's own, once the superblock says how many. */
	void limit(long limit) {
		this.limit = limit;
	}

	long limit() {
		return limit;
	}

	/**
	 * Reads {@code len} bytes at {@code pos} (from the start of the squashfs).
	 *
	 * @param structure what is read, for the message
	 * @throws psi.spi.format.ImageException if the bytes lie beyond the file system or the file ends early
	 */
	void read(long pos, byte[] dst, int off, int len, String structure) throws IOException {
		long end = limit;
		if (pos < 0 || len < 0 || pos > end - len) {
			throw where.at(structure, pos, len + " bytes from here lie beyond the end of the file system (" + end + " bytes)");
		}
		ByteBuffer b = ByteBuffer.wrap(dst, off, len);
		long p = base + pos;
		while (b.hasRemaining()) {
			int n = channel.read(b, p);
			if (n < 0) {
				throw where.at(structure, pos, "the image file ends at byte " + p + " (truncated)");
			}
			p += n;
		}
	}

	/** @return the little-endian u64 at {@code pos} */
	long u64(long pos, String structure) throws IOException {
		byte[] b = new byte[8];
		read(pos, b, 0, 8, structure);
		return MetadataCursor.le64(b, 0);
	}
}
