package psi.format.raw.internal.squashfs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import psi.spi.format.ImageException;

/**
 * The 96-byte squashfs 4.0 superblock, checked: every table it names lies
 * inside the bytes it says are used, in the order mksquashfs writes them.
 * Offsets are from the start of the squashfs.
 *
 * @param compressor the compressor's name as mksquashfs {@code -comp} takes it ({@code gzip}, {@code xz}, ...)
 * @param blockSize the data block size, 4 KiB to 1 MiB
 * @param blockLog log2 of the block size
 * @param inodeCount the number of inodes
 * @param mkfsTime when the file system was made, seconds since the epoch
 * @param fragmentCount the number of fragment blocks
 * @param flags the superblock flags ({@link #COMPRESSOR_OPTIONS} and others)
 * @param idCount the number of distinct uids and gids
 * @param rootInode reference of the root directory's inode (block &lt;&lt; 16 | offset)
 * @param bytesUsed the size of the file system (before padding)
 * @param idTableStart where the uid/gid index lies
 * @param xattrIdTableStart where the xattr id table lies, or {@link #ABSENT}
 * @param inodeTableStart where the inode table starts
 * @param directoryTableStart where the directory table starts
 * @param fragmentTableStart where the fragment index lies (meaningless without fragments)
 * @param exportTableStart where the NFS export index lies, or {@link #ABSENT}
 */
