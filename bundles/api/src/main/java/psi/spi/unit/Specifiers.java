package psi.spi.unit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * Unit specifiers ({@code %n}, {@code %i}, ...) as systemd's
 * {@code specifier_printf()} resolves them, and unit name escaping.
 */
public final class Specifiers {

	private Specifiers() {
	}

	/**
	 * Resolves the specifiers in a value.
	 *
	 * @param s a value
	 * @param resolver the value of a specifier letter, {@code null} for one it does not know
	 * @return the value resolved; {@code %%} is {@code %}, a {@code %} at the end stays
	 * @throws IllegalArgumentException for a specifier the resolver does not know, as systemd refuses the line
	 */
	public static String expand(String s, Function<Character, String> resolver) {
		if (s.indexOf('%') < 0) {
			return s;
		}
		StringBuilder out = new StringBuilder();
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c != '%' || i + 1 >= s.length()) {
				out.append(c);
				continue;
			}
			char x = s.charAt(++i);
			if (x == '%') {
				out.append('%');
				continue;
			}
			String v = resolver.apply(x);
			if (v == null) {
				throw new IllegalArgumentException("unknown specifier %" + x + " in " + Values.show(s));
			}
			out.append(v);
		}
		return out.toString();
	}

	/**
	 * Unescapes a unit name part as {@code unit_name_unescape()}: {@code -} is
	 * {@code /}, {@code \xNN} a byte.
	 *
	 * @param s an escaped name part, e.g. an instance
	 * @return it unescaped
	 */
	public static String unescape(String s) {
		ByteArrayOutputStream b = new ByteArrayOutputStream();
		byte[] in = s.getBytes(StandardCharsets.UTF_8);
		for (int i = 0; i < in.length; i++) {
			if (in[i] == '-') {
				b.write('/');
			} else if (in[i] == '\\' && i + 3 < in.length && in[i + 1] == 'x'
				&& Character.digit(in[i + 2], 16) >= 0 && Character.digit(in[i + 3], 16) >= 0) {
				b.write(Character.digit(in[i + 2], 16) * 16 + Character.digit(in[i + 3], 16));
				i += 3;
			} else {
				b.write(in[i]);
			}
		}
		return b.toString(StandardCharsets.UTF_8);
	}
}
