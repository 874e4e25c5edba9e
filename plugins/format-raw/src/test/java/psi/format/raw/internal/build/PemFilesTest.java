package psi.format.raw.internal.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.format.raw.internal.gpt.Fixtures;

/** Keys and certificates as {@code openssl} writes them, in each PEM form systemd-repart reads. */
class PemFilesTest {

	@TempDir
	Path dir;

	@Test
	void rsaKeysPkcs8AndTraditional() throws IOException {
		Path pkcs8 = dir.resolve("key.pem");
		Path cert = dir.resolve("cert.pem");
		BuildFixtures.keyPair(pkcs8, cert, "rsa:2048", "/CN=psi pem");
		assertEquals("-----BEGIN PRIVATE KEY-----", Files.readAllLines(pkcs8).get(0));
		Path traditional = dir.resolve("rsa.pem");
		Fixtures.run(List.of("openssl", "rsa", "-traditional", "-in", pkcs8.toString(), "-out", traditional.toString()), null);
		assertEquals("-----BEGIN RSA PRIVATE KEY-----", Files.readAllLines(traditional).get(0));

		X509Certificate c = PemFiles.certificate(cert);
		assertEquals("CN=psi pem", c.getSubjectX500Principal().getName());
		PrivateKey a = PemFiles.privateKey(pkcs8);
		PrivateKey b = PemFiles.privateKey(traditional);
		assertEquals("RSA", a.getAlgorithm());
		assertEquals(a, b);
		SignaturePartition.checkPair(a, c);
		SignaturePartition.checkPair(b, c);
	}

	@Test
	void ecKeysTraditionalAndPkcs8() throws IOException {
		Path traditional = dir.resolve("ec.pem");
		Path cert = dir.resolve("ec.crt");
		BuildFixtures.keyPair(traditional, cert, "ec", "/CN=psi ec");
		assertEquals("-----BEGIN EC PRIVATE KEY-----", Files.readAllLines(traditional).get(0));
		Path pkcs8 = dir.resolve("ec8.pem");
		Fixtures.run(List.of("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", traditional.toString(), "-out", pkcs8.toString()),
			null);
		PrivateKey a = PemFiles.privateKey(traditional);
		PrivateKey b = PemFiles.privateKey(pkcs8);
		assertEquals("EC", a.getAlgorithm());
		SignaturePartition.checkPair(a, PemFiles.certificate(cert));
		SignaturePartition.checkPair(b, PemFiles.certificate(cert));
	}

	@Test
	void badFilesAreOneLineErrorsNamingTheFile() throws IOException {
		Path key = dir.resolve("key.pem");
		Path cert = dir.resolve("cert.pem");
		BuildFixtures.keyPair(key, cert, "rsa:2048", "/CN=psi pem");
		Path missing = dir.resolve("missing.pem");
		assertEquals("private key file '" + missing + "' does not exist", message(() -> PemFiles.privateKey(missing)));
		assertEquals("certificate file '" + missing + "' does not exist", message(() -> PemFiles.certificate(missing)));
		assertEquals("private key file '" + dir + "' is not a regular file", message(() -> PemFiles.privateKey(dir)));
		assertEquals("private key file '" + cert + "': no private key in it", message(() -> PemFiles.privateKey(cert)));
		assertEquals("certificate file '" + key + "': no certificate in it", message(() -> PemFiles.certificate(key)));
		Path garbage = Files.writeString(dir.resolve("garbage.pem"), "hello\n");
		assertEquals("private key file '" + garbage + "': no private key in it", message(() -> PemFiles.privateKey(garbage)));
		Path broken = Files.writeString(dir.resolve("broken.pem"), "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n");
		String m = message(() -> PemFiles.privateKey(broken));
		assertEquals(true, m.startsWith("private key file '" + broken + "': "), m);
		assertEquals(false, m.contains("\n"), m);
		Path encrypted = dir.resolve("encrypted.pem");
		Fixtures.run(List.of("openssl", "pkcs8", "-topk8", "-in", key.toString(), "-out", encrypted.toString(), "-passout",
			"pass:secret"), null);
		assertEquals("private key file '" + encrypted + "': the key is encrypted; give an unencrypted key",
			message(() -> PemFiles.privateKey(encrypted)));
		Path huge = Files.write(dir.resolve("huge.pem"), new byte[PemFiles.MAX_FILE + 1]);
		assertEquals("certificate file '" + huge + "' has more than " + PemFiles.MAX_FILE + " bytes",
			message(() -> PemFiles.certificate(huge)));
	}

	private interface Call {
		void run() throws IOException;
	}

	private static String message(Call c) {
		return assertThrows(IOException.class, c::run).getMessage();
	}
}
