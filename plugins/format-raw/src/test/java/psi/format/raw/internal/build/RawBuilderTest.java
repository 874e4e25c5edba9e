package psi.format.raw.internal.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.dto.BuildRequestDTO;
import psi.api.dto.BuildResultDTO;
import psi.format.raw.internal.RawBuilder;
import psi.format.raw.internal.RawFormat;
import psi.format.raw.internal.VerityVerifier;
import psi.format.raw.internal.gpt.Fixtures;
import psi.format.raw.internal.gpt.GptTable;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;
import psi.spi.verify.Verifier;
import psi.spi.verify.Verifier.Verdict;

/**
 * psi build's builder end to end, tree to image: a naked squashfs whose
 * sidecars veritysetup and openssl accept and psi's verifier trusts; raw
 * images reproducible across days under SOURCE_DATE_EPOCH; a /usr-only tree
 * as a usr partition; a wrong key refused before anything is written.
 */
class RawBuilderTest {

	@TempDir
	Path dir;

	private BuildRequestDTO request(Path tree, String format) {
		BuildRequestDTO r = new BuildRequestDTO();
		r.tree = tree.toString();
		r.format = format;
		r.rootOwner = true;
		return r;
	}

	@Test
	void aSignedSquashfsWithSidecars() throws Exception {
		Path tree = BuildFixtures.tree(dir, "psitest", 300 << 10, 1);
		Path key = dir.resolve("k.pem");
		Path cert = dir.resolve("c.pem");
		BuildFixtures.keyPair(key, cert, "rsa:2048", "/CN=psi build sidecars");
		BuildRequestDTO req = request(tree, "squashfs");
		req.sidecars = true;
		req.key = key.toString();
		req.certificate = cert.toString();
		Path img = dir.resolve("psitest_1.raw");
		BuildResultDTO r = new RawBuilder().build(req, img, b -> {
		});
		assertTrue(r.signed);
		assertEquals(List.of(dir.resolve("psitest_1.verity").toString(), dir.resolve("psitest_1.roothash").toString(),
			dir.resolve("psitest_1.roothash.p7s").toString()), r.sidecars);
		assertEquals(r.rootHash + "\n", Files.readString(dir.resolve("psitest_1.roothash")));
		Fixtures.run(List.of("veritysetup", "verify", img.toString(), dir.resolve("psitest_1.verity").toString(), r.rootHash), null);
		Path content = Files.writeString(dir.resolve("hex"), r.rootHash);
		Fixtures.run(List.of("openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in", dir.resolve("psitest_1.roothash.p7s").toString(),
			"-content", content.toString(), "-CAfile", cert.toString(), "-purpose", "any", "-out", "/dev/null"), null);

		Path host = Files.createDirectories(dir.resolve("host/etc/verity.d"));
		Files.copy(cert, host.resolve("psi.crt"));
		Verdict v = new VerityVerifier().verify(new BuildFixtures.Subject(img, dir.resolve("host"), true, Verifier.CHECKSUM, Verifier.SIGNATURE));
		assertEquals(Verifier.SIGNATURE, v.level(), v.toString());
		try (ImageTree t = new RawFormat().open(img).orElseThrow()) {
			assertEquals("ID=psitest\nPORTABLE_PREFIXES=psitest\n", new String(t.read("/usr/lib/os-release", 4096), StandardCharsets.UTF_8));
		}
	}

	@Test
	void theSameTreeOnAnotherDayGivesTheSameImage() throws Exception {
		Path a = BuildFixtures.tree(dir.resolve("a"), "psitest", 200 << 10, 2);
		Path b = BuildFixtures.tree(dir.resolve("b"), "psitest", 200 << 10, 2);
		// b was "made" three days later
		try (Stream<Path> s = Files.walk(b)) {
			for (Path p : s.toList()) {
				Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() + 3 * 86_400_000L));
			}
		}
		Path key = dir.resolve("k.pem");
		Path cert = dir.resolve("c.pem");
		BuildFixtures.keyPair(key, cert, "rsa:2048", "/CN=psi build reproducible");
		Path ia = dir.resolve("a.raw");
		Path ib = dir.resolve("b.raw");
		for (Path[] t : new Path[][] { { a, ia }, { b, ib } }) {
			BuildRequestDTO req = request(t[0], "raw");
			req.sourceDateEpoch = 1_700_000_000L;
			req.key = key.toString();
			req.certificate = cert.toString();
			new RawBuilder().build(req, t[1], x -> {
			});
		}
		assertArrayEquals(Files.readAllBytes(ia), Files.readAllBytes(ib), "byte-identical images, days apart");

		Files.writeString(b.resolve("usr/lib/os-release"), "ID=psitest\nPORTABLE_PREFIXES=psitest\nVERSION_ID=2\n");
		BuildRequestDTO req = request(b, "raw");
		req.sourceDateEpoch = 1_700_000_000L;
		BuildResultDTO changed = new RawBuilder().build(req, ib, x -> {
		});
		BuildResultDTO same = new RawBuilder().build(request(a, "raw"), dir.resolve("a2.raw"), x -> {
		});
		assertNotEquals(same.rootHash, changed.rootHash, "a changed file changes the root hash");
	}

	@Test
	void aUsrOnlyTreeBecomesAUsrPartition() throws Exception {
		Path tree = dir.resolve("usronly");
		Files.createDirectories(tree.resolve("usr/lib"));
		Files.writeString(tree.resolve("usr/lib/os-release"), "ID=psitest\n");
		Path img = dir.resolve("usronly.raw");
		BuildResultDTO r = new RawBuilder().build(request(tree, "raw"), img, x -> {
		});
		assertTrue(r.partitions.get(0).startsWith("usr-" + PartitionTypes.hostArch() + " "), r.partitions.toString());
		try (var ch = java.nio.channels.FileChannel.open(img)) {
			GptTable t = GptTable.read(ch, ch.size(), "usronly.raw").orElseThrow();
			assertEquals(PartitionTypes.of(PartitionTypes.Role.USR, PartitionTypes.hostArch()).orElseThrow(), t.partitions().get(0).type());
		}
	}

	@Test
	void aWrongKeyIsRefusedBeforeAnythingIsWritten() throws Exception {
		Path tree = BuildFixtures.tree(dir, "psitest", 1000, 3);
		Path k1 = dir.resolve("k1.pem");
		Path c1 = dir.resolve("c1.pem");
		Path k2 = dir.resolve("k2.pem");
		Path c2 = dir.resolve("c2.pem");
		BuildFixtures.keyPair(k1, c1, "rsa:2048", "/CN=one");
		BuildFixtures.keyPair(k2, c2, "rsa:2048", "/CN=two");
		BuildRequestDTO req = request(tree, "raw");
		req.key = k1.toString();
		req.certificate = c2.toString();
		Path img = dir.resolve("out/x.raw");
		Files.createDirectories(img.getParent());
		ImageException e = assertThrows(ImageException.class, () -> new RawBuilder().build(req, img, x -> {
		}));
		assertTrue(e.getMessage().startsWith("psi build: ") && e.getMessage().contains("does not match"), e.getMessage());
		try (Stream<Path> s = Files.list(img.getParent())) {
			assertEquals(0, s.count(), "nothing written");
		}
		BuildRequestDTO bad = request(tree, "raw");
		bad.compression = "brotli";
		e = assertThrows(ImageException.class, () -> new RawBuilder().build(bad, img, x -> {
		}));
		assertEquals("psi build: compression 'brotli' is not gzip, xz, zstd or lz4", e.getMessage());
	}
}
