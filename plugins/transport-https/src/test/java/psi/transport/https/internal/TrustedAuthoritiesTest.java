package psi.transport.https.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA directory adds to the Java runtime's CAs; names are matched as RFC 6125 says. */
class TrustedAuthoritiesTest {

	@TempDir
	Path dir;

	/** A self-signed certificate made by the JDK's keytool, as PEM. */
	private Path certificate(String name, String dname, String san) throws Exception {
		Path keystore = dir.resolve(name + ".p12");
		Path pem = dir.resolve(name + ".pem.out");
		String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
		run(keytool, "-genkeypair", "-keystore", keystore.toString(), "-storepass", "changeit", "-alias", "k",
			"-keyalg", "EC", "-dname", dname, "-ext", "SAN=" + san, "-ext", "BC:c=ca:true", "-validity", "30");
		run(keytool, "-exportcert", "-rfc", "-keystore", keystore.toString(), "-storepass", "changeit", "-alias", "k",
			"-file", pem.toString());
		return pem;
	}

	private static void run(String... cmd) throws Exception {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes());
		assertTrue(p.waitFor(60, TimeUnit.SECONDS));
		assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
	}

	private static Set<X509Certificate> defaults() throws Exception {
		TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
		tmf.init((KeyStore) null);
		for (TrustManager tm : tmf.getTrustManagers()) {
			if (tm instanceof X509TrustManager x) {
				return Set.of(x.getAcceptedIssuers());
			}
		}
		throw new AssertionError("no default trust manager");
	}

	@Test
	void theDirectoryAddsToTheDefaults() throws Exception {
		Path ca = Files.createDirectories(dir.resolve("ca.d"));
		Path pem = certificate("one", "CN=psi test one", "dns:one.test");
		Files.copy(pem, ca.resolve("one.pem"));
		Files.copy(certificate("two", "CN=psi test two", "dns:two.test"), ca.resolve("two.crt"));
		Files.copy(pem, ca.resolve("ignored.txt"));
		Set<X509Certificate> trusted = Set.of(TrustedAuthorities.trust(ca).getAcceptedIssuers());
		Set<X509Certificate> defaults = defaults();
		assertFalse(defaults.isEmpty());
		assertTrue(trusted.containsAll(defaults), "the Java runtime's CAs stay trusted");
		Set<String> extra = trusted.stream().filter(c -> !defaults.contains(c))
			.map(c -> c.getSubjectX500Principal().getName()).collect(Collectors.toSet());
		assertEquals(Set.of("CN=psi test one", "CN=psi test two"), extra);
	}

	@Test
	void noDirectoryMeansTheDefaults() throws Exception {
		assertEquals(defaults(), Set.of(TrustedAuthorities.trust(dir.resolve("missing")).getAcceptedIssuers()));
		assertEquals("", TrustedAuthorities.stamp(dir.resolve("missing")));
	}

	@Test
	void aBrokenFileIsNamed() throws Exception {
		Path ca = Files.createDirectories(dir.resolve("ca.d"));
		Files.writeString(ca.resolve("broken.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
		IOException e = assertThrows(IOException.class, () -> TrustedAuthorities.trust(ca));
		assertTrue(e.getMessage().startsWith(ca.resolve("broken.crt") + ": "), e.getMessage());
		assertFalse(e.getMessage().contains("\n"));
	}

	@Test
	void aFileInsteadOfTheDirectoryIsNamed() throws Exception {
		Path f = Files.writeString(dir.resolve("ca.d"), "x");
		IOException e = assertThrows(IOException.class, () -> TrustedAuthorities.stamp(f));
		assertEquals(f + ": not a directory of CA certificates", e.getMessage());
	}

	@Test
	void theStampChangesWithTheFiles() throws Exception {
		Path ca = Files.createDirectories(dir.resolve("ca.d"));
		String empty = TrustedAuthorities.stamp(ca);
		Path pem = certificate("one", "CN=psi test one", "dns:one.test");
		Files.copy(pem, ca.resolve("one.pem"));
		String one = TrustedAuthorities.stamp(ca);
		assertNotEquals(empty, one);
		Files.writeString(ca.resolve("notes.txt"), "not a CA file");
		assertEquals(one, TrustedAuthorities.stamp(ca));
		Files.delete(ca.resolve("one.pem"));
		assertEquals(empty, TrustedAuthorities.stamp(ca));
	}

	@Test
	void namesAreMatchedAsRfc6125Says() throws Exception {
		X509Certificate c = TrustedAuthorities.read(certificate("names", "CN=ignored.example",
			"dns:*.example.org,dns:exact.test,ip:10.0.0.1,ip:::1")).get(0);
		assertTrue(ServerTrust.matches(c, "a.example.org"));
		assertTrue(ServerTrust.matches(c, "A.Example.ORG"));
		assertFalse(ServerTrust.matches(c, "b.a.example.org"), "a wildcard covers one label");
		assertFalse(ServerTrust.matches(c, "example.org"));
		assertTrue(ServerTrust.matches(c, "exact.test"));
		assertTrue(ServerTrust.matches(c, "exact.test."));
		assertFalse(ServerTrust.matches(c, "ignored.example"), "the CN does not count beside DNS names");
		assertTrue(ServerTrust.matches(c, "10.0.0.1"));
		assertFalse(ServerTrust.matches(c, "10.0.0.2"));
		assertTrue(ServerTrust.matches(c, "[0:0:0:0:0:0:0:1]"));
		assertEquals(List.of("*.example.org", "exact.test", "10.0.0.1", "0:0:0:0:0:0:0:1"), ServerTrust.names(c));
		X509Certificate cnOnly = TrustedAuthorities.read(certificate("cn", "CN=cn.test", "email:x@cn.test")).get(0);
		assertTrue(ServerTrust.matches(cnOnly, "cn.test"));
		assertFalse(ServerTrust.matches(cnOnly, "10.0.0.1"), "an IP address never matches a CN");
	}

	@Test
	void jdkClassNamesLeaveMessages() {
		assertEquals("PKIX path building failed: unable to find valid certification path to requested target",
			ServerTrust.plain("PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException:"
				+ " unable to find valid certification path to requested target"));
	}
}
