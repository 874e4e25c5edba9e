package psi.verify.sums.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import psi.spi.verify.VerificationException;

/** The SHA256SUMS parser on its own: the formats it reads and the lines it refuses. */
class Sha256SumsTest {

	static final String A = "a".repeat(64);
	static final String B = "b".repeat(64);

	private static Sha256Sums parse(String text) throws VerificationException {
		return Sha256Sums.parse(text.getBytes(StandardCharsets.UTF_8), "SHA256SUMS", "checksum", false);
	}

	private static String refusal(String text) {
		return assertThrows(VerificationException.class, () -> parse(text)).getMessage();
	}

	@Test
	void readsGnuTextBinarySingleSpaceAndBsdLines() throws Exception {
		Sha256Sums s = parse(A + "  text.raw\n" + A + " *binary.raw\r\n" + A + " lxc.raw\n" + "SHA256 (tag.raw) = " + A.toUpperCase() + "\n"
			+ "\n# a comment: ../../etc/passwd\n" + A + "  last.raw");
		assertEquals(List.of("text.raw", "binary.raw", "lxc.raw", "tag.raw", "last.raw"),
			s.entries().stream().map(Sha256Sums.Entry::name).toList());
		assertEquals(List.of(1, 2, 3, 4, 7), s.entries().stream().map(Sha256Sums.Entry::line).toList());
		assertDoesNotThrow(() -> s.verify("tag.raw", A));
	}

	@Test
	void keepsNamesThatOnlyLookOdd() throws Exception {
		// a name starting with a space needs the mode character; one with ") = " in it still parses in BSD form
		Sha256Sums s = parse(A + "   spaced.raw\n" + "SHA256 (x) = y.raw) = " + A + "\n" + A + " **star.raw\n");
		assertEquals(List.of(" spaced.raw", "x) = y.raw", "*star.raw"), s.entries().stream().map(Sha256Sums.Entry::name).toList());
	}

	@Test
	void undoesCoreutilsEscapes() throws Exception {
		Sha256Sums s = parse("\\" + A + "  back\\\\slash\\nnew.raw\n\\SHA256 (cr\\r.raw) = " + A + "\n");
		assertEquals(List.of("back\\slash\nnew.raw", "cr\r.raw"), s.entries().stream().map(Sha256Sums.Entry::name).toList());
		assertTrue(refusal("\\" + A + "  bad\\t.raw\n").startsWith("checksum: SHA256SUMS line 1 has an escape other than"));
	}

	@Test
	void refusesEveryNameThatIsNotAPlainFileName() {
		assertEquals("checksum: SHA256SUMS line 3: '../../etc/passwd' is not a plain file name",
			refusal(A + "  a.raw\n" + A + "  b.raw\n" + B + "  ../../etc/passwd\n"));
		assertEquals("checksum: SHA256SUMS line 1: 'dir/x.raw' is not a plain file name", refusal(A + "  dir/x.raw\n"));
		assertEquals("checksum: SHA256SUMS line 1: '/etc/passwd' is not a plain file name", refusal(A + " */etc/passwd\n"));
		assertEquals("checksum: SHA256SUMS line 1: '.' is not a plain file name", refusal(A + "  .\n"));
		assertEquals("checksum: SHA256SUMS line 1: '..' is not a plain file name", refusal("SHA256 (..) = " + A + "\n"));
		assertEquals("checksum: SHA256SUMS line 1: '' is not a plain file name", refusal(A + "  \n"));
		assertEquals("checksum: SHA256SUMS line 1: 'x\\x00y' is not a plain file name", refusal(A + "  x\0y\n"));
		// checked after unescaping, and shown on one line
		assertEquals("checksum: SHA256SUMS line 1: 'a\\x0a/b' is not a plain file name", refusal("\\" + A + "  a\\n/b\n"));
	}

	@Test
	void refusesMalformedLinesByNumber() {
		String expected = "checksum: SHA256SUMS line 2 is malformed: expected '<64 hex digits>  <name>' or 'SHA256 (<name>) = <64 hex digits>'";
		assertEquals(expected, refusal(A + "  ok.raw\n" + A.substring(1) + "  short.raw\n"));
		assertEquals(expected, refusal(A + "  ok.raw\n" + "g" + A.substring(1) + "  nothex.raw\n"));
		assertEquals(expected, refusal(A + "  ok.raw\n" + A + "\tok.raw\n"));
		assertEquals(expected, refusal(A + "  ok.raw\n" + "SHA512 (x.raw) = " + A + A + "\n"));
		assertEquals(expected, refusal(A + "  ok.raw\n" + A + "\n"));
		assertEquals(expected, refusal(A + "  ok.raw\n" + "just words\n"));
	}

