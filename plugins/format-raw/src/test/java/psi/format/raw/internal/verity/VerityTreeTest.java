package psi.format.raw.internal.verity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import psi.spi.format.ImageException;

/** Trees made by veritysetup, checked by VerityTree; damaged ones refused naming the block. */
class VerityTreeTest {

	private static final HexFormat HEX = HexFormat.of();

	@TempDir
	Path dir;

	static Stream<Arguments> trees() {
		String salt256 = "5a".repeat(256);
		return Stream.of(
			Arguments.of("default parameters", 1 << 20, new String[] {}),
			Arguments.of("512/512 as systemd-repart", 1 << 20, new String[] { "--data-block-size=512", "--hash-block-size=512" }),
			Arguments.of("1024/4096", 1 << 20, new String[] { "--data-block-size=1024", "--hash-block-size=4096" }),
			Arguments.of("4096/1024", 1 << 20, new String[] { "--data-block-size=4096", "--hash-block-size=1024" }),
			Arguments.of("512/4096", 1 << 20, new String[] { "--data-block-size=512", "--hash-block-size=4096" }),
			Arguments.of("4096/512", 1 << 20, new String[] { "--data-block-size=4096", "--hash-block-size=512" }),
			Arguments.of("no salt", 1 << 20, new String[] { "--salt=-" }),
			Arguments.of("1-byte salt", 1 << 20, new String[] { "--salt=ab" }),
			Arguments.of("256-byte salt", 1 << 20, new String[] { "--salt=" + salt256 }),
			Arguments.of("sha1", 1 << 20, new String[] { "--hash=sha1" }),
			Arguments.of("sha1 512/512", 1 << 20, new String[] { "--hash=sha1", "--data-block-size=512", "--hash-block-size=512" }),
			Arguments.of("sha512", 1 << 20, new String[] { "--hash=sha512" }),
			Arguments.of("sha512 512/512", 1 << 20, new String[] { "--hash=sha512", "--data-block-size=512", "--hash-block-size=512" }),
			Arguments.of("Chrome OS format 0", 1 << 20, new String[] { "--format=0" }),
			Arguments.of("format 0, sha1", 1 << 20, new String[] { "--format=0", "--hash=sha1", "--hash-block-size=1024" }),
			Arguments.of("one data block", 4096, new String[] {}),
			Arguments.of("one 512-byte data block", 512, new String[] { "--data-block-size=512", "--hash-block-size=512" }),
			Arguments.of("exactly one full hash block", 128 * 4096, new String[] {}),
			Arguments.of("one more than a hash block", 129 * 4096, new String[] {}),
			Arguments.of("four levels", 4097 * 512, new String[] { "--data-block-size=512", "--hash-block-size=512" }),
			Arguments.of("odd count", 1000 * 1024, new String[] { "--data-block-size=1024", "--hash-block-size=1024" }),
			Arguments.of("several chunks per thread", 24 << 20, new String[] { "--data-block-size=512", "--hash-block-size=512" }));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("trees")
	void checksWhatVeritysetupMakes(String name, int bytes, String[] options) throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), bytes, bytes);
		Path hash = dir.resolve("hash");
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash, options);
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			VeritySuperblock sb = VeritySuperblock.read(h, 0, "hash");
			assertArrayEquals(f.salt(), sb.salt());
			assertEquals(bytes / sb.dataBlockSize(), sb.dataBlocks());
			assertEquals(Arrays.asList(options).contains("--format=0") ? 0 : 1, sb.hashType());
			VerityTree.verify(d, 0, h, 0, f.root(), "image 'data'");

			assertArrayEquals(f.root(), VerityTree.computeRoot(d, 0, sb.params()));
			VerityTree.Built built = VerityTree.build(d, 0, sb.params());
			long start = Math.max(VeritySuperblock.SIZE, sb.hashBlockSize());
			assertArrayEquals(VerityFixtures.bytes(hash, start, built.tree().length), built.tree(), "the tree, byte for byte");
			assertEquals(start + built.tree().length, VerityFixtures.size(hash));

			byte[] wrong = f.root().clone();
			wrong[wrong.length - 1] ^= 1;
			ImageException e = assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, h, 0, wrong, "image 'data'"));
			assertEquals("image 'data': dm-verity root hash mismatch: expected " + HEX.formatHex(wrong) + ", computed "
				+ HEX.formatHex(f.root()), e.getMessage());
		}
		assertEquals(0, VerityFixtures.verifyStatus(data, hash, f.root()), "veritysetup verify agrees");
	}

	@Test
	void withoutSuperblock() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 3 << 20, 7);
		Path hash = dir.resolve("hash");
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash, "--no-superblock", "--salt=0011223344",
			"--data-block-size=1024", "--hash-block-size=2048");
		VerityTree.Params p = new VerityTree.Params(1, "sha256", 1024, 2048, 3072, HEX.parseHex("0011223344"));
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			VerityTree.verify(d, 0, h, 0, p, f.root(), "image 'data'");
			assertArrayEquals(f.root(), VerityTree.computeRoot(d, 0, p));
			assertTrue(assertThrows(ImageException.class, () -> VeritySuperblock.read(h, 0, "image 'hash'")).getMessage()
				.equals("image 'hash': dm-verity superblock at byte 0: no \"verity\" signature"));
		}
	}

	/** The tree built on every core (here 40 MB: each core a range of data blocks) is the one veritysetup writes, byte for byte. */
	@Test
	void aTreeBuiltInParallelIsVeritysetups() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("big"), 40 << 20, 11);
		Path hash = dir.resolve("big.hash");
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash, "--no-superblock", "--salt=00112233445566778899");
		VerityTree.Params p = new VerityTree.Params(1, "sha256", 4096, 4096, (40 << 20) / 4096, HEX.parseHex("00112233445566778899"));
		try (FileChannel d = FileChannel.open(data)) {
			VerityTree.Built b = VerityTree.build(d, 0, p);
			assertArrayEquals(f.root(), b.root());
			assertArrayEquals(Files.readAllBytes(hash), b.tree());
		}
	}

	/** veritysetup --hash-offset: data and tree in one file; the tree starts at the next hash block after the superblock. */
	@Test
	void dataAndHashInOneFile() throws IOException {
		for (long offset : new long[] { 2 << 20, (2 << 20) + 512, (2 << 20) + 3584 }) {
			Path file = VerityFixtures.data(dir.resolve("both-" + offset), 2 << 20, offset);
			try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
				f.setLength(4 << 20);
			}
			VerityFixtures.Formatted f = VerityFixtures.format(file, file, "--data-blocks=512", "--hash-offset=" + offset);
			try (FileChannel ch = FileChannel.open(file)) {
				VeritySuperblock sb = VerityTree.verify(ch, 0, 2 << 20, ch, 0, offset, ch.size(), f.root(), "image 'both'");
				assertEquals(512, sb.dataBlocks());
			}
			assertEquals(0, VerityFixtures.verifyStatus(file, file, f.root(), "--hash-offset=" + offset));
		}
	}

	@Test
	void aCorruptDataBlockIsNamed() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 4 << 20, 1);
		Path hash = dir.resolve("hash");
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash);
		VerityFixtures.flip(data, 777 * 4096 + 123);
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			// levels: 1024 data blocks / 128 per hash block = 8 leaf blocks after 1 top block, tree at 4096
			assertEquals("image 'data': dm-verity: data block 777 (byte 3182592) does not match its hash (level 0 hash block"
				+ " at byte " + (4096 + 4096 + 777 / 128 * 4096) + ")",
				assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, h, 0, f.root(), "image 'data'")).getMessage());
		}
		assertNotEquals(0, VerityFixtures.verifyStatus(data, hash, f.root()));
	}

	@Test
	void theFirstOfSeveralCorruptBlocksIsNamedWhateverTheThreadsDo() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 16 << 20, 2);
		Path hash = dir.resolve("hash");
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash, "--data-block-size=512", "--hash-block-size=512");
		for (long block : new long[] { 30000, 29999, 17, 4100 }) {
			VerityFixtures.flip(data, block * 512 + 5);
		}
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			for (int i = 0; i < 5; i++) {
				String m = assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, h, 0, f.root(), "x")).getMessage();
				assertTrue(m.startsWith("x: dm-verity: data block 17 (byte 8704) does not match its hash"), m);
			}
		}
	}

	@Test
	void aCorruptHashBlockIsNamedNotTheDataBelowIt() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 4 << 20, 3);
		Path hash = dir.resolve("hash");
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash);
		// tree: top block at 4096, leaf blocks at 8192.. (8 of them); damage leaf block 5
		long leaf5 = 8192 + 5 * 4096;
		VerityFixtures.flip(hash, leaf5 + 40);
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			assertEquals("image 'data': dm-verity: level 0 hash block at byte " + leaf5 + " does not match its hash (level 1 hash"
				+ " block at byte 4096)",
				assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, h, 0, f.root(), "image 'data'")).getMessage());
		}
		VerityFixtures.flip(hash, leaf5 + 40);
		VerityFixtures.flip(hash, 4096 + 7);
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			assertTrue(assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, h, 0, f.root(), "image 'data'"))
				.getMessage().startsWith("image 'data': dm-verity root hash mismatch: expected " + HEX.formatHex(f.root())));
		}
	}

	@Test
	void nonZeroPaddingIsRefusedEvenUnderAMatchingRoot() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 10 * 4096, 4);
		// sha1 digests are padded to 32 bytes; one level: the top block holds all ten digests
		VerityTree.Params p = new VerityTree.Params(1, "sha1", 4096, 4096, 10, new byte[] { 1, 2, 3 });
		try (FileChannel d = FileChannel.open(data)) {
			for (int at : new int[] { 25, 10 * 32 + 1, 4095 }) {
				byte[] tree = VerityTree.build(d, 0, p).tree();
				tree[at] = 7;
				Path hash = dir.resolve("hash-" + at);
				try (RandomAccessFile f = new RandomAccessFile(hash.toFile(), "rw")) {
					f.write(tree);
				}
				MessageDigest md = MessageDigest.getInstance("SHA-1");
				md.update(p.salt());
				byte[] root = md.digest(tree);
				try (FileChannel h = FileChannel.open(hash)) {
					assertEquals("x: dm-verity: level 0 hash block at byte 0 has a non-zero byte at byte " + at
						+ " where padding must be zero", assertThrows(ImageException.class,
							() -> VerityTree.verify(d, 0, h, 0, p, root, "x")).getMessage());
				}
			}
		} catch (java.security.NoSuchAlgorithmException e) {
			throw new AssertionError(e);
		}
	}

	@Test
	void shortDevicesAreRefused() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 1 << 20, 5);
		Path hash = dir.resolve("hash");
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash);
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			assertEquals("x: dm-verity covers 256 data blocks of 4096 bytes from byte 0, but only 1000000 bytes of data are there",
				assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, 1_000_000, h, 0, 0, Long.MAX_VALUE, f.root(), "x"))
					.getMessage());
			assertEquals("x: dm-verity hash tree ends at byte 16384, but the hash device ends at byte 12288",
				assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, 1 << 20, h, 0, 0, 12288, f.root(), "x"))
					.getMessage());
			assertEquals("x: root hash of 31 bytes, but sha256 digests have 32", assertThrows(ImageException.class,
				() -> VerityTree.verify(d, 0, h, 0, Arrays.copyOf(f.root(), 31), "x")).getMessage());
		}
		try (RandomAccessFile r = new RandomAccessFile(data.toFile(), "rw")) {
			r.setLength(4096 * 255 + 17);
		}
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			assertTrue(assertThrows(ImageException.class, () -> VerityTree.verify(d, 0, h, 0, f.root(), "x")).getMessage()
				.startsWith("x: dm-verity covers 256 data blocks"));
		}
	}
}
