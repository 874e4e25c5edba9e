package psi.verify.sums.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.KeyIdentifier;
import org.bouncycastle.bcpg.SignatureSubpacketTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPMarker;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.PGPSignatureSubpacketVector;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;
import org.bouncycastle.openpgp.operator.PGPContentVerifierBuilderProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider;
import org.osgi.service.component.annotations.Component;

import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;
import psi.spi.verify.VerifierName;

/**
 * Checks a detached OpenPGP signature over {@code SHA256SUMS} by a trusted key
 * ({@link TrustedKeys}), then the image's entry in it, as systemd-importd does
 * with {@code --verify=signature}: {@code SHA256SUMS.gpg} beside the image,
 * binary or armored, else {@code SHA256SUMS.asc}.
 * <p>
 * Where importd runs {@code gpg --verify --trust-model=always}, psi checks
 * with Bouncy Castle's lightweight API (no JCA provider is registered, nothing
 * global is touched) and is stricter than gpg's exit status: a revoked key, a
 * key (or subkey) expired when it signed, a subkey not bound to its primary or
 * not cross-certified, a key whose flags forbid signing, an expired
 * signature, and a digest weaker than SHA-256 (MD5, SHA-1, RIPEMD-160,
 * SHA-224) are refused. Signatures by keys that are not trusted are passed
 * over when a trusted key also signed; every signature by a trusted key must
 * hold. Stateless and thread safe.
 */
@Component(configurationPid = OpenPgpVerifier.PID)
@org.osgi.service.metatype.annotations.Designate(ocd = OpenPgpVerifier.Config.class)
@VerifierName(name = OpenPgpVerifier.NAME)
public class OpenPgpVerifier implements Verifier {

	/** The configuration PID ({@code /etc/psi/psi.verify.openpgp.cfg}). */
	static final String PID = "psi.verify.openpgp";

	/** The settings. */
	@org.osgi.service.metatype.annotations.ObjectClassDefinition(name = "psi OpenPGP verifier",
		description = "Which keys psi trusts to sign the SHA256SUMS of an image")
	public @interface Config {
		/** @return the folder of trusted keyrings */
		@org.osgi.service.metatype.annotations.AttributeDefinition(description = "The folder of trusted keyrings (*.gpg binary, *.asc armored), as an absolute path; systemd-importd's keyrings are trusted too")
		String trustedKeys() default TrustedKeys.TRUSTED_DIR;
	}

	private volatile String trustedDir = TrustedKeys.TRUSTED_DIR;

	/** For tests and for a framework without configuration: the default folder. */
	public OpenPgpVerifier() {
	}

	/** @param config the settings */
	@org.osgi.service.component.annotations.Activate
	public OpenPgpVerifier(Config config) {
		modified(config);
	}

	/** @param config the new settings */
	@org.osgi.service.component.annotations.Modified
	void modified(Config config) {
		String d = config.trustedKeys();
		this.trustedDir = d == null || !d.startsWith("/") ? TrustedKeys.TRUSTED_DIR : d;
	}

	/** How far a signature's time may lie ahead of this host's clock. */
	static final java.time.Duration CLOCK_SKEW = java.time.Duration.ofMinutes(10);

	static final String NAME = "openpgp";
	/** The detached signatures over {@code SHA256SUMS}, in the order importd tries them. */
	static final List<String> SIGNATURES = List.of("SHA256SUMS.gpg", "SHA256SUMS.asc");
	/** Bounds a signature file, as importd bounds it. */
	static final int MAX_SIGNATURE = 1 << 20;
	/** Bounds the signatures read from one file. */
	static final int MAX_SIGNATURES = 64;

	private static final String CHECK = "signature";
	private static final Set<Integer> STRONG_DIGESTS = Set.of(HashAlgorithmTags.SHA256, HashAlgorithmTags.SHA384, HashAlgorithmTags.SHA512,
		HashAlgorithmTags.SHA3_256, HashAlgorithmTags.SHA3_384, HashAlgorithmTags.SHA3_512);

	private final PGPContentVerifierBuilderProvider crypto = new BcPGPContentVerifierBuilderProvider();

	@Override
	public java.util.Set<String> sidecars(String fileName, psi.spi.verify.Level wanted) {
		if (!wanted.atLeast(SIGNATURE)) {
			return java.util.Set.of();
		}
		java.util.Set<String> names = new java.util.TreeSet<>(SIGNATURES);
		names.add(ChecksumVerifier.SUMS);
		return names;
	}

