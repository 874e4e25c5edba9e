package psi.format.raw.internal.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.format.raw.internal.RawFormat;
import psi.format.raw.internal.VerityVerifier;
import psi.format.raw.internal.gpt.DiscoverablePartitions;
import psi.format.raw.internal.gpt.DiscoverablePartitions.Selection;
import psi.format.raw.internal.gpt.Fixtures;
import psi.format.raw.internal.gpt.GptTable;
import psi.format.raw.internal.gpt.MiniJson;
import psi.format.raw.internal.gpt.Partition;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.format.raw.internal.verity.RootHashSignature;
import psi.format.raw.internal.verity.RootHashSources;
import psi.format.raw.internal.verity.RootHashSources.RootHash;
import psi.format.raw.internal.verity.RootHashSources.Source;
import psi.format.raw.internal.verity.TrustedCertificates;
import psi.format.raw.internal.verity.VeritySignature;
import psi.format.raw.internal.verity.VeritySuperblock;
import psi.format.raw.internal.verity.VerityTree;
import psi.spi.format.ImageTree;
import psi.spi.verify.Verifier;
import psi.spi.verify.Verifier.Verdict;

/**
 * Images written by {@link RawImageWriter} from a squashfs made by
 * {@code mksquashfs}, checked by the real tools ({@code sfdisk},
 * {@code veritysetup}, {@code openssl}, {@code systemd-dissect}, which needs
 * loop devices: root) and by psi's own readers and verifier.
 */
class RawImageWriterTest {

	private static final HexFormat HEX = HexFormat.of();
	private static final String SUBJECT = "/CN=psi raw writer test";

	@TempDir
	static Path shared;
	@TempDir
	Path dir;

	private static Path fs;
	private static Path keyFile;
	private static Path certFile;
	private static PrivateKey key;
	private static X509Certificate cert;

	@BeforeAll
	static void inputs() throws IOException {
		fs = BuildFixtures.squashfs(BuildFixtures.tree(shared, "tree", 600 << 10, 7), shared.resolve("fs.squashfs"));
		keyFile = shared.resolve("key.pem");
		certFile = shared.resolve("cert.pem");
		BuildFixtures.keyPair(keyFile, certFile, "rsa:2048", SUBJECT);
		key = PemFiles.privateKey(keyFile);
		cert = PemFiles.certificate(certFile);
	}

	private static RawImageWriter.Options signed() {
		return RawImageWriter.Options.signed(key, cert).withArch("x86-64");
	}

	@Test
	void aSignedImageAsSfdiskSeesIt() throws IOException {
		Path img = dir.resolve("signed.raw");
		RawImageWriter.Result r = RawImageWriter.write(fs, signed(), img);
		assertEquals(r.size(), Files.size(img));
		assertEquals(0, r.size() % 4096);

		Map<String, Object> t = Fixtures.sfdiskJson(img);
		assertEquals("gpt", t.get("label"));
		assertEquals(r.diskUuid().toString(), ((String) t.get("id")).toLowerCase());
		assertEquals(2048L, t.get("firstlba"));
		assertEquals(r.size() / 512 - 34, t.get("lastlba"));
		List<Object> parts = MiniJson.list(t.get("partitions"));
		assertEquals(3, parts.size());
		String[] names = { "root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig" };
		long next = 2048;
		for (int i = 0; i < 3; i++) {
			Map<String, Object> p = MiniJson.object(parts.get(i));
			RawImageWriter.Written w = r.partitions().get(i);
			assertEquals(names[i], p.get("name"));
			assertEquals(names[i], w.label());
			assertEquals(Fixtures.type(names[i]), ((String) p.get("type")).toLowerCase());
			assertEquals(w.uuid().toString(), ((String) p.get("uuid")).toLowerCase());
			assertEquals(next, p.get("start"), "back to back from 1 MiB");
			assertEquals(0, (Long) p.get("size") % 8, "4 KiB multiples");
			assertEquals("GUID:60", p.get("attrs"));
			next += (Long) p.get("size");
		}
		assertEquals(r.size() / 512 - 40, next, "20 KiB after the last partition");
		assertEquals((Files.size(fs) + 4095) / 4096 * 8, MiniJson.object(parts.get(0)).get("size"));
		assertEquals(32L, MiniJson.object(parts.get(2)).get("size"), "16 KiB");
		String root = r.rootHashHex();
		assertEquals(root.substring(0, 32), r.partitions().get(0).uuid().toString().replace("-", ""));
		assertEquals(root.substring(32), r.partitions().get(1).uuid().toString().replace("-", ""));
	}

