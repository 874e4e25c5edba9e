package psi.format.raw.internal.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;

import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * The content of a root-verity-sig (usr-verity-sig) partition as
 * systemd-repart writes it (src/partition/repart.c,
 * {@code sign_verity_roothash()} and {@code context_verity_sig()}): compact
 * JSON {@code {"rootHash":"<hex>","certificateFingerprint":"<hex>","signature":"<base64>"}}
 * in that order, followed by NULs to the end of the partition.
 * <p>
 * The signature is what OpenSSL's
 * {@code PKCS7_sign(cert, key, NULL, hex, PKCS7_DETACHED|PKCS7_NOATTR|PKCS7_BINARY)}
 * makes: DER PKCS#7 signed data over the lowercase hex root hash (ASCII, no
 * newline; what the kernel's dm-verity checks), detached, SHA-256, no signed
 * attributes, the signer's certificate included, algorithm identifiers with
 * NULL parameters as OpenSSL writes them. RSA (PKCS#1 v1.5) signatures are
 * deterministic, so the partition is too; ECDSA signatures are not.
 * Stateless and thread safe.
 */
final class SignaturePartition {

	/** systemd-repart's {@code VERITY_SIG_SIZE}: 16 KiB, unless the JSON needs more. */
	static final int DEFAULT_SIZE = 16 << 10;

	private SignaturePartition() {
	}

	/** @return the JSON and its NUL padding, {@code size} bytes */
	static byte[] content(String json, int size) {
		byte[] text = json.getBytes(StandardCharsets.US_ASCII);
		if (text.length + 1 > size) {
			throw new IllegalArgumentException("signature JSON of " + text.length + " bytes in " + size);
		}
		byte[] out = new byte[size];
		System.arraycopy(text, 0, out, 0, text.length);
		return out;
	}

	/** @return the compact JSON, keys in repart's order */
	static String json(byte[] rootHash, X509Certificate cert, byte[] pkcs7) throws IOException {
		return "{\"rootHash\":\"" + HexFormat.of().formatHex(rootHash) + "\",\"certificateFingerprint\":\""
			+ HexFormat.of().formatHex(fingerprint(cert)) + "\",\"signature\":\"" + Base64.getEncoder().encodeToString(pkcs7)
			+ "\"}";
	}

	/** @return SHA-256 of the DER certificate, as OpenSSL's {@code X509_digest()} and systemd's fingerprint */
	static byte[] fingerprint(X509Certificate cert) throws IOException {
		try {
			return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
		} catch (CertificateEncodingException | NoSuchAlgorithmException e) {
			throw new IOException("certificate " + cert.getSubjectX500Principal() + " cannot be encoded: "
				+ PemFiles.oneLine(e));
		}
	}

	/**
	 * @return the DER PKCS#7 detached signature of the hex root hash
	 * @throws IOException when the key is not RSA or EC, or signing fails
	 */
	static byte[] pkcs7(byte[] rootHash, PrivateKey key, X509Certificate cert) throws IOException {
		byte[] content = HexFormat.of().formatHex(rootHash).getBytes(StandardCharsets.US_ASCII);
		try {
			ContentSigner signer = new JcaContentSignerBuilder(signatureAlgorithm(key)).build(key);
			CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
			gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(withNullParameters(
				new JcaDigestCalculatorProviderBuilder().build()), SignaturePartition::asOpenssl).setDirectSignature(true)
				.build(signer, cert));
			gen.addCertificate(new JcaX509CertificateHolder(cert));
			return gen.generate(new CMSProcessableByteArray(content), false).getEncoded("DER");
		} catch (OperatorCreationException | CertificateEncodingException | CMSException | RuntimeException e) {
			throw new IOException("cannot sign the root hash with the key of " + cert.getSubjectX500Principal() + ": "
				+ PemFiles.oneLine(e));
		}
	}

	/**
	 * Checks that the key belongs to the certificate, by signing and verifying
	 * a test message: a mismatch would give a signature no one can verify.
	 *
	 * @throws IOException naming the certificate when it does not
	 */
	static void checkPair(PrivateKey key, X509Certificate cert) throws IOException {
		String alg = signatureAlgorithm(key);
		byte[] probe = "psi verity signing key check".getBytes(StandardCharsets.US_ASCII);
		boolean ok;
		try {
			Signature s = Signature.getInstance(alg);
			s.initSign(key);
			s.update(probe);
			byte[] sig = s.sign();
			Signature v = Signature.getInstance(alg);
			v.initVerify(cert.getPublicKey());
			v.update(probe);
			ok = v.verify(sig);
		} catch (GeneralSecurityException | RuntimeException e) {
			ok = false;
		}
		if (!ok) {
			throw new IOException("the certificate of " + cert.getSubjectX500Principal() + " does not match the "
				+ key.getAlgorithm() + " private key");
		}
	}

	private static String signatureAlgorithm(PrivateKey key) throws IOException {
		return switch (key.getAlgorithm()) {
			case "RSA" -> "SHA256withRSA";
			case "EC", "ECDSA" -> "SHA256withECDSA";
			default -> throw new IOException("a " + key.getAlgorithm() + " private key cannot sign root hashes; give an RSA"
				+ " or EC key");
		};
	}

	/** OpenSSL's PKCS#7 names an RSA signature {rsaEncryption, NULL}, not sha256WithRSAEncryption as BC's CMS does. */
	private static AlgorithmIdentifier asOpenssl(AlgorithmIdentifier signature) {
		if (signature.getAlgorithm().equals(PKCSObjectIdentifiers.sha256WithRSAEncryption)) {
			return new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE);
		}
		return signature;
	}

	/** OpenSSL writes the digest algorithm as {sha256, NULL}; BC leaves the parameters out. */
	private static DigestCalculatorProvider withNullParameters(DigestCalculatorProvider p) {
		return id -> {
			DigestCalculator d = p.get(id);
			AlgorithmIdentifier withNull = id.getParameters() == null ? new AlgorithmIdentifier(id.getAlgorithm(), DERNull.INSTANCE)
				: id;
			return new DigestCalculator() {
				@Override
				public AlgorithmIdentifier getAlgorithmIdentifier() {
					return withNull;
				}

				@Override
				public java.io.OutputStream getOutputStream() {
					return d.getOutputStream();
				}

				@Override
				public byte[] getDigest() {
					return d.getDigest();
				}
			};
		};
	}
}
