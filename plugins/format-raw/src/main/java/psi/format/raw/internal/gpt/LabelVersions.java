package psi.format.raw.internal.gpt;

/**
 * systemd's {@code strverscmp_improved()} (src/fundamental/strverscmp.c, 252):
 * how dissection picks the newest of several root or usr partitions by their
 * labels (of {@code root_1.9} and {@code root_1.10}, the latter), the A/B
 * scheme of OS images. A missing label is older than any label.
 */
final class LabelVersions {

	private LabelVersions() {
	}

	/** @return negative, zero or positive as {@code a} is older than, as new as, or newer than {@code b} */
	static int compare(String a, String b) {
		if (a == null || a.isEmpty() || b == null || b.isEmpty()) {
			// systemd: NULL < "" < anything; libblkid reports an empty label as NULL
			boolean ea = a == null || a.isEmpty();
			boolean eb = b == null || b.isEmpty();
			return ea == eb ? 0 : ea ? -1 : 1;
		}
		int i = 0;
		int j = 0;
		int na = a.length();
		int nb = b.length();
		for (;;) {
			while (i < na && !valid(a.charAt(i))) {
				i++;
			}
			while (j < nb && !valid(b.charAt(j))) {
				j++;
			}
			char ca = at(a, i);
			char cb = at(b, j);
			if (ca == '~' || cb == '~') {
				int r = Boolean.compare(ca != '~', cb != '~');
				if (r != 0) {
					return r;
				}
				i++;
				j++;
			}
			ca = at(a, i);
			cb = at(b, j);
			if (ca == 0 || cb == 0) {
				return Integer.signum(a.substring(Math.min(i, na)).compareTo(b.substring(Math.min(j, nb))));
			}
			for (char sep : new char[] { '-', '^', '.' }) {
				ca = at(a, i);
				cb = at(b, j);
				if (ca == sep || cb == sep) {
					int r = Boolean.compare(ca != sep, cb != sep);
					if (r != 0) {
						return r;
					}
					i++;
					j++;
				}
			}
			ca = at(a, i);
			cb = at(b, j);
			int ea;
			int eb;
			if (digit(ca) || digit(cb)) {
				while (at(a, i) == '0') {
					i++;
				}
				while (at(b, j) == '0') {
					j++;
				}
				for (ea = i; digit(at(a, ea)); ea++) {
				}
				for (eb = j; digit(at(b, eb)); eb++) {
				}
				int r = Integer.compare(ea - i, eb - j);
				if (r != 0) {
					return r;
				}
				r = Integer.signum(a.substring(i, ea).compareTo(b.substring(j, eb)));
				if (r != 0) {
					return r;
				}
			} else {
				for (ea = i; alpha(at(a, ea)); ea++) {
				}
				for (eb = j; alpha(at(b, eb)); eb++) {
				}
				int n = Math.min(ea - i, eb - j);
				int r = Integer.signum(a.substring(i, i + n).compareTo(b.substring(j, j + n)));
				if (r != 0) {
					return r;
				}
				r = Integer.compare(ea - i, eb - j);
				if (r != 0) {
					return r;
				}
			}
			i = ea;
			j = eb;
		}
	}

	/** The character at {@code i}, or NUL past the end, as C strings read. */
	private static char at(String s, int i) {
		return i < s.length() ? s.charAt(i) : 0;
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
