package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;
import psi.api.dto.PullResultDTO;
import psi.api.dto.VerifyLevel;
import psi.spi.transport.Transport;
import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;

/**
 * The pull pipeline against a fake transport and a fake verifier: what lands
 * in the pool, and that a refusal leaves nothing behind.
 */
class DeliveryTest {

	/** Serves byte arrays by URL; can cut a transfer after some bytes. */
	static class FakeTransport implements Transport {
		final Map<String, byte[]> files = new LinkedHashMap<>();
		final List<Request> requests = java.util.Collections.synchronizedList(new ArrayList<>());
		/** Cut the image's (not a sidecar's) transfer after this many bytes. */
		volatile long cutAfter = -1;
		/** The size announced for the image, when not its own (-2: none, as a server that sends no length). */
		volatile long announce = -1;

		@Override
		public Fetched fetch(Request r, Progress progress) throws IOException {
			requests.add(r);
			byte[] b = files.get(r.source().toString());
			if (b == null) {
				throw new NoSuchFileException(r.source().toString());
			}
			String validator = "\"v" + b.length + "-" + java.util.Arrays.hashCode(b) + "\"";
			if (validator.equals(r.ifNoneMatch())) {
				return new Fetched(b.length, null, true, validator);
			}
			if (b.length > r.maxBytes()) {
				throw new IOException(r.source() + ": larger than " + r.maxBytes());
			}
			long from = validator.equals(r.resumeValidator()) && Files.exists(r.target()) ? Files.size(r.target()) : 0;
			progress.started(announce != -1 && r.source().toString().equals(URL) ? Math.max(-1, announce) : b.length, validator, from);
			if (from == 0) {
				Files.write(r.target(), new byte[0]);
			}
			boolean cut = cutAfter >= 0 && r.source().toString().equals(URL);
			int end = cut ? (int) cutAfter : b.length;
			Files.write(r.target(), java.util.Arrays.copyOfRange(b, (int) from, end), StandardOpenOption.APPEND);
			progress.update(end, b.length);
			if (end < b.length) {
				cutAfter = -1;
				assert cut;
				throw new IOException(r.source() + ": connection closed");
			}
			return new Fetched(b.length, hex(Delivery.sha256(b)), false, validator);
		}
	}

	/** Passes an image whose SHA256SUMS sidecar names its hash; signature when SHA256SUMS.gpg says "good". */
	static class FakeVerifier implements Verifier {
		@Override
		public Verdict verify(Subject s) throws IOException {
			Optional<Path> sums = s.sidecar("SHA256SUMS");
			if (sums.isEmpty()) {
				return Verdict.notApplicable();
			}
			if (!Files.readString(sums.get()).startsWith(s.sha256())) {
				throw new VerificationException("checksum: " + s.fileName() + " does not match SHA256SUMS");
			}
			Optional<Path> sig = s.sidecar("SHA256SUMS.gpg");
			if (sig.isPresent() && s.wants(SIGNATURE)) {
				if (!Files.readString(sig.get()).equals("good")) {
					throw new VerificationException("signature: bad signature");
				}
				return new Verdict(true, SIGNATURE, "signed by test");
			}
			return new Verdict(true, CHECKSUM, "SHA-256 matches SHA256SUMS");
		}
	}

	@TempDir
	Path root;

	FakeTransport transport = new FakeTransport();
	List<String> steps = new ArrayList<>();
	Delivery delivery;
	ImagePool origins;
	final byte[] image = "an image, for the test's purposes".getBytes(StandardCharsets.UTF_8);
	static final String URL = "https://h.test/images/foobar_1.psi";

	@BeforeEach
	void setUp() {
		HostLayout layout = new HostLayout(root);
		delivery = new Delivery(layout, Map.of("https", transport), Map.of("sums", new FakeVerifier()), steps::add);
		origins = new ImagePool(layout);
		transport.files.put(URL, image);
	}

	static String hex(byte[] b) {
		return HexFormat.of().formatHex(b);
	}

	private void publishSums(String signature) {
		transport.files.put("https://h.test/images/SHA256SUMS",
			(hex(Delivery.sha256(image)) + "  foobar_1.psi\n").getBytes(StandardCharsets.UTF_8));
		if (signature != null) {
			transport.files.put("https://h.test/images/SHA256SUMS.gpg", signature.getBytes(StandardCharsets.UTF_8));
		}
	}

	private PullResultDTO pull(String asked) throws IOException {
		return delivery.pull(URL, null, asked == null ? null : VerifyLevel.ofOption(asked), f -> false);
	}

