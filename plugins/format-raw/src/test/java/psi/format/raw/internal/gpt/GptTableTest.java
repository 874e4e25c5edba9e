package psi.format.raw.internal.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static psi.format.raw.internal.gpt.Fixtures.type;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** GPT images made by sfdisk, read by GptTable and compared with sfdisk's own reading. */
class GptTableTest {

	@TempDir
	Path dir;

	static Optional<GptTable> read(Path img) throws IOException {
		try (FileChannel ch = FileChannel.open(img)) {
			return GptTable.read(ch, ch.size(), "image '" + img.getFileName() + "'");
		}
	}

	/** Every partition, as sfdisk --json lists it, is one GptTable found, field by field. */
	static void assertSameAsSfdisk(Path img, GptTable t) throws IOException {
		Map<String, Object> sf = Fixtures.sfdiskJson(img, t.sectorSize());
		assertEquals(((Long) sf.get("sectorsize")).intValue(), t.sectorSize(), "sector size");
		assertEquals(UUID.fromString((String) sf.get("id")), t.diskGuid(), "disk GUID");
		assertEquals((Long) sf.get("firstlba"), t.firstUsableLba());
		assertEquals((Long) sf.get("lastlba"), t.lastUsableLba());
		List<Object> parts = sf.get("partitions") == null ? List.of() : MiniJson.list(sf.get("partitions"));
		assertEquals(parts.size(), t.partitions().size(), "partition count");
		for (int i = 0; i < parts.size(); i++) {
			Map<String, Object> s = MiniJson.object(parts.get(i));
			Partition p = t.partitions().get(i);
			String node = (String) s.get("node");
			assertEquals(Integer.parseInt(node.replaceAll("^.*?(\\d+)$", "$1")), p.number(), "number of " + node);
			assertEquals((Long) s.get("start"), p.firstLba(), "start of " + node);
			assertEquals((Long) s.get("size"), p.lastLba() - p.firstLba() + 1, "size of " + node);
			assertEquals((Long) s.get("start") * t.sectorSize(), p.offset());
			assertEquals((Long) s.get("size") * t.sectorSize(), p.length());
			assertEquals(((String) s.get("type")).toLowerCase(Locale.ROOT), p.type().toString(), "type of " + node);
			assertEquals(((String) s.get("uuid")).toLowerCase(Locale.ROOT), p.uuid().toString(), "uuid of " + node);
			assertEquals(s.getOrDefault("name", ""), p.name(), "name of " + node);
			assertEquals(attrs(p.attributes()), s.getOrDefault("attrs", ""), "attributes of " + node);
			assertEquals(t.sectorSize(), p.sectorSize());
		}
	}

	/** The attribute bits as sfdisk prints them: "RequiredPartition LegacyBIOSBootable GUID:59,60". */
	static String attrs(long a) {
		StringBuilder b = new StringBuilder();
		String[] names = { "RequiredPartition", "NoBlockIOProtocol", "LegacyBIOSBootable" };
		for (int i = 0; i < 3; i++) {
			if ((a >>> i & 1) != 0) {
				b.append(b.length() > 0 ? " " : "").append(names[i]);
			}
		}
		StringBuilder guid = new StringBuilder();
		for (int i = 48; i < 64; i++) {
			if ((a >>> i & 1) != 0) {
				guid.append(guid.length() > 0 ? "," : "").append(i);
			}
		}
		if (guid.length() > 0) {
			b.append(b.length() > 0 ? " " : "").append("GUID:").append(guid);
		}
		return b.toString();
	}

	static String script() {
		return "size=4M, type=" + type("root-x86-64") + ", name=root-x86-64, attrs=GUID:59\n"
			+ "size=2M, type=" + type("root-x86-64-verity") + ", name=root-x86-64-verity, attrs=GUID:60\n"
			+ "size=64K, type=" + type("root-x86-64-verity-sig") + ", name=root-x86-64-verity-sig\n"
			+ "size=4M, type=" + type("usr-arm64") + ", name=usr-arm64\n"
			+ "size=1M, type=" + type("usr-arm64-verity") + "\n"
			+ "size=64K, type=" + type("usr-arm64-verity-sig") + ", name=\"with space\"\n"
			+ "size=1M, type=" + type("root-arm64") + ", name=\"wurzel-äöü-\u00df\", attrs=\"RequiredPartition LegacyBIOSBootable GUID:63\"\n"
			+ "size=1M, type=" + PartitionTypes.LINUX_GENERIC + ", name=abcdefghijklmnopqrstuvwxyz0123456789\n"
			+ "size=1M, type=" + PartitionTypes.ESP + "\n";
	}

