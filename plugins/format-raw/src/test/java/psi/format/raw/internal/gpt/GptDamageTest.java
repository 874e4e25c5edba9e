package psi.format.raw.internal.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static psi.format.raw.internal.gpt.Fixtures.type;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.ImageException;

/** Damaged and hostile GPTs: fall back to the backup where the spec says so, else one line naming what and where. */
class GptDamageTest {

	@TempDir
	Path dir;

	private Path image(int ss) throws IOException {
		Path img = Fixtures.sparse(dir.resolve("img-" + ss + ".raw"), 32 << 20);
		return Fixtures.sfdisk(img, "size=4M, type=" + type("root-x86-64") + ", name=root\n"
			+ "size=2M, type=" + type("root-x86-64-verity") + ", name=verity\n"
			+ "size=1M, type=" + PartitionTypes.ESP + "\n", ss);
	}

	private static GptTable read(Path img) throws IOException {
		return GptTableTest.read(img).orElseThrow();
	}

	private static ImageException refused(Path img) {
		return assertThrows(ImageException.class, () -> GptTableTest.read(img));
	}

	private static void flip(Path img, long offset) throws IOException {
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			f.seek(offset);
			int b = f.read();
			f.seek(offset);
			f.write(b ^ 0x40);
		}
	}

	@ParameterizedTest
	@ValueSource(ints = { 512, 4096 })
	void damagedPrimaryHeaderFallsBackToTheBackup(int ss) throws IOException {
		Path img = image(ss);
		List<Partition> intact = read(img).partitions();
		flip(img, ss + 60); // in the disk GUID, covered by the header CRC
		GptTable t = read(img);
		long backup = (32L << 20) - ss;
		assertEquals(intact, t.partitions());
		assertEquals(backup / ss, t.headerLba());
		String w = t.warning().orElseThrow();
		assertTrue(w.contains("primary header at byte " + ss) && w.contains("header CRC32") && w.contains("backup header at byte "
			+ backup), w);
		GptTableTest.assertSameAsSfdisk(img, t);
	}

	@Test
	void damagedPrimaryEntriesFallBackToTheBackup() throws IOException {
		Path img = image(512);
		List<Partition> intact = read(img).partitions();
		flip(img, 1024 + 56); // the first entry's name, covered by the entries CRC
		GptTable t = read(img);
		assertEquals(intact, t.partitions());
		String w = t.warning().orElseThrow();
		assertTrue(w.contains("partition entry array at bytes 1024..17408") && w.contains("CRC32"), w);
	}

	@Test
	void wipedPrimaryFallsBackToTheBackup() throws IOException {
		Path img = image(512);
		List<Partition> intact = read(img).partitions();
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			f.seek(512);
			f.write(new byte[512]);
		}
		GptTable t = read(img);
		assertEquals(intact, t.partitions());
		assertTrue(t.warning().orElseThrow().contains("no \"EFI PART\" signature"), t.warning().get());
	}

	@Test
	void damagedBackupIsAWarningOnly() throws IOException {
		Path img = image(512);
		long backup = (32L << 20) - 512;
		flip(img, backup + 60);
		GptTable t = read(img);
		assertEquals(1, t.headerLba());
		assertTrue(t.warning().orElseThrow().contains("backup GPT header at byte " + backup + " is damaged"), t.warning().get());
	}

	@ParameterizedTest
	@ValueSource(ints = { 512, 4096 })
	void bothHeadersDamagedIsRefusedNamingBoth(int ss) throws IOException {
		Path img = image(ss);
		long backup = (32L << 20) - ss;
		flip(img, ss + 60);
		flip(img, backup + 60);
		ImageException e = refused(img);
		String m = e.getMessage();
		assertTrue(m.startsWith("image 'img-" + ss + ".raw': damaged GPT: (" + ss + "-byte sectors) primary header at byte " + ss
			+ ": header CRC32 is "), m);
		assertTrue(m.contains("; backup header at byte " + backup + ": header CRC32 is "), m);
		assertFalse(m.contains("\n"));
	}

	@Test
	void overlappingPartitionsAreRefusedNamingBoth() throws IOException {
		Path img = image(512);
		Partition p1 = read(img).partitions().get(0);
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editEntry(1, e -> e.putLong(32, p1.lastLba() - 7)); // partition 2 now starts inside partition 1
		}
		String m = refused(img).getMessage();
		assertTrue(m.contains("partitions 1 (LBA " + p1.firstLba() + ".." + p1.lastLba() + ") and 2 (LBA " + (p1.lastLba() - 7)), m);
		assertTrue(m.contains("primary header at byte 512") && m.contains("backup header at byte "), m);
	}

	@Test
	void aPartitionContainingAnotherIsRefused() throws IOException {
		Path img = image(512);
		List<Partition> ps = read(img).partitions();
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editEntry(0, e -> e.putLong(40, ps.get(2).lastLba())); // partition 1 now spans 2 and 3
		}
		String m = refused(img).getMessage();
		assertTrue(m.contains("partitions 1 (LBA ") && m.contains(") and 2 (LBA ") && m.contains("overlap"), m);
	}

	@Test
	void aPartitionOutsideTheUsableRangeIsRefused() throws IOException {
		Path img = image(512);
		GptTable t = read(img);
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editEntry(2, e -> e.putLong(40, t.lastUsableLba() + 1));
		}
		String m = refused(img).getMessage();
		assertTrue(m.contains("partition 3 (entry at byte 1280): LBA ") && m.contains("outside the usable range LBA 2048.."
			+ t.lastUsableLba()), m);
	}

	@Test
	void aPartitionEndingBeforeItStartsIsRefused() throws IOException {
		Path img = image(512);
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editEntry(0, e -> e.putLong(40, 100));
		}
		assertTrue(refused(img).getMessage().contains("partition 1 (entry at byte 1024): first LBA 2048 after last LBA 100"));
	}

	@Test
	void aHugeLbaIsRefused() throws IOException {
		Path img = image(512);
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editEntry(0, e -> e.putLong(40, -1L));
		}
		assertTrue(refused(img).getMessage().contains("LBA 2048..18446744073709551615 outside the usable range"));
	}

	@Test
	void aTruncatedFileIsRefused() throws IOException {
		Path img = image(512);
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			f.setLength(5 << 20); // inside partition 2, the backup gone
		}
		String m = refused(img).getMessage();
		assertTrue(m.contains("primary header at byte 512: last usable LBA ") && m.contains("beyond the end of the file"), m);
		assertTrue(m.contains("backup header at byte " + ((5 << 20) - 512) + ": no \"EFI PART\" signature"), m);
	}

	@Test
	void anAbsurdEntryCountInThePrimaryFallsBackAndInBothIsRefused() throws IOException {
		Path img = image(512);
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editHeader(1, h -> h.putInt(80, 100_000), true);
		}
		assertTrue(read(img).warning().orElseThrow().contains("100000 partition entries, more than 1024"));
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editHeader(g.lastLba(), h -> h.putInt(80, Integer.MAX_VALUE), true);
		}
		assertTrue(refused(img).getMessage().contains("2147483647 partition entries, more than 1024"));
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editHeader(1, h -> h.putInt(80, -1), true);
			g.editHeader(g.lastLba(), h -> h.putInt(80, -1), true);
		}
		assertTrue(refused(img).getMessage().contains("4294967295 partition entries"));
	}

	@Test
	void entriesRunningPastTheEndAreRefused() throws IOException {
		Path img = image(512);
		try (GptPatch g = new GptPatch(img, 512)) {
			long last = g.lastLba();
			g.editHeader(1, h -> h.putLong(72, last - 2), true);
			g.editHeader(last, h -> h.putLong(72, last - 2), true);
		}
		assertTrue(refused(img).getMessage().contains("runs past the end of the file"));
	}

	@Test
	void entriesOverlappingAPartitionAreRefused() throws IOException {
		Path img = image(512);
		try (GptPatch g = new GptPatch(img, 512)) {
			// a copy of the array inside partition 1, which both headers then point to
			g.write(4096L * 512, g.read(2L * 512, 128 * 128));
			for (long lba : new long[] { 1, g.lastLba() }) {
				g.editHeader(lba, h -> h.putLong(72, 4096), true);
				g.fixEntriesCrc(lba);
			}
		}
		assertTrue(refused(img).getMessage().contains("overlaps the partition entry array at bytes 2097152..2113536"),
			refused(img).getMessage());
	}

	@Test
	void headerSizesThatLieAreRefused() throws IOException {
		for (int size : new int[] { 91, 513, -1, 0 }) {
			Path img = image(512);
			try (GptPatch g = new GptPatch(img, 512)) {
				g.editHeader(1, h -> h.putInt(12, size), false);
				g.editHeader(g.lastLba(), h -> h.putInt(12, size), false);
			}
			assertTrue(refused(img).getMessage().contains("header size " + Integer.toUnsignedString(size) + " outside 92..512"),
				refused(img).getMessage());
		}
	}

	@Test
	void aLargerHeaderSizeIsFineWhenTheCrcCoversIt() throws IOException {
		Path img = image(512);
		List<Partition> intact = read(img).partitions();
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editHeader(1, h -> h.putInt(12, 200), true);
		}
		GptTable t = read(img);
		assertEquals(intact, t.partitions());
		assertEquals(1, t.headerLba());
	}

	@Test
	void oddEntrySizesAreRefused() throws IOException {
		for (int size : new int[] { 0, 64, 130, 8192 }) {
			Path img = image(512);
			try (GptPatch g = new GptPatch(img, 512)) {
				g.editHeader(1, h -> h.putInt(84, size), true);
				g.editHeader(g.lastLba(), h -> h.putInt(84, size), true);
			}
			assertTrue(refused(img).getMessage().contains("partition entry size " + size), refused(img).getMessage());
		}
	}

	@Test
	void aWrongRevisionOrMyLbaIsRefused() throws IOException {
		Path img = image(512);
		try (GptPatch g = new GptPatch(img, 512)) {
			g.editHeader(1, h -> h.putInt(8, 0x00020000), true);
			g.editHeader(g.lastLba(), h -> h.putLong(24, 7), true);
		}
		String m = refused(img).getMessage();
		assertTrue(m.contains("revision 0x00020000, expected 0x00010000") && m.contains("header claims to be at LBA 7"), m);
	}

	@Test
	void aUsableRangeCoveringTheHeaderIsRefused() throws IOException {
		Path img = image(512);
		try (GptPatch g = new GptPatch(img, 512)) {
			long last = g.lastLba();
			g.editHeader(1, h -> h.putLong(40, 1), true);
			g.editHeader(last, h -> h.putLong(48, last), true);
		}
		String m = refused(img).getMessage();
		assertTrue(m.contains("usable range LBA 1..") && m.contains("covers the header itself"), m);
	}

	@Test
	void noProtectiveMbrIsRefused() throws IOException {
		Path img = image(512);
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			f.write(new byte[512]);
		}
		assertEquals("image 'img-512.raw': GPT header found (512-byte sectors) but no protective MBR at byte 0"
			+ " (signature 55AA and a partition of type 0xEE)", refused(img).getMessage());
	}

	@Test
	void aProtectiveMbrWithoutAnyGptIsRefused() throws IOException {
		Path img = image(512);
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			f.seek(512);
			f.write(new byte[512]);
			f.seek(f.length() - 512);
			f.write(new byte[512]);
		}
		assertTrue(refused(img).getMessage().contains("protective MBR (type 0xEE) at byte 446 but no GPT header"));
	}

	@Test
	void validTablesForBothSectorSizesAreRefused() throws IOException {
		Path img = image(4096);
		// a second, empty but valid, table for 512-byte sectors: its header at byte 512, in the unused rest of the
		// 4096-byte protective MBR sector
		try (GptPatch g = new GptPatch(img, 512)) {
			long last = g.lastLba();
			ByteBuffer h = ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
			h.put(0, "EFI PART".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
			h.putInt(8, 0x00010000).putInt(12, 92).putLong(24, 1).putLong(32, last);
			h.putLong(40, 34).putLong(48, last - 34).putLong(72, 2).putInt(80, 0).putInt(84, 128);
			h.putInt(88, GptTable.crc32(new byte[0], 0, 0));
			GptPatch.fixHeaderCrc(h);
			g.write(512, h);
		}
		assertTrue(refused(img).getMessage().contains("valid GPT headers for both 512- and 4096-byte sectors"));
	}
}
