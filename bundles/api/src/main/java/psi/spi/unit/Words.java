package psi.spi.unit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a unit value into words as systemd's {@code extract_first_word()}
 * does with {@code EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE}: words separated by
 * whitespace; single or double quotes group, anywhere in a word
 * ({@code a"b c"d} is one word, {@code ab cd}); C escapes ({@code \n},
 * {@code \t}, {@code \\}, {@code \"}, {@code \xNN}, {@code \NNN} octal,
 * {@code \\uNNNN}, {@code \UNNNNNNNN}, {@code \s} a space) decoded in and
 * out of quotes. An unterminated quote, a trailing backslash or a bad escape
 * is refused, as systemd refuses the line.
 */
public final class Words {

	private static final String WHITESPACE = " \t\n\r";

	private Words() {
	}

	/**
	 * @param value a unit value
	 * @return its words, unquoted and unescaped
	 * @throws IllegalArgumentException for an unterminated quote, a trailing backslash or a bad escape
	 */
	public static List<String> split(String value) {
		List<String> out = new ArrayList<>();
		Cursor c = new Cursor(value);
		String w;
		while ((w = c.next()) != null) {
			out.add(w);
		}
		return out;
	}

	/**
	 * Reads words one at a time, so that a caller may look at each before
	 * the next (as {@code ExecStart=} does with a lone {@code ;}).
	 */
	public static final class Cursor {
		private final String s;
		private int i;

		/** @param s the value to read */
		public Cursor(String s) {
			this.s = s;
		}

		/** @return whether anything but whitespace is left */
		public boolean hasNext() {
			skipWhitespace();
			return i < s.length();
		}

		/** @return what is left of the value, leading whitespace skipped */
		public String rest() {
			skipWhitespace();
			return s.substring(i);
		}

		/**
		 * Skips characters the caller has read itself from {@link #rest()}.
		 *
		 * @param n how many, after the leading whitespace
		 */
		public void drop(int n) {
			skipWhitespace();
			i = Math.min(s.length(), i + n);
		}

		private void skipWhitespace() {
			while (i < s.length() && WHITESPACE.indexOf(s.charAt(i)) >= 0) {
				i++;
			}
		}

		/**
		 * @return the next word, or {@code null} at the end
		 * @throws IllegalArgumentException for an unterminated quote, a trailing backslash or a bad escape
		 */
		public String next() {
			skipWhitespace();
			if (i >= s.length()) {
				return null;
			}
			StringBuilder w = new StringBuilder();
			char quote = 0;
			while (i < s.length()) {
				char ch = s.charAt(i);
				if (quote == 0 && WHITESPACE.indexOf(ch) >= 0) {
					break;
				}
				i++;
				if (ch == '\\') {
					if (i >= s.length()) {
						throw new IllegalArgumentException("a backslash ends the value " + Values.show(s));
					}
					i = unescape(s, i, w);
				} else if (quote != 0 && ch == quote) {
					quote = 0;
				} else if (quote == 0 && (ch == '\'' || ch == '"')) {
					quote = ch;
				} else {
					w.append(ch);
				}
			}
			if (quote != 0) {
				throw new IllegalArgumentException("unterminated quote in " + Values.show(s));
			}
			return w.toString();
		}
	}

	/**
	 * Decodes C escapes as systemd's {@code cunescape()} does.
	 *
	 * @param s a string with escapes
	 * @return it decoded
	 * @throws IllegalArgumentException for a bad escape
	 */
	public static String cunescape(String s) {
		StringBuilder out = new StringBuilder();
		int i = 0;
		while (i < s.length()) {
			char ch = s.charAt(i++);
			if (ch != '\\') {
				out.append(ch);
			} else if (i >= s.length()) {
				throw new IllegalArgumentException("a backslash ends " + Values.show(s));
			} else {
				i = unescape(s, i, out);
			}
		}
		return out.toString();
	}

	/** Decodes the escape whose letter is at {@code i}; @return the index after it. */
	private static int unescape(String s, int i, StringBuilder out) {
		char e = s.charAt(i++);
		switch (e) {
			case 'a' -> out.append('\u0007');
			case 'b' -> out.append('\b');
			case 'f' -> out.append('\f');
			case 'n' -> out.append('\n');
			case 'r' -> out.append('\r');
			case 't' -> out.append('\t');
			case 'v' -> out.append('\u000b');
			case 's' -> out.append(' ');
			case '\\', '"', '\'' -> out.append(e);
			case 'x' -> {
				// \xNN is a byte: a run of them is decoded as UTF-8, as systemd writes the bytes
				ByteArrayOutputStream bytes = new ByteArrayOutputStream();
				i = hexByte(s, i, bytes);
				while (i + 4 <= s.length() && s.startsWith("\\x", i) && Character.digit(s.charAt(i + 2), 16) >= 0 && Character.digit(s.charAt(i + 3), 16) >= 0) {
					i = hexByte(s, i + 2, bytes);
				}
				byte[] b = bytes.toByteArray();
				if (bytes.toString(StandardCharsets.ISO_8859_1).indexOf('\0') >= 0) {
					throw new IllegalArgumentException("\\x00 is refused in " + Values.show(s));
				}
				out.append(new String(b, StandardCharsets.UTF_8));
			}
			case 'u', 'U' -> {
				int n = e == 'u' ? 4 : 8;
				if (i + n > s.length()) {
					throw new IllegalArgumentException("bad \\" + e + " escape in " + Values.show(s));
				}
				int cp;
				try {
					cp = Integer.parseUnsignedInt(s.substring(i, i + n), 16);
				} catch (NumberFormatException x) {
					throw new IllegalArgumentException("bad \\" + e + " escape in " + Values.show(s));
				}
				if (cp == 0 || cp > 0x10FFFF || cp >= 0xD800 && cp <= 0xDFFF) {
					throw new IllegalArgumentException("bad \\" + e + " escape in " + Values.show(s));
				}
				out.appendCodePoint(cp);
				i += n;
			}
			case '0', '1', '2', '3' -> {
				if (i + 2 > s.length() || !octal(s.charAt(i)) || !octal(s.charAt(i + 1))) {
					throw new IllegalArgumentException("bad octal escape in " + Values.show(s));
				}
				int v = (e - '0') * 64 + (s.charAt(i) - '0') * 8 + (s.charAt(i + 1) - '0');
				if (v == 0) {
					throw new IllegalArgumentException("\\000 is refused in " + Values.show(s));
				}
				out.append((char) v);
				i += 2;
			}
			default -> throw new IllegalArgumentException("bad escape \\" + e + " in " + Values.show(s));
		}
		return i;
	}

	private static int hexByte(String s, int i, ByteArrayOutputStream out) {
		if (i + 2 > s.length() || Character.digit(s.charAt(i), 16) < 0 || Character.digit(s.charAt(i + 1), 16) < 0) {
			throw new IllegalArgumentException("bad \\x escape in " + Values.show(s));
		}
		out.write(Character.digit(s.charAt(i), 16) * 16 + Character.digit(s.charAt(i + 1), 16));
		return i + 2;
	}

	private static boolean octal(char c) {
		return c >= '0' && c <= '7';
	}
}
