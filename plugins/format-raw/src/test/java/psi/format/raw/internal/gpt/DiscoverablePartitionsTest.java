package psi.format.raw.internal.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.format.raw.internal.gpt.DiscoverablePartitions.Selection;
import psi.spi.format.ImageException;

/**
 * The choice of root partition, case by case. Each expectation was checked
 * against systemd-dissect 252; where loop devices are usable (root), the test
 * checks it again: it puts a squashfs into every partition (a signature JSON
 * into signature partitions) and compares with {@code systemd-dissect --json=short}.
 */
class DiscoverablePartitionsTest {

	@TempDir
	Path dir;

	private int images;

	/** An image from partition specs "TYPE-NAME [name=LABEL] [attrs=ATTRS]", 1 MiB each, in table order. */
	private GptTable table(String... specs) throws IOException {
		StringBuilder script = new StringBuilder();
		for (String spec : specs) {
			String[] w = spec.split(" ");
			String typeName = w[0];
			String type = typeName.matches("[0-9a-f-]{36}") ? typeName : Fixtures.type(typeName);
			script.append("size=1M, type=").append(type);
			for (int i = 1; i < w.length; i++) {
				script.append(", ").append(w[i]);
			}
			script.append('\n');
		}
		Path img = Fixtures.sparse(dir.resolve("dps-" + images++ + ".raw"), 32 << 20);
		Fixtures.sfdisk(img, script.toString());
		return GptTableTest.read(img).orElseThrow();
	}

	private Path lastImage() {
		return dir.resolve("dps-" + (images - 1) + ".raw");
	}

	/** Selects for x86-64 and, where it can, checks systemd-dissect chooses the same. */
	private Selection selectsLikeSystemd(GptTable t) throws IOException {
		Selection s = DiscoverablePartitions.select(t, "x86-64");
		if (dissectable()) {
			Fixtures.Result r = Fixtures.dissect(lastImage());
			assertEquals(0, r.status(), r.err());
			Map<String, Long> partno = new HashMap<>();
			for (Object o : MiniJson.list(MiniJson.object(MiniJson.parse(r.out())).get("mounts"))) {
				Map<String, Object> m = MiniJson.object(o);
				partno.put((String) m.get("designator"), (Long) m.get("partno"));
			}
			String d = s.designator();
			assertEquals((long) s.data().number(), partno.get(d), "systemd-dissect's " + d + ": " + partno);
			assertEquals(s.verity().map(p -> (long) p.number()).orElse(null), partno.get(d + "-verity"), partno.toString());
			assertEquals(s.veritySig().map(p -> (long) p.number()).orElse(null), partno.get(d + "-verity-sig"), partno.toString());
		}
		return s;
	}

	/** Expects psi to refuse, and systemd-dissect too. */
	private ImageException refusedLikeSystemd(GptTable t) throws IOException {
		ImageException e = assertThrows(ImageException.class, () -> DiscoverablePartitions.select(t, "x86-64"));
		if (dissectable()) {
			Fixtures.Result r = Fixtures.dissect(lastImage());
			assertNotEquals(0, r.status(), "systemd-dissect accepts what psi refuses: " + r.out());
		}
		assertTrue(e.getMessage().startsWith("image 'dps-" + (images - 1) + ".raw': "), e.getMessage());
		return e;
	}