	@Override
	public Verdict verify(Subject subject) throws IOException {
		if (!subject.wants(SIGNATURE) || subject.fileName() == null) {
			return Verdict.notApplicable();
		}
		String sigName = null;
		Optional<Path> sigFile = Optional.empty();
		for (String name : SIGNATURES) {
			sigFile = subject.sidecar(name);
			if (sigFile.isPresent()) {
				sigName = name;
				break;
			}
		}
		if (sigFile.isEmpty()) {
			return Verdict.notApplicable();
		}
		Optional<Path> sumsFile = subject.sidecar(ChecksumVerifier.SUMS);
		if (sumsFile.isEmpty()) {
			throw new VerificationException(CHECK + ": " + sigName + " is published without the " + ChecksumVerifier.SUMS + " it signs");
		}
		List<PGPSignature> signatures = signatures(BoundedFile.read(sigFile.get(), MAX_SIGNATURE, CHECK, sigName), sigName);
		byte[] sums = BoundedFile.read(sumsFile.get(), ChecksumVerifier.MAX_SUMS, CHECK, ChecksumVerifier.SUMS);
		TrustedKeys keys = TrustedKeys.load(subject::host, trustedDir);

		TrustedKeys.Candidate signer = null;
		Set<String> untrusted = new LinkedHashSet<>();
		for (PGPSignature s : signatures) {
			List<TrustedKeys.Candidate> candidates = keys.find(s);
			if (candidates.isEmpty()) {
				untrusted.add(issuer(s));
				continue;
			}
			VerificationException refused = null;
			TrustedKeys.Candidate good = null;
			for (TrustedKeys.Candidate c : candidates) {
				try {
					check(s, c, sums, sigName);
					good = c;
					break;
				} catch (VerificationException e) {
					refused = refused == null ? e : refused;
				}
			}
			if (good == null) {
				throw refused;
			}
			signer = signer == null ? good : signer;
		}
		if (signer == null) {
			throw new VerificationException(CHECK + ": " + sigName + " was made by "
				+ (untrusted.size() == 1 ? "key " + untrusted.iterator().next() + " which is not in "
					: "keys " + String.join(", ", untrusted) + ", none of which is in ")
				+ keys.where());
		}

		Sha256Sums.parse(sums, ChecksumVerifier.SUMS, CHECK, false).verify(subject.fileName(), subject.sha256());

		PGPPublicKey primary = signer.primary();
		String fingerprint = HexFormat.of().withUpperCase().formatHex(primary.getFingerprint());
		return new Verdict(true, SIGNATURE, ChecksumVerifier.SUMS + " signed by " + userId(primary) + " (" + fingerprint
			+ (signer.key() == primary ? "" : ", subkey " + keyId(signer.key().getKeyID())) + ")");
	}

	/** @return the signatures in a detached signature file */
	static List<PGPSignature> signatures(byte[] content, String sigName) throws VerificationException {
		List<PGPSignature> out = new ArrayList<>();
		try {
			PGPObjectFactory f = new BcPGPObjectFactory(OpenPgpFiles.packets(content));
			for (Object o = f.nextObject(); o != null; o = f.nextObject()) {
				if (o instanceof PGPSignatureList list) {
					for (PGPSignature s : list) {
						out.add(s);
					}
					if (out.size() > MAX_SIGNATURES) {
						throw new VerificationException(CHECK + ": " + sigName + " holds more than " + MAX_SIGNATURES + " signatures");
					}
				} else if (!(o instanceof PGPMarker)) {
					throw new VerificationException(CHECK + ": " + sigName + " holds " + o.getClass().getSimpleName()
						+ ", not a detached signature");
				}
			}
		} catch (VerificationException e) {
			throw e;
		} catch (IOException | RuntimeException e) {
			// Bouncy Castle reports malformed packets with unchecked exceptions too
			throw new VerificationException(CHECK + ": " + sigName + " is not an OpenPGP signature (" + OpenPgpFiles.reason(e) + ")");
		}
		if (out.isEmpty()) {
			throw new VerificationException(CHECK + ": " + sigName + " holds no signature");
		}
		return out;
	}

