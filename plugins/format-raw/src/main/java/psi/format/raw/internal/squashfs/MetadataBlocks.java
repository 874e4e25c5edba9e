package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import psi.format.raw.internal.squashfs.BlockDecompressor.BlockFormatException;

/**
 * Reads and decompresses metadata blocks (a u16 header: bit 15 set = stored,
 * low 15 bits = size on disk; at most 8 KiB once decompressed), keeping the
 * most recently used in a small LRU. Not thread safe: the reader confines it
 * to its lock.
 */
final class MetadataBlocks {
	/** Decompressed metadata blocks kept: 128 x 8 KiB = 1 MiB at most. */
	static final int CACHED_BLOCKS = 128;

	/**
	 * One decompressed block.
	 *
	 * @param pos where its header lies
	 * @param data the decompressed bytes, {@code length} of them used
	 * @param length how many bytes it holds
	 * @param next where the next block's header lies
	 */
	record Block(long pos, byte[] data, int length, long next) {
	}

	private final ImageBytes bytes;
	private final BlockDecompressor decompressor;
	private final Corruption where;
	private final byte[] header = new byte[2];
	private final byte[] scratch = new byte[Superblock.METADATA_SIZE];
	private final Map<Long, Block> cache = new LinkedHashMap<>(CACHED_BLOCKS * 2, 0.75f, true) {
		private static final long serialVersionUID = 1L;

		@Override
		protected boolean removeEldestEntry(Map.Entry<Long, Block> eldest) {
			return size() > CACHED_BLOCKS;
		}
	};

	MetadataBlocks(ImageBytes bytes, BlockDecompressor decompressor, Corruption where) {
		this.bytes = bytes;
		this.decompressor = decompressor;
		this.where = where;
	}

	/**
	 * @param table the table the block belongs to; the block must lie inside it
	 * @param pos where the block's header lies
	 * @return the decompressed block
	 * @throws psi.spi.format.ImageException if the block lies outside the table, or is corrupt
	 */
	Block get(MetadataTable table, long pos) throws IOException {
		String what = table.name() + " metadata block";
		if (pos < table.start() || pos >= table.end() - 2) {
			throw where.at(what, pos, "lies outside the " + table.name() + " (bytes " + table.start() + " to " + table.end() + ")");
		}
		Block b = cache.get(pos);
		if (b != null) {
			if (b.next > table.end()) {
				throw where.at(what, pos, "extends beyond the end of the " + table.name() + " at byte " + table.end());
			}
			return b;
		}
		bytes.read(pos, header, 0, 2, what);
		int h = (header[0] & 0xff) | (header[1] & 0xff) << 8;
		boolean stored = (h & 0x8000) != 0;
		int size = h & 0x7fff;
		if (size == 0) {
			throw where.at(what, pos, "header says 0 bytes");
		}
		if (size > Superblock.METADATA_SIZE) {
			throw where.at(what, pos, "header says " + size + (stored ? " stored" : " compressed") + " bytes, more than the 8192 a metadata block holds");
		}
		if (pos + 2 + size > table.end()) {
			throw where.at(what, pos, "its " + size + " bytes extend beyond the end of the " + table.name() + " at byte " + table.end());
		}
		byte[] disk = new byte[size];
		bytes.read(pos + 2, disk, 0, size, what);
		byte[] data;
		if (stored) {
			data = disk;
		} else {
			int n;
			try {
				n = decompressor.decompress(disk, 0, size, scratch, 0, Superblock.METADATA_SIZE);
			} catch (BlockFormatException e) {
				throw where.at(what, pos, e.overflow() ? "decompresses to more than 8192 bytes" : "does not decompress (" + e.getMessage() + ")");
			}
			if (n == 0) {
				throw where.at(what, pos, "decompresses to 0 bytes");
			}
			data = java.util.Arrays.copyOf(scratch, n);
		}
		b = new Block(pos, data, data.length, pos + 2 + size);
		cache.put(pos, b);
		return b;
	}

	void clear() {
		cache.clear();
	}
}
