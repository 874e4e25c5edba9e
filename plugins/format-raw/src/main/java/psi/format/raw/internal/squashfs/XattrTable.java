package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import psi.format.raw.internal.squashfs.SquashfsReader.Node;
import psi.spi.format.ImageException;

/**
 * Reads the extended attributes of an inode: its id in the xattr id table
 * (whose header is read and checked on first use), then its keys and values
 * in the key/value table, values stored in line or once elsewhere. Bounds the
 * size of each name and value and of all of one inode's. Not thread safe: the
 * reader confines it to its lock.
 */
final class XattrTable {
	/** Linux's limits for one extended attribute. */
	static final int XATTR_NAME_MAX = 255;
	static final int XATTR_VALUE_MAX = 65536;
	/** The most xattr bytes (names and values) accepted for one inode. */
	static final long XATTRS_MAX = 8L << 20;
	/** The most xattrs accepted for one inode (Linux lists at most 64 KiB of names). */
	static final long XATTR_COUNT_MAX = 65536;
	private static final String[] XATTR_PREFIXES = { "user.", "trusted.", "security." };

	/** The xattr id table's header: where the key/value table starts and how many ids there are. */
	private record Header(long kvStart, long count, MetadataTable kv) {
	}

	private final Superblock sb;
	private final ImageBytes bytes;
	private final MetadataBlocks meta;
	private final Corruption where;
	private Header header;

	XattrTable(Superblock sb, ImageBytes bytes, MetadataBlocks meta, Corruption where) {
		this.sb = sb;
		this.bytes = bytes;
		this.meta = meta;
		this.where = where;
	}

	/**
	 * @return full names ({@code user.x}, {@code trusted.x}, {@code security.x}) to values, in stored order
	 * @throws psi.spi.format.ImageException if the xattr tables are corrupt
	 */
	Map<String, byte[]> xattrs(Node n) throws IOException {
		if (n.xattr == SquashfsReader.NO_XATTR) {
			return Map.of();
		}
		if (!sb.hasXattrs()) {
			throw where.in("inode", n.blockPos, n.offset, "names xattr id " + n.xattr + " but the file system has no xattr table");
		}
		Header t = header();
		if (n.xattr >= t.count) {
			throw where.in("inode", n.blockPos, n.offset, "xattr id " + n.xattr + " is beyond the " + t.count + " ids of the xattr id table");
		}
		long idPos = n.xattr * 16;
		long blockPos = bytes.u64(sb.xattrIdTableStart() + 16 + 8 * (idPos / Superblock.METADATA_SIZE), "xattr id table index");
		MetadataCursor ids = new MetadataCursor(meta, t.kv, where, blockPos, (int) (idPos % Superblock.METADATA_SIZE));
		long ib = ids.blockPos();
		int io = ids.offset();
		long ref = ids.u64();
		long count = ids.u32();
		ids.u32(); // total size, for listxattr
		if (count > XATTR_COUNT_MAX) {
			throw ids.error("xattr id " + n.xattr, ib, io, "count " + count + " exceeds " + XATTR_COUNT_MAX);
		}
		MetadataCursor c = cursor(t, ref, "xattr id " + n.xattr, ib, io);
		Map<String, byte[]> out = new LinkedHashMap<>();
		long total = 0;
		byte[] nameBuf = new byte[XATTR_NAME_MAX];
		for (long i = 0; i < count; i++) {
			long kb = c.blockPos();
			int ko = c.offset();
			int type = c.u16();
			int nameSize = c.u16();
			int prefix = type & 0xff;
			if ((type & ~0x1ff) != 0 || prefix >= XATTR_PREFIXES.length) {
				throw c.error("xattr key", kb, ko, "type 0x" + Integer.toHexString(type) + " is unknown (user, trusted, security)");
			}
			if (nameSize < 1 || nameSize + XATTR_PREFIXES[prefix].length() > XATTR_NAME_MAX) {
				throw c.error("xattr key", kb, ko, "name of " + nameSize + " bytes is not 1 to " + XATTR_NAME_MAX + " bytes with its prefix");
			}
			c.read(nameBuf, 0, nameSize);
			String name = XATTR_PREFIXES[prefix] + new String(nameBuf, 0, nameSize, StandardCharsets.UTF_8);
			long vb = c.blockPos();
			int vo = c.offset();
			long vsize = c.u32();
			byte[] value;
			if ((type & 0x100) != 0) {
				// the value is stored once elsewhere; here is its reference
				if (vsize != 8) {
					throw c.error("xattr value of '" + name + "'", vb, vo, "out-of-line reference of " + vsize + " bytes, not 8");
				}
				MetadataCursor vc = cursor(t, c.u64(), "xattr value of '" + name + "'", vb, vo);
				long ob = vc.blockPos();
				int oo = vc.offset();
				long size = vc.u32();
				if (size > XATTR_VALUE_MAX) {
					throw vc.error("xattr value of '" + name + "'", ob, oo, size + " bytes exceed " + XATTR_VALUE_MAX);
				}
				value = vc.bytes((int) size);
			} else {
				if (vsize > XATTR_VALUE_MAX) {
					throw c.error("xattr value of '" + name + "'", vb, vo, vsize + " bytes exceed " + XATTR_VALUE_MAX);
				}
				value = c.bytes((int) vsize);
			}
			total += nameSize + value.length;
			if (total > XATTRS_MAX) {
				throw where.in("inode", n.blockPos, n.offset, "xattrs exceed " + XATTRS_MAX + " bytes");
			}
			out.put(name, value);
		}
		return out;
	}

	/**
	 * @param ref a reference into the key/value table: block &lt;&lt; 16 | offset
	 * @param structure what holds the reference, and where, for the message
	 * @return a cursor at it, checked to lie in the table
	 */
	private MetadataCursor cursor(Header t, long ref, String structure, long atBlock, int atOffset) throws ImageException {
		if (ref >>> 16 >= t.kv.end() - t.kv.start() || (ref & 0xffff) >= Superblock.METADATA_SIZE) {
			throw where.in(structure, atBlock, atOffset, "reference 0x" + Long.toHexString(ref) + " lies outside the xattr table");
		}
		return new MetadataCursor(meta, t.kv, where, t.kvStart + (ref >>> 16), (int) (ref & 0xffff));
	}

	private Header header() throws IOException {
		if (header == null) {
			long pos = sb.xattrIdTableStart();
			long kvStart = bytes.u64(pos, "xattr id table");
			byte[] b = new byte[8];
			bytes.read(pos + 8, b, 0, 8, "xattr id table");
			long count = Integer.toUnsignedLong(MetadataCursor.le32(b, 0));
			if (kvStart < sb.directoryTableStart() || kvStart >= pos) {
				throw where.at("xattr id table", pos, "key/value table start " + Long.toUnsignedString(kvStart)
					+ " does not lie between the directory table and the xattr id table");
			}
			long indexBytes = Superblock.ceilDiv(count * 16, Superblock.METADATA_SIZE) * 8;
			if (indexBytes > sb.bytesUsed() - pos - 16) {
				throw where.at("xattr id table", pos, count + " ids need an index of " + indexBytes + " bytes, beyond the file system's end");
			}
			header = new Header(kvStart, count, new MetadataTable("xattr table", kvStart, pos));
		}
		return header;
	}
}
