package psi.format.raw.internal.squashfs;

import java.io.IOException;

import psi.spi.format.ImageException;

/**
 * Reads little-endian fields from a metadata table, across block boundaries,
 * starting at a block and an offset in its decompressed bytes (what squashfs
 * calls a reference). Not thread safe.
 */
final class MetadataCursor {
	private final MetadataBlocks blocks;
	private final MetadataTable table;
	private final Corruption where;
	private MetadataBlocks.Block block;
	private long blockPos;
	private int off;

	/**
	 * @param blockPos where the first block's header lies (from the start of the squashfs)
	 * @param offset the offset in its decompressed bytes
	 */
	MetadataCursor(MetadataBlocks blocks, MetadataTable table, Corruption where, long blockPos, int offset) {
		this.blocks = blocks;
		this.table = table;
		this.where = where;
		this.blockPos = blockPos;
		this.off = offset;
	}

	/** @return where the next byte's block lies */
	long blockPos() {
		return blockPos;
	}

	/** @return the next byte's offset in its block */
	int offset() {
		return off;
	}

	/** @return the message of a structure starting at a position of this table */
	ImageException error(String structure, long atBlock, int atOffset, String problem) {
		return where.in(structure, atBlock, atOffset, problem);
	}

	/** @return the message of a structure at the cursor's position */
	ImageException error(String structure, String problem) {
		return where.in(structure, blockPos, off, problem);
	}

	private void ensure() throws IOException {
		if (block == null) {
			block = blocks.get(table, blockPos);
			if (off > block.length()) {
				throw where.in(table.name() + " reference", blockPos, off, "offset lies beyond the block's " + block.length() + " bytes");
			}
		}
		while (off == block.length()) {
			blockPos = block.next();
			block = blocks.get(table, blockPos);
			off = 0;
		}
	}

	int u8() throws IOException {
		ensure();
		return block.data()[off++] & 0xff;
	}

	int u16() throws IOException {
		ensure();
		if (off + 2 <= block.length()) {
			byte[] d = block.data();
			int v = (d[off] & 0xff) | (d[off + 1] & 0xff) << 8;
			off += 2;
			return v;
		}
		return u8() | u8() << 8;
	}

	/** @return the u32 as a non-negative long */
	long u32() throws IOException {
		ensure();
		if (off + 4 <= block.length()) {
			long v = Integer.toUnsignedLong(le32(block.data(), off));
			off += 4;
			return v;
		}
		return u16() | (long) u16() << 16;
	}

	/** @return the u64; negative if above {@link Long#MAX_VALUE} */
	long u64() throws IOException {
		return u32() | u32() << 32;
	}

	void read(byte[] dst, int dstOff, int len) throws IOException {
		while (len > 0) {
			ensure();
			int n = Math.min(len, block.length() - off);
			System.arraycopy(block.data(), off, dst, dstOff, n);
			off += n;
			dstOff += n;
			len -= n;
		}
	}

	byte[] bytes(int len) throws IOException {
		byte[] b = new byte[len];
		read(b, 0, len);
		return b;
	}

	void skip(long len) throws IOException {
		while (len > 0) {
			ensure();
			int n = (int) Math.min(len, block.length() - off);
			off += n;
			len -= n;
		}
	}

	static int le32(byte[] b, int off) {
		return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
	}

	static long le64(byte[] b, int off) {
		return Integer.toUnsignedLong(le32(b, off)) | (long) le32(b, off + 4) << 32;
	}
}