	/**
	 * Checks one signature by one trusted key over the exact bytes of {@code SHA256SUMS}.
	 *
	 * @throws VerificationException naming the check that failed
	 */
	private void check(PGPSignature s, TrustedKeys.Candidate c, byte[] sums, String sigName) throws VerificationException {
		PGPPublicKey key = c.key();
		PGPPublicKey primary = c.primary();
		String by = keyId(key.getKeyID());
		if (s.getSignatureType() != PGPSignature.BINARY_DOCUMENT && s.getSignatureType() != PGPSignature.CANONICAL_TEXT_DOCUMENT) {
			throw new VerificationException(CHECK + ": " + sigName + " holds a signature of type 0x"
				+ String.format("%02x", s.getSignatureType()) + " by " + by + ", not a signature over a document");
		}
		if (!STRONG_DIGESTS.contains(s.getHashAlgorithm())) {
			throw new VerificationException(CHECK + ": " + sigName + " by " + by + " uses " + digestName(s.getHashAlgorithm())
				+ ", weaker than SHA-256");
		}
		Instant signed = s.getCreationTime().toInstant();
		if (signed.isAfter(Instant.now().plus(CLOCK_SKEW))) {
			// as gpg: a signature from the future is a clock problem or a forgery, not a signature
			throw new VerificationException(CHECK + ": " + sigName + " by " + by + " claims to be made at " + signed
				+ ", in the future (check this host's clock)");
		}
		if (primary.hasRevocation()) {
			throw new VerificationException(CHECK + ": " + sigName + " was made by key " + keyId(primary.getKeyID()) + " ("
				+ userId(primary) + ") which is revoked (" + c.source() + ")");
		}
		if (signed.isBefore(key.getCreationTime().toInstant())) {
			throw new VerificationException(CHECK + ": " + sigName + " claims to be made at " + signed + ", before key " + by
				+ " was created (" + key.getCreationTime().toInstant() + ")");
		}
		notExpired(primary, primary.getValidSeconds(), signed, sigName);
		if (key != primary) {
			PGPSignature binding = binding(primary, key, sigName);
			if (key.hasRevocation()) {
				throw new VerificationException(CHECK + ": " + sigName + " was made by subkey " + by + " of " + userId(primary)
					+ " which is revoked (" + c.source() + ")");
			}
			notExpired(key, binding.getHashedSubPackets().getKeyExpirationTime(), signed, sigName);
			requireSigningFlag(binding, key, sigName);
		} else {
			PGPSignature self = latestSelfSignature(primary);
			if (self != null) {
				requireSigningFlag(self, key, sigName);
			}
		}
		PGPSignatureSubpacketVector hashed = s.getHashedSubPackets();
		long lifetime = hashed == null ? 0 : hashed.getSignatureExpirationTime();
		if (lifetime > 0 && Instant.now().isAfter(signed.plusSeconds(lifetime))) {
			throw new VerificationException(CHECK + ": " + sigName + " by " + by + " expired at " + signed.plusSeconds(lifetime));
		}
		boolean good;
		try {
			s.init(crypto, key);
			s.update(sums);
			good = s.verify();
		} catch (PGPException | RuntimeException e) {
			good = false;
		}
		if (!good) {
			throw new VerificationException(CHECK + ": " + sigName + " does not match " + ChecksumVerifier.SUMS + " (bad signature by " + by
				+ ")");
		}
	}

	private static void notExpired(PGPPublicKey key, long validSeconds, Instant signed, String sigName) throws VerificationException {
		if (validSeconds <= 0) {
			return;
		}
		Instant expiry = key.getCreationTime().toInstant().plusSeconds(validSeconds);
		if (signed.isAfter(expiry)) {
			throw new VerificationException(CHECK + ": " + sigName + " was made at " + signed + " by " + (key.isMasterKey() ? "key " : "subkey ")
				+ keyId(key.getKeyID()) + " which expired at " + expiry);
		}
	}

