package psi.format.raw.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.format.raw.internal.gpt.DiscoverablePartitions;
import psi.format.raw.internal.gpt.DiscoverablePartitions.Selection;
import psi.format.raw.internal.gpt.Fixtures;
import psi.format.raw.internal.gpt.GptTable;
import psi.format.raw.internal.gpt.MiniJson;
import psi.format.raw.internal.verity.VeritySuperblock;
import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;
import psi.spi.verify.Verifier.Verdict;

/**
 * The dm-verity verifier on images made by the real tools: a signed
 * {@code systemd-repart} image (root squashfs, verity, verity-sig; loop
 * devices, so root only), and a naked squashfs with the sidecars
 * {@code veritysetup format} and {@code openssl smime} make. Sidecars live in
 * an "origin" directory apart from the image, as for a pulled image; the host
 * root, with its {@code /etc/verity.d}, is a directory of its own.
 */
class VerityVerifierTest {

	private static final HexFormat HEX = HexFormat.of();
	private static final Pattern ROOT_HASH = Pattern.compile("(?m)^Root hash:\\s+([0-9a-f]+)\\s*$");
	private static final String SUBJECT = "/CN=psi test verity";

	@TempDir
	static Path shared;
	@TempDir
	Path dir;

	/** The signed repart image, its root hash, and its partitions. */
	private static Path signed;
	private static String signedRoot;
	private static Selection signedParts;
	/** The naked squashfs, its hash device, root hash and signature. */
	private static Path naked;
	private static Path nakedVerity;
	private static String nakedRoot;
	private static Path nakedP7s;
	private static Path cert;
	private static Path key;
	private static Path otherCert;

	private final VerityVerifier verifier = new VerityVerifier();

	@BeforeAll
	static void images() throws IOException {
		assertTrue(Fixtures.canUseLoopDevices(),
			"systemd-repart formats file systems on loop devices (root): run the tests as root, as CI does");
		key = shared.resolve("verity.key");
		cert = shared.resolve("verity.crt");
		keyPair(key, cert);
		otherCert = shared.resolve("other.crt");
		keyPair(shared.resolve("other.key"), otherCert);

		signed = shared.resolve("signed.raw");
		signedRoot = repart(signed);
		try (FileChannel ch = FileChannel.open(signed)) {
			GptTable t = GptTable.read(ch, ch.size(), "signed.raw").orElseThrow();
			signedParts = DiscoverablePartitions.select(t, "x86-64");
		}

		naked = shared.resolve("naked.squashfs");
		Fixtures.run(List.of("mksquashfs", shared.resolve("root").toString(), naked.toString(), "-quiet", "-noappend",
			"-all-root"), null);
		nakedVerity = shared.resolve("naked.hash");
		nakedRoot = veritysetup(naked, nakedVerity);
		nakedP7s = sign(shared, nakedRoot, key, cert, "naked.p7s");
	}

