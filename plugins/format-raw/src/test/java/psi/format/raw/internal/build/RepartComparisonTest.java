package psi.format.raw.internal.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.format.raw.internal.gpt.Fixtures;
import psi.format.raw.internal.gpt.GptTable;
import psi.format.raw.internal.gpt.MiniJson;
import psi.format.raw.internal.gpt.Partition;
import psi.format.raw.internal.verity.VeritySignature;
import psi.format.raw.internal.verity.VeritySuperblock;

/**
 * The same squashfs made into an image by systemd 252's {@code systemd-repart}
 * ({@code CopyBlocks=}, {@code Verity=}, the same {@code --seed=}, key and
 * certificate) and by {@link RawImageWriter}: what must agree does, and the
 * differences are the documented ones (repart 252's 10 MiB minimum sizes,
 * 512-byte verity blocks, random salt and verity UUID, grow-fs on the data
 * partition). systemd-repart formats verity through loop devices: root only.
 */
class RepartComparisonTest {

	private static final UUID SEED = UUID.fromString("e2a40bf9-73f1-4278-9160-49c031e7aef8");

	@TempDir
	static Path dir;

	private static Path fs;
	private static Path keyFile;
	private static Path certFile;
	private static Path theirs;
	private static List<Map<String, Object>> made;
	private static Path ours;
	private static RawImageWriter.Result result;

	@BeforeAll
	static void images() throws IOException {
		assertTrue(Fixtures.canUseLoopDevices(), "systemd-repart formats verity on loop devices (root): run the tests as root,"
			+ " as CI does");
		fs = BuildFixtures.squashfs(BuildFixtures.tree(dir, "tree", 300 << 10, 11), dir.resolve("fs.squashfs"));
		keyFile = dir.resolve("key.pem");
		certFile = dir.resolve("cert.pem");
		BuildFixtures.keyPair(keyFile, certFile, "rsa:2048", "/CN=psi repart comparison");

		Path defs = Files.createDirectories(dir.resolve("defs"));
		Files.writeString(defs.resolve("10-root.conf"), "[Partition]\nType=root\nCopyBlocks=" + fs + "\nVerity=data\n"
			+ "VerityMatchKey=root\n");
		Files.writeString(defs.resolve("20-verity.conf"), "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n");
		Files.writeString(defs.resolve("30-sig.conf"), "[Partition]\nType=root-verity-sig\nVerity=signature\n"
			+ "VerityMatchKey=root\n");
		theirs = dir.resolve("repart.raw");
		made = new ArrayList<>();
		for (Object o : MiniJson.list(MiniJson.parse(Fixtures.run(List.of("systemd-repart", "--empty=create", "--size=auto",
			"--dry-run=no", "--json=short", "--definitions=" + defs, "--seed=" + SEED, "--private-key=" + keyFile,
			"--certificate=" + certFile, theirs.toString()), null)))) {
			made.add(MiniJson.object(o));
		}
		ours = dir.resolve("ours.raw");
		result = RawImageWriter.write(fs, new RawImageWriter.Options("x86-64", false,
			Optional.of(PemFiles.privateKey(keyFile)), Optional.of(PemFiles.certificate(certFile)),
			Optional.of(SEED)), ours);
	}

	private static GptTable table(Path img) throws IOException {
		try (FileChannel ch = FileChannel.open(img)) {
			return GptTable.read(ch, ch.size(), img.getFileName().toString()).orElseThrow();
		}
	}

	@Test
	void theSameSeedGivesTheSameDiskAndSignaturePartitionUuids() throws IOException {
		GptTable t = table(theirs);
		GptTable o = table(ours);
		assertEquals(t.diskGuid(), o.diskGuid(), "derive_uuid(seed, \"disk-uuid\")");
		assertEquals(t.partitions().get(2).uuid(), o.partitions().get(2).uuid(), "HMAC(seed, type UUID)");
		assertEquals(made.get(2).get("uuid"), result.partitions().get(2).uuid().toString());
	}

	@Test
	void theSameTypesLabelsOrderAndPlacement() throws IOException {
		GptTable t = table(theirs);
		GptTable o = table(ours);
		assertEquals(t.sectorSize(), o.sectorSize());
		assertEquals(t.firstUsableLba(), o.firstUsableLba());
		assertEquals(3, o.partitions().size());
		for (int i = 0; i < 3; i++) {
			Partition a = t.partitions().get(i);
			Partition b = o.partitions().get(i);
			assertEquals(a.type(), b.type());
			assertEquals(a.name(), b.name());
			assertEquals(made.get(i).get("label"), b.name());
			assertEquals(0, b.offset() % 4096);
			assertEquals(0, b.length() % 4096);
		}
		assertEquals(t.partitions().get(0).offset(), o.partitions().get(0).offset(), "1 MiB");
		assertEquals(t.partitions().get(2).length(), o.partitions().get(2).length(), "VERITY_SIG_SIZE");
		// repart 252 gives the data and hash partitions its 10 MiB minimum; ours are as small as they can be
		assertEquals(10 << 20, t.partitions().get(0).length());
		assertEquals((Files.size(fs) + 4095) / 4096 * 4096, o.partitions().get(0).length());
		// and both end 20 KiB before the end of the file (GPT_METADATA_SIZE less the first MiB)
		assertEquals(Files.size(theirs) - (20 << 10), t.partitions().get(2).offset() + t.partitions().get(2).length());
		assertEquals(Files.size(ours) - (20 << 10), o.partitions().get(2).offset() + o.partitions().get(2).length());
		// repart 252: grow-fs on the data partition, read-only on the verity one, none on the signature; ours all read-only
		assertEquals(List.of(1L << 59, 1L << 60, 0L), t.partitions().stream().map(Partition::attributes).toList());
		assertEquals(List.of(1L << 60, 1L << 60, 1L << 60), o.partitions().stream().map(Partition::attributes).toList());
	}

