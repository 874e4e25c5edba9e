package psi.format.raw.internal.gpt;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Just enough JSON to read what sfdisk and systemd-dissect print, in tests. */
public final class MiniJson {
	private final String s;
	private int i;

	private MiniJson(String s) {
		this.s = s;
	}

	/** @return Map, List, String, Long, Double, Boolean or null */
	public static Object parse(String s) {
		MiniJson j = new MiniJson(s);
		Object v = j.value();
		j.ws();
		if (j.i != s.length()) {
			throw new IllegalArgumentException("trailing data at " + j.i);
		}
		return v;
	}

	@SuppressWarnings("unchecked")
	public static Map<String, Object> object(Object o) {
		return (Map<String, Object>) o;
	}

	@SuppressWarnings("unchecked")
	public static List<Object> list(Object o) {
		return (List<Object>) o;
	}

	private Object value() {
		ws();
		char c = s.charAt(i);
		if (c == '{') {
			i++;
			Map<String, Object> m = new LinkedHashMap<>();
			ws();
			if (s.charAt(i) == '}') {
				i++;
				return m;
			}
			for (;;) {
				ws();
				String k = string();
				ws();
				expect(':');
				m.put(k, value());
				ws();
				if (s.charAt(i++) == '}') {
					return m;
				}
			}
		}
		if (c == '[') {
			i++;
			List<Object> l = new ArrayList<>();
			ws();
			if (s.charAt(i) == ']') {
				i++;
				return l;
			}
			for (;;) {
				l.add(value());
				ws();
				if (s.charAt(i++) == ']') {
					return l;
				}
			}
		}
		if (c == '"') {
			return string();
		}
		if (s.startsWith("true", i)) {
			i += 4;
			return true;
		}
		if (s.startsWith("false", i)) {
			i += 5;
			return false;
		}
		if (s.startsWith("null", i)) {
			i += 4;
			return null;
		}
		int start = i;
		while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
			i++;
		}
		String n = s.substring(start, i);
		return n.matches("-?\\d+") ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
	}

	private String string() {
		expect('"');
		StringBuilder b = new StringBuilder();
		for (;;) {
			char c = s.charAt(i++);
			if (c == '"') {
				return b.toString();
			}
			if (c == '\\') {
				char e = s.charAt(i++);
				switch (e) {
					case 'n' -> b.append('\n');
					case 't' -> b.append('\t');
					case 'r' -> b.append('\r');
					case 'b' -> b.append('\b');
					case 'f' -> b.append('\f');
					case 'u' -> {
						b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
						i += 4;
					}
					default -> b.append(e);
				}
			} else {
				b.append(c);
			}
		}
	}

	private void expect(char c) {
		if (s.charAt(i++) != c) {
			throw new IllegalArgumentException("expected " + c + " at " + (i - 1));
		}
	}

	private void ws() {
		while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
			i++;
		}
	}
}
