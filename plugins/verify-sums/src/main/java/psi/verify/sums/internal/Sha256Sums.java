package psi.verify.sums.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import psi.spi.verify.VerificationException;

/**
 * A {@code SHA256SUMS} file, or an image's own {@code X.sha256}: SHA-256
 * digests by file name, as published beside images and checked against the
 * image psi received.
 * <p>
 * Lines are what {@code sha256sum} writes and {@code sha256sum -c} reads
 * (GNU coreutils): {@code <64 hex> <space or *><name>}, also with the single
 * space linuxcontainers.org uses and systemd-importd accepts; BSD style
 * {@code SHA256 (<name>) = <64 hex>} as {@code sha256sum --tag} writes; a
 * leading backslash marks a name with {@code \\}, {@code \n} or {@code \r}
 * escapes. Blank lines, {@code #} comments and CRLF line ends are tolerated as
 * coreutils does. An {@code X.sha256} may also hold the bare digest.
 * <p>
 * Stricter than systemd-importd, which searches the file for the one line it
 * expects: every line must parse, and every name must be a plain file name,
 * so that a file naming {@code ../../etc/passwd} is refused whole and never
 * followed. Names are kept as bytes (ISO-8859-1 strings), so that a file name
 * in any encoding compares exactly. Immutable.
 */
final class Sha256Sums {

	/** The longest line read, in bytes without its newline. */
	static final int MAX_LINE = 4096;

	private static final int HEX = 64;
	private static final String BSD_TAG = "SHA256 (";
	private static final String BSD_SEPARATOR = ") = ";

	/**
	 * One digest.
	 *
	 * @param name the file name as ISO-8859-1 of its bytes, or {@code null} for
	 *            a bare digest in an {@code X.sha256}
	 * @param digest the 32 bytes of the SHA-256
	 * @param line the line number, from 1
	 */
	record Entry(String name, byte[] digest, int line) {
	}

	private final String source;
	private final String check;
	private final boolean perFile;
	private final List<Entry> entries;

	private Sha256Sums(String source, String check, boolean perFile, List<Entry> entries) {
		this.source = source;
		this.check = check;
		this.perFile = perFile;
		this.entries = entries;
	}

	/**
	 * Parses a whole file.
	 *
	 * @param content the file's bytes
	 * @param source how messages name the file: {@code SHA256SUMS} or {@code X.sha256}
	 * @param check the check reading it, which starts each message: {@code checksum} or {@code signature}
	 * @param perFile whether this is an image's own {@code X.sha256}, which may
	 *            hold a bare digest and must name only that image
	 * @return the digests
	 * @throws VerificationException for a line that is too long or malformed,
	 *             or a name that is not a plain file name
	 */
	static Sha256Sums parse(byte[] content, String source, String check, boolean perFile) throws VerificationException {
		List<Entry> entries = new ArrayList<>();
		int number = 0;
		int start = 0;
		while (start < content.length) {
			number++;
			int end = start;
			while (end < content.length && content[end] != '\n') {
				end++;
			}
			if (end - start > MAX_LINE) {
				throw new VerificationException(check + ": " + source + " line " + number + " is longer than " + MAX_LINE + " bytes");
			}
			String line = new String(content, start, end - start, StandardCharsets.ISO_8859_1);
			start = end + 1;
			if (line.endsWith("\r")) {
				line = line.substring(0, line.length() - 1);
			}
			if (line.isEmpty() || line.startsWith("#")) {
				continue;
			}
			if (number == 1 && line.startsWith("-----BEGIN PGP")) {
				throw new VerificationException(check + ": " + source + " is an inline-signed OpenPGP message, which psi does not read;"
					+ " publish it plain with a detached SHA256SUMS.gpg");
			}
			entries.add(entry(line, number, source, check, perFile));
		}
		return new Sha256Sums(source, check, perFile, List.copyOf(entries));
	}

	private static Entry entry(String line, int number, String source, String check, boolean perFile) throws VerificationException {
		boolean escaped = line.startsWith("\\");
		String rest = escaped ? line.substring(1) : line;
		String name;
		String hex;
		int n = rest.length();
		if (rest.startsWith(BSD_TAG) && n >= BSD_TAG.length() + BSD_SEPARATOR.length() + HEX
			&& rest.startsWith(BSD_SEPARATOR, n - HEX - BSD_SEPARATOR.length()) && isHex(rest, n - HEX, n)) {
			name = rest.substring(BSD_TAG.length(), n - HEX - BSD_SEPARATOR.length());
			hex = rest.substring(n - HEX);
		} else if (n > HEX && isHex(rest, 0, HEX) && rest.charAt(HEX) == ' ') {
			int from = HEX + 1;
			// GNU's mode character: ' ' text, '*' binary; without one the name starts right away
			if (from < n && (rest.charAt(from) == ' ' || rest.charAt(from) == '*')) {
				from++;
			}
			name = rest.substring(from);
			hex = rest.substring(0, HEX);
		} else if (perFile && !escaped && isHex(rest.strip(), 0, HEX) && rest.strip().length() == HEX) {
			return new Entry(null, HexFormat.of().parseHex(rest.strip()), number);
		} else {
			throw new VerificationException(check + ": " + source + " line " + number + " is malformed: expected '<64 hex digits>  <name>'"
				+ " or 'SHA256 (<name>) = <64 hex digits>'");
		}
		if (escaped) {
			name = unescape(name);
			if (name == null) {
				throw new VerificationException(check + ": " + source + " line " + number + " has an escape other than \\\\, \\n or \\r in its name");
			}
		}
		if (!isPlainName(name)) {
			throw new VerificationException(check + ": " + source + " line " + number + ": '" + show(name) + "' is not a plain file name");
		}
		return new Entry(name, HexFormat.of().parseHex(hex), number);
	}

