package psi.transport.https.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The CAs psi trusts for https: the Java runtime's default trust store plus
 * every certificate in the {@code *.pem} and {@code *.crt} files of one
 * directory (PEM or DER, several per file allowed). The directory adds to the
 * defaults, never replaces them; a missing directory adds nothing.
 */
final class TrustedAuthorities {

	private TrustedAuthorities() {
	}

	/**
	 * What the directory holds now, to tell when to read it again: names,
	 * sizes and modification times of its certificate files.
	 *
	 * @param dir the directory
	 * @return a stamp that changes when a certificate file is added, removed or changed
	 * @throws IOException if the directory cannot be listed
	 */
	static String stamp(Path dir) throws IOException {
		StringBuilder sb = new StringBuilder();
		for (Path f : files(dir)) {
			sb.append(f.getFileName()).append('\0').append(Files.size(f)).append('\0')
				.append(Files.getLastModifiedTime(f).toMillis()).append('\n');
		}
		return sb.toString();
	}

	/**
	 * An SSL context trusting the default CAs and those in {@code dir}, with
	 * server certificates checked by {@link ServerTrust}.
	 *
	 * @param dir the directory of extra CAs
	 * @return the context
	 * @throws IOException if a certificate file cannot be read or parsed; the
	 *             message names the file
	 */
	static SSLContext context(Path dir) throws IOException {
		try {
			SSLContext ctx = SSLContext.getInstance("TLS");
			ctx.init(null, new TrustManager[] { trust(dir) }, null);
			return ctx;
		} catch (GeneralSecurityException e) {
			throw new IOException("cannot set up TLS: " + ServerTrust.plain(e.getMessage()), e);
		}
	}

	/**
	 * The trust manager behind {@link #context}.
	 *
	 * @param dir the directory of extra CAs
	 * @return a trust manager trusting the default CAs and those in {@code dir}
	 * @throws IOException if a certificate file cannot be read or parsed
	 */
	static ServerTrust trust(Path dir) throws IOException {
		try {
			KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
			store.load(null, null);
			int n = 0;
			for (X509Certificate ca : defaults()) {
				store.setCertificateEntry("default-" + n++, ca);
			}
			for (Path f : files(dir)) {
				int i = 0;
				for (X509Certificate ca : read(f)) {
					store.setCertificateEntry(f.getFileName() + "-" + i++, ca);
				}
			}
			TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
			tmf.init(store);
			for (TrustManager tm : tmf.getTrustManagers()) {
				if (tm instanceof X509ExtendedTrustManager x) {
					return new ServerTrust(x);
				}
			}
			throw new IOException("the Java runtime has no PKIX trust manager");
		} catch (GeneralSecurityException e) {
			throw new IOException("cannot set up TLS: " + ServerTrust.plain(e.getMessage()), e);
		}
	}

	/** The CAs of the Java runtime's default trust store. */
	private static List<X509Certificate> defaults() throws GeneralSecurityException {
		TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
		tmf.init((KeyStore) null);
		List<X509Certificate> cas = new ArrayList<>();
		for (TrustManager tm : tmf.getTrustManagers()) {
			if (tm instanceof X509TrustManager x) {
				cas.addAll(List.of(x.getAcceptedIssuers()));
			}
		}
		return cas;
	}

	/** The certificates in one file. */
	static List<X509Certificate> read(Path f) throws IOException {
		Collection<? extends Certificate> certs;
		try (InputStream in = Files.newInputStream(f)) {
			certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
		} catch (CertificateException e) {
			throw new IOException(f + ": not a certificate file: " + ServerTrust.plain(e.getMessage()), e);
		}
		List<X509Certificate> x509 = new ArrayList<>();
		for (Certificate c : certs) {
			if (c instanceof X509Certificate x) {
				x509.add(x);
			}
		}
		if (x509.isEmpty()) {
			throw new IOException(f + ": no certificate in it");
		}
		return x509;
	}

	/** The certificate files in {@code dir}, sorted; none if it does not exist. */
	private static List<Path> files(Path dir) throws IOException {
		List<Path> files = new ArrayList<>();
		try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
			for (Path f : ds) {
				String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
				if ((name.endsWith(".pem") || name.endsWith(".crt")) && Files.isRegularFile(f)) {
					files.add(f);
				}
			}
		} catch (NoSuchFileException e) {
			return List.of();
		} catch (NotDirectoryException e) {
			throw new IOException(dir + ": not a directory of CA certificates");
		}
		files.sort(null);
		return files;
	}
}
