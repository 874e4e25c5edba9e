package psi.transport.https.internal;

import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Checks server certificates with the Java runtime's PKIX trust manager and
 * says in one line why one is refused: not trusted (no path to a trusted CA,
 * expired, ...), or issued for other names than the host.
 * <p>
 * The JDK's checks decide; this class only names the failure. The one
 * exception is a client that turned host name verification off (the JDK's
 * internal {@code jdk.internal.httpclient.disableHostnameVerification}):
 * then the names are checked here, so that they are never skipped.
 * Thread safe.
 */
final class ServerTrust extends X509ExtendedTrustManager {

	/** A certificate without a path to a trusted CA, or otherwise invalid. */
	static final class Untrusted extends CertificateException {
		private static final long serialVersionUID = 1L;

		Untrusted(CertificateException cause) {
			super("the server's certificate is not trusted (" + plain(cause.getMessage()) + ")", cause);
		}
	}

	/** A certificate issued for other names than the host. */
	static final class WrongName extends CertificateException {
		private static final long serialVersionUID = 1L;

		WrongName(List<String> names, String host, CertificateException cause) {
			super("the certificate is for " + (names.isEmpty() ? "no host name" : String.join(", ", names))
				+ ", not " + host, cause);
		}
	}

	/** Internal class names the JDK puts into its messages. */
	private static final Pattern CLASS_PREFIX = Pattern.compile("\\b(?:[a-z]\\w*\\.)+[A-Z]\\w*Exception: ");

	private final X509ExtendedTrustManager pkix;

	ServerTrust(X509ExtendedTrustManager pkix) {
		this.pkix = pkix;
	}

	@Override
	public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
			throws CertificateException {
		path(chain, authType);
		String host = engine == null ? null : engine.getPeerHost();
		String identification = engine == null ? null
			: engine.getSSLParameters().getEndpointIdentificationAlgorithm();
		try {
			pkix.checkServerTrusted(chain, authType, engine);
		} catch (CertificateException e) {
			throw named(chain, host, e);
		}
		enforceName(chain, host, identification);
	}

	@Override
	public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
			throws CertificateException {
		path(chain, authType);
		String host = null;
		String identification = null;
		if (socket instanceof javax.net.ssl.SSLSocket s) {
			host = s.getHandshakeSession() == null ? null : s.getHandshakeSession().getPeerHost();
			identification = s.getSSLParameters().getEndpointIdentificationAlgorithm();
		}
		try {
			pkix.checkServerTrusted(chain, authType, socket);
		} catch (CertificateException e) {
			throw named(chain, host, e);
		}
		enforceName(chain, host, identification);
	}

	@Override
	public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
		path(chain, authType);
		throw new CertificateException("no host to check the certificate against");
	}

	@Override
	public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
		throw new CertificateException("psi does not accept TLS clients");
	}

	@Override
	public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
			throws CertificateException {
		checkClientTrusted(chain, authType);
	}

	@Override
	public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
			throws CertificateException {
		checkClientTrusted(chain, authType);
	}

	@Override
	public X509Certificate[] getAcceptedIssuers() {
		return pkix.getAcceptedIssuers();
	}

	/** The chain alone, without the host: a path to a trusted CA, validity. */
	private void path(X509Certificate[] chain, String authType) throws Untrusted {
		try {
			pkix.checkServerTrusted(chain, authType);
		} catch (CertificateException e) {
			throw new Untrusted(e);
		}
	}

	/**
	 * The path is trusted but the full check failed: a {@link WrongName} if
	 * the certificate does not name the host, else the JDK's reason.
	 */
	private static CertificateException named(X509Certificate[] chain, String host, CertificateException e) {
		if (host != null && !matches(chain[0], host)) {
			return new WrongName(names(chain[0]), host, e);
		}
		return e;
	}

	/** Checks the name here when the client did not ask the JDK to. */
	private static void enforceName(X509Certificate[] chain, String host, String identification)
			throws CertificateException {
		if (identification == null || identification.isEmpty()) {
			if (host == null || !matches(chain[0], host)) {
				throw new WrongName(names(chain[0]), String.valueOf(host), new CertificateException("no name check"));
			}
		}
	}

	/**
	 * Whether the certificate names {@code host} (RFC 6125: IP addresses
	 * against IP subject alternative names, host names against DNS ones,
	 * a wildcard covering one leftmost label; the subject's CN only without
	 * DNS names). Used to word a refusal, and to check when the JDK did not.
	 */
	static boolean matches(X509Certificate cert, String host) {
		String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
		boolean ip = isIpLiteral(h);
		List<String> dns = new ArrayList<>();
		for (List<?> san : sans(cert)) {
			int type = (Integer) san.get(0);
			String value = String.valueOf(san.get(1));
			if (type == 7 && ip && sameAddress(value, h)) {
				return true;
			}
			if (type == 2) {
				dns.add(value);
			}
		}
		if (ip) {
			return false;
		}
		if (dns.isEmpty()) {
			String cn = commonName(cert);
			return cn != null && nameMatches(cn, h);
		}
		return dns.stream().anyMatch(d -> nameMatches(d, h));
	}

	private static boolean nameMatches(String pattern, String host) {
		String p = pattern.toLowerCase(Locale.ROOT);
		String n = host.toLowerCase(Locale.ROOT);
		if (n.endsWith(".")) {
			n = n.substring(0, n.length() - 1);
		}
		if (p.startsWith("*.")) {
			int dot = n.indexOf('.');
			return dot > 0 && n.substring(dot).equals(p.substring(1)) && p.indexOf('.', 2) > 0;
		}
		return p.equals(n);
	}

	/** The DNS names and IP addresses the certificate is for, or its CN. */
	static List<String> names(X509Certificate cert) {
		List<String> names = new ArrayList<>();
		for (List<?> san : sans(cert)) {
			int type = (Integer) san.get(0);
			if (type == 2 || type == 7) {
				names.add(String.valueOf(san.get(1)));
			}
		}
		if (names.isEmpty()) {
			String cn = commonName(cert);
			if (cn != null) {
				names.add(cn);
			}
		}
		return names;
	}

	private static Collection<List<?>> sans(X509Certificate cert) {
		try {
			Collection<List<?>> sans = cert.getSubjectAlternativeNames();
			return sans == null ? List.of() : sans;
		} catch (CertificateParsingException e) {
			return List.of();
		}
	}

	private static String commonName(X509Certificate cert) {
		try {
			for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(
				cert.getSubjectX500Principal().getName()).getRdns()) {
				if (rdn.getType().equalsIgnoreCase("CN")) {
					return String.valueOf(rdn.getValue());
				}
			}
		} catch (javax.naming.InvalidNameException e) {
			return null;
		}
		return null;
	}

	private static boolean isIpLiteral(String host) {
		return host.indexOf(':') >= 0 || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
	}

	private static boolean sameAddress(String a, String b) {
		try {
			// literals only: getByName does not resolve an IP literal
			return InetAddress.getByName(a).equals(InetAddress.getByName(b));
		} catch (UnknownHostException e) {
			return false;
		}
	}

	/** The JDK's message without the internal class names it carries. */
	static String plain(String message) {
		return message == null ? "no reason given" : CLASS_PREFIX.matcher(message).replaceAll("");
	}
}
