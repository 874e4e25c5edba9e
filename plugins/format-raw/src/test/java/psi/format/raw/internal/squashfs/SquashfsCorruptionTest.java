package psi.format.raw.internal.squashfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.DeflaterOutputStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.ImageException;

/**
 * Images made by mksquashfs, then damaged at known places: each damage must
 * give one ImageException of one line naming the structure and its byte.
 * Most images are made with {@code -noI -noD -noF -noX}, so that inodes,
 * directories and tables are stored as they are and can be patched in place.
 */
class SquashfsCorruptionTest {

	private static final String LABEL = "image '/x.raw'";
	private static final String PREFIX = "squashfs in " + LABEL + ": ";

	@TempDir
	static Path tmp;
	/** The small tree, everything stored uncompressed, 4 KiB blocks. */
	static byte[] stored;
	/** The same, gzip-compressed. */
	static byte[] gzip;
	static final AtomicInteger files = new AtomicInteger();

	@BeforeAll
	static void images() throws Exception {
		Path src = tmp.resolve("src");
		SquashfsFixtures.smallTree(src);
		stored = Files.readAllBytes(SquashfsFixtures.mksquashfs(src, tmp.resolve("stored.img"), "-comp", "gzip", "-b", "4K", "-noI", "-noD",
			"-noF", "-noX"));
		gzip = Files.readAllBytes(SquashfsFixtures.mksquashfs(src, tmp.resolve("gzip.img"), "-comp", "gzip", "-b", "4K"));
		// the premise of patching in place: metadata blocks are stored (bit 15 of their header)
		assertTrue((u16(stored, (int) u64(stored, 64)) & 0x8000) != 0);
	}

	@FunctionalInterface
	interface ReaderAction {
		void run(SquashfsReader r) throws IOException;
	}

	/** Opens the damaged image, runs the action, and returns the one ImageException it must throw. */
	private static String failure(byte[] image, ReaderAction action) throws IOException {
		Path f = tmp.resolve("bad-" + files.incrementAndGet() + ".img");
		Files.write(f, image);
		try (FileChannel ch = FileChannel.open(f)) {
			ImageException e = assertThrows(ImageException.class, () -> {
				try (SquashfsReader r = new SquashfsReader(ch, 0, ch.size(), LABEL)) {
					action.run(r);
				}
			});
			String m = e.getMessage();
			assertFalse(m.contains("\n"), m);
			assertTrue(m.startsWith(PREFIX), m);
			assertTrue(m.matches(".* at byte \\d+.*|.* in the metadata block at byte \\d+, offset \\d+: .*"), m);
			return m.substring(PREFIX.length());
		}
	}

	private static String openFailure(byte[] image) throws IOException {
		return failure(image, r -> {
		});
	}

	private static void assertMessage(String expectedRegex, String actual) {
		assertTrue(actual.matches(expectedRegex), "message: " + actual + "\n  expected: " + expectedRegex);
	}

	// ---- superblock

	@Test
	void truncatedImage() throws Exception {
		assertMessage("superblock at byte 40: bytes used \\d+ do not fit the 20000 bytes of the image \\(a truncated image, or a superblock that lies\\)",
			openFailure(Arrays.copyOf(stored, 20000)));
		assertEquals("superblock at byte 0: the image holds 50 bytes here, fewer than the 96 of a superblock",
			openFailure(Arrays.copyOf(stored, 50)));
	}

	@Test
	void wrongMagic() throws Exception {
		byte[] b = stored.clone();
		b[0] = 'x';
		assertEquals("superblock at byte 0: magic 0x73717378 is not a squashfs magic (0x73717368, \"hsqs\")", openFailure(b));
	}

	@Test
	void superblockThatLies() throws Exception {
		assertMessage("superblock at byte 40: bytes used \\d+ do not fit the \\d+ bytes of the image .*",
			openFailure(put64(stored, 40, stored.length + 4096)));
		assertEquals("superblock at byte 28: version 3.0 is not 4.0", openFailure(put16(put16(stored, 28, 3), 30, 0)));
		assertEquals("superblock at byte 12: block size 3000 is not a power of two from 4096 to 1048576", openFailure(put32(stored, 12, 3000)));
		assertEquals("superblock at byte 12: block size 2097152 is not a power of two from 4096 to 1048576",
			openFailure(put32(stored, 12, 2 << 20)));
		assertEquals("superblock at byte 22: block log 16 does not match the block size 4096", openFailure(put16(stored, 22, 16)));
		assertEquals("superblock at byte 20: compressor id 9 is unknown (1 gzip, 2 lzma, 3 lzo, 4 xz, 5 lz4, 6 zstd)",
			openFailure(put16(stored, 20, 9)));
		assertEquals("superblock at byte 4: inode count is 0", openFailure(put32(stored, 4, 0)));
		assertEquals("superblock at byte 26: id count is 0", openFailure(put16(stored, 26, 0)));
		// fewer inodes than the root's number
		assertMessage("inode in the metadata block at byte \\d+, offset \\d+: inode number \\d+ is outside 1 to the inode count 5",
			openFailure(put32(stored, 4, 5)));
	}