	private List<String> poolEntries() throws IOException {
		Path pool = root.resolve("var/lib/portables");
		if (!Files.isDirectory(pool)) {
			return List.of();
		}
		try (Stream<Path> s = Files.list(pool)) {
			return s.map(p -> p.getFileName().toString()).sorted().toList();
		}
	}

	@Test
	void signedImageIsPlacedWithItsOrigin() throws IOException {
		publishSums("good");
		PullResultDTO r = pull(null);
		assertEquals("foobar_1.raw", r.image);
		assertEquals(VerifyLevel.SIGNATURE, r.level);
		assertEquals(List.of("foobar_1.raw"), poolEntries(), "only the image, no staging file");
		assertEquals(new String(image, StandardCharsets.UTF_8), Files.readString(root.resolve("var/lib/portables/foobar_1.raw")));
		ImagePool.Origin o = origins.origin("foobar_1.raw").orElseThrow();
		assertEquals(URL, o.source());
		assertEquals(hex(Delivery.sha256(image)), o.sha256());
		assertTrue(o.verified().contains("signed by test"), o.verified());
		// the sidecars were asked for beside the image
		assertTrue(transport.requests.stream().anyMatch(q -> q.source().toString().equals("https://h.test/images/SHA256SUMS")
			&& q.maxBytes() == Delivery.SIDECAR_MAX));
	}

	@Test
	void secondPullIsConditionalAndFetchesNothing() throws IOException {
		publishSums("good");
		pull(null);
		PullResultDTO again = pull(null);
		assertTrue(again.unchanged);
		Transport.Request last = transport.requests.stream().filter(q -> q.source().toString().equals(URL)).reduce((a, b) -> b).orElseThrow();
		assertTrue(last.ifNoneMatch() != null);
		assertEquals(List.of("foobar_1.raw"), poolEntries());
	}

	@Test
	void badSignatureLeavesNothing() {
		publishSums("forged");
		PsiException e = assertThrows(PsiException.class, () -> pull(null));
		assertEquals(URL + ": refused: signature: bad signature", e.getMessage());
		assertNothingLeft();
	}

	@Test
	void checksumMismatchLeavesNothing() throws IOException {
		publishSums(null);
		image[0] ^= 1;
		PsiException e = assertThrows(PsiException.class, () -> pull("checksum"));
		assertTrue(e.getMessage().endsWith("refused: checksum: foobar_1.psi does not match SHA256SUMS"), e.getMessage());
		assertNothingLeft();
	}

	@Test
	void aChecksumIsNotASignature() throws IOException {
		publishSums(null);
		PsiException e = assertThrows(PsiException.class, () -> pull(null));
		assertTrue(e.getMessage().contains("--verify=signature needs a signature by a trusted key, found only checksum"), e.getMessage());
		assertNothingLeft();
		assertEquals(VerifyLevel.CHECKSUM, pull("checksum").level);
	}

	@Test
	void nothingToCheckIsRefusedOverTheNetworkUnlessAsked() throws IOException {
		PsiException e = assertThrows(PsiException.class, () -> pull(null));
		assertTrue(e.getMessage().contains("found nothing to check"), e.getMessage());
		assertNothingLeft();
		PullResultDTO r = pull("no");
		assertEquals(VerifyLevel.NONE, r.level);
		assertEquals("not verified (--verify=no)", origins.origin("foobar_1.raw").orElseThrow().verified());
	}

	@Test
	void checksumOnlySkipsSignatures() throws IOException {
		publishSums("forged");
		assertEquals(VerifyLevel.CHECKSUM, pull("checksum").level, "--verify=checksum does not look at signatures");
	}

	@Test
	void anInterruptedTransferIsResumed() throws IOException {
		publishSums("good");
		transport.cutAfter = 10;
		PsiException e = assertThrows(PsiException.class, () -> pull(null));
		assertTrue(e.getMessage().contains("connection closed (kept the 10 bytes received; pull again to resume)"), e.getMessage());
		List<String> kept = poolEntries();
		assertEquals(2, kept.size(), kept.toString());
		assertTrue(kept.stream().allMatch(n -> n.startsWith(".psi-")), "hidden from listings: " + kept);
		PullResultDTO r = pull(null);
		Transport.Request resumed = new ArrayList<>(transport.requests).stream().filter(q -> q.source().toString().equals(URL)).reduce((a, b) -> b).orElseThrow();
		assertTrue(resumed.resumeValidator() != null, "the second pull resumes");
		assertTrue(steps.contains("Resuming after 10 bytes"), steps.toString());
		assertEquals(hex(Delivery.sha256(image)), r.sha256);
		assertEquals(List.of("foobar_1.raw"), poolEntries());
	}

