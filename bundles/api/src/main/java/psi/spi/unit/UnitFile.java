package psi.spi.unit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a unit file's assignments as systemd's {@code config_parse()} does:
 * {@code [Section]} headers; {@code KEY=VALUE} with whitespace around both
 * trimmed; {@code #} and {@code ;} comment lines; a line ending in a
 * backslash that is not itself escaped continued by the next (the backslash
 * becoming a space, comment lines inside skipped); a byte order mark at the
 * start skipped. Where this reader and systemd differ, an image could hide a
 * line from psi's sandbox guard or run it differently from systemd: the
 * tests hold it to systemd's rules. Values are kept as written (quoting and specifiers
 * are each directive's own business). Lines that are none of these are
 * skipped, as systemd skips them with a warning.
 */
public final class UnitFile {

	/** One assignment, with the line it starts on (1-based). */
	public record Assignment(String section, String key, String value, int line) {
		/** @return whether this is an empty assignment, which resets a list */
		public boolean isEmpty() {
			return value.isEmpty();
		}
	}

	private UnitFile() {
	}

	/** @param content the unit file; decoded as UTF-8, a bad byte replaced */
	public static List<Assignment> read(byte[] content) {
		String text = new String(content, StandardCharsets.UTF_8);
		// a byte order mark at the start is skipped, as systemd skips it
		if (text.startsWith("\uFEFF")) {
			text = text.substring(1);
		}
		List<Assignment> out = new ArrayList<>();
		String section = "";
		String[] lines = text.split("\n", -1);
		for (int i = 0; i < lines.length; i++) {
			int first = i + 1;
			String line = strip(lines[i]);
			if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
				continue;
			}
			StringBuilder joined = new StringBuilder();
			while (continues(line) && i + 1 < lines.length) {
				joined.append(line, 0, line.length() - 1).append(' ');
				i++;
				line = strip(lines[i]);
				while ((line.startsWith("#") || line.startsWith(";")) && i + 1 < lines.length) {
					i++;
					line = strip(lines[i]);
				}
			}
			joined.append(continues(line) ? line.substring(0, line.length() - 1) : line);
			String l = joined.toString();
			if (l.startsWith("[") && l.endsWith("]")) {
				section = l.substring(1, l.length() - 1);
				continue;
			}
			int eq = l.indexOf('=');
			String key = eq < 0 ? "" : strip(l.substring(0, eq));
			if (key.isEmpty()) {
				continue; // no '=' or no key: systemd ignores the line
			}
			out.add(new Assignment(section, key, strip(l.substring(eq + 1)), first));
		}
		return out;
	}

	/**
	 * Whether a line continues on the next: it ends in a backslash that is
	 * not itself escaped (an odd run of backslashes), as systemd decides;
	 * {@code x\\} ends the line.
	 */
	static boolean continues(String line) {
		int n = 0;
		for (int i = line.length() - 1; i >= 0 && line.charAt(i) == '\\'; i--) {
			n++;
		}
		return n % 2 == 1;
	}

	/** Strips what systemd counts as whitespace (space, tab, CR, LF). */
	private static String strip(String s) {
		int b = 0;
		int e = s.length();
		while (b < e && " \t\r\n".indexOf(s.charAt(b)) >= 0) {
			b++;
		}
		while (e > b && " \t\r\n".indexOf(s.charAt(e - 1)) >= 0) {
			e--;
		}
		return s.substring(b, e);
	}
}