	/**
	 * Checks the image's digest against its entry.
	 *
	 * @param fileName the image's file name, as the file names it
	 * @param sha256 the image's SHA-256, hex
	 * @throws VerificationException when there is no entry, two entries
	 *             disagree, or the digest does not match
	 */
	void verify(String fileName, String sha256) throws VerificationException {
		String wanted = latin1(fileName);
		Entry found = null;
		for (Entry e : entries) {
			if (e.name() != null && !e.name().equals(wanted)) {
				if (perFile) {
					throw new VerificationException(check + ": " + source + " line " + e.line() + " names '" + show(e.name()) + "', not "
						+ fileName);
				}
				continue;
			}
			if (found != null && !MessageDigest.isEqual(found.digest(), e.digest())) {
				throw new VerificationException(check + ": " + source + " lists " + fileName + " twice with different digests (lines "
					+ found.line() + " and " + e.line() + ")");
			}
			found = found == null ? e : found;
		}
		if (found == null) {
			throw new VerificationException(check + ": " + source + " has no entry for " + fileName);
		}
		byte[] actual;
		try {
			actual = HexFormat.of().parseHex(sha256);
		} catch (IllegalArgumentException e) {
			throw new VerificationException(check + ": the image's SHA-256 '" + sha256 + "' is not hex");
		}
		if (!MessageDigest.isEqual(actual, found.digest())) {
			throw new VerificationException(check + ": " + fileName + " does not match " + source + " (SHA-256 "
				+ HexFormat.of().formatHex(actual) + ", expected " + HexFormat.of().formatHex(found.digest()) + ")");
		}
	}

	/** @return the entries, in file order */
	List<Entry> entries() {
		return entries;
	}

	/**
	 * @param name a file name
	 * @return whether it is one path component that leads nowhere else: not
	 *         empty, not {@code .} or {@code ..}, no {@code /}, no NUL
	 */
	static boolean isPlainName(String name) {
		return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0 && name.indexOf('\0') < 0;
	}

	private static boolean isHex(String s, int from, int to) {
		if (to > s.length()) {
			return false;
		}
		for (int i = from; i < to; i++) {
			if (Character.digit(s.charAt(i), 16) < 0) {
				return false;
			}
		}
		return true;
	}

	/** @return the name with coreutils' escapes undone, or {@code null} for an unknown escape */
	private static String unescape(String name) {
		StringBuilder b = new StringBuilder(name.length());
		for (int i = 0; i < name.length(); i++) {
			char c = name.charAt(i);
			if (c != '\\') {
				b.append(c);
				continue;
			}
			if (++i == name.length()) {
				return null;
			}
			switch (name.charAt(i)) {
			case '\\' -> b.append('\\');
			case 'n' -> b.append('\n');
			case 'r' -> b.append('\r');
			default -> {
				return null;
			}
			}
		}
		return b.toString();
	}

	/** @return the UTF-8 bytes of a Java string, as an ISO-8859-1 string (one char per byte) */
	private static String latin1(String s) {
		return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
	}

	/**
	 * @param name a name as ISO-8859-1 of its bytes
	 * @return it for a one-line message: decoded as UTF-8 where it is, control
	 *         characters and undecodable bytes as {@code \xNN}
	 */
	static String show(String name) {
		String text;
		try {
			text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(name.getBytes(StandardCharsets.ISO_8859_1)))
				.toString();
		} catch (CharacterCodingException e) {
			// not UTF-8: every byte above ASCII is shown as a byte
			text = null;
		}
		return oneLine(text == null ? name : text, text == null);
	}

	/** @return the text with control characters as {@code \xNN}, for a one-line message */
	static String oneLine(String text) {
		return oneLine(text, false);
	}

	private static String oneLine(String s, boolean bytes) {
		StringBuilder b = new StringBuilder(s.length());
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || (bytes && c >= 0x80)) {
				b.append(String.format("\\x%02x", (int) c));
			} else {
				b.append(c);
			}
		}
		return b.toString();
	}
}