	@Test
	void psiReadsAndVerifiesIt() throws Exception {
		Path img = dir.resolve("signed.raw");
		RawImageWriter.Result r = RawImageWriter.write(fs, signed(), img);
		try (FileChannel ch = FileChannel.open(img)) {
			GptTable t = GptTable.read(ch, ch.size(), "signed.raw").orElseThrow();
			assertTrue(t.warning().isEmpty(), t.warning().toString());
			assertEquals(r.diskUuid(), t.diskGuid());
			Selection s = DiscoverablePartitions.select(t, "x86-64");
			assertEquals("root", s.designator());
			RootHash rh = RootHashSources.find(img, ch, s).orElseThrow();
			assertEquals(Source.SIGNATURE_PARTITION, rh.source());
			assertArrayEquals(r.rootHash(), rh.hash());
			assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()),
				rh.signature().orElseThrow().certificateFingerprint().orElseThrow());
			Partition hp = s.verity().orElseThrow();
			VeritySuperblock sb = VerityTree.verify(ch, s.data().offset(), s.data().length(), ch, hp.offset(), 0, hp.length(),
				r.rootHash(), "signed.raw");
			assertEquals(1, sb.hashType());
			assertEquals("sha256", sb.algorithm());
			assertEquals(4096, sb.dataBlockSize());
			assertEquals(4096, sb.hashBlockSize());
			assertEquals(32, sb.salt().length);
			assertEquals(s.data().length() / 4096, sb.dataBlocks(), "the whole data partition");

