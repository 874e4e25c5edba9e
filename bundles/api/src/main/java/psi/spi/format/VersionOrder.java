package psi.spi.format;

/**
 * systemd's version order, {@code strverscmp_improved()} (the UAPI version
 * format): segments of digits or of letters, compared as numbers and as
 * text; {@code ~} older than anything, even the end; {@code -} older than
 * {@code ^}, older than {@code .}; more segments newer; other characters
 * only separate. Used for the labels of A/B partitions and the versions in
 * {@code .v/} directories.
 *
 * @since 1.1
 */
public final class VersionOrder {

	private VersionOrder() {
	}

	/**
	 * @return negative, zero or positive as {@code a} is older than, as new as, or newer than {@code b}
	 */
	public static int compare(String a, String b) {
		int i = 0;
		int j = 0;
		for (;;) {
			i = skipInvalid(a, i);
			j = skipInvalid(b, j);
			if (at(a, i) == '~' || at(b, j) == '~') {
				int r = Boolean.compare(at(a, i) != '~', at(b, j) != '~');
				if (r != 0) {
					return r;
				}
				i++;
				j++;
			}
			if (at(a, i) == 0 || at(b, j) == 0) {
				return Integer.compare(at(a, i), at(b, j));
			}
			for (char sep : new char[] { '-', '^', '.' }) {
				if (at(a, i) == sep || at(b, j) == sep) {
					int r = Boolean.compare(at(a, i) != sep, at(b, j) != sep);
					if (r != 0) {
						return r;
					}
					i++;
					j++;
				}
			}
			boolean digits = digit(at(a, i)) || digit(at(b, j));
			int ea = segmentEnd(a, i, digits);
			int eb = segmentEnd(b, j, digits);
			int r;
			if (digits) {
				// a number is newer than none; then leading zeros do not count, longer is newer, then the digits
				r = Boolean.compare(i != ea, j != eb);
				if (r != 0) {
					return r;
				}
				while (i < ea && a.charAt(i) == '0') {
					i++;
				}
				while (j < eb && b.charAt(j) == '0') {
					j++;
				}
				r = Integer.compare(ea - i, eb - j);
				if (r == 0) {
					r = Integer.signum(a.substring(i, ea).compareTo(b.substring(j, eb)));
				}
			} else {
				// letters: the common part as text, then longer is newer
				int n = Math.min(ea - i, eb - j);
				r = Integer.signum(a.substring(i, i + n).compareTo(b.substring(j, j + n)));
				if (r == 0) {
					r = Integer.compare(ea - i, eb - j);
				}
			}
			if (r != 0) {
				return r;
			}
			i = ea;
			j = eb;
		}
	}

	/** The character at {@code i}, or NUL past the end, as C strings read. */
	private static char at(String s, int i) {
		return i < s.length() ? s.charAt(i) : 0;
	}

	private static int skipInvalid(String s, int i) {
		while (i < s.length() && !valid(s.charAt(i))) {
			i++;
		}
		return i;
	}

	/** @return where the run of digits (or of letters) from {@code i} ends */
	private static int segmentEnd(String s, int i, boolean digits) {
		while (i < s.length() && (digits ? digit(s.charAt(i)) : alpha(s.charAt(i)))) {
			i++;
		}
		return i;
	}

	private static boolean digit(char c) {
		return c >= '0' && c <= '9';
	}

	private static boolean alpha(char c) {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
	}

	private static boolean valid(char c) {
		return digit(c) || alpha(c) || c == '~' || c == '-' || c == '^' || c == '.';
	}
}
