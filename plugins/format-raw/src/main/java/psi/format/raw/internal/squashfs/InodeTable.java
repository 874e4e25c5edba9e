package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import psi.format.raw.internal.squashfs.SquashfsReader.Node;

/**
 * Reads inodes from the inode table and checks each before it is used: its
 * type, its number, its owner's indexes into the id table (read once, when
 * the table is made) and where its listing or data blocks lie. Not thread
 * safe: the reader confines it to its lock.
 */
final class InodeTable {
	/** The longest symbolic link target accepted (Linux's PATH_MAX). */
	static final int MAX_SYMLINK = 4096;
	/**
	 * The largest directory listing accepted: about two million entries. A
	 * limit of psi's, not of the format (whose u32 allows 4 GiB): metadata
	 * compresses so well that a small hostile image could otherwise make
	 * {@link SquashfsReader#list} hold hundreds of millions of names.
	 */
	static final long LISTING_MAX = 64L << 20;

	private final Superblock sb;
	private final MetadataBlocks meta;
	private final Corruption where;
	private final MetadataTable inodes;
	private final MetadataTable directories;
	private final long dataStart;
	private final long dataEnd;
	private final int[] ids;

	/**
	 * Reads the id table.
	 *
	 * @param inodes where the inode table lies
	 * @param directories where the directory table lies, which directory inodes must point into
	 * @param dataStart where the data area starts, which file inodes must point into
	 * @param dataEnd where it ends
	 * @throws psi.spi.format.ImageException if the id table is corrupt
	 */
	InodeTable(Superblock sb, ImageBytes bytes, MetadataBlocks meta, Corruption where, MetadataTable inodes, MetadataTable directories,
		long dataStart, long dataEnd) throws IOException {
		this.sb = sb;
		this.meta = meta;
		this.where = where;
		this.inodes = inodes;
		this.directories = directories;
		this.dataStart = dataStart;
		this.dataEnd = dataEnd;
		this.ids = readIds(bytes);
	}