	private static void keyPair(Path key, Path cert) throws IOException {
		Fixtures.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out",
			cert.toString(), "-days", "3650", "-subj", SUBJECT), null);
	}

	/** systemd-repart: a signed root squashfs image; returns its root hash. */
	private static String repart(Path img) throws IOException {
		Path defs = Files.createDirectories(shared.resolve("defs"));
		Files.writeString(defs.resolve("10-root.conf"), "[Partition]\nType=root\nFormat=squashfs\nCopyFiles=/\nVerity=data\n"
			+ "VerityMatchKey=root\n");
		Files.writeString(defs.resolve("20-verity.conf"), "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n");
		Files.writeString(defs.resolve("30-sig.conf"), "[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n");
		Path root = shared.resolve("root");
		Files.createDirectories(root.resolve("usr/lib/systemd/system"));
		Files.writeString(root.resolve("usr/lib/os-release"), "ID=psitest\n");
		Files.writeString(root.resolve("usr/lib/systemd/system/psitest.service"), "[Service]\nExecStart=/bin/true\n");
		// some data, so that the tree has several levels
		byte[] noise = new byte[256 << 10];
		new Random(7).nextBytes(noise);
		Files.write(root.resolve("usr/lib/noise"), noise);
		String out = Fixtures.run(List.of("systemd-repart", "--empty=create", "--size=auto", "--dry-run=no", "--json=short",
			"--definitions=" + defs, "--root=" + root, "--private-key=" + key, "--certificate=" + cert, img.toString()), null);
		List<Object> parts = MiniJson.list(MiniJson.parse(out));
		return (String) MiniJson.object(parts.get(1)).get("roothash");
	}

	/** {@code veritysetup format DATA HASH}; returns the root hash. */
	private static String veritysetup(Path data, Path hash) throws IOException {
		String out = Fixtures.run(List.of("veritysetup", "format", data.toString(), hash.toString()), null);
		Matcher m = ROOT_HASH.matcher(out);
		assertTrue(m.find(), out);
		return m.group(1);
	}

	/**
	 * A detached PKCS#7 signature of {@code content}, as systemd documents it:
	 * {@code openssl smime -sign -nocerts -noattr -binary -in ROOTHASH -inkey KEY -signer CRT -outform der -out SIG}.
	 */
	private static Path sign(Path where, String content, Path key, Path cert, String name) throws IOException {
		return sign(where, content, key, cert, name, "smime");
	}

	/** As {@link #sign(Path, String, Path, Path, String)}, with {@code openssl smime} or {@code openssl cms} and options. */
	private static Path sign(Path where, String content, Path key, Path cert, String name, String command,
		String... options) throws IOException {
		Path in = where.resolve(name + ".txt");
		Files.writeString(in, content, StandardCharsets.US_ASCII);
		Path out = where.resolve(name);
		List<String> cmd = new ArrayList<>(List.of("openssl", command, "-sign", "-nocerts", "-noattr", "-binary"));
		cmd.addAll(List.of(options));
		cmd.addAll(List.of("-in", in.toString(), "-inkey", key.toString(), "-signer", cert.toString(), "-outform", "der",
			"-out", out.toString()));
		Fixtures.run(cmd, null);
		assertTrue(Files.size(out) > 0, String.join(" ", cmd));
		return out;
	}

	/**
	 * A verification subject as the engine makes one: the image in a local
	 * directory, its sidecars fetched from an origin directory, the host root.
	 */
	private static final class FakeSubject implements Verifier.Subject {
		final Path image;
		final String fileName;
		final Path origin;
		final Path root;
		final Set<psi.spi.verify.Level> wanted;
		final List<String> asked = new ArrayList<>();

		FakeSubject(Path image, Path origin, Path root, psi.spi.verify.Level... wanted) {
			this.image = image;
			this.fileName = image.getFileName().toString();
			this.origin = origin;
			this.root = root;
			this.wanted = Set.of(wanted);
		}

		@Override
		public Path image() {
			return image;
		}

		@Override
		public String fileName() {
			return fileName;
		}

		@Override
		public URI origin() {
			return URI.create("https://repo.example.org/" + fileName);
		}

		@Override
		public String sha256() throws IOException {
			try {
				return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(image)));
			} catch (NoSuchAlgorithmException e) {
				throw new IllegalStateException(e);
			}
		}

		@Override
		public Optional<Path> sidecar(String name) {
			assertFalse(name.contains("/"), name);
			asked.add(name);
			Path p = origin.resolve(name);
			return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
		}

		@Override
		public boolean wants(psi.spi.verify.Level level) {
			return wanted.contains(level);
		}

		@Override
		public Path host(String path) {
			assertTrue(path.startsWith("/"), path);
			return root.resolve(path.substring(1));
		}
	}

	/** A fresh local copy of an image, its origin and host root directories. */
	private FakeSubject subject(Path image, String name, psi.spi.verify.Level... wanted) throws IOException {
		Path local = Files.createDirectories(dir.resolve("local"));
		Path copy = local.resolve(name);
		Files.copy(image, copy);
		return new FakeSubject(copy, Files.createDirectories(dir.resolve("origin")), Files.createDirectories(dir.resolve("host")),
			wanted);
	}

	private void trust(FakeSubject s, String dirName, Path certificate, String name) throws IOException {
		Path d = Files.createDirectories(s.root.resolve(dirName.substring(1)));
		Files.copy(certificate, d.resolve(name));
	}

	private String refused(FakeSubject s) {
		return assertThrows(VerificationException.class, () -> verifier.verify(s)).getMessage();
	}

	@Test
	void aSignedRepartImageWithItsCertificateIsSigned() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.CHECKSUM, Verifier.SIGNATURE);
		trust(s, "/etc/verity.d", cert, "psi.crt");
		Verdict v = verifier.verify(s);
		assertEquals(Verifier.SIGNATURE, v.level());
		assertTrue(v.applicable());
		assertTrue(v.detail().startsWith("dm-verity tree checked ("), v.detail());
		assertTrue(v.detail().contains("root hash " + signedRoot + " signed by CN=psi test verity (/etc/verity.d/psi.crt,"
			+ " signature in signature partition 3)"), v.detail());
		assertEquals(List.of("signed.roothash", "signed.usrhash"), s.asked, "the sidecars are asked of the origin");
	}

	@Test
	void certificatesInAnyVerityDirectoryButMaskedByName() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.SIGNATURE);
		trust(s, "/usr/lib/verity.d", cert, "psi.crt");
		Files.writeString(s.root.resolve("usr/lib/verity.d/notes.txt"), "not a certificate, not read");
		Files.writeString(s.root.resolve("usr/lib/verity.d/broken.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n");
		assertEquals(Verifier.SIGNATURE, verifier.verify(s).level());
		// an empty file of the same name in an earlier directory hides it, as systemd's configuration directories do
		Files.createDirectories(s.root.resolve("etc/verity.d"));
		Files.createFile(s.root.resolve("etc/verity.d/psi.crt"));
		String m = refused(s);
		assertTrue(m.startsWith("verity: the root hash is signed by CN=psi test verity (signature partition 3), which is not"
			+ " among the 0 certificates in /etc/verity.d, /run/verity.d, /usr/local/lib/verity.d, /usr/lib/verity.d;"
			+ " skipped /usr/lib/verity.d/broken.pem"), m);
	}

	@Test
	void withoutItsCertificateRefusedWhenSignaturesAreWantedElseIntegrity() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.CHECKSUM, Verifier.SIGNATURE);
		assertEquals("verity: the root hash is signed by CN=psi test verity (signature partition 3), which is not among the 0"
			+ " certificates in /etc/verity.d, /run/verity.d, /usr/local/lib/verity.d, /usr/lib/verity.d", refused(s));

		FakeSubject c = new FakeSubject(s.image, s.origin, s.root, Verifier.CHECKSUM);
		Verdict v = verifier.verify(c);
		assertEquals(Verifier.INTEGRITY, v.level());
		assertTrue(v.detail().endsWith("root hash " + signedRoot + " from signature partition 3, signature in signature"
			+ " partition 3 not checked"), v.detail());
	}

	@Test
	void aCertificateOfAnotherKeyWithTheSameNameIsRefused() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.SIGNATURE);
		trust(s, "/etc/verity.d", otherCert, "impostor.crt");
		String m = refused(s);
		assertTrue(m.startsWith("verity: the root hash is signed by CN=psi test verity (signature partition 3), which is not"
			+ " among the 1 certificates in /etc/verity.d"), m);

		// an impostor with the signer's very issuer and serial number: matched, and its key does not verify
		String serial = Fixtures.run(List.of("openssl", "x509", "-noout", "-serial", "-in", cert.toString()), null).strip()
			.replace("serial=", "");
		Path twin = dir.resolve("twin.crt");
		Fixtures.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.resolve("twin.key")
			.toString(), "-out", twin.toString(), "-days", "3650", "-subj", SUBJECT, "-set_serial", "0x" + serial), null);
		trust(s, "/etc/verity.d", twin, "twin.crt");
		assertEquals("verity: the root hash signature in signature partition 3 does not verify with the certificate of"
			+ " CN=psi test verity (/etc/verity.d/twin.crt)", refused(s));
		// the real certificate beside it is found all the same
		trust(s, "/etc/verity.d", cert, "psi.crt");
		assertEquals(Verifier.SIGNATURE, verifier.verify(s).level());
	}

	@Test
	void aFlippedByteInTheDataPartitionNamesTheBlock() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.SIGNATURE);
		trust(s, "/etc/verity.d", cert, "psi.crt");
		long block = 200;
		long at = signedParts.data().offset() + block * 512 + 77;
		flip(s.image, at);
		assertEquals("verity: signed.raw: dm-verity: data block 200 (byte " + (signedParts.data().offset() + block * 512)
			+ ") does not match its hash", refused(s).replaceFirst(" \\(level 0 hash block at byte \\d+\\)$", ""));
	}

	@Test
	void aFlippedByteInTheHashPartitionIsRefused() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.CHECKSUM);
		long hashStart = signedParts.verity().orElseThrow().offset();
		VeritySuperblock sb;
		try (FileChannel ch = FileChannel.open(s.image)) {
			sb = VeritySuperblock.read(ch, hashStart, "signed.raw");
		}
		// the leaf level is the last: its first block holds the digests of data blocks 0..15
		long leaves = (sb.dataBlocks() + 15) / 16;
		long blocks = 0;
		for (long n = leaves; ; n = (n + 15) / 16) {
			blocks += n;
			if (n == 1) {
				break;
			}
		}
		assertTrue(blocks > 1, "a tree of several levels");
		long firstLeaf = hashStart + 512 + (blocks - leaves) * 512;
		flip(s.image, firstLeaf + 40);
		assertTrue(refused(s).startsWith("verity: signed.raw: dm-verity: level 0 hash block at byte " + firstLeaf
			+ " does not match its hash (level 1 hash block at byte "), refused(s));
	}

	@Test
	void aRootHashSidecarThatIsNotTheImagesIsRefused() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.CHECKSUM);
		String other = "0123456789abcdef".repeat(4);
		Files.writeString(s.origin.resolve("signed.roothash"), other + "\n");
		assertEquals("verity: the root hash in signed.roothash (0123456789abcdef…) does not match the image's ("
			+ signedRoot.substring(0, 16) + "…, in signature partition 3)", refused(s));
	}

	@Test
	void aRootHashSidecarThatIsTheImagesGivesChecksumAndItsSignatureStillCounts() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.CHECKSUM);
		Files.writeString(s.origin.resolve("signed.roothash"), signedRoot + "\n");
		Verdict v = verifier.verify(s);
		assertEquals(Verifier.CHECKSUM, v.level());
		assertTrue(v.detail().endsWith("root hash " + signedRoot + " from signed.roothash, signature in signature partition 3"
			+ " not checked"), v.detail());

		FakeSubject w = new FakeSubject(s.image, s.origin, s.root, Verifier.CHECKSUM, Verifier.SIGNATURE);
		trust(w, "/etc/verity.d", cert, "psi.crt");
		assertEquals(Verifier.SIGNATURE, verifier.verify(w).level());
	}

	@Test
	void sidecarsComeFromTheOriginNotFromBesideTheLocalCopy() throws IOException {
		FakeSubject s = subject(signed, "signed.raw", Verifier.CHECKSUM);
		Files.writeString(s.image.resolveSibling("signed.roothash"), "0123456789abcdef".repeat(4) + "\n");
		assertEquals(Verifier.INTEGRITY, verifier.verify(s).level());
	}

	/** A naked squashfs with its sidecars at the origin, under the image's stem. */
	private FakeSubject nakedSubject(String name, String stem, psi.spi.verify.Level... wanted) throws IOException {
		FakeSubject s = subject(naked, name, wanted);
		Files.copy(nakedVerity, s.origin.resolve(stem + ".verity"));
		Files.writeString(s.origin.resolve(stem + ".roothash"), nakedRoot + "\n");
		Files.copy(nakedP7s, s.origin.resolve(stem + ".roothash.p7s"));
		return s;
	}

	@Test
	void aNakedSquashfsWithHashDeviceRootHashAndSignatureSidecars() throws IOException {
		FakeSubject s = nakedSubject("naked.raw", "naked", Verifier.CHECKSUM, Verifier.SIGNATURE);
		trust(s, "/etc/verity.d", cert, "psi.crt");
		Verdict v = verifier.verify(s);
		assertEquals(Verifier.SIGNATURE, v.level());
		assertTrue(v.detail().contains(", hash device naked.verity), root hash " + nakedRoot + " signed by CN=psi test verity"
			+ " (/etc/verity.d/psi.crt, signature in naked.roothash.p7s)"), v.detail());

		FakeSubject c = new FakeSubject(s.image, s.origin, s.root, Verifier.CHECKSUM);
		Verdict cv = verifier.verify(c);
		assertEquals(Verifier.CHECKSUM, cv.level());
		assertTrue(cv.detail().endsWith(" from naked.roothash, signature in naked.roothash.p7s not checked"), cv.detail());
	}

	@Test
	void aNakedSquashfsSignedWithoutItsCertificateByKeyIdOrForUsr() throws IOException {
		FakeSubject s = nakedSubject("naked.raw", "naked", Verifier.SIGNATURE);
		String m = refused(s);
		assertTrue(m.startsWith("verity: the root hash is signed by a certificate issued by CN=psi test verity with serial "),
			m);
		trust(s, "/run/verity.d", cert, "psi.pem");
		// identified by its subject key identifier (CMS), not by issuer and serial
		Files.copy(sign(dir, nakedRoot, key, cert, "keyid.p7s", "cms", "-keyid"), s.origin.resolve("naked.roothash.p7s"),
			StandardCopyOption.REPLACE_EXISTING);
		assertEquals(Verifier.SIGNATURE, verifier.verify(s).level());

		Files.move(s.origin.resolve("naked.roothash"), s.origin.resolve("naked.usrhash"));
		Files.move(s.origin.resolve("naked.roothash.p7s"), s.origin.resolve("naked.usrhash.p7s"));
		Verdict v = verifier.verify(s);
		assertEquals(Verifier.SIGNATURE, v.level());
		assertTrue(v.detail().endsWith("(/run/verity.d/psi.pem, signature in naked.usrhash.p7s)"), v.detail());
	}

	@Test
	void aPsiImageFindsItsSidecarsUnderItsStem() throws IOException {
		FakeSubject s = nakedSubject("naked_1.psi", "naked_1", Verifier.SIGNATURE);
		trust(s, "/etc/verity.d", cert, "psi.crt");
		assertEquals(Verifier.SIGNATURE, verifier.verify(s).level());
		assertEquals("naked_1.roothash", s.asked.get(0));
	}

	@Test
	void aSignatureOfTheHashWithANewlineDoesNotVerify() throws IOException {
		FakeSubject s = nakedSubject("naked.raw", "naked", Verifier.SIGNATURE);
		trust(s, "/etc/verity.d", cert, "psi.crt");
		Path bad = sign(dir, nakedRoot + "\n", key, cert, "newline.p7s");
		Files.copy(bad, s.origin.resolve("naked.roothash.p7s"), StandardCopyOption.REPLACE_EXISTING);
		assertEquals("verity: the root hash signature in naked.roothash.p7s does not verify with the certificate of"
			+ " CN=psi test verity (/etc/verity.d/psi.crt)", refused(s));
		Files.write(s.origin.resolve("naked.roothash.p7s"), new byte[] { 0x30, 0x03, 1, 2, 3 });
		assertTrue(refused(s).startsWith("verity: the root hash signature in naked.roothash.p7s is not PKCS#7: "), refused(s));
	}

	@Test
	void aNakedSquashfsWithAFlippedByteOrNoHashDevice() throws IOException {
		FakeSubject s = nakedSubject("naked.raw", "naked", Verifier.CHECKSUM);
		flip(s.image, 4096 + 5);
		assertTrue(refused(s).startsWith("verity: naked.raw with naked.verity: dm-verity: data block 1 (byte 4096) does not"
			+ " match its hash"), refused(s));
		Files.delete(s.origin.resolve("naked.verity"));
		assertEquals("verity: naked.roothash gives a root hash, but naked.raw has no partition table and there is no hash"
			+ " device naked.verity beside it", refused(s));
		Files.copy(nakedVerity, s.origin.resolve("naked.verity"));
		Files.delete(s.origin.resolve("naked.roothash"));
		assertEquals("verity: naked.verity is a dm-verity hash device, but there is no naked.roothash with its root hash",
			refused(s));
	}

	@Test
	void aNakedSquashfsLongerThanItsTreeIsRefused() throws IOException {
		FakeSubject s = nakedSubject("naked.raw", "naked", Verifier.CHECKSUM);
		assertEquals(Verifier.CHECKSUM, verifier.verify(s).level());
		long size = Files.size(s.image);
		Files.write(s.image, new byte[4096], StandardOpenOption.APPEND);
		assertEquals("verity: the hash tree in naked.verity covers " + size + " bytes, but naked.raw has " + (size + 4096)
			+ ": its end would be read unchecked", refused(s));
	}

	@Test
	void aRawImageWithoutVerityIsNotApplicable() throws IOException {
		Path fs = Fixtures.squashfs(Files.createDirectories(dir.resolve("fs")));
		Path img = Fixtures.sparse(dir.resolve("plain.raw"), 4 << 20);
		Fixtures.sfdisk(img, "start=2048, size=4096, type=" + Fixtures.type("root-x86-64") + "\n");
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			f.seek(2048 * 512);
			f.write(Files.readAllBytes(fs));
		}
		FakeSubject s = subject(img, "plain.raw", Verifier.SIGNATURE);
		assertEquals(Verdict.notApplicable(), verifier.verify(s));
		FakeSubject n = subject(fs, "fs.raw", Verifier.SIGNATURE);
		assertEquals(Verdict.notApplicable(), verifier.verify(n));
		Path text = Files.writeString(dir.resolve("notes.raw"), "not an image");
		assertEquals(Verdict.notApplicable(), verifier.verify(new FakeSubject(text, s.origin, s.root, Verifier.SIGNATURE)));
	}

	@Test
	void aDirectoryImageIsNotApplicable() throws IOException {
		Path tree = Files.createDirectories(dir.resolve("tree/usr/lib"));
		Files.writeString(tree.resolve("os-release"), "ID=psitest\n");
		FakeSubject s = new FakeSubject(dir.resolve("tree"), Files.createDirectories(dir.resolve("origin")), dir,
			Verifier.SIGNATURE);
		assertEquals(Verdict.notApplicable(), verifier.verify(s));
		assertEquals(List.of(), s.asked);
	}

	private static void flip(Path file, long offset) throws IOException {
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
			f.seek(offset);
			int b = f.read();
			f.seek(offset);
			f.write(b ^ 0x01);
		}
	}
}