	@Test
	void anAttachedImageIsNotReplaced() throws IOException {
		publishSums("good");
		pull(null);
		Files.writeString(root.resolve("var/lib/portables/foobar_1.raw"), "older content");
		java.nio.file.Files.delete(origins.layout().host(ImagePool.ORIGINS + "/foobar_1.raw.origin"));
		PsiException e = assertThrows(PsiException.class, () -> delivery.pull(URL, null, null, f -> true));
		assertTrue(e.getMessage().contains("is attached and differs"), e.getMessage());
		assertEquals("older content", Files.readString(root.resolve("var/lib/portables/foobar_1.raw")));
		assertEquals(List.of("foobar_1.raw"), poolEntries());
	}

	@Test
	void missingImageAndUnknownScheme() {
		PsiException e = assertThrows(PsiException.class, () -> delivery.pull("https://h.test/images/nothere_1.raw", null, VerifyLevel.NONE, f -> false));
		assertEquals("https://h.test/images/nothere_1.raw: no such image there", e.getMessage());
		e = assertThrows(PsiException.class, () -> delivery.pull("gopher://h.test/x_1.raw", null, VerifyLevel.NONE, f -> false));
		assertEquals("no transport for 'gopher:' URLs is installed (installed: https)", e.getMessage());
		e = assertThrows(PsiException.class, () -> delivery.pull("https://h.test/images/", null, VerifyLevel.NONE, f -> false));
		assertTrue(e.getMessage().contains("does not end in an image file name"), e.getMessage());
		assertNothingLeft();
	}

	@Test
	void poolNames() {
		assertEquals("foobar_1.raw", Delivery.poolName("foobar_1.psi", null));
		assertEquals("foobar.raw", Delivery.poolName("foobar.raw", null));
		assertEquals("foo_1.raw", Delivery.poolName("foobar_1.psi", "foo"));
		assertEquals("foo_7.raw", Delivery.poolName("foobar_1.psi", "foo_7"));
		assertThrows(PsiException.class, () -> Delivery.poolName("foobar_1.psi", "../etc"));
		assertThrows(PsiException.class, () -> Delivery.poolName("foobar_1.psi", ".hidden"));
		assertThrows(PsiException.class, () -> Delivery.poolName("foo bar.raw", null));
		assertTrue(Delivery.isUrl("https://x/y.raw"));
		assertTrue(Delivery.isUrl("file:///x/y.raw"));
		assertFalse(Delivery.isUrl("./y.raw"));
		assertFalse(Delivery.isUrl("foobar"));
	}

	@Test
	void sidecarNamesResolveBesideTheImage() throws IOException {
		VerifierSubject s = delivery.subject(root.resolve("x"), "foobar_1.psi", URI.create("https://h.test/a/b/foobar_1.psi?x=1"), "00",
			transport, root.resolve("sc"), VerifyLevel.SIGNATURE);
		transport.files.put("https://h.test/a/b/foobar_1.roothash", "ab".getBytes(StandardCharsets.UTF_8));
		assertEquals("ab", Files.readString(s.sidecar("foobar_1.roothash").orElseThrow()));
		assertTrue(s.sidecar("SHA256SUMS").isEmpty());
		assertThrows(IllegalArgumentException.class, () -> s.sidecar("../../etc/passwd"));
		assertTrue(s.wants(Verifier.CHECKSUM));
		assertNull(s.origin().getFragment());
	}

	@Test
	void anUnverifiedCopyIsNotTakenAsUnchangedWhenChecksAreAsked() throws IOException {
		pull("no");
		PsiException e = assertThrows(PsiException.class, () -> pull(null));
		assertTrue(e.getMessage().contains("found nothing to check"), e.getMessage());
		Transport.Request last = transport.requests.stream().filter(q -> q.source().toString().equals(URL)).reduce((a, b) -> b).orElseThrow();
		assertNull(last.ifNoneMatch(), "the --verify=no copy must not make the signed pull conditional");
	}

	@Test
	void aCopyChangedInThePoolIsFetchedAgain() throws IOException {
		publishSums("good");
		pull(null);
		Path placed = root.resolve("var/lib/portables/foobar_1.raw");
		Files.writeString(placed, "changed in the pool");
		PullResultDTO r = pull(null);
		assertFalse(r.unchanged);
		assertEquals(new String(image, StandardCharsets.UTF_8), Files.readString(placed));
		assertTrue(steps.contains("/var/lib/portables/foobar_1.raw changed since it was pulled: fetching it again"), steps.toString());
	}

	@Test
	void aLinkAtThePoolNameIsNotReplaced() throws IOException {
		publishSums("good");
		Path pool = Files.createDirectories(root.resolve("var/lib/portables"));
		Files.createSymbolicLink(pool.resolve("foobar_1.raw"), Path.of("/srv/foobar_1.raw"));
		PsiException e = assertThrows(PsiException.class, () -> pull(null));
		assertTrue(e.getMessage().contains("is not a regular file"), e.getMessage());
		assertTrue(Files.isSymbolicLink(pool.resolve("foobar_1.raw")));
	}

