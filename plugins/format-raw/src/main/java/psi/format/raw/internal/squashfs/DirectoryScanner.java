package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import psi.format.raw.internal.squashfs.SquashfsReader.Node;
import psi.spi.format.ImageException;

/**
 * Walks the listing of one directory in the directory table, checking every
 * header and entry on the way, to list it or to find one name in it (from
 * the directory index when there is one). Not thread safe: the reader
 * confines it to its lock.
 */
final class DirectoryScanner {
	/** The longest name a directory entry may have. */
	static final int MAX_NAME = 256;
	/** The most entries a directory header may count. */
	static final int MAX_HEADER_ENTRIES = 256;

	@FunctionalInterface
	private interface EntryVisitor {
		/** @return true to stop */
		boolean visit(byte[] name, int nameLen, long ref, long number, int type, long blockPos, int offset) throws IOException;
	}

	/** What a lookup found: the entry's inode and where the entry lies. */
	record Hit(long ref, int type, long blockPos, int offset) {
	}

	private final Superblock sb;
	private final MetadataBlocks meta;
	private final Corruption where;
	private final MetadataTable inodes;
	private final MetadataTable directories;

	/**
	 * @param inodes where the inode table lies, which holds the directory indexes
	 * @param directories where the directory table lies
	 */
	DirectoryScanner(Superblock sb, MetadataBlocks meta, Corruption where, MetadataTable inodes, MetadataTable directories) {
		this.sb = sb;
		this.meta = meta;
		this.where = where;
		this.inodes = inodes;
		this.directories = directories;
	}

	/** @return the names in a directory, in the file system's order (sorted by name bytes) */
	List<String> names(Node dir) throws IOException {
		List<String> names = new ArrayList<>();
		scan(dir, null, (name, len, ref, number, type, eb, eo) -> {
			names.add(new String(name, 0, len, StandardCharsets.UTF_8));
			return false;
		});
		return names;
	}

	/** Finds a name in a directory, starting from the directory index when there is one. */
	Hit lookup(Node dir, byte[] name) throws IOException {
		Hit[] found = new Hit[1];
		scan(dir, name, (n, len, ref, number, type, eb, eo) -> {
			int cmp = Arrays.compareUnsigned(n, 0, len, name, 0, name.length);
			if (cmp == 0) {
				found[0] = new Hit(ref, type, eb, eo);
			}
			// names are sorted: past the name, it is not there
			return cmp >= 0;
		});
		return found[0];
	}

	/**
	 * Visits the entries of a directory listing: headers (count - 1, inode
	 * block, base inode number) each followed by up to 256 entries. With a
	 * target name and a directory index, starts at the last indexed header
	 * whose first name is not after the target.
	 */
	private void scan(Node dir, byte[] target, EntryVisitor v) throws IOException {
		long block = directories.start() + dir.dirBlock;
		int off = dir.dirOffset;
		long consumed = 0;
		if (target != null && dir.indexCount > 0) {
			MetadataCursor ic = new MetadataCursor(meta, inodes, where, dir.indexBlock, dir.indexOffset);
			byte[] nameBuf = new byte[MAX_NAME];
			for (int i = 0; i < dir.indexCount; i++) {
				long ib = ic.blockPos();
				int io = ic.offset();
				long index = ic.u32();
				long start = ic.u32();
				long size = ic.u32() + 1;
				if (size > MAX_NAME) {
					throw ic.error("directory index entry", ib, io, "name of " + size + " bytes exceeds " + MAX_NAME);
				}
				ic.read(nameBuf, 0, (int) size);
				if (Arrays.compareUnsigned(nameBuf, 0, (int) size, target, 0, target.length) > 0) {
					break;
				}
				if (index < consumed || index > dir.listingSize) {
					throw ic.error("directory index entry", ib, io, "listing offset " + index + " is not ascending within the listing's "
						+ dir.listingSize + " bytes");
				}
				if (start >= directories.end() - directories.start()) {
					throw ic.error("directory index entry", ib, io, "block " + start + " lies outside the directory table");
				}
				block = directories.start() + start;
				off = (int) ((index + dir.dirOffset) % Superblock.METADATA_SIZE);
				consumed = index;
			}
		}
		long remaining = dir.listingSize - consumed;
		if (remaining == 0) {
			return;
		}
		MetadataCursor c = new MetadataCursor(meta, directories, where, block, off);
		byte[] name = new byte[MAX_NAME];
		long inodeTableSize = inodes.end() - inodes.start();
		while (remaining > 0) {
			long hb = c.blockPos();
			int ho = c.offset();
			if (remaining < 12) {
				throw c.error("directory header", hb, ho, "the listing ends " + remaining + " bytes into it");
			}
			long count = c.u32() + 1;
			long start = c.u32();
			long firstNumber = c.u32();
			remaining -= 12;
			if (count > MAX_HEADER_ENTRIES) {
				throw c.error("directory header", hb, ho, "entry count " + count + " exceeds " + MAX_HEADER_ENTRIES);
			}
			if (start >= inodeTableSize) {
				throw c.error("directory header", hb, ho, "inode block " + start + " lies outside the inode table of " + inodeTableSize
					+ " bytes");
			}
			for (long i = 0; i < count; i++) {
				long eb = c.blockPos();
				int eo = c.offset();
				if (remaining < 8) {
					throw c.error("directory entry", eb, eo, "the listing ends " + remaining + " bytes into it");
				}
				int offset = c.u16();
				int delta = (short) c.u16();
				int type = c.u16();
				int size = c.u16() + 1;
				if (size > MAX_NAME) {
					throw c.error("directory entry", eb, eo, "name of " + size + " bytes exceeds " + MAX_NAME);
				}
				if (remaining < 8 + size) {
					throw c.error("directory entry", eb, eo, "the listing ends inside it");
				}
				remaining -= 8 + size;
				c.read(name, 0, size);
				checkName(c, eb, eo, name, size);
				if (offset >= Superblock.METADATA_SIZE) {
					throw c.error("directory entry", eb, eo, "inode offset " + offset + " lies beyond a metadata block");
				}
				long number = firstNumber + delta;
				if (number < 1 || number > sb.inodeCount()) {
					throw c.error("directory entry", eb, eo, "inode number " + number + " is outside 1 to the inode count " + sb.inodeCount());
				}
				if (type < 1 || type > 14) {
					throw c.error("directory entry", eb, eo, "type " + type + " is unknown (1 to 14)");
				}
				if (v.visit(name, size, start << 16 | offset, number, type, eb, eo)) {
					return;
				}
			}
		}
	}

	private static void checkName(MetadataCursor c, long eb, int eo, byte[] name, int len) throws ImageException {
		if (len == 1 && name[0] == '.' || len == 2 && name[0] == '.' && name[1] == '.') {
			throw c.error("directory entry", eb, eo, "name '" + new String(name, 0, len, StandardCharsets.UTF_8) + "' is reserved");
		}
		for (int i = 0; i < len; i++) {
			if (name[i] == '/' || name[i] == 0) {
				throw c.error("directory entry", eb, eo, "name contains a '/' or NUL byte");
			}
		}
	}
}
