package psi.format.raw.internal.verity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.format.raw.internal.gpt.DiscoverablePartitions;
import psi.format.raw.internal.gpt.DiscoverablePartitions.Selection;
import psi.format.raw.internal.verity.RootHashSources.RootHash;
import psi.format.raw.internal.verity.RootHashSources.Source;
import psi.spi.format.ImageException;

class RootHashSourcesTest {

	private static final HexFormat HEX = HexFormat.of();

	@TempDir
	Path dir;

	private static Optional<RootHash> find(VerityImages.Image i) throws IOException {
		Selection s = DiscoverablePartitions.select(i.table(), "x86-64");
		try (FileChannel ch = FileChannel.open(i.path())) {
			return RootHashSources.find(i.path(), ch, s);
		}
	}

	/** Verifies the image's tree with the hash found. */
	private static void verify(VerityImages.Image i, byte[] root) throws IOException {
		Selection s = DiscoverablePartitions.select(i.table(), "x86-64");
		try (FileChannel ch = FileChannel.open(i.path())) {
			VerityTree.verify(ch, s.data().offset(), s.data().length(), ch, s.verity().orElseThrow().offset(), 0,
				s.verity().get().length(), root, "image");
		}
	}

	@Test
	void theSignaturePartition() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", true, false);
		RootHash rh = find(i).orElseThrow();
		assertEquals(Source.SIGNATURE_PARTITION, rh.source());
		assertArrayEquals(i.root(), rh.hash());
		assertEquals("root", rh.designator());
		assertEquals("signature partition 3", rh.where());
		RootHashSources.Signature sig = rh.signature().orElseThrow();
		assertArrayEquals(i.signature(), sig.pkcs7());
		assertArrayEquals(HEX.parseHex("ab".repeat(32)), sig.certificateFingerprint().orElseThrow());
		verify(i, rh.hash());
	}

	@Test
	void thePartitionUuidsLast() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "usr", false, true);
		RootHash rh = find(i).orElseThrow();
		assertEquals(Source.PARTITION_UUIDS, rh.source());
		assertEquals("usr", rh.designator());
		assertEquals("UUIDs of partitions 1 and 2", rh.where());
		assertArrayEquals(i.root(), rh.hash());
		assertEquals(Optional.empty(), rh.signature());
		verify(i, rh.hash());
	}

	@Test
	void uuidsThatAreNotTheHashGiveAHashThatFails() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", false, false);
		RootHash rh = find(i).orElseThrow();
		assertEquals(Source.PARTITION_UUIDS, rh.source());
		assertTrue(assertThrows(ImageException.class, () -> verify(i, rh.hash())).getMessage().contains("root hash mismatch"));
	}

	@Test
	void aSidecarFileWithItsSignature() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", false, true);
		Files.writeString(dir.resolve("img.roothash"), HEX.formatHex(i.root()) + "\n");
		RootHash rh = find(i).orElseThrow();
		assertEquals(Source.SIDECAR, rh.source());
		assertEquals(dir.resolve("img.roothash").toString(), rh.where());
		assertArrayEquals(i.root(), rh.hash());
		assertEquals(Optional.empty(), rh.signature());
		Files.write(dir.resolve("img.roothash.p7s"), new byte[] { 0x30, 0x03, 1, 2, 3 });
		assertArrayEquals(new byte[] { 0x30, 0x03, 1, 2, 3 }, find(i).orElseThrow().signature().orElseThrow().pkcs7());
	}

	@Test
	void theXattrWinsOverTheSidecar() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", false, true);
		Files.writeString(dir.resolve("img.roothash"), "00".repeat(32) + "\n");
		UserDefinedFileAttributeView view = Files.getFileAttributeView(i.path(), UserDefinedFileAttributeView.class);
		view.write("verity.roothash", ByteBuffer.wrap(HEX.formatHex(i.root()).getBytes(StandardCharsets.US_ASCII)));
		RootHash rh = find(i).orElseThrow();
		assertEquals(Source.XATTR, rh.source());
		assertEquals("xattr user.verity.roothash of " + i.path(), rh.where());
		assertArrayEquals(i.root(), rh.hash());
	}

	@Test
	void aSidecarForAUsrImageAndForANameWithoutRaw() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.bin", "usr", false, true);
		Files.writeString(dir.resolve("img.bin.usrhash"), HEX.formatHex(i.root()));
		RootHash rh = find(i).orElseThrow();
		assertEquals(Source.SIDECAR, rh.source());
		assertEquals("usr", rh.designator());
		assertArrayEquals(i.root(), rh.hash());
	}

	@Test
	void aPsiImageTakesItsStemFirstThenSystemdsName() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img_1.psi", "root", false, true);
		Files.writeString(dir.resolve("img_1.psi.roothash"), HEX.formatHex(i.root()));
		assertEquals(dir.resolve("img_1.psi.roothash").toString(), find(i).orElseThrow().where());
		Files.writeString(dir.resolve("img_1.roothash"), HEX.formatHex(i.root()));
		assertEquals(dir.resolve("img_1.roothash").toString(), find(i).orElseThrow().where());
		assertEquals(List.of("x.roothash"), SidecarFiles.names("x.raw", ".roothash"));
		assertEquals(List.of("x.roothash", "x.psi.roothash"), SidecarFiles.names("x.psi", ".roothash"));
		assertEquals(List.of("x.img.roothash"), SidecarFiles.names("x.img", ".roothash"));
	}

	@Test
	void aSidecarAndASignaturePartitionMustAgree() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", true, true);
		Files.writeString(dir.resolve("img.roothash"), HEX.formatHex(i.root()) + "\n");
		RootHash rh = find(i).orElseThrow();
		assertEquals(Source.SIDECAR, rh.source());
		assertEquals("signature partition 3", rh.signature().orElseThrow().where());

		VerityImages.Image j = VerityImages.make(dir, "other.raw", "root", true, false);
		byte[] wrong = j.root().clone();
		wrong[20] ^= 1;
		String hex = HEX.formatHex(wrong);
		// the UUIDs say the sidecar's hash, the signature partition another
		psi.format.raw.internal.gpt.Fixtures.run(java.util.List.of("sfdisk", "--part-uuid", j.path().toString(), "1",
			VerityImages.uuid(hex.substring(0, 32)).toString()), null);
		psi.format.raw.internal.gpt.Fixtures.run(java.util.List.of("sfdisk", "--part-uuid", j.path().toString(), "2",
			VerityImages.uuid(hex.substring(32)).toString()), null);
		Files.writeString(dir.resolve("other.roothash"), hex);
		VerityImages.Image k = new VerityImages.Image(j.path(), j.root(), j.signature(), VerityImages.read(j.path()));
		assertTrue(assertThrows(ImageException.class, () -> find(k)).getMessage().contains("the root hash in signature partition 3 ("
			+ HEX.formatHex(j.root()) + ") is not the one in " + dir.resolve("other.roothash")));
	}

	@Test
	void aSidecarThatNamesOtherPartitionsIsRefused() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", false, false);
		Files.writeString(dir.resolve("img.roothash"), HEX.formatHex(i.root()));
		assertTrue(assertThrows(ImageException.class, () -> find(i)).getMessage().contains("names partitions "));
	}

	@Test
	void aUsrHashOnARootImageIsRefused() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", false, true);
		Files.writeString(dir.resolve("img.usrhash"), HEX.formatHex(i.root()));
		assertEquals("image '" + i.path() + "': " + dir.resolve("img.usrhash") + " holds a usr hash, but the image's file system"
			+ " is its root partition 1", assertThrows(ImageException.class, () -> find(i)).getMessage());
	}

	@Test
	void badSidecarsAreRefused() throws IOException {
		VerityImages.Image i = VerityImages.make(dir, "img.raw", "root", false, true);
		Path side = dir.resolve("img.roothash");
		Files.writeString(side, "xyz" + "0".repeat(61));
		assertTrue(assertThrows(ImageException.class, () -> find(i)).getMessage().startsWith(side + " is not hex"));
		Files.writeString(side, "abcd\n");
		assertEquals(side + ": root hash of 4 hex digits, expected 32 to 128",
			assertThrows(ImageException.class, () -> find(i)).getMessage());
		Files.write(side, new byte[8192]);
		assertEquals(side + " has 8192 bytes, more than 4096", assertThrows(ImageException.class, () -> find(i)).getMessage());
		Files.delete(side);
		Files.createDirectory(side);
		assertEquals(side + " is not a regular file", assertThrows(ImageException.class, () -> find(i)).getMessage());
	}

	@Test
	void noVerityNoHash() throws IOException {
		Path img = psi.format.raw.internal.gpt.Fixtures.sparse(dir.resolve("plain.raw"), 8 << 20);
		psi.format.raw.internal.gpt.Fixtures.sfdisk(img, "size=1M, type=" + psi.format.raw.internal.gpt.Fixtures.type("root-x86-64")
			+ "\n");
		VerityImages.Image i = new VerityImages.Image(img, null, null, VerityImages.read(img));
		assertEquals(Optional.empty(), find(i));
		assertEquals(Optional.empty(), RootHashSources.hashDeviceSidecar(img));
		Files.write(dir.resolve("plain.verity"), new byte[1]);
		assertEquals(Optional.of(dir.resolve("plain.verity")), RootHashSources.hashDeviceSidecar(img));
	}
}