	@Test
	void aPulledImageIsCheckedAgainstWhatWasVerified() throws IOException {
		publishSums("good");
		pull(null);
		Path placed = root.resolve("var/lib/portables/foobar_1.raw");
		ImagePool.Origin o = origins.origin("foobar_1.raw").orElseThrow();
		PullResultDTO r = delivery.verifyLocal("/var/lib/portables/foobar_1.raw", placed, null, o);
		assertEquals(VerifyLevel.SIGNATURE, r.level);
		assertEquals("pulled", r.verdicts.get(0).verifier);
		Files.writeString(placed, "tampered in the pool");
		PsiException e = assertThrows(PsiException.class, () -> delivery.verifyLocal("/var/lib/portables/foobar_1.raw", placed, null, o));
		assertTrue(e.getMessage().startsWith("/var/lib/portables/foobar_1.raw: refused: pulled: the image changed since it was pulled from "
			+ URL), e.getMessage());
	}

	private void assertNothingLeft() {
		try {
			assertEquals(List.of(), poolEntries(), "nothing in the pool");
			assertTrue(origins.origin("foobar_1.raw").isEmpty(), "no origin record");
		} catch (IOException e) {
			throw new AssertionError(e);
		}
	}

	/** An image the pool's file system cannot hold is refused before a byte is written. */
	@Test
	void anImageLargerThanTheFreeSpaceIsNotFetched() throws IOException {
		transport.announce = 1L << 50;
		PsiException e = assertThrows(PsiException.class, () -> pull("no"));
		assertTrue(e.getMessage().contains("bytes free, less than") && e.getMessage().endsWith("refusing to fetch it"), e.getMessage());
		// no partial left, nor the pool directory the pull made
		assertFalse(Files.exists(root.resolve("var/lib/portables")), "the pool directory the pull made is left");
	}

	/** A download that fills the file system is dropped: the disk is not left full for good. */
	@Test
	void aFullFileSystemDropsThePartial() throws Exception {
		Path pool = Files.createDirectories(root.resolve("var/lib/portables"));
		Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", pool.toString()).redirectErrorStream(true).start();
		assertEquals(0, m.waitFor(), "mount a 1 MiB tmpfs (the tests run as root): " + new String(m.getInputStream().readAllBytes()));
		try {
			transport.files.put(URL, new byte[3 << 20]);
			transport.announce = -2; // a server that says no length: the free space cannot be checked first
			PsiException e = assertThrows(PsiException.class, () -> pull("no"));
			assertTrue(e.getMessage().contains("is full") && e.getMessage().contains("dropped the"), e.getMessage());
			try (var s = Files.list(pool)) {
				assertEquals(List.of(), s.toList(), "the partial and its resume file are gone");
			}
		} finally {
			Process u = new ProcessBuilder("umount", pool.toString()).start();
			assertEquals(0, u.waitFor());
		}
	}

	/** An interrupted download is listed, removed on demand, and expires: it does not fill the disk for good. */
	@Test
	void partialDownloadsAreListedRemovedAndExpire() throws IOException {
		transport.cutAfter = 10;
		assertThrows(PsiException.class, () -> pull("no"));
		StagingArea area = new StagingArea(origins.layout());
		List<StagingArea.Partial> partials = area.partials();
		assertEquals(1, partials.size(), partials.toString());
		assertEquals(10, partials.get(0).size());
		assertTrue(partials.get(0).path().matches("/var/lib/portables/\\.psi-[0-9a-f]{16}\\.partial"), partials.get(0).path());
		assertEquals(List.of(), area.dropPartials(java.time.Instant.now().minusSeconds(3600)), "a fresh one stays");

		// a week later: the next pull (of another image) removes it
		Path file = root.resolve(partials.get(0).path().substring(1));
		Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofDays(8))));
		transport.files.put("https://h.test/images/other_1.raw", image);
		delivery.pull("https://h.test/images/other_1.raw", null, VerifyLevel.NONE, f -> false);
		assertTrue(area.partials().isEmpty(), "expired");
		assertTrue(steps.stream().anyMatch(l -> l.startsWith("Removed " + partials.get(0).path())), steps.toString());

		transport.cutAfter = 10;
		assertThrows(PsiException.class, () -> pull("no"));
		assertEquals(1, area.dropPartials(null).size(), "psi remove --partial");
		try (var s = Files.list(root.resolve("var/lib/portables"))) {
			assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".psi-")), "resume and sidecar files go too");
		}
	}
}
