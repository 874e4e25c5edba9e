package psi.format.raw.internal.verity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.ImageException;

class VeritySuperblockTest {

	@TempDir
	Path dir;

	@Test
	void readsWhatVeritysetupWrites() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 1 << 20, 9);
		Path hash = dir.resolve("hash");
		String uuid = "0e1c6a6d-8a8f-4b2b-9c55-3d0c8f6e7a11";
		VerityFixtures.format(data, hash, "--uuid=" + uuid, "--salt=00ff", "--hash=sha512", "--data-block-size=1024",
			"--hash-block-size=2048");
		try (FileChannel h = FileChannel.open(hash)) {
			VeritySuperblock sb = VeritySuperblock.read(h, 0, "x");
			assertEquals(new VeritySuperblock(1, 1, UUID.fromString(uuid), "sha512", 1024, 2048, 1024, new byte[] { 0, (byte) 0xff }),
				sb);
			assertEquals(64, sb.digestSize());
			assertArrayEquals(VerityFixtures.bytes(hash, 0, 512), sb.toBytes(), "written back byte for byte");
		}
	}

	private String refusal(Consumer<ByteBuffer> edit) throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 1 << 20, 9);
		Path hash = dir.resolve("hash");
		VerityFixtures.format(data, hash);
		ByteBuffer b = ByteBuffer.wrap(VerityFixtures.bytes(hash, 0, 512)).order(ByteOrder.LITTLE_ENDIAN);
		edit.accept(b);
		try (RandomAccessFile f = new RandomAccessFile(hash.toFile(), "rw")) {
			f.write(b.array());
		}
		try (FileChannel h = FileChannel.open(hash)) {
			return assertThrows(ImageException.class, () -> VeritySuperblock.read(h, 0, "image 'x'")).getMessage();
		}
	}

	@Test
	void refusesBadFields() throws IOException {
		String at = "image 'x': dm-verity superblock at byte 0: ";
		assertEquals(at + "no \"verity\" signature", refusal(b -> b.put(0, (byte) 'V')));
		assertEquals(at + "version 2, only 1 is known", refusal(b -> b.putInt(8, 2)));
		assertEquals(at + "hash type 2, expected 0 or 1", refusal(b -> b.putInt(12, 2)));
		assertEquals(at + "hash algorithm 'md5' is not one of", refusal(b -> b.put(32, new byte[] { 'm', 'd', '5', 0, 0, 0 }))
			.replaceAll(" \\[.*", ""));
		assertEquals(at + "hash algorithm 'sha256\\x01' is not one of", refusal(b -> b.put(38, (byte) 1)).replaceAll(" \\[.*", ""));
		assertEquals(at + "block sizes 1000 (data) and 4096 (hash) must be powers of two from 512 to 524288",
			refusal(b -> b.putInt(64, 1000)));
		assertEquals(at + "block sizes 4096 (data) and 256 (hash) must be powers of two from 512 to 524288",
			refusal(b -> b.putInt(68, 256)));
		assertEquals(at + "block sizes 4096 (data) and 1048576 (hash) must be powers of two from 512 to 524288",
			refusal(b -> b.putInt(68, 1 << 20)));
		assertEquals(at + "0 data blocks of 4096 bytes is no size", refusal(b -> b.putLong(72, 0)));
		assertEquals(at + "18446744073709551615 data blocks of 4096 bytes is no size", refusal(b -> b.putLong(72, -1)));
		assertEquals(at + "2251799813685248 data blocks of 4096 bytes is no size", refusal(b -> b.putLong(72, 1L << 51)));
		assertEquals(at + "salt of 257 bytes, more than 256", refusal(b -> b.putShort(80, (short) 257)));
		assertEquals(at + "salt of 65535 bytes, more than 256", refusal(b -> b.putShort(80, (short) -1)));
	}

	@Test
	void aCutOffSuperblock() throws IOException {
		Path hash = dir.resolve("short");
		try (RandomAccessFile f = new RandomAccessFile(hash.toFile(), "rw")) {
			f.write(new byte[300]);
		}
		try (FileChannel h = FileChannel.open(hash)) {
			assertEquals("x: dm-verity superblock at byte 0 is cut off by the end of the file at byte 300",
				assertThrows(ImageException.class, () -> VeritySuperblock.read(h, 0, "x")).getMessage());
		}
	}
}