	@Test
	void boundsLines() throws Exception {
		String fits = A + "  " + "n".repeat(Sha256Sums.MAX_LINE - 66);
		assertEquals(1, parse(fits + "\n").entries().size());
		assertEquals("checksum: SHA256SUMS line 2 is longer than 4096 bytes", refusal(A + "  ok.raw\n" + fits + "n\n"));
		assertEquals("checksum: SHA256SUMS line 1 is longer than 4096 bytes", refusal("#" + "x".repeat(5000)));
	}

	@Test
	void refusesInlineSignedFiles() {
		assertTrue(refusal("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + A + "  x.raw\n")
			.startsWith("checksum: SHA256SUMS is an inline-signed OpenPGP message, which psi does not read"));
	}

	@Test
	void findsTheImageAndComparesItsDigest() throws Exception {
		Sha256Sums s = parse(A + "  foo_1.raw\n" + B + "  bar_1.raw\n" + A + "  foo_1.raw\n");
		assertDoesNotThrow(() -> s.verify("foo_1.raw", A));
		assertDoesNotThrow(() -> s.verify("foo_1.raw", A.toUpperCase()));
		assertEquals("checksum: foo_1.raw does not match SHA256SUMS (SHA-256 " + B + ", expected " + A + ")",
			assertThrows(VerificationException.class, () -> s.verify("foo_1.raw", B)).getMessage());
		assertEquals("checksum: SHA256SUMS has no entry for foo_2.raw",
			assertThrows(VerificationException.class, () -> s.verify("foo_2.raw", A)).getMessage());
		// names compare exactly: no case folding, no prefix match
		assertThrows(VerificationException.class, () -> s.verify("FOO_1.raw", A));
		assertThrows(VerificationException.class, () -> s.verify("foo_1.ra", A));
	}

	@Test
	void refusesTwoDifferentDigestsForTheImage() throws Exception {
		Sha256Sums s = parse(A + "  foo_1.raw\n" + B + " *foo_1.raw\n");
		assertEquals("checksum: SHA256SUMS lists foo_1.raw twice with different digests (lines 1 and 2)",
			assertThrows(VerificationException.class, () -> s.verify("foo_1.raw", A)).getMessage());
	}

	@Test
	void comparesNonAsciiNamesByTheirUtf8Bytes() throws Exception {
		Sha256Sums s = parse(A + "  dienst-größe_1.raw\n");
		assertDoesNotThrow(() -> s.verify("dienst-größe_1.raw", A));
		assertEquals("dienst-größe_1.raw", Sha256Sums.show(s.entries().get(0).name()));
		// not UTF-8: shown byte by byte
		Sha256Sums latin = Sha256Sums.parse((A + "  caf\u00e9.raw\n").getBytes(StandardCharsets.ISO_8859_1), "SHA256SUMS", "checksum", false);
		assertEquals("caf\\xe9.raw", Sha256Sums.show(latin.entries().get(0).name()));
	}

	@Test
	void perFileSumsMayBeBareAndNameOnlyTheImage() throws Exception {
		Sha256Sums bare = Sha256Sums.parse((A + "\n").getBytes(StandardCharsets.US_ASCII), "foo_1.raw.sha256", "checksum", true);
		assertNull(bare.entries().get(0).name());
		assertDoesNotThrow(() -> bare.verify("foo_1.raw", A));
		Sha256Sums named = Sha256Sums.parse((A + "  foo_1.raw\n").getBytes(StandardCharsets.US_ASCII), "foo_1.raw.sha256", "checksum", true);
		assertDoesNotThrow(() -> named.verify("foo_1.raw", A));
		Sha256Sums other = Sha256Sums.parse((A + "  bar_1.raw\n").getBytes(StandardCharsets.US_ASCII), "foo_1.raw.sha256", "checksum", true);
		assertEquals("checksum: foo_1.raw.sha256 line 1 names 'bar_1.raw', not foo_1.raw",
			assertThrows(VerificationException.class, () -> other.verify("foo_1.raw", A)).getMessage());
	}

	@Test
	void plainNames() {
		assertTrue(Sha256Sums.isPlainName("foo_1.raw"));
		assertTrue(Sha256Sums.isPlainName("..."));
		assertTrue(Sha256Sums.isPlainName(".hidden"));
		for (String bad : List.of("", ".", "..", "a/b", "/", "a\0")) {
			assertTrue(!Sha256Sums.isPlainName(bad), bad);
		}
	}
}
