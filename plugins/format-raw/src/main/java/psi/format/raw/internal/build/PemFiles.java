package psi.format.raw.internal.build;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads the PEM files systemd-repart takes for {@code --private-key=} and
 * {@code --certificate=}: an unencrypted RSA or EC private key, PKCS#8
 * ({@code BEGIN PRIVATE KEY}) or traditional ({@code BEGIN RSA PRIVATE KEY},
 * {@code BEGIN EC PRIVATE KEY}), and an X.509 certificate, the first of each
 * in the file. Keys are converted with the JDK's providers; no provider is
 * registered. Stateless and thread safe.
 */
public final class PemFiles {

	/** Bounds a key or certificate file. */
	static final int MAX_FILE = 1 << 20;

	private PemFiles() {
	}

	/**
	 * @return the first private key in a PEM file
	 * @throws IOException one line naming the file: missing, too large, not
	 *         PEM, encrypted, or without a private key
	 */
	public static PrivateKey privateKey(Path file) throws IOException {
		String what = "private key file '" + file + "'";
		String text = read(file, what);
		Object key = null;
		try (PEMParser pem = new PEMParser(new StringReader(text))) {
			for (Object o = pem.readObject(); o != null && key == null; o = pem.readObject()) {
				if (o instanceof PEMKeyPair || o instanceof PrivateKeyInfo || o instanceof PEMEncryptedKeyPair
					|| o instanceof PKCS8EncryptedPrivateKeyInfo) {
					key = o;
				}
			}
		} catch (IOException | RuntimeException e) {
			throw new IOException(what + ": not a PEM private key: " + oneLine(e));
		}
		if (key == null) {
			throw new IOException(what + ": no private key in it");
		}
		if (key instanceof PEMEncryptedKeyPair || key instanceof PKCS8EncryptedPrivateKeyInfo) {
			throw new IOException(what + ": the key is encrypted; give an unencrypted key");
		}
		try {
			JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
			return key instanceof PEMKeyPair kp ? converter.getKeyPair(kp).getPrivate()
				: converter.getPrivateKey((PrivateKeyInfo) key);
		} catch (IOException | RuntimeException e) {
			throw new IOException(what + ": unusable private key: " + oneLine(e));
		}
	}

	/**
	 * @return the first X.509 certificate in a PEM file
	 * @throws IOException one line naming the file: missing, too large, not
	 *         PEM, or without a certificate
	 */
	public static X509Certificate certificate(Path file) throws IOException {
		String what = "certificate file '" + file + "'";
		String text = read(file, what);
		try (PEMParser pem = new PEMParser(new StringReader(text))) {
			for (Object o = pem.readObject(); o != null; o = pem.readObject()) {
				if (o instanceof X509CertificateHolder h) {
					return new JcaX509CertificateConverter().getCertificate(h);
				}
			}
		} catch (IOException | RuntimeException | CertificateException e) {
			throw new IOException(what + ": not a PEM certificate: " + oneLine(e));
		}
		throw new IOException(what + ": no certificate in it");
	}

	private static String read(Path file, String what) throws IOException {
		if (!Files.isRegularFile(file)) {
			throw new IOException(what + (Files.exists(file) ? " is not a regular file" : " does not exist"));
		}
		byte[] b;
		try (InputStream in = Files.newInputStream(file)) {
			b = in.readNBytes(MAX_FILE + 1);
		} catch (NoSuchFileException e) {
			throw new IOException(what + " does not exist");
		} catch (IOException e) {
			throw new IOException(what + " cannot be read: " + oneLine(e));
		}
		if (b.length > MAX_FILE) {
			throw new IOException(what + " has more than " + MAX_FILE + " bytes");
		}
		return new String(b, StandardCharsets.US_ASCII);
	}

	static String oneLine(Exception e) {
		String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
		return m.replaceAll("[\\r\\n]+", " ").strip();
	}
}
