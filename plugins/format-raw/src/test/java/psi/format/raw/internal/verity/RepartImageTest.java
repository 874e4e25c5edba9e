package psi.format.raw.internal.verity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.format.raw.internal.gpt.DiscoverablePartitions;
import psi.format.raw.internal.gpt.DiscoverablePartitions.Selection;
import psi.format.raw.internal.gpt.Fixtures;
import psi.format.raw.internal.gpt.GptTable;
import psi.format.raw.internal.gpt.MiniJson;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.format.raw.internal.verity.RootHashSources.RootHash;
import psi.format.raw.internal.verity.RootHashSources.Source;
import psi.spi.format.ImageException;

/**
 * Images as systemd 252 builds them: {@code systemd-repart} with a squashfs
 * root, its verity partition and a signature partition (signed with a key made
 * here), read end to end and compared with systemd-repart's and
 * systemd-dissect's own account. systemd-repart formats through loop devices:
 * root only.
 */
class RepartImageTest {

	@TempDir
	Path dir;

	@BeforeEach
	void needsLoopDevices() {
		assertTrue(Fixtures.canUseLoopDevices(), "systemd-repart formats file systems on loop devices (root): run the tests as root, as CI does");
	}

	/** systemd-repart's JSON: one object per partition. */
	private List<Map<String, Object>> repart(Path img, String designator, boolean signed) throws IOException {
		Path defs = Files.createDirectories(dir.resolve("defs"));
		Files.writeString(defs.resolve("10-data.conf"), "[Partition]\nType=" + designator + "\nFormat=squashfs\nCopyFiles=/\n"
			+ "Verity=data\nVerityMatchKey=" + designator + "\n");
		Files.writeString(defs.resolve("20-verity.conf"), "[Partition]\nType=" + designator + "-verity\nVerity=hash\n"
			+ "VerityMatchKey=" + designator + "\n");
		Path root = Files.createDirectories(dir.resolve("root/usr/lib")).getParent().getParent();
		Files.writeString(root.resolve("usr/lib/os-release"), "ID=psitest\n");
		Files.createDirectories(root.resolve("usr/lib/systemd/system"));
		Files.writeString(root.resolve("usr/lib/systemd/system/psitest.service"), "[Service]\nExecStart=/bin/true\n");
		List<String> cmd = new ArrayList<>(List.of("systemd-repart", "--empty=create", "--size=auto", "--dry-run=no",
			"--json=short", "--definitions=" + defs, "--root=" + root));
		if (signed) {
			Files.writeString(defs.resolve("30-sig.conf"), "[Partition]\nType=" + designator + "-verity-sig\nVerity=signature\n"
				+ "VerityMatchKey=" + designator + "\n");
			Fixtures.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.resolve("key.pem")
				.toString(), "-out", dir.resolve("cert.pem").toString(), "-days", "3650", "-subj", "/CN=psi-test"), null);
			cmd.add("--private-key=" + dir.resolve("key.pem"));
			cmd.add("--certificate=" + dir.resolve("cert.pem"));
		}
		cmd.add(img.toString());
		List<Map<String, Object>> out = new ArrayList<>();
		for (Object o : MiniJson.list(MiniJson.parse(Fixtures.run(cmd, null)))) {
			out.add(MiniJson.object(o));
		}
		return out;
	}

	private static GptTable read(Path img) throws IOException {
		try (FileChannel ch = FileChannel.open(img)) {
			return GptTable.read(ch, ch.size(), "image '" + img.getFileName() + "'").orElseThrow();
		}
	}

	@Test
	void aSignedRootImage() throws Exception {
		Path img = dir.resolve("signed.raw");
		List<Map<String, Object>> made = repart(img, "root", true);
		byte[] roothash = HexFormat.of().parseHex((String) made.get(1).get("roothash"));

		GptTable t = read(img);
		assertEquals(512, t.sectorSize());
		assertEquals(3, t.partitions().size());
		for (int i = 0; i < 3; i++) {
			assertEquals(made.get(i).get("type"), PartitionTypes.name(t.partitions().get(i).type()));
			assertEquals(made.get(i).get("uuid"), t.partitions().get(i).uuid().toString());
			assertEquals(made.get(i).get("offset"), t.partitions().get(i).offset());
			assertEquals(made.get(i).get("raw_size"), t.partitions().get(i).length());
			assertEquals(made.get(i).get("label"), t.partitions().get(i).name());
		}
		assertSameAsDissect(img, t);

		Selection s = DiscoverablePartitions.select(t, "x86-64");
		assertEquals("root", s.designator());
		assertEquals(1, s.data().number());
		assertEquals(2, s.verity().orElseThrow().number());
		assertEquals(3, s.veritySig().orElseThrow().number());

		try (FileChannel ch = FileChannel.open(img)) {
			RootHash rh = RootHashSources.find(img, ch, s).orElseThrow();
			assertEquals(Source.SIGNATURE_PARTITION, rh.source());
			assertArrayEquals(roothash, rh.hash());
			byte[] der;
			try (InputStream in = Files.newInputStream(dir.resolve("cert.pem"))) {
				der = CertificateFactory.getInstance("X.509").generateCertificate(in).getEncoded();
			}
			assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(der),
				rh.signature().orElseThrow().certificateFingerprint().orElseThrow());
			assertEquals(0x30, rh.signature().get().pkcs7()[0] & 0xff, "DER");
			assertArrayEquals(roothash, RootHashSources.fromPartitionUuids(ch, s.data(), s.verity().get(), "root", "x")
				.orElseThrow().hash(), "the UUIDs follow the convention");

			VeritySuperblock sb = VerityTree.verify(ch, s.data().offset(), s.data().length(), ch, s.verity().get().offset(), 0,
				s.verity().get().length(), rh.hash(), "image 'signed.raw'");
			assertEquals(512, sb.dataBlockSize());
			assertEquals(512, sb.hashBlockSize());
			assertEquals(s.data().length() / 512, sb.dataBlocks(), "systemd-repart covers the whole partition");
		}

		VerityFixtures.flip(img, t.partitions().get(0).offset() + 100 * 512 + 9);
		try (FileChannel ch = FileChannel.open(img)) {
			String m = assertThrows(ImageException.class, () -> VerityTree.verify(ch, s.data().offset(), ch,
				s.verity().get().offset(), roothash, "image 'signed.raw'")).getMessage();
			assertTrue(m.startsWith("image 'signed.raw': dm-verity: data block 100 (byte " + (s.data().offset() + 100 * 512)
				+ ") does not match its hash"), m);
		}
	}

	@Test
	void aUsrOnlyImage() throws IOException {
		Path img = dir.resolve("usr.raw");
		List<Map<String, Object>> made = repart(img, "usr", false);
		GptTable t = read(img);
		assertSameAsDissect(img, t);
		Selection s = DiscoverablePartitions.select(t, "x86-64");
		assertEquals("usr", s.designator());
		assertEquals(2, s.verity().orElseThrow().number());
		try (FileChannel ch = FileChannel.open(img)) {
			RootHash rh = RootHashSources.find(img, ch, s).orElseThrow();
			assertEquals(Source.PARTITION_UUIDS, rh.source());
			assertEquals(made.get(1).get("roothash"), HexFormat.of().formatHex(rh.hash()));
			VerityTree.verify(ch, s.data().offset(), ch, s.verity().get().offset(), rh.hash(), "image 'usr.raw'");
		}
		Files.writeString(dir.resolve("usr.usrhash"), (String) made.get(1).get("roothash"));
		try (FileChannel ch = FileChannel.open(img)) {
			RootHash rh = RootHashSources.find(img, ch, s).orElseThrow();
			assertEquals(Source.SIDECAR, rh.source());
			Selection byHash = DiscoverablePartitions.select(t, "x86-64", rh.hash(), rh.designator());
			assertEquals(s, byHash);
		}
	}

	/** systemd-dissect finds the same partitions, at the same offsets. */
	private static void assertSameAsDissect(Path img, GptTable t) throws IOException {
		Fixtures.Result r = Fixtures.dissect(img);
		assertEquals(0, r.status(), r.err());
		Map<Long, Map<String, Object>> byNumber = new HashMap<>();
		for (Object o : MiniJson.list(MiniJson.object(MiniJson.parse(r.out())).get("mounts"))) {
			Map<String, Object> m = MiniJson.object(o);
			byNumber.put((Long) m.get("partno"), m);
		}
		assertEquals(t.partitions().size(), byNumber.size());
		for (var p : t.partitions()) {
			Map<String, Object> m = byNumber.get((long) p.number());
			assertEquals(p.uuid().toString(), m.get("partition_uuid"));
			assertEquals(p.name(), m.get("partition_label"));
			assertEquals(m.get("designator"), PartitionTypes.name(p.type()).replace("-x86-64", ""));
		}
	}
}
