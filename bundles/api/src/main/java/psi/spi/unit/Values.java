package psi.spi.unit;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;

/**
 * Unit values as systemd parses them: booleans ({@code parse_boolean()}),
 * time spans ({@code parse_sec()}, in microseconds), sizes
 * ({@code parse_size()} with base 1024). Each refuses what systemd refuses,
 * with a message that quotes the value.
 */
public final class Values {

	/** A time span or size with no limit ({@code infinity}). */
	public static final long INFINITY = Long.MAX_VALUE;

	private static final long USEC = 1;
	private static final long MSEC = 1_000;
	private static final long SEC = 1_000_000;
	private static final long MINUTE = 60 * SEC;
	private static final long HOUR = 60 * MINUTE;
	private static final long DAY = 24 * HOUR;
	private static final long WEEK = 7 * DAY;
	private static final long MONTH = 2_629_800 * SEC;
	private static final long YEAR = 31_557_600 * SEC;

	/** systemd's time units, longest first where one is a prefix of another. */
	private static final Map<String, Long> TIME_UNITS = Map.ofEntries(
		Map.entry("seconds", SEC), Map.entry("second", SEC), Map.entry("sec", SEC), Map.entry("s", SEC),
		Map.entry("minutes", MINUTE), Map.entry("minute", MINUTE), Map.entry("min", MINUTE), Map.entry("months", MONTH),
		Map.entry("month", MONTH), Map.entry("M", MONTH), Map.entry("msec", MSEC), Map.entry("ms", MSEC), Map.entry("m", MINUTE),
		Map.entry("hours", HOUR), Map.entry("hour", HOUR), Map.entry("hr", HOUR), Map.entry("h", HOUR),
		Map.entry("days", DAY), Map.entry("day", DAY), Map.entry("d", DAY),
		Map.entry("weeks", WEEK), Map.entry("week", WEEK), Map.entry("w", WEEK),
		Map.entry("years", YEAR), Map.entry("year", YEAR), Map.entry("y", YEAR),
		Map.entry("usec", USEC), Map.entry("us", USEC), Map.entry("\u00b5s", USEC), Map.entry("nsec", 0L), Map.entry("ns", 0L));

	private Values() {
	}

	/**
	 * @param v a value
	 * @return it as systemd's {@code parse_boolean()} reads it
	 * @throws IllegalArgumentException when it is no boolean
	 */
	public static boolean bool(String v) {
		switch (v.toLowerCase(Locale.ROOT)) {
			case "1", "yes", "y", "true", "t", "on":
				return true;
			case "0", "no", "n", "false", "f", "off":
				return false;
			default:
				throw new IllegalArgumentException("not a boolean: " + show(v));
		}
	}

	/**
	 * A time span, {@code 90}, {@code 1min 30s}, {@code 1.5h}, {@code infinity}.
	 *
	 * @param v the value
	 * @param defaultUnit the unit of a bare number in microseconds ({@code 1_000_000} for seconds)
	 * @return microseconds, or {@link #INFINITY}
	 * @throws IllegalArgumentException when it is no time span
	 */
	public static long timespan(String v, long defaultUnit) {
		String s = v.trim();
		if (s.equals("infinity")) {
			return INFINITY;
		}
		if (s.isEmpty()) {
			throw new IllegalArgumentException("not a time span: " + show(v));
		}
		long total = 0;
		int i = 0;
		boolean any = false;
		while (i < s.length()) {
			while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
				i++;
			}
			if (i >= s.length()) {
				break;
			}
			int b = i;
			while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
				i++;
			}
			if (b == i || s.charAt(b) == '.' && i == b + 1) {
				throw new IllegalArgumentException("not a time span: " + show(v));
			}
			BigDecimal n;
			try {
				n = new BigDecimal(s.substring(b, i));
			} catch (NumberFormatException e) {
				throw new IllegalArgumentException("not a time span: " + show(v));
			}
			while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
				i++;
			}
			int u = i;
			while (i < s.length() && (Character.isLetter(s.charAt(i)) || s.charAt(i) == '\u00b5')) {
				i++;
			}
			String unit = s.substring(u, i);
			Long mult = unit.isEmpty() ? Long.valueOf(defaultUnit) : TIME_UNITS.get(unit);
			if (mult == null) {
				throw new IllegalArgumentException("unknown time unit " + show(unit) + " in " + show(v));
			}
			BigDecimal part = n.multiply(BigDecimal.valueOf(mult));
			if (part.compareTo(BigDecimal.valueOf(Long.MAX_VALUE - 1 - total)) >= 0) {
				throw new IllegalArgumentException("time span too large: " + show(v));
			}
			total += part.longValue();
			any = true;
		}
		if (!any) {
			throw new IllegalArgumentException("not a time span: " + show(v));
		}
		return total;
	}

	/**
	 * A size in bytes with base 1024 suffixes ({@code K M G T P E}, an optional
	 * {@code B} alone), decimals allowed ({@code 1.5G}), or {@code infinity}.
	 *
	 * @param v the value
	 * @return bytes, or {@link #INFINITY}
	 * @throws IllegalArgumentException when it is no size
	 */
	public static long bytes(String v) {
		String s = v.trim();
		if (s.equals("infinity")) {
			return INFINITY;
		}
		int i = 0;
		while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
			i++;
		}
		if (i == 0) {
			throw new IllegalArgumentException("not a size: " + show(v));
		}
		BigDecimal n;
		try {
			n = new BigDecimal(s.substring(0, i));
		} catch (NumberFormatException e) {
			throw new IllegalArgumentException("not a size: " + show(v));
		}
		String unit = s.substring(i).trim();
		int shift = switch (unit) {
			case "", "B" -> 0;
			case "K" -> 10;
			case "M" -> 20;
			case "G" -> 30;
			case "T" -> 40;
			case "P" -> 50;
			case "E" -> 60;
			default -> throw new IllegalArgumentException("unknown size unit " + show(unit) + " in " + show(v));
		};
		BigDecimal b = n.multiply(BigDecimal.valueOf(2).pow(shift));
		if (b.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) >= 0) {
			throw new IllegalArgumentException("size too large: " + show(v));
		}
		return b.longValue();
	}

	/**
	 * A value quoted for a one-line message: control characters and
	 * non-ASCII escaped, long values cut.
	 *
	 * @param s a value as found
	 * @return it quoted, safe to print
	 */
	public static String show(String s) {
		StringBuilder b = new StringBuilder("\"");
		int n = 0;
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (++n > 120) {
				b.append("...");
				break;
			}
			if (c == '"' || c == '\\') {
				b.append('\\').append(c);
			} else if (c < 0x20 || c == 0x7f || c > 0x7e) {
				b.append(String.format("\\u%04x", (int) c));
			} else {
				b.append(c);
			}
		}
		return b.append('"').toString();
	}
}