	/**
	 * A subkey counts only when its primary key bound it, and a signing
	 * subkey only when it signed back (its embedded primary key binding), as
	 * gpg requires since 2.0: else anyone could attach their key to a trusted
	 * certificate.
	 *
	 * @return the newest valid binding signature
	 */
	private PGPSignature binding(PGPPublicKey primary, PGPPublicKey subkey, String sigName) throws VerificationException {
		PGPSignature newest = null;
		for (Iterator<PGPSignature> it = subkey.getSignaturesOfType(PGPSignature.SUBKEY_BINDING); it.hasNext();) {
			PGPSignature b = it.next();
			if (verifiesBinding(b, primary, primary, subkey) && (newest == null || b.getCreationTime().after(newest.getCreationTime()))) {
				newest = b;
			}
		}
		String what = "subkey " + keyId(subkey.getKeyID()) + " of " + keyId(primary.getKeyID());
		if (newest == null) {
			throw new VerificationException(CHECK + ": " + sigName + " was made by " + what + ", which no valid signature binds to it");
		}
		boolean crossCertified = false;
		for (PGPSignatureSubpacketVector v : new PGPSignatureSubpacketVector[] { newest.getHashedSubPackets(), newest.getUnhashedSubPackets() }) {
			if (v == null) {
				continue;
			}
			try {
				for (PGPSignature back : v.getEmbeddedSignatures()) {
					if (back.getSignatureType() == PGPSignature.PRIMARYKEY_BINDING && verifiesBinding(back, subkey, primary, subkey)) {
						crossCertified = true;
					}
				}
			} catch (PGPException e) {
				// an unreadable embedded signature certifies nothing
			}
		}
		if (!crossCertified) {
			throw new VerificationException(CHECK + ": " + sigName + " was made by " + what + ", which is not cross-certified"
				+ " (no valid primary key binding signature)");
		}
		return newest;
	}

	private boolean verifiesBinding(PGPSignature b, PGPPublicKey signer, PGPPublicKey primary, PGPPublicKey subkey) {
		if (!STRONG_DIGESTS.contains(b.getHashAlgorithm()) && b.getHashAlgorithm() != HashAlgorithmTags.SHA1) {
			// SHA-1 stays acceptable in key bindings only, as in GnuPG: older keys were bound with it
			return false;
		}
		try {
			b.init(crypto, signer);
			return b.verifyCertification(primary, subkey);
		} catch (PGPException | RuntimeException e) {
			return false;
		}
	}

	/** @return the primary key's newest self-signature carrying key flags, or {@code null} */
	private static PGPSignature latestSelfSignature(PGPPublicKey primary) {
		PGPSignature newest = null;
		for (Iterator<PGPSignature> it = primary.getSignatures(); it.hasNext();) {
			PGPSignature s = it.next();
			boolean self = s.getKeyID() == primary.getKeyID()
				&& (s.isCertification() || s.getSignatureType() == PGPSignature.DIRECT_KEY);
			if (self && s.getHashedSubPackets() != null && s.getHashedSubPackets().hasSubpacket(SignatureSubpacketTags.KEY_FLAGS)
				&& (newest == null || s.getCreationTime().after(newest.getCreationTime()))) {
				newest = s;
			}
		}
		return newest;
	}

	private static void requireSigningFlag(PGPSignature self, PGPPublicKey key, String sigName) throws VerificationException {
		PGPSignatureSubpacketVector v = self.getHashedSubPackets();
		if (v != null && v.hasSubpacket(SignatureSubpacketTags.KEY_FLAGS) && (v.getKeyFlags() & KeyFlags.SIGN_DATA) == 0) {
			throw new VerificationException(CHECK + ": " + sigName + " was made by " + (key.isMasterKey() ? "key " : "subkey ")
				+ keyId(key.getKeyID()) + " whose key flags do not allow signing data");
		}
	}

	/** @return the key a signature names as its issuer, for messages */
	private static String issuer(PGPSignature s) {
		List<KeyIdentifier> ids = TrustedKeys.issuers(s);
		return ids.isEmpty() ? "(no issuer named)" : keyId(ids.get(0).getKeyId());
	}

	static String keyId(long id) {
		return String.format("0x%016X", id);
	}

	/** @return the key's first user ID, for a one-line message */
	private static String userId(PGPPublicKey primary) {
		Iterator<String> ids = primary.getUserIDs();
		return ids.hasNext() ? Sha256Sums.oneLine(ids.next()) : "(no user ID)";
	}

	private static String digestName(int algorithm) {
		return switch (algorithm) {
		case HashAlgorithmTags.MD5 -> "MD5";
		case HashAlgorithmTags.SHA1 -> "SHA-1";
		case HashAlgorithmTags.RIPEMD160 -> "RIPEMD-160";
		case HashAlgorithmTags.SHA224 -> "SHA-224";
		default -> "digest algorithm " + algorithm;
		};
	}
}
