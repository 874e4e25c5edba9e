package psi.portable1.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * systemd's object path labels ({@code bus_label_escape} and
 * {@code bus_label_unescape} of {@code basic/bus-label.c}): every byte of the
 * UTF-8 name that is not an ASCII letter, or a digit after the first byte,
 * becomes {@code _} and two lower case hex digits; the empty name is
 * {@code _}. So {@code gpt_1} is {@code gpt_5f1}, {@code 1abc} is
 * {@code _31abc}.
 */
final class BusLabel {

	private static final char[] HEX = "0123456789abcdef".toCharArray();

	private BusLabel() {
	}

	static String escape(String name) {
		if (name.isEmpty()) {
			return "_";
		}
		byte[] b = name.getBytes(StandardCharsets.UTF_8);
		StringBuilder out = new StringBuilder(b.length * 3);
		for (int i = 0; i < b.length; i++) {
			int c = b[i] & 0xff;
			boolean letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
			boolean digit = c >= '0' && c <= '9';
			if (letter || (digit && i > 0)) {
				out.append((char) c);
			} else {
				out.append('_').append(HEX[c >> 4]).append(HEX[c & 15]);
			}
		}
		return out.toString();
	}

	/** @return the name; a {@code _} not followed by two hex digits stays as it is, as in systemd */
	static String unescape(String label) {
		if (label.equals("_")) {
			return "";
		}
		ByteArrayOutputStream out = new ByteArrayOutputStream(label.length());
		for (int i = 0; i < label.length(); i++) {
			char c = label.charAt(i);
			if (c == '_' && i + 2 < label.length() && hex(label.charAt(i + 1)) >= 0 && hex(label.charAt(i + 2)) >= 0) {
				out.write(hex(label.charAt(i + 1)) << 4 | hex(label.charAt(i + 2)));
				i += 2;
			} else {
				out.write(c);
			}
		}
		return out.toString(StandardCharsets.UTF_8);
	}

	private static int hex(char c) {
		return c < 128 ? Character.digit(c, 16) : -1;
	}

	/**
	 * sd_bus_path_decode: the name under {@code prefix}, or {@code null} when
	 * {@code path} is not one label below it.
	 */
	static String decode(String path, String prefix) {
		if (!path.startsWith(prefix + "/")) {
			return null;
		}
		String label = path.substring(prefix.length() + 1);
		if (label.isEmpty() || label.indexOf('/') >= 0) {
			return null;
		}
		return unescape(label);
	}
}