	@ParameterizedTest
	@ValueSource(ints = { 512, 4096 })
	void readsWhatSfdiskWrites(int sectorSize) throws IOException {
		Path img = Fixtures.sparse(dir.resolve("img.raw"), 64 << 20);
		Fixtures.sfdisk(img, script(), sectorSize);
		GptTable t = read(img).orElseThrow();
		assertEquals(sectorSize, t.sectorSize());
		assertEquals(Optional.empty(), t.warning());
		assertEquals(1, t.headerLba());
		assertEquals(9, t.partitions().size());
		assertSameAsSfdisk(img, t);

		Partition root = t.partitions().get(0);
		assertEquals("root-x86-64", PartitionTypes.name(root.type()));
		assertTrue(root.growFs());
		assertFalse(root.readOnly());
		assertTrue(t.partitions().get(1).readOnly());
		Partition arm = t.partitions().get(6);
		assertEquals("wurzel-äöü-ß", arm.name());
		assertTrue(arm.noAuto());
		assertEquals(1L | 4L | 1L << 63, arm.attributes());
		assertEquals("abcdefghijklmnopqrstuvwxyz0123456789", t.partitions().get(7).name(), "a name of all 36 UTF-16 units");
		assertEquals("", t.partitions().get(4).name());
	}

	@Test
	void keepsTableOrderAndNumbersWithGaps() throws IOException {
		Path img = Fixtures.sparse(dir.resolve("gaps.raw"), 32 << 20);
		// entries 2 and 4 stay empty; partition 3 lies before partition 1 on disk
		Fixtures.sfdisk(img, "1 : start=20480, size=2048, type=" + type("root-x86-64") + "\n"
			+ "3 : start=2048, size=2048, type=" + PartitionTypes.LINUX_GENERIC + "\n"
			+ "5 : start=8192, size=2048, type=" + PartitionTypes.ESP + "\n");
		GptTable t = read(img).orElseThrow();
		assertEquals(List.of(1, 3, 5), t.partitions().stream().map(Partition::number).toList());
		assertSameAsSfdisk(img, t);
	}

	@Test
	void readsLongerEntryArrays() throws IOException {
		Path img = Fixtures.sparse(dir.resolve("long.raw"), 32 << 20);
		Fixtures.sfdisk(img, "table-length: 512\nsize=1M, type=" + type("root-x86-64") + "\n");
		GptTable t = read(img).orElseThrow();
		assertSameAsSfdisk(img, t);
	}

	@Test
	void anEmptyTable() throws IOException {
		Path img = Fixtures.sparse(dir.resolve("empty.raw"), 8 << 20);
		Fixtures.sfdisk(img, "");
		GptTable t = read(img).orElseThrow();
		assertEquals(List.of(), t.partitions());
		assertSameAsSfdisk(img, t);
	}

	@Test
	void noGptAtAll() throws IOException {
		assertEquals(Optional.empty(), read(Fixtures.sparse(dir.resolve("zeros.raw"), 1 << 20)));
		assertEquals(Optional.empty(), read(Fixtures.sparse(dir.resolve("tiny.raw"), 100)));
		assertEquals(Optional.empty(), read(Fixtures.sparse(dir.resolve("none.raw"), 0)));
		assertEquals(Optional.empty(), read(Fixtures.squashfs(dir)), "a naked squashfs");
		Path mbr = Fixtures.sparse(dir.resolve("mbr.raw"), 8 << 20);
		Fixtures.run(List.of("sfdisk", "-q", mbr.toString()), "label: dos\nsize=1M, type=83\n");
		assertEquals(Optional.empty(), read(mbr), "an MBR (dos) partition table is no GPT");
		assertTrue(Files.size(mbr) > 0);
	}
}
