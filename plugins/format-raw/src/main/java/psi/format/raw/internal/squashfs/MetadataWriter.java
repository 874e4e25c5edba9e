package psi.format.raw.internal.squashfs;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes a squashfs metadata table (inodes, directories, fragments, ids,
 * xattrs) in memory: 8 KiB blocks, each compressed when that makes it smaller,
 * behind its two-byte header. {@link #ref()} is where the next byte goes, as
 * the references of squashfs take it: the block's position in the table
 * &lt;&lt; 16 | the offset in the block.
 */
final class MetadataWriter {
	private static final int SIZE = Superblock.METADATA_SIZE;

	private final BlockCompressor compressor;
	private final ByteArrayOutputStream out = new ByteArrayOutputStream();
	private final byte[] block = new byte[SIZE];
	private final byte[] packed;
	private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
	private int fill;
	private long written;

	MetadataWriter(BlockCompressor compressor) {
		this.compressor = compressor;
		this.packed = new byte[compressor.bound(SIZE)];
	}

	/** @return block position &lt;&lt; 16 | offset of the next byte */
	long ref() {
		return (long) out.size() << 16 | fill;
	}

	/** @return the position in the table of the block the next byte goes to */
	long block() {
		return out.size();
	}

	/** @return the offset in its block of the next byte */
	int offset() {
		return fill;
	}

	MetadataWriter u16(int v) {
		return put(scratch.clear().putShort((short) v), 2);
	}

	MetadataWriter u32(long v) {
		return put(scratch.clear().putInt((int) v), 4);
	}

	MetadataWriter u64(long v) {
		return put(scratch.clear().putLong(v), 8);
	}

	MetadataWriter bytes(byte[] b) {
		return bytes(b, 0, b.length);
	}

	MetadataWriter bytes(byte[] b, int off, int len) {
		while (len > 0) {
			int n = Math.min(len, SIZE - fill);
			System.arraycopy(b, off, block, fill, n);
			fill += n;
			written += n;
			off += n;
			len -= n;
			if (fill == SIZE) {
				flush();
			}
		}
		return this;
	}

	private MetadataWriter put(ByteBuffer b, int n) {
		return bytes(b.array(), 0, n);
	}

	/** @return the table's bytes, its last block written even when not full */
	byte[] finish() {
		if (fill > 0) {
			flush();
		}
		return out.toByteArray();
	}

	/** @return how many bytes were written, before compression */
	long written() {
		return written;
	}

	private void flush() {
		int n = compressor.compress(block, fill, packed);
		if (n > 0) {
			out.write(n & 0xff);
			out.write(n >>> 8);
			out.write(packed, 0, n);
		} else {
			int h = fill | 0x8000;
			out.write(h & 0xff);
			out.write(h >>> 8);
			out.write(block, 0, fill);
		}
		fill = 0;
	}
}
