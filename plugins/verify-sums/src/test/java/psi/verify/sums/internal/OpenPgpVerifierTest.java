package psi.verify.sums.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;

import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.KeyIdentifier;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKey;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;
import psi.spi.verify.Verifier.Verdict;

/**
 * The OpenPGP verifier against keys and signatures made by the real GnuPG, as
 * a publisher makes them ({@code gpg --detach-sign}, with and without
 * {@code --armor}), and keyrings exported as an admin exports them. A few
 * signatures GnuPG will not make (by a key whose flags forbid signing, with an
 * expiry already past) are made with Bouncy Castle from the keys GnuPG made.
 */
class OpenPgpVerifierTest {

	/** 2020-01-01T00:00:00Z: when the key that expires was made. */
	static final long T0 = 1577836800L;
	static final String ED = "psi test <t@example>";
	static final String RSA = "psi rsa <r@example>";
	static final String STRANGER = "psi stranger <s@example>";
	static final String SUB = "psi sub <sub@example>";
	static final String OLD = "psi old <old@example>";
	static final String REVOKED = "psi revoked <rev@example>";
	static final String PAST = "psi past <past@example>";
	static final String OLD_SUB = "psi old sub <oldsub@example>";

	@TempDir
	static Path shared;
	static Gpg gpg;
	static Path release;
	static String ed;
	static String rsa;
	static String stranger;
	static String sub;
	static String subkey;
	static String old;
	static String revoked;
	static String past;
	static String oldSub;
	static String oldSubkey;
	static byte[] oldSubAfterExpiry;
	/** Signatures over the release's SHA256SUMS made while a key was still good. */
	static byte[] oldWhileValid;
	static byte[] oldAfterExpiry;
	static byte[] revokedBeforeRevocation;

	@TempDir
	Path dir;
	Path origin;
	Path root;
	FakeSubject subject;
	final OpenPgpVerifier verifier = new OpenPgpVerifier();