	@Test
	void tableOffsetsOutOfRange() throws Exception {
		long used = u64(stored, 40);
		assertMessage("superblock at byte 64: inode table start " + (used + 10) + " lies outside bytes 96 to " + used,
			openFailure(put64(stored, 64, used + 10)));
		assertMessage("superblock at byte 64: inode table start 10 lies outside bytes 96 to \\d+", openFailure(put64(stored, 64, 10)));
		assertMessage("superblock at byte 72: directory table start \\d+ does not lie after the inode table start \\d+ and within bytes used \\d+",
			openFailure(put64(stored, 72, u64(stored, 64) - 1)));
		assertMessage("superblock at byte 48: id table start 18446744073709551615 \\(index of 8 bytes\\) does not lie between .*",
			openFailure(put64(stored, 48, -1)));
		assertMessage("superblock at byte 80: fragment table start \\d+ \\(index of 33554432 bytes\\) does not lie between .*",
			openFailure(put32(stored, 16, 0x7fffffff)));
		assertMessage("superblock at byte 56: xattr id table start \\d+ \\(index of 16 bytes\\) does not lie between .*",
			openFailure(put64(stored, 56, used - 4)));
		assertMessage("superblock at byte 32: root inode reference 0x\\w+ lies outside the inode table",
			openFailure(put64(stored, 32, (u64(stored, 72) - u64(stored, 64)) << 16)));
		// the id index names a block outside the id table's area
		assertMessage("id table metadata block at byte 5: lies outside the id table .*", openFailure(put64(stored, (int) u64(stored, 48), 5)));
	}

	// ---- metadata blocks

	@Test
	void metadataBlockOfMoreThan8KiB() throws Exception {
		int block = (int) (u64(stored, 64) + (u64(stored, 32) >>> 16)); // the root inode's block
		assertEquals("inode table metadata block at byte " + block + ": header says 9000 stored bytes, more than the 8192 a metadata block holds",
			openFailure(put16(stored, block, 0x8000 | 9000)));
		// a compressed block whose zlib stream holds 9000 bytes
		int gzBlock = (int) (u64(gzip, 64) + (u64(gzip, 32) >>> 16));
		ByteArrayOutputStream z = new ByteArrayOutputStream();
		try (DeflaterOutputStream out = new DeflaterOutputStream(z)) {
			out.write(new byte[9000]);
		}
		byte[] b = put16(gzip, gzBlock, z.size());
		System.arraycopy(z.toByteArray(), 0, b, gzBlock + 2, z.size());
		assertEquals("inode table metadata block at byte " + gzBlock + ": decompresses to more than 8192 bytes", openFailure(b));
		// garbage where the compressed bytes should be
		byte[] g = gzip.clone();
		Arrays.fill(g, gzBlock + 2, gzBlock + 12, (byte) 0x55);
		assertMessage("inode table metadata block at byte " + gzBlock + ": does not decompress \\(zlib: .*\\)", openFailure(g));
		assertEquals("inode table metadata block at byte " + block + ": header says 0 bytes", openFailure(put16(stored, block, 0x8000)));
	}

	// ---- inodes and data

	/** @return where a path's inode lies in the stored image */
	private static int inode(String path) throws IOException {
		Path f = tmp.resolve("clean-" + files.incrementAndGet() + ".img");
		Files.write(f, stored);
		try (FileChannel ch = FileChannel.open(f); SquashfsReader r = new SquashfsReader(ch, 0, ch.size(), LABEL)) {
			long[] at = r.inodeLocation(path);
			return (int) (at[0] + 2 + at[1]);
		}
	}