	private boolean dissectable() throws IOException {
		if (!Fixtures.canUseLoopDevices() || !"x86-64".equals(PartitionTypes.hostArch())) {
			return false;
		}
		Path img = lastImage();
		Path fs = Files.exists(dir.resolve("fs.squashfs")) ? dir.resolve("fs.squashfs") : Fixtures.squashfs(dir);
		Fixtures.fill(img, Files.readAllBytes(fs));
		GptTable t = GptTableTest.read(img).orElseThrow();
		byte[] sig = ("{\"rootHash\":\"" + "ab".repeat(32) + "\",\"signature\":\"AAAA\"}").getBytes(StandardCharsets.US_ASCII);
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			for (Partition p : t.partitions()) {
				if (PartitionTypes.name(p.type()).endsWith("-verity-sig")) {
					f.seek(p.offset());
					f.write(new byte[4096]);
					f.seek(p.offset());
					f.write(sig);
				}
			}
		}
		return true;
	}

	@Test
	void aRootPartition() throws IOException {
		Selection s = selectsLikeSystemd(table("esp", "root-x86-64 name=root"));
		assertEquals(2, s.data().number());
		assertEquals("root", s.designator());
		assertEquals(Optional.empty(), s.verity());
		assertEquals(Optional.empty(), s.veritySig());
	}

	@Test
	void rootWithVerityAndSignature() throws IOException {
		Selection s = selectsLikeSystemd(table("root-x86-64-verity-sig", "root-x86-64-verity", "root-x86-64"));
		assertEquals(3, s.data().number());
		assertEquals(2, s.verity().orElseThrow().number());
		assertEquals(1, s.veritySig().orElseThrow().number());
	}

	@Test
	void usrOnly() throws IOException {
		Selection s = selectsLikeSystemd(table("usr-x86-64", "usr-x86-64-verity", "usr-x86-64-verity-sig"));
		assertEquals("usr", s.designator());
		assertEquals(1, s.data().number());
		assertEquals(2, s.verity().orElseThrow().number());
		assertEquals(3, s.veritySig().orElseThrow().number());
	}

	@Test
	void theHostArchitectureWins() throws IOException {
		GptTable t = table("root-arm64", "root-arm64-verity", "root-x86-64", "root-x86-64-verity");
		Selection x86 = selectsLikeSystemd(t);
		assertEquals(3, x86.data().number());
		assertEquals(4, x86.verity().orElseThrow().number());
		Selection arm = DiscoverablePartitions.select(t, "arm64");
		assertEquals(1, arm.data().number());
		assertEquals(2, arm.verity().orElseThrow().number());
	}

	@Test
	void theSecondaryArchitectureNext() throws IOException {
		Selection s = selectsLikeSystemd(table("root-arm64", "root-x86"));
		assertEquals(2, s.data().number());
		assertEquals(2, DiscoverablePartitions.select(table("root-x86", "root-arm64", "root-arm"), "arm64").data().number());
		assertEquals(3, DiscoverablePartitions.select(table("root-x86", "root-riscv64", "root-arm"), "arm64").data().number());
	}

	@Test
	void anyOtherArchitectureLast() throws IOException {
		Selection s = selectsLikeSystemd(table("esp", "root-arm64 name=arm"));
		assertEquals(2, s.data().number());
		Selection usr = selectsLikeSystemd(table("usr-riscv64", "usr-riscv64-verity"));
		assertEquals("usr", usr.designator());
		assertEquals(2, usr.verity().orElseThrow().number());
	}

	@Test
	void theNewestLabelWins() throws IOException {
		Selection s = selectsLikeSystemd(table("root-x86-64 name=root_2", "root-x86-64 name=root_10", "root-x86-64 name=root_3",
			"root-x86-64-verity name=v_1", "root-x86-64-verity name=v_2", "root-x86-64-verity name=v_2"));
		assertEquals(2, s.data().number());
		assertEquals(5, s.verity().orElseThrow().number(), "the first of equal versions");
		Selection unlabeled = DiscoverablePartitions.select(table("root-x86-64", "root-x86-64 name=a"), "x86-64");
		assertEquals(2, unlabeled.data().number(), "any label is newer than none");
	}

	@Test
	void noAutoPartitionsAreIgnored() throws IOException {
		Selection s = selectsLikeSystemd(table("root-x86-64 attrs=GUID:63", "root-x86-64-verity attrs=GUID:63", "linux-generic"));
		assertEquals(3, s.data().number());
		assertEquals("root", s.designator());
		assertEquals(Optional.empty(), s.verity());
	}

	@Test
	void aSingleGenericPartition() throws IOException {
		Selection s = selectsLikeSystemd(table("esp", "linux-generic name=data", "swap"));
		assertEquals(2, s.data().number());
		assertEquals("root", s.designator());
		Selection rootWins = selectsLikeSystemd(table("linux-generic", "root-x86-64"));
		assertEquals(2, rootWins.data().number());
		Selection noAuto = selectsLikeSystemd(table("linux-generic attrs=GUID:63", "linux-generic"));
		assertEquals(2, noAuto.data().number());
	}

	@Test
	void twoGenericPartitionsAreRefused() throws IOException {
		assertEquals("image 'dps-0.raw': no root or usr partition for x86-64, and linux-generic partitions 1 and 2 both could"
			+ " be the root; refusing to guess", refusedLikeSystemd(table("linux-generic", "linux-generic")).getMessage());
	}

	@Test
	void verityWithoutItsDataIsRefused() throws IOException {
		assertTrue(refusedLikeSystemd(table("root-x86-64-verity")).getMessage()
			.contains("partition 1 (root-x86-64-verity) protects no root partition: there is no root-x86-64 partition"));
		assertTrue(refusedLikeSystemd(table("root-x86-64-verity-sig", "usr-x86-64")).getMessage()
			.contains("partition 1 (root-x86-64-verity-sig) protects no root partition"));
		assertTrue(refusedLikeSystemd(table("root-x86-64", "usr-x86-64-verity")).getMessage()
			.contains("partition 2 (usr-x86-64-verity) protects no usr partition"));
		assertTrue(refusedLikeSystemd(table("root-x86", "root-x86-verity", "usr-x86-verity")).getMessage()
			.contains("partition 3 (usr-x86-verity) protects no usr partition"));
	}

	@Test
	void aSignatureWithoutVerityIsRefused() throws IOException {
		assertTrue(refusedLikeSystemd(table("root-x86-64", "root-x86-64-verity-sig")).getMessage()
			.contains("signature partition 2 (root-x86-64-verity-sig) has no verity partition to sign"));
		assertTrue(refusedLikeSystemd(table("usr-x86-64", "usr-x86-64-verity-sig")).getMessage()
			.contains("signature partition 2 (usr-x86-64-verity-sig) has no verity partition to sign"));
	}

	@Test
	void verityRootWithSeparateUsrIsRefused() throws IOException {
		assertTrue(refusedLikeSystemd(table("root-x86-64", "root-x86-64-verity", "usr-x86-64")).getMessage()
			.contains("a verity-protected root partition (1) with a separate usr partition (3) is not supported"));
		assertTrue(refusedLikeSystemd(table("root-x86-64", "root-x86-64-verity", "usr-x86-64", "usr-x86-64-verity"))
			.getMessage().contains("verity partitions for both root (2) and usr (4)"));
	}

	@Test
	void rootAndUsrOfDifferentArchitecturesAreRefused() throws IOException {
		assertTrue(refusedLikeSystemd(table("root-arm64", "usr-riscv64")).getMessage()
			.contains("root partition 1 is for arm64 but usr partition 2 is for riscv64"));
	}

	@Test
	void aForeignUsrBesideANativeRootIsIgnored() throws IOException {
		Selection s = selectsLikeSystemd(table("root-x86-64", "usr-arm64"));
		assertEquals(1, s.data().number());
	}

	/** systemd would mount usr over root's /usr; psi reads one file system and refuses. */
	@Test
	void aSplitUsrIsRefusedByPsiOnly() throws IOException {
		GptTable t = table("root-x86-64", "usr-x86-64");
		ImageException e = assertThrows(ImageException.class, () -> DiscoverablePartitions.select(t, "x86-64"));
		assertTrue(e.getMessage().contains("root partition 1 with a separate usr partition 2: psi reads one file system per image"),
			e.getMessage());
		if (dissectable()) {
			assertEquals(0, Fixtures.dissect(lastImage()).status(), "systemd-dissect accepts a split /usr");
		}
	}

	@Test
	void nothingToUseIsRefusedListingWhatIsThere() throws IOException {
		assertEquals("image 'dps-0.raw': no root or usr partition for x86-64 (partitions 1: esp, 2: swap, 3: root-x86-64"
			+ " (no-auto), 4: 0fc63daf-8483-4772-8e79-3d69d8477de5)",
			refusedLikeSystemd(table("esp", "swap", "root-x86-64 attrs=GUID:63", "0fc63daf-8483-4772-8e79-3d69d8477de5"))
				.getMessage());
		assertTrue(refusedLikeSystemd(table()).getMessage().endsWith("(the partition table is empty)"));
	}

	@Test
	void aKnownRootHashPicksPartitionsByUuid() throws IOException {
		byte[] hash = HexFormat.of().parseHex("0123456789abcdef0123456789abcdef" + "fedcba9876543210fedcba9876543210");
		String data = "01234567-89ab-cdef-0123-456789abcdef";
		String verity = "fedcba98-7654-3210-fedc-ba9876543210";
		GptTable t = table("root-x86-64 name=root_9", "root-x86-64-verity name=v_9", "root-x86-64 name=root_1 uuid=" + data,
			"root-x86-64-verity name=v_1 uuid=" + verity);
		Selection newest = DiscoverablePartitions.select(t, "x86-64");
		assertEquals(1, newest.data().number());
		Selection byHash = DiscoverablePartitions.select(t, "x86-64", hash, "root");
		assertEquals(3, byHash.data().number());
		assertEquals(UUID.fromString(data), byHash.data().uuid());
		assertEquals(4, byHash.verity().orElseThrow().number());
		byte[] other = hash.clone();
		other[0] ^= 1;
		assertTrue(assertThrows(ImageException.class, () -> DiscoverablePartitions.select(t, "x86-64", other, "root"))
			.getMessage().contains("partition 4 (root-x86-64-verity) protects no root partition"), "the verity partition still matches");
		other[31] ^= 1;
		assertTrue(assertThrows(ImageException.class, () -> DiscoverablePartitions.select(t, "x86-64", other, "root"))
			.getMessage().contains("no root or usr partition whose UUID matches the root hash 0023456789abcdef"));
		assertTrue(assertThrows(ImageException.class, () -> DiscoverablePartitions.select(t, "x86-64", hash, "usr"))
			.getMessage().contains("no usr and verity partitions whose UUIDs match the root hash"), "a usr hash on a root image");
		GptTable generic = table("linux-generic uuid=" + data);
		assertTrue(assertThrows(ImageException.class, () -> DiscoverablePartitions.select(generic, "x86-64", hash, "root"))
			.getMessage().contains("no root and verity partitions whose UUIDs match the root hash"));
	}
}