	/** @return the inode a reference (block in the table &lt;&lt; 16 | offset in it) points to, checked */
	Node read(long ref) throws IOException {
		long blk = ref >>> 16;
		int off = (int) (ref & 0xffff);
		if (blk >= inodes.end() - inodes.start() || off >= Superblock.METADATA_SIZE) {
			throw where.of("inode reference 0x" + Long.toHexString(ref) + " lies outside the inode table (bytes " + inodes.start() + " to "
				+ inodes.end() + ")");
		}
		Node n = new Node();
		n.ref = ref;
		n.blockPos = inodes.start() + blk;
		n.offset = off;
		MetadataCursor c = new MetadataCursor(meta, inodes, where, n.blockPos, off);
		n.type = c.u16();
		n.mode = c.u16() & 07777;
		n.uidIndex = c.u16();
		n.gidIndex = c.u16();
		n.mtime = c.u32();
		n.number = c.u32();
		if (n.type < 1 || n.type > 14) {
			throw c.error("inode", n.blockPos, off, "type " + n.type + " is unknown (1 to 14)");
		}
		n.basicType = n.type > 7 ? n.type - 7 : n.type;
		if (n.number < 1 || n.number > sb.inodeCount()) {
			throw c.error("inode", n.blockPos, off, "inode number " + n.number + " is outside 1 to the inode count " + sb.inodeCount());
		}
		if (n.uidIndex >= ids.length || n.gidIndex >= ids.length) {
			throw c.error("inode", n.blockPos, off, "uid/gid index " + n.uidIndex + "/" + n.gidIndex + " is beyond the " + ids.length
				+ " ids of the id table");
		}
		boolean extended = n.type > 7;
		switch (n.basicType) {
			case 1 -> {
				if (!extended) {
					n.dirBlock = c.u32();
					n.nlink = c.u32();
					n.listingSize = c.u16() - 3L;
					n.dirOffset = c.u16();
					n.parent = c.u32();
				} else {
					n.nlink = c.u32();
					n.listingSize = c.u32() - 3L;
					n.dirBlock = c.u32();
					n.parent = c.u32();
					n.indexCount = c.u16();
					n.dirOffset = c.u16();
					n.xattr = c.u32();
					n.indexBlock = c.blockPos();
					n.indexOffset = c.offset();
				}
				if (n.listingSize < 0) {
					throw c.error("directory inode", n.blockPos, off, "size " + (n.listingSize + 3) + " is less than 3");
				}
				if (n.listingSize > LISTING_MAX) {
					throw c.error("directory inode", n.blockPos, off, "listing of " + n.listingSize + " bytes exceeds the " + LISTING_MAX
						+ " psi accepts");
				}
				if (n.listingSize > 0 && (n.dirBlock >= directories.end() - directories.start() || n.dirOffset >= Superblock.METADATA_SIZE)) {
					throw c.error("directory inode", n.blockPos, off, "listing at block " + n.dirBlock + ", offset " + n.dirOffset
						+ " lies outside the directory table");
				}
				// each index entry marks a metadata block the listing crosses into, and holds at least 13 bytes
				if (n.indexCount > n.listingSize / 13 + 1) {
					throw c.error("directory inode", n.blockPos, off, "index count " + n.indexCount + " is too large for a listing of "
						+ n.listingSize + " bytes");
				}
			}
			case 2 -> {
				if (!extended) {
					n.blocksStart = c.u32();
					n.fragment = c.u32();
					n.fragmentOffset = c.u32();
					n.fileSize = c.u32();
					n.nlink = 1;
				} else {
					n.blocksStart = c.u64();
					n.fileSize = c.u64();
					c.u64(); // sparse bytes
					n.nlink = c.u32();
					n.fragment = c.u32();
					n.fragmentOffset = c.u32();
					n.xattr = c.u32();
				}
				if (n.fileSize < 0) {
					throw c.error("file inode", n.blockPos, off, "size " + Long.toUnsignedString(n.fileSize) + " is out of range");
				}
				int log = sb.blockLog();
				if (n.fragment != SquashfsReader.NO_FRAGMENT) {
					if (n.fragment >= sb.fragmentCount()) {
						throw c.error("file inode", n.blockPos, off, "fragment " + n.fragment + " is beyond the " + sb.fragmentCount()
							+ " fragments of the fragment table");
					}
					long tail = n.fileSize & (sb.blockSize() - 1);
					if (n.fragmentOffset + tail > sb.blockSize()) {
						throw c.error("file inode", n.blockPos, off, "tail of " + tail + " bytes at fragment offset " + n.fragmentOffset
							+ " exceeds the block size " + sb.blockSize());
					}
					n.blockCount = n.fileSize >>> log;
				} else {
					n.blockCount = (n.fileSize >>> log) + ((n.fileSize & (sb.blockSize() - 1)) != 0 ? 1 : 0);
				}
				if (n.blockCount > 0 && (n.blocksStart < dataStart || n.blocksStart > dataEnd)) {
					throw c.error("file inode", n.blockPos, off, "data blocks at byte " + Long.toUnsignedString(n.blocksStart)
						+ " lie outside the data area (bytes " + dataStart + " to " + dataEnd + ")");
				}
				n.listBlock = c.blockPos();
				n.listOffset = c.offset();
			}
			case 3 -> {
				n.nlink = c.u32();
				long size = c.u32();
				if (size < 1 || size > MAX_SYMLINK) {
					throw c.error("symlink inode", n.blockPos, off, "target of " + size + " bytes is not 1 to " + MAX_SYMLINK + " bytes long");
				}
				n.target = c.bytes((int) size);
				for (byte x : n.target) {
					if (x == 0) {
						throw c.error("symlink inode", n.blockPos, off, "target contains a NUL byte");
					}
				}
				if (extended) {
					n.xattr = c.u32();
				}
			}
			case 4, 5 -> {
				n.nlink = c.u32();
				n.rdev = (int) c.u32();
				if (extended) {
					n.xattr = c.u32();
				}
			}
			default -> {
				n.nlink = c.u32();
				if (extended) {
					n.xattr = c.u32();
				}
			}
		}
		return n;
	}

	/** @return what {@code lstat} shows of a parsed inode, its owner and group looked up in the id table */
	Inode inode(Node n) {
		Inode.Type t = Inode.Type.ofBasic(n.basicType);
		String target = n.target == null ? null : new String(n.target, StandardCharsets.UTF_8);
		long size = switch (t) {
			case FILE -> n.fileSize;
			case SYMLINK -> n.target.length;
			default -> 0;
		};
		return new Inode(t, n.mode, size, target, ids[n.uidIndex], ids[n.gidIndex], n.mtime, n.number, n.nlink, n.rdev,
			n.xattr != SquashfsReader.NO_XATTR);
	}

	/** @return the cursor over a file's block sizes, which follow its inode */
	MetadataCursor blockList(Node f) {
		return new MetadataCursor(meta, inodes, where, f.listBlock, f.listOffset);
	}

	private int[] readIds(ImageBytes bytes) throws IOException {
		MetadataTable table = new MetadataTable("id table", sb.directoryTableStart(), sb.idTableStart());
		int[] out = new int[sb.idCount()];
		int perBlock = Superblock.IDS_PER_BLOCK;
		for (int i = 0; i * perBlock < out.length; i++) {
			long blockPos = bytes.u64(sb.idTableStart() + 8L * i, "id table index");
			MetadataCursor c = new MetadataCursor(meta, table, where, blockPos, 0);
			for (int j = i * perBlock; j < Math.min(out.length, (i + 1) * perBlock); j++) {
				out[j] = (int) c.u32();
			}
		}
		return out;
	}
}
