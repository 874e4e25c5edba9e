package psi.transport.ssh.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * An {@code ssh://[user@]host[:port]/path} or {@code sftp://} URL, taken
 * apart as ssh and SFTP need it (the form of
 * draft-ietf-secsh-scp-sftp-ssh-uri): the path is absolute, and
 * {@code /~/rel} names {@code rel} under the remote user's home, which SFTP
 * expresses as a path without a leading slash. The path is percent-decoded
 * into bytes, as SFTP version 3 paths are byte strings.
 *
 * @param user the login name, or {@code null} to leave it to ssh's configuration
 * @param host the host name or address, without brackets
 * @param port the port, or -1 to leave it to ssh's configuration
 * @param sftpPath the path to open
 */
record SshUrl(String user, String host, int port, byte[] sftpPath) {

	/**
	 * @param url an {@code ssh:} or {@code sftp:} URL
	 * @return it, taken apart
	 * @throws IOException naming the URL and what is wrong with it in one line
	 */
	static SshUrl parse(URI url) throws IOException {
		String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
		if (!scheme.equals("ssh") && !scheme.equals("sftp")) {
			throw bad(url, "not an ssh: or sftp: URL");
		}
		if (url.isOpaque() || url.getRawAuthority() == null) {
			throw bad(url, "not of the form " + scheme + "://[user@]host[:port]/path");
		}
		if (url.getRawQuery() != null || url.getRawFragment() != null) {
			throw bad(url, "a query or fragment in an " + scheme + ": URL is not supported");
		}
		// taken apart here, not by URI: URI gives no host for names it finds
		// unusual (an ssh_config alias such as my_box)
		String authority = url.getRawAuthority();
		int at = authority.lastIndexOf('@');
		String rawUser = at < 0 ? null : authority.substring(0, at);
		String hostPort = authority.substring(at + 1);
		String host;
		String port = "";
		if (hostPort.startsWith("[")) {
			int close = hostPort.indexOf(']');
			if (close < 0) {
				throw bad(url, "an unclosed [ in the host");
			}
			// an IPv6 zone is written %25 in a URL (RFC 6874)
			host = hostPort.substring(1, close).replace("%25", "%");
			String rest = hostPort.substring(close + 1);
			if (!rest.isEmpty() && !rest.startsWith(":")) {
				throw bad(url, "text after the ] of the host");
			}
			port = rest.isEmpty() ? "" : rest.substring(1);
		} else {
			int colon = hostPort.lastIndexOf(':');
			host = colon < 0 ? hostPort : hostPort.substring(0, colon);
			port = colon < 0 ? "" : hostPort.substring(colon + 1);
		}
		boolean bracketed = hostPort.startsWith("[");
		if (host.isEmpty() || host.startsWith("-") || !host.chars().allMatch(c -> hostChar(c) || bracketed && (c == ':' || c == '%'))) {
			throw bad(url, "the host '" + Printable.line(host, 64) + "' is not one ssh can take");
		}
		int portNumber = -1;
		if (!port.isEmpty()) {
			portNumber = port.length() <= 5 && port.chars().allMatch(c -> c >= '0' && c <= '9') ? Integer.parseInt(port) : 0;
			if (portNumber < 1 || portNumber > 65535) {
				throw bad(url, "the port '" + Printable.line(port, 16) + "' is not one from 1 to 65535");
			}
		}
		String user = null;
		if (rawUser != null) {
			if (rawUser.contains(":")) {
				throw bad(url, "a password in the URL is not supported; use keys or an agent");
			}
			user = new String(decode(url, rawUser), StandardCharsets.UTF_8);
			if (user.isEmpty() || user.startsWith("-") || user.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
				throw bad(url, "the user name '" + Printable.line(user, 64) + "' is not one ssh can take");
			}
		}
		byte[] path = path(url);
		return new SshUrl(user, host, portNumber, path);
	}

	/** Letters, digits and {@code . - _}; in brackets also the {@code : %} of IPv6 addresses and zones. */
	private static boolean hostChar(int c) {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_';
	}

	/** @return the SFTP path: {@code /~/rel} becomes {@code rel}, anything else stays absolute */
	private static byte[] path(URI url) throws IOException {
		String raw = url.getRawPath();
		if (raw == null || raw.isEmpty() || raw.equals("/")) {
			throw bad(url, "no file path");
		}
		if (raw.startsWith("/~/")) {
			raw = raw.substring(3);
		} else if (raw.equals("/~")) {
			throw bad(url, "names the home directory, not a file");
		}
		byte[] path = decode(url, raw);
		if (path.length == 0 || path[path.length - 1] == '/') {
			throw bad(url, "names a directory, not a file");
		}
		for (byte b : path) {
			if (b == 0) {
				throw bad(url, "the path holds a NUL byte");
			}
		}
		if (path.length > SftpRequests.MAX_PATH) {
			throw bad(url, "a path of " + path.length + " bytes, the most is " + SftpRequests.MAX_PATH);
		}
		return path;
	}

	/** Percent-decodes into bytes; characters other than escapes stand for their UTF-8 bytes. */
	private static byte[] decode(URI url, String raw) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
		for (int i = 0; i < raw.length(); i++) {
			char c = raw.charAt(i);
			if (c != '%') {
				int end = i + 1;
				while (end < raw.length() && raw.charAt(end) != '%') {
					end++;
				}
				out.writeBytes(raw.substring(i, end).getBytes(StandardCharsets.UTF_8));
				i = end - 1;
				continue;
			}
			int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
			int lo = hi < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
			if (lo < 0) {
				throw bad(url, "a malformed percent escape at character " + i + " of '" + raw + "'");
			}
			out.write(hi << 4 | lo);
			i += 2;
		}
		return out.toByteArray();
	}

	private static IOException bad(URI url, String problem) {
		return new IOException(url + ": " + problem);
	}
}