	@Test
	void dataBlockClaimingMoreThanTheBlockSize() throws Exception {
		int noise = inode("/noise");
		assertEquals(2, u16(stored, noise), "a basic file inode: its block list starts at byte 32");
		assertMessage("block size word 0 of inode \\d+ in the metadata block at byte \\d+, offset \\d+: data block at byte \\d+ claims 4097 bytes, "
			+ "more than the block size 4096", failure(put32(stored, noise + 32, 4097), r -> r.read("/noise", 1 << 20)));
		assertMessage("data block at byte \\d+: stored block holds 100 bytes where the file needs 4096",
			failure(put32(stored, noise + 32, 1 << 24 | 100), r -> r.read("/noise", 1 << 20)));
		assertMessage("file inode in the metadata block at byte \\d+, offset \\d+: data blocks at byte \\d+ lie outside the data area .*",
			failure(put32(stored, noise + 16, (int) u64(stored, 64) + 1), r -> r.read("/noise", 1 << 20)));
		assertMessage("file inode in the metadata block at byte \\d+, offset \\d+: fragment 7 is beyond the 1 fragments of the fragment table",
			failure(put32(stored, noise + 20, 7), r -> r.lstat("/noise")));
		// a compressed data block that is not zlib
		byte[] g = gzip.clone();
		assertEquals(0, u16(gzip, 24) & Superblock.COMPRESSOR_OPTIONS, "data starts right after the superblock");
		Arrays.fill(g, 96, 96 + 64, (byte) 0x33);
		assertMessage("(data|fragment) block at byte 96: does not decompress \\(zlib: .*\\)", failure(g, r -> {
			for (String n : r.list("/")) {
				if (r.lstat("/" + n).orElseThrow().kind() == psi.spi.format.Entry.Kind.FILE) {
					r.read("/" + n, 1 << 20);
				}
			}
		}));
	}

	@Test
	void fragmentEntryOfMoreThanTheBlockSize() throws Exception {
		int index = (int) u64(stored, 80);
		int block = (int) u64(stored, index);
		assertMessage("fragment entry 0 in the metadata block at byte " + block + ", offset 0: fragment block of 5000 bytes is not 1 to the block size 4096",
			failure(put32(stored, block + 2 + 8, 5000), r -> r.read("/a.txt", 100)));
	}

	@Test
	void badInodeFields() throws Exception {
		int a = inode("/a.txt");
		assertMessage("inode in the metadata block at byte \\d+, offset \\d+: type 20 is unknown \\(1 to 14\\)",
			failure(put16(stored, a, 20), r -> r.lstat("/a.txt")));
		assertMessage("inode in the metadata block at byte \\d+, offset \\d+: uid/gid index 200/\\d+ is beyond the \\d+ ids of the id table",
			failure(put16(stored, a + 4, 200), r -> r.lstat("/a.txt")));
		assertEquals(9, u16(stored, a), "a.txt has xattrs: an extended file inode, xattr id at byte 52");
		assertMessage("inode in the metadata block at byte \\d+, offset \\d+: xattr id 1000 is beyond the \\d+ ids of the xattr id table",
			failure(put32(stored, a + 52, 1000), r -> r.xattrs("/a.txt")));
		assertMessage("directory entry 'a.txt' in the metadata block at byte \\d+, offset \\d+: says type 2 but its inode \\(number \\d+\\) is of type 1",
			failure(put16(stored, a, 1), r -> r.lstat("/a.txt")));
	}

	@Test
	void xattrReferenceOutsideTheKeyValueTable() throws Exception {
		int a = inode("/a.txt");
		long id = u32(stored, a + 52);
		int idBlock = (int) u64(stored, (int) u64(stored, 56) + 16);
		int offset = (int) id * 16;
		assertEquals("xattr id " + id + " in the metadata block at byte " + idBlock + ", offset " + offset
			+ ": reference 0xffff0000 lies outside the xattr table",
			failure(put64(stored, idBlock + 2 + offset, 0xffff0000L), r -> r.xattrs("/a.txt")));
	}

	@Test
	void symlinkTargetLongerThan4096() throws Exception {
		int link = inode("/link");
		assertEquals(3, u16(stored, link));
		assertMessage("symlink inode in the metadata block at byte \\d+, offset \\d+: target of 5000 bytes is not 1 to 4096 bytes long",
			failure(put32(stored, link + 20, 5000), r -> r.lstat("/link")));
	}

	// ---- directories

	/** @return where a directory's listing starts in the stored image: {its block, the offset in it} */
	private static int[] listing(String dir) throws IOException {
		int d = inode(dir);
		int type = u16(stored, d);
		long start = type == 1 ? u32(stored, d + 16) : u32(stored, d + 24);
		int offset = type == 1 ? u16(stored, d + 26) : u16(stored, d + 34);
		return new int[] { (int) (u64(stored, 72) + start), offset };
	}

	/** @return the byte of a listing's first header */
	private static int header(int[] listing) {
		return listing[0] + 2 + listing[1];
	}