	@BeforeAll
	static void keys() throws IOException {
		assertTrue(Gpg.available(), "GnuPG (" + Gpg.GPG + ") is not installed: the OpenPGP verifier tests need it to make keys"
			+ " and signatures (apt-get install gnupg; the README's set-up command does)");
		gpg = new Gpg(shared.resolve("gnupg"));
		release = Files.createDirectories(shared.resolve("release"));
		Files.write(release.resolve("foo_1.raw"), "a portable service image\n".repeat(4096).getBytes(StandardCharsets.US_ASCII));
		Files.writeString(release.resolve("bar_1.raw"), "another one\n");
		Files.writeString(release.resolve("SHA256SUMS"), sumLine(release.resolve("bar_1.raw")) + sumLine(release.resolve("foo_1.raw")));

		ed = gpg.generate(null, ED, "ed25519", "sign", "never");
		rsa = gpg.generate(null, RSA, "rsa2048", "sign", "never");
		stranger = gpg.generate(null, STRANGER, "ed25519", "sign", "never");
		sub = gpg.generate(null, SUB, "ed25519", "cert", "never");
		gpg.run("--quick-add-key", sub, "ed25519", "sign", "never");
		subkey = gpg.subkeyFingerprint(sub);

		past = gpg.generate(T0, PAST, "ed25519", "sign", "never");

		// made in 2020 without an expiry; signs ten days later; then its owner
		// sets an expiry one day after the key was made (a self-signature made
		// an hour after the key, newer than the first one): the later signature
		// was made by an expired key, one made within the day was not
		old = gpg.generate(T0, OLD, "ed25519", "sign", "never");
		Path sig = shared.resolve("old.sig");
		gpg.sign(T0 + 10 * 86400, release.resolve("SHA256SUMS"), sig, false, List.of(old));
		oldAfterExpiry = Files.readAllBytes(sig);
		gpg.run(T0 + 3600, "--quick-set-expire", old, "1d");
		gpg.sign(T0 + 7200, release.resolve("SHA256SUMS"), sig, false, List.of(old));
		oldWhileValid = Files.readAllBytes(sig);

		// likewise for a signing subkey: the primary key never expires
		oldSub = gpg.generate(T0, OLD_SUB, "ed25519", "cert", "never");
		gpg.run(T0, "--quick-add-key", oldSub, "ed25519", "sign", "never");
		oldSubkey = gpg.subkeyFingerprint(oldSub);
		gpg.sign(T0 + 10 * 86400, release.resolve("SHA256SUMS"), sig, false, List.of(oldSub));
		oldSubAfterExpiry = Files.readAllBytes(sig);
		gpg.run(T0 + 3600, "--quick-set-expire", oldSub, "1d", oldSubkey);

		// signs, then its owner imports the revocation certificate gpg stored when it made the key
		revoked = gpg.generate(null, REVOKED, "ed25519", "sign", "never");
		gpg.sign(null, release.resolve("SHA256SUMS"), sig, false, List.of(revoked));
		revokedBeforeRevocation = Files.readAllBytes(sig);
		Path cert = gpg.home().resolve("openpgp-revocs.d").resolve(revoked + ".rev");
		Path rev = shared.resolve("revoke.asc");
		// gpg guards the stored certificate against accidental import with a leading colon
		Files.writeString(rev, Files.readString(cert).replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----"));
		gpg.run("--import", rev.toString());
	}

	@AfterAll
	static void stopAgent() throws IOException {
		if (gpg != null) {
			gpg.close();
		}
	}

	private static String sumLine(Path file) throws IOException {
		return new FakeSubject(file.getParent(), file.getParent(), file.getFileName().toString()).sha256() + "  " + file.getFileName() + "\n";
	}

	@BeforeEach
	void publish() throws IOException {
		origin = Files.createDirectories(dir.resolve("origin"));
		root = Files.createDirectories(dir.resolve("root"));
		for (String name : List.of("foo_1.raw", "bar_1.raw", "SHA256SUMS")) {
			Files.copy(release.resolve(name), origin.resolve(name));
		}
		subject = new FakeSubject(origin, root, "foo_1.raw");
	}

	/** Writes the keys to a keyring file under the host root, as {@code gpg --export} writes them. */
	private void trust(String hostPath, boolean armor, String... keys) throws IOException {
		Path p = subject.host(hostPath);
		Files.createDirectories(p.getParent());
		Files.write(p, gpg.export(armor, keys));
	}

	/** Signs the published SHA256SUMS as the publisher does. */
	private void sign(String sigName, boolean armor, String key, String... options) throws IOException {
		gpg.sign(null, origin.resolve("SHA256SUMS"), origin.resolve(sigName), armor, List.of(key), options);
	}

	private String refusal() {
		return assertThrows(VerificationException.class, () -> verifier.verify(subject)).getMessage();
	}

	private static Verdict signedBy(String userId, String fingerprint) {
		return new Verdict(true, Verifier.SIGNATURE, "SHA256SUMS signed by " + userId + " (" + fingerprint + ")");
	}

	private static String keyId(String fingerprint) {
		return "0x" + fingerprint.substring(fingerprint.length() - 16);
	}

	@Test
	void binarySignatureBinaryKeyringInTrustedDir() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		sign("SHA256SUMS.gpg", false, ed);
		assertEquals(signedBy(ED, ed), verifier.verify(subject));
	}

	/** The folder of trusted keyrings is a setting (trustedKeys of psi.verify.openpgp): keys elsewhere are not trusted. */
	@Test
	void theTrustedFolderIsASetting() throws Exception {
		trust("/srv/keys/test.gpg", false, ed);
		sign("SHA256SUMS.gpg", false, ed);
		assertTrue(refusal().contains("which is not in /etc/psi/trusted.gpg.d or"), refusal());
		OpenPgpVerifier configured = new OpenPgpVerifier(new OpenPgpVerifier.Config() {
			@Override
			public Class<? extends java.lang.annotation.Annotation> annotationType() {
				return OpenPgpVerifier.Config.class;
			}

			@Override
			public String trustedKeys() {
				return "/srv/keys";
			}
		});
		assertEquals(signedBy(ED, ed), configured.verify(subject));
	}