	@Test
	void bothFollowTheRootHashUuidConvention() throws IOException {
		String rh = (String) made.get(1).get("roothash");
		GptTable t = table(theirs);
		assertEquals(rh.substring(0, 32), t.partitions().get(0).uuid().toString().replace("-", ""));
		assertEquals(rh.substring(32), t.partitions().get(1).uuid().toString().replace("-", ""));
		GptTable o = table(ours);
		assertEquals(result.rootHashHex().substring(0, 32), o.partitions().get(0).uuid().toString().replace("-", ""));
		assertEquals(result.rootHashHex().substring(32), o.partitions().get(1).uuid().toString().replace("-", ""));
	}

	@Test
	void theVeritySuperblocksDifferOnlyInBlockSizesSaltAndUuid() throws IOException {
		VeritySuperblock a;
		VeritySuperblock b;
		try (FileChannel ch = FileChannel.open(theirs)) {
			a = VeritySuperblock.read(ch, table(theirs).partitions().get(1).offset(), "repart.raw");
		}
		try (FileChannel ch = FileChannel.open(ours)) {
			b = VeritySuperblock.read(ch, table(ours).partitions().get(1).offset(), "ours.raw");
		}
		assertEquals(a.version(), b.version());
		assertEquals(a.hashType(), b.hashType());
		assertEquals(a.algorithm(), b.algorithm());
		assertEquals(a.salt().length, b.salt().length);
		assertEquals(512, a.dataBlockSize(), "repart 252 uses the sector size");
		assertEquals(4096, b.dataBlockSize(), "repart since v255 and veritysetup: 4096");
		assertEquals(table(theirs).partitions().get(0).length(), a.dataBlocks() * a.dataBlockSize());
		assertEquals(table(ours).partitions().get(0).length(), b.dataBlocks() * b.dataBlockSize());
		assertNotEquals(a.uuid(), b.uuid(), "repart 252's is random");
	}

	@Test
	void ourSignatureOfRepartsRootHashIsRepartsSignature() throws IOException {
		Partition sp = table(theirs).partitions().get(2);
		byte[] raw = new byte[(int) sp.length()];
		VeritySignature sig;
		try (FileChannel ch = FileChannel.open(theirs)) {
			ch.read(ByteBuffer.wrap(raw), sp.offset());
			sig = VeritySignature.read(ch, sp, "repart.raw");
		}
		byte[] rootHash = HexFormat.of().parseHex((String) made.get(1).get("roothash"));
		byte[] pkcs7 = SignaturePartition.pkcs7(rootHash, PemFiles.privateKey(keyFile), PemFiles.certificate(certFile));
		assertEquals(HexFormat.of().formatHex(sig.signature()), HexFormat.of().formatHex(pkcs7));
		String json = SignaturePartition.json(rootHash, PemFiles.certificate(certFile), pkcs7);
		assertArrayEquals(raw, SignaturePartition.content(json, raw.length), "the whole partition, JSON and NULs");
	}

	@Test
	void ourGptIsLibfdisksForTheSamePartitions() throws IOException {
		GptTable t = table(theirs);
		long size = Files.size(theirs);
		List<GptWriter.Entry> entries = new ArrayList<>();
		for (Partition p : t.partitions()) {
			entries.add(new GptWriter.Entry(p.type(), p.uuid(), p.firstLba(), p.lastLba(), p.attributes(), p.name()));
		}
		Path copy = dir.resolve("gpt-only.raw");
		try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
			GptWriter.write(ch, size / 512, t.diskGuid(), entries);
		}
		assertEquals(size, Files.size(copy));
		byte[] a = Files.readAllBytes(theirs);
		byte[] b = Files.readAllBytes(copy);
		// the MBR, headers and entries: the first 1 MiB and the last 33 sectors
		assertEquals(HexFormat.of().formatHex(a, 0, 34 * 512), HexFormat.of().formatHex(b, 0, 34 * 512));
		for (int i = 34 * 512; i < 2048 * 512; i++) {
			assertEquals(a[i], b[i], "byte " + i);
		}
		int tail = (int) (size - 33 * 512);
		assertEquals(HexFormat.of().formatHex(a, tail, (int) size), HexFormat.of().formatHex(b, tail, (int) size));
		assertEquals(new String(a, 512, 8, StandardCharsets.US_ASCII), "EFI PART");
	}

	@Test
	void systemdDissectSeesTheSamePartitionsInBoth() throws IOException {
		for (Path img : List.of(theirs, ours)) {
			Fixtures.Result r = Fixtures.dissect(img);
			assertEquals(0, r.status(), img + ": " + r.err());
			List<String> seen = new ArrayList<>();
			for (Object o : MiniJson.list(MiniJson.object(MiniJson.parse(r.out())).get("mounts"))) {
				Map<String, Object> m = MiniJson.object(o);
				seen.add(m.get("designator") + " " + m.get("fstype") + " " + m.get("verity"));
			}
			assertEquals(List.of("root squashfs signed", "root-verity DM_verity_hash null",
				"root-verity-sig verity_hash_signature null"), seen, img.toString());
		}
	}
}