	/** @return {the byte of the header holding a name, the byte of its entry}; the listing must lie in one block */
	private static int[] entry(int[] listing, String name) {
		int p = header(listing);
		while (true) {
			int h = p;
			int count = (int) u32(stored, h) + 1;
			p += 12;
			for (int i = 0; i < count; i++) {
				int size = u16(stored, p + 6) + 1;
				if (new String(stored, p + 8, size, StandardCharsets.UTF_8).equals(name)) {
					return new int[] { h, p };
				}
				p += 8 + size;
			}
		}
	}

	@Test
	void directoryHeaderCountingMoreThan256() throws Exception {
		int[] root = listing("/");
		int h = header(root);
		assertEquals("directory header in the metadata block at byte " + root[0] + ", offset " + root[1] + ": entry count 5000 exceeds 256",
			failure(put32(stored, h, 4999), r -> r.list("/")));
		assertMessage("directory entry in the metadata block at byte \\d+, offset \\d+: inode number \\d+ is outside 1 to the inode count \\d+",
			failure(put32(stored, h + 8, 0x7fff0000), r -> r.list("/")));
		assertMessage("directory header in the metadata block at byte \\d+, offset \\d+: inode block \\d+ lies outside the inode table of \\d+ bytes",
			failure(put32(stored, h + 4, 0x7fffffff), r -> r.list("/")));
	}

	@Test
	void nameLongerThan256() throws Exception {
		int e = entry(listing("/"), "a.txt")[1];
		assertMessage("directory entry in the metadata block at byte \\d+, offset \\d+: name of 301 bytes exceeds 256",
			failure(put16(stored, e + 6, 300), r -> r.list("/")));
		byte[] slash = stored.clone();
		slash[e + 8 + 1] = '/';
		assertMessage("directory entry in the metadata block at byte \\d+, offset \\d+: name contains a '/' or NUL byte", failure(slash, r -> r.list("/")));
		byte[] dots = put16(stored, e + 6, 1);
		dots[e + 8] = '.';
		dots[e + 9] = '.';
		// the name shrank: the listing no longer adds up
		assertTrue(failure(dots, r -> r.list("/")).startsWith("directory entry in the metadata block at byte "));
	}

	/** An entry pointed at the directory holding it, or at one further up: resolving through it must stop. */
	@Test
	void directoryLoop() throws Exception {
		long rootRef = u64(stored, 32);
		int[] sub = entry(listing("/"), "sub");
		byte[] b = put32(stored, sub[0] + 4, (int) (rootRef >>> 16));
		b = put16(b, sub[1], (int) (rootRef & 0xffff));
		byte[] loop = b;
		assertMessage("directory entry 'sub' in the metadata block at byte \\d+, offset \\d+: refers to directory inode \\d+, which contains it: a directory loop",
			failure(loop, r -> r.list("/sub")));
		assertMessage(".*a directory loop", failure(loop, r -> r.lstat("/sub")));

		// /sub/deeper pointing back at /: two levels up
		int[] deeper = entry(listing("/sub"), "deeper");
		byte[] c = put32(stored, deeper[0] + 4, (int) (rootRef >>> 16));
		c = put16(c, deeper[1], (int) (rootRef & 0xffff));
		byte[] up = c;
		assertMessage("directory entry 'deeper' in the metadata block at byte \\d+, offset \\d+: refers to directory inode \\d+, which contains it: a directory loop",
			failure(up, r -> r.list("/sub/deeper")));
		// a walker that recurses through list and lstat stops at the loop
		assertMessage(".*a directory loop", failure(up, r -> walk(r, "/", 0)));
	}

	private static void walk(SquashfsReader r, String dir, int depth) throws IOException {
		assertTrue(depth < 100, "the walk recursed without end");
		for (String n : r.list(dir)) {
			String p = dir.equals("/") ? "/" + n : dir + "/" + n;
			if (r.lstat(p).orElseThrow().kind() == psi.spi.format.Entry.Kind.DIRECTORY) {
				walk(r, p, depth + 1);
			}
		}
	}

	// ---- little-endian helpers

	static int u16(byte[] b, int off) {
		return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(off) & 0xffff;
	}

	static long u32(byte[] b, int off) {
		return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off) & 0xffffffffL;
	}

	static long u64(byte[] b, int off) {
		return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off);
	}

	static byte[] put16(byte[] b, int off, int v) {
		byte[] c = b.clone();
		ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putShort(off, (short) v);
		return c;
	}

	static byte[] put32(byte[] b, int off, long v) {
		byte[] c = b.clone();
		ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(off, (int) v);
		return c;
	}

	static byte[] put64(byte[] b, int off, long v) {
		byte[] c = b.clone();
		ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(off, v);
		return c;
	}
}