	@Test
	void refusesASignatureFromTheFuture() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		long inADay = java.time.Instant.now().plus(java.time.Duration.ofDays(1)).getEpochSecond();
		gpg.sign(inADay, origin.resolve("SHA256SUMS"), origin.resolve("SHA256SUMS.gpg"), false, List.of(ed));
		String m = refusal();
		assertTrue(m.startsWith("signature: SHA256SUMS.gpg by ") && m.endsWith(", in the future (check this host's clock)"), m);
	}

	@Test
	void armoredSignatureArmoredKeyringInTrustedDir() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.asc", true, ed);
		sign("SHA256SUMS.gpg", true, ed);
		assertTrue(Files.readString(origin.resolve("SHA256SUMS.gpg")).startsWith("-----BEGIN PGP SIGNATURE-----"));
		assertEquals(signedBy(ED, ed), verifier.verify(subject));
	}

	@Test
	void ascSignatureWhenThereIsNoGpgOne() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, rsa);
		sign("SHA256SUMS.asc", true, rsa);
		assertEquals(signedBy(RSA, rsa), verifier.verify(subject));
		assertEquals(List.of("SHA256SUMS.gpg", "SHA256SUMS.asc", "SHA256SUMS"), subject.asked);
	}

	@Test
	void importdVendorKeyringBinaryAndAdminKeyringArmored() throws Exception {
		sign("SHA256SUMS.gpg", false, rsa);
		trust("/usr/lib/systemd/import-pubring.gpg", false, rsa);
		assertEquals(signedBy(RSA, rsa), verifier.verify(subject));
		Files.delete(subject.host("/usr/lib/systemd/import-pubring.gpg"));
		trust("/etc/systemd/import-pubring.gpg", true, rsa);
		assertEquals(signedBy(RSA, rsa), verifier.verify(subject));
	}

	@Test
	void importdAdminKeyringReplacesTheVendorOne() throws Exception {
		sign("SHA256SUMS.gpg", false, ed);
		trust("/usr/lib/systemd/import-pubring.gpg", false, ed);
		trust("/etc/systemd/import-pubring.gpg", false, stranger);
		assertEquals("signature: SHA256SUMS.gpg was made by key " + keyId(ed) + " which is not in /etc/psi/trusted.gpg.d or"
			+ " /etc/systemd/import-pubring.gpg", refusal());
	}

	@Test
	void signingSubkeyOfACertifyingPrimaryKey() throws Exception {
		trust("/etc/psi/trusted.gpg.d/sub.gpg", false, sub);
		sign("SHA256SUMS.gpg", false, sub);
		assertEquals(new Verdict(true, Verifier.SIGNATURE, "SHA256SUMS signed by " + SUB + " (" + sub + ", subkey " + keyId(subkey) + ")"),
			verifier.verify(subject));
	}

	@Test
	void textModeSignature() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		sign("SHA256SUMS.gpg", false, ed, "--textmode");
		assertEquals(signedBy(ED, ed), verifier.verify(subject));
	}

	@Test
	void aTrustedSignatureBesideAnUntrustedOne() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, rsa);
		gpg.sign(null, origin.resolve("SHA256SUMS"), origin.resolve("SHA256SUMS.gpg"), false, List.of(stranger, rsa));
		assertEquals(signedBy(RSA, rsa), verifier.verify(subject));
	}

	@Test
	void refusesAFlippedByteInTheImage() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		sign("SHA256SUMS.gpg", false, ed);
		String expected = subject.sha256();
		flip(origin.resolve("foo_1.raw"), 5000);
		assertEquals("signature: foo_1.raw does not match SHA256SUMS (SHA-256 " + subject.sha256() + ", expected " + expected + ")", refusal());
	}

	@Test
	void refusesAFlippedByteInSha256Sums() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		sign("SHA256SUMS.gpg", false, ed);
		// in bar_1.raw's line: the image's own entry still matches, the signature does not
		flip(origin.resolve("SHA256SUMS"), 3);
		assertEquals("signature: SHA256SUMS.gpg does not match SHA256SUMS (bad signature by " + keyId(ed) + ")", refusal());
	}

	@Test
	void refusesAFlippedByteInTheSignature() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed, rsa);
		for (String key : List.of(ed, rsa)) {
			sign("SHA256SUMS.gpg", false, key);
			Path sig = origin.resolve("SHA256SUMS.gpg");
			flip(sig, (int) Files.size(sig) - 1);
			assertEquals("signature: SHA256SUMS.gpg does not match SHA256SUMS (bad signature by " + keyId(key) + ")", refusal());
		}
	}

	@Test
	void refusesAnUntrustedKey() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		trust("/usr/lib/systemd/import-pubring.gpg", true, rsa);
		sign("SHA256SUMS.gpg", false, stranger);
		assertEquals("signature: SHA256SUMS.gpg was made by key " + keyId(stranger) + " which is not in /etc/psi/trusted.gpg.d or"
			+ " /usr/lib/systemd/import-pubring.gpg", refusal());
		gpg.sign(null, origin.resolve("SHA256SUMS"), origin.resolve("SHA256SUMS.gpg"), false, List.of(stranger, sub));
		assertEquals("signature: SHA256SUMS.gpg was made by keys " + keyId(stranger) + ", " + keyId(subkey) + ", none of which is in"
			+ " /etc/psi/trusted.gpg.d or /usr/lib/systemd/import-pubring.gpg", refusal());
	}

	@Test
	void refusesWithNoKeysAtAll() throws Exception {
		sign("SHA256SUMS.gpg", false, ed);
		assertEquals("signature: SHA256SUMS.gpg was made by key " + keyId(ed) + " which is not in /etc/psi/trusted.gpg.d or"
			+ " /usr/lib/systemd/import-pubring.gpg", refusal());
	}

	@Test
	void refusesAKeyExpiredWhenItSigned() throws Exception {
		trust("/etc/psi/trusted.gpg.d/old.gpg", false, old);
		Files.write(origin.resolve("SHA256SUMS.gpg"), oldAfterExpiry);
		assertEquals("signature: SHA256SUMS.gpg was made at 2020-01-11T00:00:00Z by key " + keyId(old) + " which expired at"
			+ " 2020-01-02T01:00:00Z", refusal());
		// expired now, but not when it signed: as gpg, psi accepts that
		Files.write(origin.resolve("SHA256SUMS.gpg"), oldWhileValid);
		assertEquals(signedBy(OLD, old), verifier.verify(subject));
	}

	@Test
	void refusesASubkeyExpiredWhenItSigned() throws Exception {
		trust("/etc/psi/trusted.gpg.d/old.gpg", false, oldSub);
		Files.write(origin.resolve("SHA256SUMS.gpg"), oldSubAfterExpiry);
		assertEquals("signature: SHA256SUMS.gpg was made at 2020-01-11T00:00:00Z by subkey " + keyId(oldSubkey) + " which expired at"
			+ " 2020-01-02T01:00:00Z", refusal());
	}

	@Test
	void refusesASubkeyThatIsUnboundOneWayBoundOrRevoked() throws Exception {
		sign("SHA256SUMS.gpg", false, sub);
		BcKeyFingerprintCalculator fp = new BcKeyFingerprintCalculator();
		PGPPublicKeyRing ring = new PGPPublicKeyRing(gpg.export(false, sub), fp);
		PGPPublicKey primary = ring.getPublicKey();
		PGPPublicKey bound = ring.getPublicKey(HexFormat.of().parseHex(subkey));
		PGPPrivateKey primarySecret = new PGPSecretKeyRing(gpg.run("--export-secret-keys", sub), fp).getSecretKey().extractPrivateKey(null);
		String what = "signature: SHA256SUMS.gpg was made by subkey " + keyId(subkey) + " of " + keyId(sub);

		// someone attached a key to a trusted certificate: no binding signature
		PGPPublicKey unbound = bound;
		for (Iterator<PGPSignature> it = bound.getSignaturesOfType(PGPSignature.SUBKEY_BINDING); it.hasNext();) {
			unbound = PGPPublicKey.removeCertification(unbound, it.next());
		}
		trustRing(PGPPublicKeyRing.insertPublicKey(ring, unbound));
		assertEquals(what + ", which no valid signature binds to it", refusal());

		// the primary key bound it, but the subkey never signed back
		PGPSignatureGenerator g = generator(primary, primarySecret, PGPSignature.SUBKEY_BINDING, KeyFlags.SIGN_DATA);
		trustRing(PGPPublicKeyRing.insertPublicKey(ring, PGPPublicKey.addCertification(unbound, g.generateCertification(primary, unbound))));
		assertEquals(what + ", which is not cross-certified (no valid primary key binding signature)", refusal());

		// properly bound, then revoked
		g = generator(primary, primarySecret, PGPSignature.SUBKEY_REVOCATION, 0);
		trustRing(PGPPublicKeyRing.insertPublicKey(ring, PGPPublicKey.addCertification(bound, g.generateCertification(primary, bound))));
		assertEquals("signature: SHA256SUMS.gpg was made by subkey " + keyId(subkey) + " of " + SUB + " which is revoked"
			+ " (/etc/psi/trusted.gpg.d/sub.gpg)", refusal());
	}

	private void trustRing(PGPPublicKeyRing ring) throws IOException {
		Path p = subject.host("/etc/psi/trusted.gpg.d/sub.gpg");
		Files.createDirectories(p.getParent());
		Files.write(p, ring.getEncoded());
	}

	private static PGPSignatureGenerator generator(PGPPublicKey primary, PGPPrivateKey secret, int type, int keyFlags) throws PGPException {
		PGPSignatureGenerator g = new PGPSignatureGenerator(new BcPGPContentSignerBuilder(primary.getAlgorithm(), HashAlgorithmTags.SHA256),
			primary);
		g.init(type, secret);
		PGPSignatureSubpacketGenerator h = new PGPSignatureSubpacketGenerator();
		h.setSignatureCreationTime(true, new Date());
		h.setIssuerFingerprint(false, primary);
		if (keyFlags != 0) {
			h.setKeyFlags(true, keyFlags);
		}
		g.setHashedSubpackets(h.generate());
		return g;
	}

	@Test
	void refusesARevokedKey() throws Exception {
		trust("/etc/psi/trusted.gpg.d/revoked.gpg", false, revoked);
		Files.write(origin.resolve("SHA256SUMS.gpg"), revokedBeforeRevocation);
		assertEquals("signature: SHA256SUMS.gpg was made by key " + keyId(revoked) + " (" + REVOKED + ") which is revoked"
			+ " (/etc/psi/trusted.gpg.d/revoked.gpg)", refusal());
	}

	@Test
	void refusesSha1AndOtherWeakDigests() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, rsa);
		sign("SHA256SUMS.gpg", false, rsa, "--digest-algo", "SHA1");
		assertEquals("signature: SHA256SUMS.gpg by " + keyId(rsa) + " uses SHA-1, weaker than SHA-256", refusal());
		sign("SHA256SUMS.gpg", false, rsa, "--digest-algo", "SHA224");
		assertEquals("signature: SHA256SUMS.gpg by " + keyId(rsa) + " uses SHA-224, weaker than SHA-256", refusal());
		sign("SHA256SUMS.gpg", false, rsa, "--digest-algo", "SHA512");
		assertEquals(signedBy(RSA, rsa), verifier.verify(subject));
	}

	@Test
	void refusesAnEscapeAttemptInSignedSums() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		Files.writeString(origin.resolve("SHA256SUMS"), Files.readString(origin.resolve("SHA256SUMS")) + Sha256SumsTest.A + "  ../../etc/passwd\n");
		sign("SHA256SUMS.gpg", false, ed);
		assertEquals("signature: SHA256SUMS line 3: '../../etc/passwd' is not a plain file name", refusal());
	}

	@Test
	void refusesSignedSumsWithoutTheImage() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		Files.writeString(origin.resolve("SHA256SUMS"), sumLine(origin.resolve("bar_1.raw")));
		sign("SHA256SUMS.gpg", false, ed);
		assertEquals("signature: SHA256SUMS has no entry for foo_1.raw", refusal());
	}

	@Test
	void refusesASignatureWithoutSums() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		sign("SHA256SUMS.gpg", false, ed);
		Files.delete(origin.resolve("SHA256SUMS"));
		assertEquals("signature: SHA256SUMS.gpg is published without the SHA256SUMS it signs", refusal());
	}

	@Test
	void refusesWhatIsNoSignature() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		Files.writeString(origin.resolve("SHA256SUMS.gpg"), "<html>404 Not Found</html>\n");
		assertTrue(refusal().startsWith("signature: SHA256SUMS.gpg is not an OpenPGP signature ("), refusal());
		Files.write(origin.resolve("SHA256SUMS.gpg"), gpg.export(false, ed));
		assertEquals("signature: SHA256SUMS.gpg holds PGPPublicKeyRing, not a detached signature", refusal());
		sign("SHA256SUMS.gpg", true, ed);
		String armored = Files.readString(origin.resolve("SHA256SUMS.gpg"));
		int body = armored.indexOf("\n\n") + 10;
		Files.writeString(origin.resolve("SHA256SUMS.gpg"), armored.substring(0, body) + (armored.charAt(body) == 'A' ? 'B' : 'A')
			+ armored.substring(body + 1));
		assertTrue(refusal().matches("signature: SHA256SUMS\\.gpg is not an OpenPGP signature \\(\\w.*\\)"), refusal());
	}

	@Test
	void refusesAKeyboxForAKeyring() throws Exception {
		sign("SHA256SUMS.gpg", false, ed);
		Path p = subject.host("/etc/psi/trusted.gpg.d/test.gpg");
		Files.createDirectories(p.getParent());
		Files.copy(gpg.home().resolve("pubring.kbx"), p);
		assertEquals("signature: keyring /etc/psi/trusted.gpg.d/test.gpg is a GnuPG keybox, which only GnuPG reads;"
			+ " write it with gpg --export (or --export --armor to a .asc)", refusal());
	}

	@Test
	void refusesUnreadableKeyringsAndIgnoresOtherFiles() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		sign("SHA256SUMS.gpg", false, ed);
		Path d = subject.host("/etc/psi/trusted.gpg.d");
		Files.writeString(d.resolve("README"), "not a keyring\n");
		Files.writeString(d.resolve("test.gpg~"), "an editor's backup\n");
		Files.writeString(d.resolve(".hidden.gpg"), "hidden\n");
		assertEquals(signedBy(ED, ed), verifier.verify(subject));

		Files.writeString(d.resolve("broken.gpg"), "<html>404 Not Found</html>\n");
		assertTrue(refusal().startsWith("signature: cannot read keyring /etc/psi/trusted.gpg.d/broken.gpg: "), refusal());
		Files.delete(d.resolve("broken.gpg"));

		Files.write(d.resolve("secret.gpg"), gpg.run("--export-secret-keys", ed));
		assertEquals("signature: keyring /etc/psi/trusted.gpg.d/secret.gpg holds a secret key; trusted keyrings hold public keys only", refusal());
		Files.delete(d.resolve("secret.gpg"));

		try (RandomAccessFile f = new RandomAccessFile(d.resolve("huge.gpg").toFile(), "rw")) {
			f.setLength(TrustedKeys.MAX_KEYRING + 1L);
		}
		assertEquals("signature: keyring /etc/psi/trusted.gpg.d/huge.gpg has 16777217 bytes, more than 16777216", refusal());
	}

	@Test
	void refusesAPrimaryKeyWhoseFlagsForbidSigning() throws Exception {
		trust("/etc/psi/trusted.gpg.d/sub.gpg", false, sub);
		// GnuPG would pick the signing subkey; Bouncy Castle signs with the certifying primary key
		Files.write(origin.resolve("SHA256SUMS.gpg"), bcSign(sub, sub, PGPSignature.BINARY_DOCUMENT, new Date(), 0));
		assertEquals("signature: SHA256SUMS.gpg was made by key " + keyId(sub) + " whose key flags do not allow signing data", refusal());
	}

	@Test
	void refusesExpiredPrecedingAndNonDocumentSignatures() throws Exception {
		trust("/etc/psi/trusted.gpg.d/past.gpg", false, past);
		long now = System.currentTimeMillis() / 1000 * 1000;
		Files.write(origin.resolve("SHA256SUMS.gpg"), bcSign(past, past, PGPSignature.BINARY_DOCUMENT, new Date(now - 2 * 86400_000L), 86400));
		assertEquals("signature: SHA256SUMS.gpg by " + keyId(past) + " expired at " + new Date(now - 86400_000L).toInstant(), refusal());
		Files.write(origin.resolve("SHA256SUMS.gpg"), bcSign(past, past, PGPSignature.BINARY_DOCUMENT, new Date(now), 86400));
		assertEquals(signedBy(PAST, past), verifier.verify(subject));
		Files.write(origin.resolve("SHA256SUMS.gpg"), bcSign(past, past, PGPSignature.STAND_ALONE, new Date(now), 0));
		assertEquals("signature: SHA256SUMS.gpg holds a signature of type 0x02 by " + keyId(past) + ", not a signature over a document",
			refusal());
		// a signature from before the key existed
		Files.write(origin.resolve("SHA256SUMS.gpg"), bcSign(past, past, PGPSignature.BINARY_DOCUMENT, new Date((T0 - 86400) * 1000), 0));
		assertEquals("signature: SHA256SUMS.gpg claims to be made at 2019-12-31T00:00:00Z, before key " + keyId(past)
			+ " was created (2020-01-01T00:00:00Z)", refusal());
	}

	@Test
	void notApplicableWithoutSignatureOrWhenOnlyChecksumsAreAsked() throws Exception {
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		assertEquals(Verdict.notApplicable(), verifier.verify(subject));
		sign("SHA256SUMS.gpg", false, stranger);
		subject.wanted = Verifier.CHECKSUM;
		subject.asked.clear();
		assertFalse(verifier.verify(subject).applicable());
		assertFalse(subject.asked.contains("SHA256SUMS.gpg"), "nothing is fetched for a check nobody asked for");
	}

	@Test
	void readsTheDistributionsImportdKeyring() throws Exception {
		Path vendor = Path.of(TrustedKeys.IMPORTD_VENDOR);
		assertTrue(Files.isRegularFile(vendor), "no " + vendor + " on this machine: apt-get install systemd-container (it ships"
			+ " importd's keyring; the README's set-up command installs it)");
		Path p = subject.host(TrustedKeys.IMPORTD_VENDOR);
		Files.createDirectories(p.getParent());
		Files.copy(vendor, p);
		sign("SHA256SUMS.gpg", false, ed);
		assertEquals("signature: SHA256SUMS.gpg was made by key " + keyId(ed) + " which is not in /etc/psi/trusted.gpg.d or"
			+ " /usr/lib/systemd/import-pubring.gpg", refusal());
		trust("/etc/psi/trusted.gpg.d/test.gpg", false, ed);
		assertEquals(signedBy(ED, ed), verifier.verify(subject));
	}

	private static void flip(Path file, int at) throws IOException {
		byte[] b = Files.readAllBytes(file);
		b[at] ^= 0x01;
		Files.write(file, b);
	}

	/**
	 * Signs the release's SHA256SUMS with Bouncy Castle, with a secret key
	 * GnuPG made and exports (unprotected: it has no passphrase).
	 */
	private byte[] bcSign(String certificate, String key, int type, Date created, long lifetime) throws Exception {
		PGPSecretKeyRing ring = new PGPSecretKeyRing(gpg.run("--export-secret-keys", certificate), new BcKeyFingerprintCalculator());
		PGPSecretKey secret = ring.getSecretKey(new KeyIdentifier(HexFormat.of().parseHex(key)));
		PGPSignatureGenerator g = new PGPSignatureGenerator(new BcPGPContentSignerBuilder(secret.getPublicKey().getAlgorithm(),
			HashAlgorithmTags.SHA256), secret.getPublicKey());
		g.init(type, secret.extractPrivateKey(null));
		PGPSignatureSubpacketGenerator sub = new PGPSignatureSubpacketGenerator();
		sub.setSignatureCreationTime(true, created);
		sub.setIssuerFingerprint(false, secret.getPublicKey());
		if (lifetime > 0) {
			sub.setSignatureExpirationTime(true, lifetime);
		}
		g.setHashedSubpackets(sub.generate());
		PGPSignatureSubpacketGenerator unhashed = new PGPSignatureSubpacketGenerator();
		unhashed.setIssuerKeyID(false, secret.getKeyID());
		g.setUnhashedSubpackets(unhashed.generate());
		g.update(Files.readAllBytes(origin.resolve("SHA256SUMS")));
		return g.generate().getEncoded();
	}
}