			Path trust = Files.createDirectories(dir.resolve("host/etc/verity.d"));
			Files.copy(certFile, trust.resolve("psi.crt"));
			TrustedCertificates trusted = TrustedCertificates.load(p -> dir.resolve("host").resolve(p.substring(1)));
			RootHashSignature.verify(rh.signature().get().pkcs7(), r.rootHash(), trusted, "signed.raw");
		}
		try (ImageTree tree = new RawFormat().open(img).orElseThrow()) {
			assertEquals("ID=psitest\nPORTABLE_PREFIXES=psitest\n",
				new String(tree.read("/usr/lib/os-release", 4096), StandardCharsets.UTF_8));
			assertEquals(600 << 10, tree.read("/usr/lib/noise", 1 << 20).length);
			assertTrue(tree.verifyIntegrity().get("Verity").contains("hash tree verified"), tree.verifyIntegrity().toString());
		}

		Path host = Files.createDirectories(dir.resolve("host2/etc/verity.d"));
		Files.copy(certFile, host.resolve("psi.crt"));
		Verdict v = new VerityVerifier().verify(new BuildFixtures.Subject(img, dir.resolve("host2"), false, Verifier.CHECKSUM, Verifier.SIGNATURE));
		assertTrue(v.applicable(), v.toString());
		assertTrue(v.detail().contains("signed by CN=psi raw writer test"), v.detail());
		assertEquals(Verifier.SIGNATURE, v.level(), v.toString());
	}

	@Test
	void systemdDissectFindsRootVerityAndSignature() throws IOException {
		assertTrue(Fixtures.canUseLoopDevices(), "systemd-dissect needs loop devices (root): run the tests as root, as CI does");
		Path img = dir.resolve("signed.raw");
		RawImageWriter.Result r = RawImageWriter.write(fs, signed(), img);
		Fixtures.Result d = Fixtures.dissect(img);
		assertEquals(0, d.status(), d.err());
		Map<String, Object> out = MiniJson.object(MiniJson.parse(d.out()));
		assertEquals(List.of("ID=psitest", "PORTABLE_PREFIXES=psitest"), out.get("osRelease"));
		Map<String, Map<String, Object>> byDesignator = new HashMap<>();
		for (Object o : MiniJson.list(out.get("mounts"))) {
			Map<String, Object> m = MiniJson.object(o);
			byDesignator.put((String) m.get("designator"), m);
		}
		assertEquals(Set.of("root", "root-verity", "root-verity-sig"), byDesignator.keySet());
		Map<String, Object> root = byDesignator.get("root");
		assertEquals("squashfs", root.get("fstype"));
		assertEquals("signed", root.get("verity"));
		assertEquals("ro", root.get("rw"));
		assertEquals(r.partitions().get(0).uuid().toString(), root.get("partition_uuid"));
		assertEquals("DM_verity_hash", byDesignator.get("root-verity").get("fstype"));
		assertEquals("verity_hash_signature", byDesignator.get("root-verity-sig").get("fstype"));
	}

	@Test
	void veritysetupVerifiesTheTree() throws IOException {
		Path img = dir.resolve("signed.raw");
		RawImageWriter.Result r = RawImageWriter.write(fs, signed(), img);
		RawImageWriter.Written data = r.partitions().get(0);
		RawImageWriter.Written hash = r.partitions().get(1);
		// the data partition on its own (veritysetup has no data offset); the hash device is the image at an offset
		Path dataFile = extract(img, data, dir.resolve("data.img"));
		String dump = Fixtures.run(List.of("veritysetup", "dump", "--hash-offset=" + hash.offset(), img.toString()), null);
		assertTrue(dump.contains("Hash type:       \t1"), dump);
		assertTrue(dump.contains("Data blocks:     \t" + data.length() / 4096), dump);
		assertTrue(dump.contains("Data block size: \t4096"), dump);
		assertTrue(dump.contains("Hash block size: \t4096"), dump);
		assertTrue(dump.contains("Hash algorithm:  \tsha256"), dump);
		Fixtures.run(List.of("veritysetup", "verify", "--hash-offset=" + hash.offset(), dataFile.toString(), img.toString(),
			r.rootHashHex()), null);
		// and it checks: a flipped data byte fails
		try (FileChannel ch = FileChannel.open(dataFile, StandardOpenOption.WRITE)) {
			ch.write(ByteBuffer.wrap(new byte[] { 0x5a }), 5000);
		}
		assertNotEquals(0, Fixtures.exec(List.of("veritysetup", "verify", "--hash-offset=" + hash.offset(), dataFile.toString(),
			img.toString(), r.rootHashHex()), null).status());

		// veritysetup format with the same salt and UUID writes the same hash device
		Path hashFile = dir.resolve("hash.img");
		VeritySuperblock sb;
		try (FileChannel ch = FileChannel.open(img)) {
			sb = VeritySuperblock.read(ch, hash.offset(), "signed.raw");
		}
		Path fresh = extract(img, data, dir.resolve("data2.img"));
		String out = Fixtures.run(List.of("veritysetup", "format", "--salt=" + HEX.formatHex(sb.salt()), "--uuid=" + sb.uuid(),
			fresh.toString(), hashFile.toString()), null);
		Matcher m = Pattern.compile("(?m)^Root hash:\\s+([0-9a-f]+)\\s*$").matcher(out);
		assertTrue(m.find(), out);
		assertEquals(r.rootHashHex(), m.group(1));
		byte[] theirs = Files.readAllBytes(hashFile);
		byte[] ours = Files.readAllBytes(extract(img, hash, dir.resolve("ours.hash")));
		assertArrayEquals(theirs, Arrays.copyOf(ours, theirs.length));
		for (int i = theirs.length; i < ours.length; i++) {
			assertEquals(0, ours[i], "zeros after the tree");
		}
	}

	@Test
	void aFileSystemOfOneBlockHasATreeOfNoLevels() throws IOException {
		Path tiny = BuildFixtures.squashfs(Files.createDirectories(dir.resolve("empty")), dir.resolve("tiny.squashfs"));
		assertEquals(4096, Files.size(tiny), "mksquashfs pads to 4 KiB");
		Path img = dir.resolve("tiny.raw");
		RawImageWriter.Result r = RawImageWriter.write(tiny, RawImageWriter.Options.unsigned().withArch("x86-64"), img);
		RawImageWriter.Written data = r.partitions().get(0);
		RawImageWriter.Written hash = r.partitions().get(1);
		assertEquals(4096, data.length());
		assertEquals(8192, hash.length(), "two blocks at least, as repart's calculate_verity_hash_size()");
		Path dataFile = extract(img, data, dir.resolve("data.img"));
		Fixtures.run(List.of("veritysetup", "verify", "--hash-offset=" + hash.offset(), dataFile.toString(), img.toString(),
			r.rootHashHex()), null);
		try (FileChannel ch = FileChannel.open(img)) {
			VerityTree.verify(ch, data.offset(), data.length(), ch, hash.offset(), 0, hash.length(), r.rootHash(), "tiny.raw");
		}
	}

	@Test
	void theSignatureIsWhatOpensslPkcs7SignMakes() throws IOException {
		Path img = dir.resolve("signed.raw");
		RawImageWriter.Result r = RawImageWriter.write(fs, signed(), img);
		RawImageWriter.Written sig = r.partitions().get(2);
		byte[] content = Files.readAllBytes(extract(img, sig, dir.resolve("sig.part")));
		int end = 0;
		while (content[end] != 0) {
			end++;
		}
		String json = new String(content, 0, end, StandardCharsets.US_ASCII);
		assertTrue(json.matches("\\{\"rootHash\":\"" + r.rootHashHex() + "\",\"certificateFingerprint\":\"[0-9a-f]{64}\","
			+ "\"signature\":\"[A-Za-z0-9+/=]+\"}"), json);
		for (int i = end; i < content.length; i++) {
			assertEquals(0, content[i]);
		}
		byte[] ours;
		try (FileChannel ch = FileChannel.open(img)) {
			ours = VeritySignature.read(ch, partition(img, 3), "signed.raw").signature();
		}
		Files.write(dir.resolve("ours.p7s"), ours);

		// systemd-repart's PKCS7_sign(cert, key, NULL, hex, PKCS7_DETACHED|PKCS7_NOATTR|PKCS7_BINARY), as openssl smime does it
		Path in = Files.writeString(dir.resolve("roothash.txt"), r.rootHashHex(), StandardCharsets.US_ASCII);
		Path p7s = dir.resolve("roothash.p7s");
		Fixtures.run(List.of("openssl", "smime", "-sign", "-noattr", "-binary", "-in", in.toString(), "-inkey",
			keyFile.toString(), "-signer", certFile.toString(), "-outform", "der", "-out", p7s.toString()), null);
		assertEquals(HEX.formatHex(Files.readAllBytes(p7s)), HEX.formatHex(ours), "byte for byte (RSA is deterministic)");
		Fixtures.run(List.of("openssl", "smime", "-verify", "-binary", "-inform", "der", "-in", dir.resolve("ours.p7s")
			.toString(), "-content", in.toString(), "-CAfile", certFile.toString(), "-out", "/dev/null"), null);
	}

	@Test
	void twoWritesAreByteIdenticalAndAChangedInputChangesTheRootHash() throws IOException {
		Path a = dir.resolve("a.raw");
		Path b = Files.createDirectories(dir.resolve("other")).resolve("b.raw");
		RawImageWriter.Result ra = RawImageWriter.write(fs, signed(), a);
		RawImageWriter.Result rb = RawImageWriter.write(fs, signed(), b);
		assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
		assertEquals(ra.seed(), rb.seed());

		// the same tree, one byte of it changed: mksquashfs is reproducible, so only that byte differs
		Path tree2 = BuildFixtures.tree(dir, "tree2", 600 << 10, 7);
		Files.writeString(tree2.resolve("usr/lib/os-release"), "ID=psitest\nPORTABLE_PREFIXES=psitesT\n");
		Path fs2 = BuildFixtures.squashfs(tree2, dir.resolve("fs2.squashfs"));
		RawImageWriter.Result rc = RawImageWriter.write(fs2, signed(), dir.resolve("c.raw"));
		assertNotEquals(ra.rootHashHex(), rc.rootHashHex());
		assertNotEquals(ra.diskUuid(), rc.diskUuid(), "the seed is the content's");
		assertNotEquals(ra.partitions().get(0).uuid(), rc.partitions().get(0).uuid());

		// an explicit seed gives the identifiers repart derives from it
		UUID seed = UUID.fromString("e2a40bf9-73f1-4278-9160-49c031e7aef8");
		RawImageWriter.Result rd = RawImageWriter.write(fs, signed().withSeed(seed), dir.resolve("d.raw"));
		assertEquals(seed, rd.seed());
		assertNotEquals(ra.rootHashHex(), rd.rootHashHex(), "another salt");
	}

	@Test
	void anUnsignedUsrImageForAnotherArchitecture() throws IOException {
		Path img = dir.resolve("usr.raw");
		RawImageWriter.Result r = RawImageWriter.write(fs, RawImageWriter.Options.unsigned().withArch("arm64").withUsr(true),
			img);
		assertEquals(List.of("usr-arm64", "usr-arm64-verity"), r.partitions().stream().map(RawImageWriter.Written::label)
			.toList());
		try (FileChannel ch = FileChannel.open(img)) {
			GptTable t = GptTable.read(ch, ch.size(), "usr.raw").orElseThrow();
			assertEquals(2, t.partitions().size());
			assertEquals(PartitionTypes.of(PartitionTypes.Role.USR, "arm64").orElseThrow(), t.partitions().get(0).type());
			assertEquals(PartitionTypes.of(PartitionTypes.Role.USR_VERITY, "arm64").orElseThrow(), t.partitions().get(1).type());
			Selection s = DiscoverablePartitions.select(t, "arm64");
			assertEquals("usr", s.designator());
			assertTrue(s.veritySig().isEmpty());
			// no signature: the root hash comes from the partition UUIDs
			RootHash rh = RootHashSources.find(img, ch, s).orElseThrow();
			assertEquals(Source.PARTITION_UUIDS, rh.source());
			assertArrayEquals(r.rootHash(), rh.hash());
			VerityTree.verify(ch, s.data().offset(), ch, s.verity().get().offset(), rh.hash(), "usr.raw");
		}
	}

	@Test
	void anEcdsaKeySigns() throws Exception {
		Path ecKey = dir.resolve("ec.key");
		Path ecCert = dir.resolve("ec.crt");
		BuildFixtures.keyPair(ecKey, ecCert, "ec", "/CN=psi ec");
		assertTrue(Files.readString(ecKey).startsWith("-----BEGIN EC PRIVATE KEY-----"));
		Path img = dir.resolve("ec.raw");
		RawImageWriter.Result r = RawImageWriter.write(fs, RawImageWriter.Options.signed(PemFiles.privateKey(ecKey),
			PemFiles.certificate(ecCert)).withArch("x86-64"), img);
		Path trust = Files.createDirectories(dir.resolve("host/etc/verity.d"));
		Files.copy(ecCert, trust.resolve("ec.crt"));
		try (FileChannel ch = FileChannel.open(img)) {
			VeritySignature sig = VeritySignature.read(ch, partition(img, 3), "ec.raw");
			RootHashSignature.verify(sig.signature(), r.rootHash(), TrustedCertificates.load(p -> dir.resolve("host")
				.resolve(p.substring(1))), "ec.raw");
			Path p7s = Files.write(dir.resolve("ec.p7s"), sig.signature());
			Path in = Files.writeString(dir.resolve("roothash.txt"), r.rootHashHex(), StandardCharsets.US_ASCII);
			Fixtures.run(List.of("openssl", "smime", "-verify", "-binary", "-inform", "der", "-in", p7s.toString(), "-content",
				in.toString(), "-CAfile", ecCert.toString(), "-out", "/dev/null"), null);
		}
	}

	@Test
	void aMissingFileSystemLeavesNothing() throws IOException {
		Path out = dir.resolve("out.raw");
		String m = assertThrows(IOException.class, () -> RawImageWriter.write(dir.resolve("nope.squashfs"), signed(), out))
			.getMessage();
		assertEquals("filesystem '" + dir.resolve("nope.squashfs") + "' does not exist", m);
		assertNothingLeft();
		Path empty = Files.createFile(dir.resolve("empty.squashfs"));
		m = assertThrows(IOException.class, () -> RawImageWriter.write(empty, signed(), out)).getMessage();
		assertEquals("filesystem '" + empty + "' is empty", m);
		m = assertThrows(IOException.class, () -> RawImageWriter.write(dir, signed(), out)).getMessage();
		assertEquals("filesystem '" + dir + "' is not a regular file", m);
		assertNothingLeft();
	}

	@Test
	void aCertificateThatDoesNotMatchTheKeyLeavesNothing() throws IOException {
		Path otherKey = dir.resolve("other.key");
		Path otherCert = dir.resolve("other.crt");
		BuildFixtures.keyPair(otherKey, otherCert, "rsa:2048", "/CN=someone else");
		Path out = dir.resolve("out.raw");
		RawImageWriter.Options o = RawImageWriter.Options.signed(key, PemFiles.certificate(otherCert));
		String m = assertThrows(IOException.class, () -> RawImageWriter.write(fs, o, out)).getMessage();
		assertEquals("cannot write '" + out + "': the certificate of CN=someone else does not match the RSA private key", m);
		assertNothingLeft();
		// an EC key with an RSA certificate
		Path ecKey = dir.resolve("ec.key");
		BuildFixtures.keyPair(ecKey, dir.resolve("ec.crt"), "ec", "/CN=psi ec");
		RawImageWriter.Options mixed = RawImageWriter.Options.signed(PemFiles.privateKey(ecKey), cert);
		m = assertThrows(IOException.class, () -> RawImageWriter.write(fs, mixed, out)).getMessage();
		assertEquals("cannot write '" + out + "': the certificate of CN=psi raw writer test does not match the EC private key", m);
		assertNothingLeft();
	}

	@Test
	void aFailedWriteLeavesTheOldImageAndNoTemporaryFile() throws IOException {
		Path out = dir.resolve("out.raw");
		Files.writeString(out, "old");
		Path gone = dir.resolve("gone");
		String m = assertThrows(IOException.class, () -> RawImageWriter.write(fs, signed(), gone.resolve("x.raw")))
			.getMessage();
		assertTrue(m.startsWith("cannot write '" + gone.resolve("x.raw") + "': cannot create a temporary file in '" + gone
			+ "'"), m);
		// a file system that is a FIFO: not a regular file
		Path fifo = dir.resolve("fifo");
		Fixtures.run(List.of("mkfifo", fifo.toString()), null);
		m = assertThrows(IOException.class, () -> RawImageWriter.write(fifo, signed(), out)).getMessage();
		assertEquals("filesystem '" + fifo + "' is not a regular file", m);
		assertEquals("old", Files.readString(out));
		assertNoTemporaryFile();
		RawImageWriter.write(fs, signed(), out);
		assertTrue(Files.size(out) > 1 << 20, "replaced");
		assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
		assertNoTemporaryFile();
	}

	@Test
	void aFullDiskMidWriteLeavesNothing() throws IOException {
		assertTrue(Fixtures.canUseLoopDevices(), "mounting a small tmpfs needs root: run the tests as root, as CI does");
		Path small = Files.createDirectories(dir.resolve("small"));
		Fixtures.run(List.of("mount", "-t", "tmpfs", "-o", "size=256k", "psi-test", small.toString()), null);
		try {
			Path out = small.resolve("out.raw");
			String m = assertThrows(IOException.class, () -> RawImageWriter.write(fs, signed(), out)).getMessage();
			assertEquals("cannot write '" + out + "': No space left on device", m);
			try (Stream<Path> s = Files.list(small)) {
				assertEquals(List.of(), s.toList());
			}
		} finally {
			Fixtures.run(List.of("umount", small.toString()), null);
		}
	}

	@Test
	void optionsRefuseHalfAKeyAndUnknownArchitectures() {
		assertEquals("a private key without its certificate", assertThrows(IllegalArgumentException.class,
			() -> new RawImageWriter.Options("x86-64", false, Optional.of(key), Optional.empty(), Optional.empty())).getMessage());
		assertEquals("a certificate without its private key", assertThrows(IllegalArgumentException.class,
			() -> new RawImageWriter.Options("x86-64", false, Optional.empty(), Optional.of(cert), Optional.empty())).getMessage());
		assertEquals("no partition types for architecture 'vax'", assertThrows(IllegalArgumentException.class,
			() -> RawImageWriter.Options.unsigned().withArch("vax")).getMessage());
	}

	/** No output and no temporary file of the writer in {@link #dir}. */
	private void assertNothingLeft() throws IOException {
		assertNoTemporaryFile();
		assertFalse(Files.exists(dir.resolve("out.raw")));
	}

	private void assertNoTemporaryFile() throws IOException {
		try (Stream<Path> s = Files.list(dir)) {
			assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList());
		}
	}

	private static Partition partition(Path img, int number) throws IOException {
		try (FileChannel ch = FileChannel.open(img)) {
			return GptTable.read(ch, ch.size(), img.toString()).orElseThrow().partitions().get(number - 1);
		}
	}

	private static Path extract(Path img, RawImageWriter.Written p, Path to) throws IOException {
		try (FileChannel in = FileChannel.open(img); FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE,
			StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
			long done = 0;
			while (done < p.length()) {
				done += in.transferTo(p.offset() + done, p.length() - done, out);
			}
		}
		return to;
	}
}
