package psi.format.raw.internal.verity;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.util.Collection;
import java.util.HexFormat;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerId;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.OperatorCreationException;

import psi.format.raw.internal.verity.TrustedCertificates.Trusted;
import psi.spi.verify.VerificationException;

/**
 * Checks the detached PKCS#7 (CMS) signature of a dm-verity root hash as the
 * kernel checks {@code root_hash_sig_key_desc} and systemd-repart signs it:
 * the signed content is the root hash in lowercase hex, ASCII, no newline.
 * <p>
 * The signer must be one of the {@link TrustedCertificates} (matched by the
 * signer's issuer and serial number, or subject key identifier), and the
 * signature must verify with that trusted certificate's key. Certificates
 * carried in the signature are never trusted; they only name an unknown
 * signer in messages. Keys are used through the JDK's providers; no provider
 * is registered. Stateless and thread safe.
 */
public final class RootHashSignature {

	/** Bounds the signer infos looked at. */
	static final int MAX_SIGNERS = 16;

	private RootHashSignature() {
	}

	/**
	 * @param pkcs7 the DER signature
	 * @param rootHash the root hash it must sign
	 * @param trusted the certificates trusted to sign
	 * @param where where the signature came from, for messages
	 * @return the trusted certificate whose key made the signature
	 * @throws VerificationException when the signature is not PKCS#7, does not
	 *         verify, or its signer is not trusted
	 */
	public static Trusted verify(byte[] pkcs7, byte[] rootHash, TrustedCertificates trusted, String where)
		throws VerificationException {
		byte[] content = HexFormat.of().formatHex(rootHash).getBytes(StandardCharsets.US_ASCII);
		CMSSignedData signed;
		Collection<SignerInformation> signers;
		try {
			signed = new CMSSignedData(new CMSProcessableByteArray(content), pkcs7);
			signers = signed.getSignerInfos().getSigners();
		} catch (CMSException | RuntimeException e) {
			throw new VerificationException("verity: the root hash signature in " + where + " is not PKCS#7: " + e.getMessage());
		}
		if (signers.isEmpty()) {
			throw new VerificationException("verity: the root hash signature in " + where + " has no signer");
		}
		if (signers.size() > MAX_SIGNERS) {
			throw new VerificationException("verity: the root hash signature in " + where + " has " + signers.size()
				+ " signers, more than " + MAX_SIGNERS);
		}
		Trusted failed = null;
		String unknown = null;
		for (SignerInformation si : signers) {
			SignerId sid = si.getSID();
			boolean known = false;
			for (Trusted t : trusted.certificates()) {
				if (!sid.match(t.certificate())) {
					continue;
				}
				known = true;
				if (verifies(si, t.certificate())) {
					return t;
				}
				failed = t;
			}
			if (!known && unknown == null) {
				unknown = name(sid, signed);
			}
		}
		if (failed != null) {
			throw new VerificationException("verity: the root hash signature in " + where + " does not verify with the"
				+ " certificate of " + failed.certificate().getSubject() + " (" + failed.file() + ")");
		}
		throw new VerificationException("verity: the root hash is signed by " + unknown + " (" + where
			+ "), which is not among the " + trusted.certificates().size() + " certificates in "
			+ String.join(", ", TrustedCertificates.DIRECTORIES)
			+ (trusted.unreadable().isEmpty() ? "" : "; skipped " + String.join(", ", trusted.unreadable())));
	}

	private static boolean verifies(SignerInformation si, X509CertificateHolder cert) {
		try {
			return si.verify(new JcaSimpleSignerInfoVerifierBuilder().build(cert));
		} catch (CMSException | OperatorCreationException | CertificateException | RuntimeException e) {
			// a digest mismatch, a key the algorithm does not fit, a malformed signature value
			return false;
		}
	}

	/** Names an untrusted signer: by the certificate the signature carries, else by what the signer info says. */
	private static String name(SignerId sid, CMSSignedData signed) {
		try {
			for (X509CertificateHolder c : signed.getCertificates().getMatches(null)) {
				if (sid.match(c)) {
					return c.getSubject().toString();
				}
			}
		} catch (RuntimeException e) {
			// a malformed certificate set names nobody
		}
		if (sid.getIssuer() != null && sid.getSerialNumber() != null) {
			return "a certificate issued by " + sid.getIssuer() + " with serial " + sid.getSerialNumber().toString(16);
		}
		if (sid.getSubjectKeyIdentifier() != null) {
			return "the key with subject key identifier " + HexFormat.of().formatHex(sid.getSubjectKeyIdentifier());
		}
		return "an unnamed signer";
	}
}
