package psi.verify.sums.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;
import psi.spi.verify.Verifier.Verdict;

/**
 * The checksum verifier over files made by the real {@code sha256sum}, as a
 * publisher makes them, and over hand-made hostile ones.
 */
class ChecksumVerifierTest {

	@TempDir
	Path dir;

	Path origin;
	FakeSubject subject;
	final ChecksumVerifier verifier = new ChecksumVerifier();

	@BeforeEach
	void image() throws IOException {
		origin = Files.createDirectories(dir.resolve("origin"));
		Files.write(origin.resolve("foo_1.raw"), "an image, not a big one\n".repeat(1000).getBytes(StandardCharsets.US_ASCII));
		Files.writeString(origin.resolve("bar_1.raw"), "another image\n");
		subject = new FakeSubject(origin, Files.createDirectories(dir.resolve("root")), "foo_1.raw");
	}

	/** @return what {@code sha256sum} prints for the files, run in the origin directory */
	private byte[] sha256sum(String... args) throws IOException, InterruptedException {
		List<String> cmd = new ArrayList<>(List.of("sha256sum"));
		cmd.addAll(List.of(args));
		Process p = new ProcessBuilder(cmd).directory(origin.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
		byte[] out = p.getInputStream().readAllBytes();
		assertTrue(p.waitFor(60, TimeUnit.SECONDS));
		assertEquals(0, p.exitValue(), String.join(" ", cmd));
		return out;
	}

	private String refusal() {
		return assertThrows(VerificationException.class, () -> verifier.verify(subject)).getMessage();
	}

	@Test
	void acceptsWhatSha256sumWritesInEveryMode() throws Exception {
		for (List<String> mode : List.<List<String>>of(List.of(), List.of("--binary"), List.of("--tag"))) {
			List<String> args = new ArrayList<>(mode);
			args.addAll(List.of("bar_1.raw", "foo_1.raw"));
			Files.write(origin.resolve("SHA256SUMS"), sha256sum(args.toArray(String[]::new)));
			assertEquals(new Verdict(true, Verifier.CHECKSUM, "SHA-256 matches SHA256SUMS"), verifier.verify(subject), mode.toString());
		}
	}

	@Test
	void readsEscapedNamesAsSha256sumWritesThem() throws Exception {
		Files.writeString(origin.resolve("odd\\name\nx.raw"), "odd\n");
		Files.write(origin.resolve("SHA256SUMS"), sha256sum("odd\\name\nx.raw", "foo_1.raw"));
		assertTrue(Files.readString(origin.resolve("SHA256SUMS")).startsWith("\\"), "sha256sum escapes the name");
		assertTrue(verifier.verify(subject).applicable());
	}

	@Test
	void refusesAnImageThatDoesNotMatch() throws Exception {
		Files.write(origin.resolve("SHA256SUMS"), sha256sum("foo_1.raw", "bar_1.raw"));
		String expected = subject.sha256();
		byte[] image = Files.readAllBytes(origin.resolve("foo_1.raw"));
		image[image.length / 2] ^= 1;
		Files.write(origin.resolve("foo_1.raw"), image);
		assertEquals("checksum: foo_1.raw does not match SHA256SUMS (SHA-256 " + subject.sha256() + ", expected " + expected + ")", refusal());
	}

	@Test
	void refusesSumsWithoutTheImage() throws Exception {
		Files.write(origin.resolve("SHA256SUMS"), sha256sum("bar_1.raw"));
		assertEquals("checksum: SHA256SUMS has no entry for foo_1.raw", refusal());
	}

	@Test
	void refusesAnEscapeAttemptAnywhereInTheFile() throws Exception {
		byte[] good = sha256sum("bar_1.raw", "foo_1.raw");
		Files.write(origin.resolve("SHA256SUMS"), (new String(good, StandardCharsets.US_ASCII) + Sha256SumsTest.A + "  ../../etc/passwd\n")
			.getBytes(StandardCharsets.US_ASCII));
		assertEquals("checksum: SHA256SUMS line 3: '../../etc/passwd' is not a plain file name", refusal());
	}

	@Test
	void refusesMalformedAndOversizedLines() throws Exception {
		Files.writeString(origin.resolve("SHA256SUMS"), subject.sha256() + "  foo_1.raw\nthis is no checksum\n");
		assertTrue(refusal().startsWith("checksum: SHA256SUMS line 2 is malformed"));
		Files.writeString(origin.resolve("SHA256SUMS"), subject.sha256() + "  foo_1.raw\n" + subject.sha256() + "  " + "x".repeat(5000) + "\n");
		assertEquals("checksum: SHA256SUMS line 2 is longer than 4096 bytes", refusal());
	}

	@Test
	void refusesASidecarLargerThanItsBound() throws Exception {
		Files.write(origin.resolve("SHA256SUMS"), new byte[ChecksumVerifier.MAX_SUMS + 1]);
		assertEquals("checksum: SHA256SUMS has 1048577 bytes, more than 1048576", refusal());
	}

	@Test
	void readsTheImagesOwnSha256File() throws Exception {
		Files.writeString(origin.resolve("foo_1.raw.sha256"), subject.sha256() + "\n");
		assertEquals(new Verdict(true, Verifier.CHECKSUM, "SHA-256 matches foo_1.raw.sha256"), verifier.verify(subject));
		Files.write(origin.resolve("foo_1.raw.sha256"), sha256sum("foo_1.raw"));
		assertTrue(verifier.verify(subject).applicable());
		Files.write(origin.resolve("foo_1.raw.sha256"), sha256sum("bar_1.raw"));
		assertEquals("checksum: foo_1.raw.sha256 line 1 names 'bar_1.raw', not foo_1.raw", refusal());
		Files.writeString(origin.resolve("foo_1.raw.sha256"), Sha256SumsTest.B + "\n");
		assertTrue(refusal().startsWith("checksum: foo_1.raw does not match foo_1.raw.sha256 (SHA-256 "));
	}

	@Test
	void checksBothWhenBothArePublished() throws Exception {
		Files.writeString(origin.resolve("foo_1.raw.sha256"), subject.sha256() + "\n");
		Files.write(origin.resolve("SHA256SUMS"), sha256sum("foo_1.raw"));
		assertEquals(new Verdict(true, Verifier.CHECKSUM, "SHA-256 matches foo_1.raw.sha256 and SHA256SUMS"), verifier.verify(subject));
		assertEquals(List.of("foo_1.raw.sha256", "SHA256SUMS"), subject.asked);
		Files.writeString(origin.resolve("SHA256SUMS"), Sha256SumsTest.B + "  foo_1.raw\n");
		assertTrue(refusal().startsWith("checksum: foo_1.raw does not match SHA256SUMS"));
	}

	@Test
	void notApplicableWithoutSumsOrWhenNotAsked() throws Exception {
		assertEquals(Verdict.notApplicable(), verifier.verify(subject));
		Files.write(origin.resolve("SHA256SUMS"), sha256sum("bar_1.raw"));
		subject.wanted = Verifier.INTEGRITY;
		assertFalse(verifier.verify(subject).applicable());
		subject.wanted = Verifier.CHECKSUM;
		assertThrows(VerificationException.class, () -> verifier.verify(subject));
	}
}