public record Superblock(String compressor, int blockSize, int blockLog, long inodeCount, long mkfsTime, long fragmentCount,
	int flags, int idCount, long rootInode, long bytesUsed, long idTableStart, long xattrIdTableStart, long inodeTableStart,
	long directoryTableStart, long fragmentTableStart, long exportTableStart) {

	/** Size of the superblock. */
	public static final int SIZE = 96;
	/** The magic, "hsqs" read little-endian. */
	public static final int MAGIC = 0x73717368;
	/** A table offset meaning "no such table". */
	public static final long ABSENT = -1L;
	/** Flag: inodes and directories are stored uncompressed. */
	public static final int UNCOMPRESSED_INODES = 0x1;
	/** Flag: data blocks are stored uncompressed. */
	public static final int UNCOMPRESSED_DATA = 0x2;
	/** Flag: fragment blocks are stored uncompressed. */
	public static final int UNCOMPRESSED_FRAGMENTS = 0x8;
	/** Flag: no fragments are used. */
	public static final int NO_FRAGMENTS = 0x10;
	/** Flag: the tail of every file goes into a fragment. */
	public static final int ALWAYS_FRAGMENTS = 0x20;
	/** Flag: the export table is present. */
	public static final int EXPORTABLE = 0x80;
	/** Flag: xattrs are stored uncompressed. */
	public static final int UNCOMPRESSED_XATTRS = 0x100;
	/** Flag: no xattrs are stored. */
	public static final int NO_XATTRS = 0x200;
	/** Flag: a compressor options block follows the superblock. */
	public static final int COMPRESSOR_OPTIONS = 0x400;

	static final int METADATA_SIZE = 8192;
	static final int FRAGMENTS_PER_BLOCK = METADATA_SIZE / 16;
	static final int IDS_PER_BLOCK = METADATA_SIZE / 4;
	static final int EXPORTS_PER_BLOCK = METADATA_SIZE / 8;

	/** @return whether a flag is set */
	public boolean has(int flag) {
		return (flags & flag) != 0;
	}

	/** @return whether the file system stores xattrs */
	public boolean hasXattrs() {
		return xattrIdTableStart != ABSENT;
	}

	/**
	 * Parses and checks a superblock.
	 *
	 * @param b the 96 bytes
	 * @param length how many bytes the squashfs may span (the partition or the file)
	 * @param where builds the error messages
	 * @return the superblock and its compressor
	 * @throws ImageException if a field is wrong or a table lies outside the file system
	 */
	static Parsed parse(ByteBuffer b, long length, Corruption where) throws ImageException {
		b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
		int magic = b.getInt(0);
		if (magic != MAGIC) {
			throw where.at("superblock", 0, String.format("magic 0x%08x is not a squashfs magic (0x%08x, \"hsqs\")", magic, MAGIC));
		}
		long inodeCount = u32(b, 4);
		long mkfsTime = u32(b, 8);
		long blockSize = u32(b, 12);
		long fragmentCount = u32(b, 16);
		int compressionId = u16(b, 20);
		int blockLog = u16(b, 22);
		int flags = u16(b, 24);
		int idCount = u16(b, 26);
		int major = u16(b, 28);
		int minor = u16(b, 30);
		long rootInode = b.getLong(32);
		long bytesUsed = b.getLong(40);
		long idTable = b.getLong(48);
		long xattrTable = b.getLong(56);
		long inodeTable = b.getLong(64);
		long dirTable = b.getLong(72);
		long fragTable = b.getLong(80);
		long exportTable = b.getLong(88);

		if (major != 4 || minor != 0) {
			throw where.at("superblock", 28, "version " + major + "." + minor + " is not 4.0");
		}
		if (blockSize < 4096 || blockSize > 1 << 20 || Long.bitCount(blockSize) != 1) {
			throw where.at("superblock", 12, "block size " + blockSize + " is not a power of two from 4096 to 1048576");
		}
		if (1L << blockLog != blockSize) {
			throw where.at("superblock", 22, "block log " + blockLog + " does not match the block size " + blockSize);
		}
		Compressor compressor = Compressor.byId(compressionId);
		if (compressor == null) {
			throw where.at("superblock", 20, "compressor id " + compressionId + " is unknown (1 gzip, 2 lzma, 3 lzo, 4 xz, 5 lz4, 6 zstd)");
		}
		if (bytesUsed < SIZE || bytesUsed > length) {
			throw where.at("superblock", 40, "bytes used " + Long.toUnsignedString(bytesUsed) + " do not fit the " + length
				+ " bytes of the image (a truncated image, or a superblock that lies)");
		}
		if (inodeCount == 0) {
			throw where.at("superblock", 4, "inode count is 0");
		}
		if (idCount == 0) {
			throw where.at("superblock", 26, "id count is 0");
		}
		long dataStart = SIZE;
		if ((flags & COMPRESSOR_OPTIONS) != 0) {
			dataStart += 2; // at least the options block's header
		}
		if (inodeTable < dataStart || inodeTable >= bytesUsed) {
			throw where.at("superblock", 64, "inode table start " + Long.toUnsignedString(inodeTable) + " lies outside bytes "
				+ dataStart + " to " + bytesUsed);
		}
		if (dirTable <= inodeTable || dirTable > bytesUsed) {
			throw where.at("superblock", 72, "directory table start " + Long.toUnsignedString(dirTable)
				+ " does not lie after the inode table start " + inodeTable + " and within bytes used " + bytesUsed);
		}
		if (rootInode >>> 16 >= dirTable - inodeTable || (rootInode & 0xffff) >= METADATA_SIZE) {
			throw where.at("superblock", 32, "root inode reference 0x" + Long.toHexString(rootInode) + " lies outside the inode table");
		}
		checkIndex(where, "id table", 48, idTable, dirTable, bytesUsed, ceilDiv(idCount, IDS_PER_BLOCK) * 8);
		if (fragmentCount > 0) {
			checkIndex(where, "fragment table", 80, fragTable, dirTable, bytesUsed, ceilDiv(fragmentCount, FRAGMENTS_PER_BLOCK) * 8);
		}
		if (exportTable != ABSENT) {
			checkIndex(where, "export table", 88, exportTable, dirTable, bytesUsed, ceilDiv(inodeCount, EXPORTS_PER_BLOCK) * 8);
		}
		if (xattrTable != ABSENT) {
			checkIndex(where, "xattr id table", 56, xattrTable, dirTable, bytesUsed, 16);
		}
		Superblock sb = new Superblock(compressor.displayName(), (int) blockSize, blockLog, inodeCount, mkfsTime, fragmentCount, flags,
			idCount, rootInode, bytesUsed, idTable, xattrTable, inodeTable, dirTable, fragTable, exportTable);
		return new Parsed(sb, compressor);
	}

	/** A parsed superblock and its compressor. */
	record Parsed(Superblock superblock, Compressor compressor) {
	}

	private static void checkIndex(Corruption where, String table, int field, long start, long after, long bytesUsed, long size)
		throws ImageException {
		if (start < after || start > bytesUsed || size > bytesUsed - start) {
			throw where.at("superblock", field, table + " start " + Long.toUnsignedString(start) + " (index of " + size
				+ " bytes) does not lie between the directory table start " + after + " and bytes used " + bytesUsed);
		}
	}

	static long ceilDiv(long n, long d) {
		return (n + d - 1) / d;
	}

	private static long u32(ByteBuffer b, int off) {
		return Integer.toUnsignedLong(b.getInt(off));
	}

	private static int u16(ByteBuffer b, int off) {
		return Short.toUnsignedInt(b.getShort(off));
	}
}
