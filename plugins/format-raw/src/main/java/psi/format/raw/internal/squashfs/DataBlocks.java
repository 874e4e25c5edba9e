package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.util.Arrays;

import psi.format.raw.internal.squashfs.BlockDecompressor.BlockFormatException;
import psi.format.raw.internal.squashfs.SquashfsReader.DataBlock;
import psi.format.raw.internal.squashfs.SquashfsReader.Node;

/**
 * Finds the data blocks of a regular file from its block size words, checks
 * that each lies in the data area, and decompresses them (a zero size word is
 * a sparse block). Finding a block reads metadata, under the reader's lock;
 * decompressing is thread safe and runs outside it.
 */
final class DataBlocks {
	/** Set in the size word of a data or fragment block that is stored, not compressed. */
	static final int DATA_STORED = 1 << 24;

	private final Superblock sb;
	private final ImageBytes bytes;
	private final DecompressorPool pool;
	private final Corruption where;
	private final long base;
	private final long dataStart;
	private final long dataEnd;

	/**
	 * @param base where the squashfs starts in the file, for messages
	 * @param dataStart where the data area starts
	 * @param dataEnd where it ends
	 */
	DataBlocks(Superblock sb, ImageBytes bytes, DecompressorPool pool, Corruption where, long base, long dataStart, long dataEnd) {
		this.sb = sb;
		this.bytes = bytes;
		this.pool = pool;
		this.where = where;
		this.base = base;
		this.dataStart = dataStart;
		this.dataEnd = dataEnd;
	}

	/**
	 * Reads the size word of a file's next data block and checks where the
	 * block lies. Under the reader's lock: the block list is metadata.
	 *
	 * @param nextPos where the block starts: the file's start plus the sizes before it
	 */
	DataBlock next(Node f, MetadataCursor sizes, long index, long nextPos) throws IOException {
		long wb = sizes.blockPos();
		int wo = sizes.offset();
		long word = sizes.u32();
		long disk = word & ~(long) DATA_STORED;
		int expected = (int) Math.min(sb.blockSize(), f.fileSize - index * sb.blockSize());
		if (disk > sb.blockSize()) {
			throw sizes.error("block size word " + index + " of inode " + f.number, wb, wo, "data block at byte " + (base + nextPos)
				+ " claims " + disk + " bytes, more than the block size " + sb.blockSize());
		}
		if (disk > 0 && (nextPos < dataStart || nextPos > dataEnd - disk)) {
			throw sizes.error("block size word " + index + " of inode " + f.number, wb, wo, "data block at byte " + (base + nextPos)
				+ " of " + disk + " bytes lies outside the data area (bytes " + (base + dataStart) + " to " + (base + dataEnd) + ")");
		}
		return new DataBlock(index, nextPos, word, expected);
	}

	/**
	 * Decompresses one data block into {@code dst}; thread safe, runs outside the lock.
	 *
	 * @param scratch a buffer of at least the block size for the compressed bytes, or null
	 */
	void decode(DataBlock b, byte[] dst, byte[] scratch) throws IOException {
		int disk = (int) (b.word() & ~(long) DATA_STORED);
		if (disk == 0) {
			Arrays.fill(dst, 0, b.expected(), (byte) 0); // a sparse block
			return;
		}
		if ((b.word() & DATA_STORED) != 0) {
			if (disk != b.expected()) {
				throw where.at("data block", b.pos(), "stored block holds " + disk + " bytes where the file needs " + b.expected());
			}
			bytes.read(b.pos(), dst, 0, disk, "data block");
			return;
		}
		byte[] src = scratch != null && scratch.length >= disk ? scratch : new byte[disk];
		bytes.read(b.pos(), src, 0, disk, "data block");
		BlockDecompressor d = pool.borrow();
		int n;
		try {
			n = d.decompress(src, 0, disk, dst, 0, b.expected());
		} catch (BlockFormatException e) {
			throw where.at("data block", b.pos(), e.overflow() ? "decompresses to more than the " + b.expected() + " bytes the file needs"
				: "does not decompress (" + e.getMessage() + ")");
		} finally {
			pool.release(d);
		}
		if (n != b.expected()) {
			throw where.at("data block", b.pos(), "decompresses to " + n + " bytes where the file needs " + b.expected());
		}
	}
}
