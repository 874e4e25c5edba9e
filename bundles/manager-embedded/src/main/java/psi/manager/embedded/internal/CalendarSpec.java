package psi.manager.embedded.internal;

import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;

/**
 * A calendar event as systemd's {@code OnCalendar=} understands it (systemd.time(7), "CALENDAR EVENTS"), parsed,
 * normalized and evaluated the way systemd 252 does it.
 *
 * <p>The parser, the normalization and the search for the next elapse follow systemd's calendarspec.c step by step,
 * including its quirks (e.g. {@code *&#47;2} is refused, {@code 12:00 CET} stops elapsing once daylight saving time
 * starts). The search runs on broken-down local times that are normalized like C's {@code mktime(3)}; that function is
 * modelled on glibc's implementation (including which of two candidate instants it picks around DST transitions) on top
 * of {@link ZoneRules}, so results around DST changes agree with systemd too.
 *
 * <p>Instances are not modified after {@link #parse}, so they may be shared between threads.
 */
final class CalendarSpec {

	private static final int BITS_WEEKDAYS = 127;
	private static final int MIN_YEAR = 1970;
	private static final int MAX_YEAR = 2199;
	/** systemd's CALENDARSPEC_COMPONENTS_MAX: a list may have at most this many values plus one */
	private static final int COMPONENTS_MAX = 240;
	private static final int USEC_PER_SEC = 1_000_000;
	/** systemd's MAX_CALENDAR_ITERATIONS: the search gives up after this many steps */
	private static final int MAX_ITERATIONS = 1000;
	/** the last microsecond systemd formats (9999-12-30 23:59:59 UTC); later bases have no next elapse */
	private static final long USEC_TIMESTAMP_FORMATTABLE_MAX = 253402214399000000L;
	private static final int ENOENT = -2;

	private static final String[] DAY_NAMES = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	private static final String[] DAY_PREFIXES = { "Monday", "Mon", "Tuesday", "Tue", "Wednesday", "Wed", "Thursday",
			"Thu", "Friday", "Fri", "Saturday", "Sat", "Sunday", "Sun" };
	private static final Set<String> ZONE_IDS = ZoneId.getAvailableZoneIds();

	/** One element of a list: {@code start[..stop][/repeat]}; stop is -1 when absent, repeat 0 when absent. */
	private static final class Component {
		int start;
		int stop;
		int repeat;
		/** stop as written (years completed), for messages */
		int givenStop;

		Component(int start, int stop, int repeat) {
			this.start = start;
			this.stop = stop;
			this.repeat = repeat;
			this.givenStop = stop;
		}
	}

	private static final Comparator<Component> ORDER = Comparator.<Component>comparingInt(c -> c.start)
		.thenComparingInt(c -> c.stop).thenComparingInt(c -> c.repeat);

	private final String text;
	private final ZoneId localZone;
	private final String[] localZoneNames;
	private int weekdaysBits;
	private boolean endOfMonth;
	private boolean utc;
	/** -1, or 0/1 when the local zone's standard/daylight-saving abbreviation was given */
	private int dst = -1;
	/** an IANA zone name given at the end, or null */
	private String timezone;
	/** null means "*" (any); the microsecond list is never null */
	private List<Component> year, month, day, hour, minute, microsecond;

	private CalendarSpec(String text, ZoneId localZone) {
		this.text = text;
		this.localZone = localZone;
		this.localZoneNames = zoneAbbreviations(localZone);
	}

	/** Parses {@code text}; times without a time zone are in the system default zone. */
	static CalendarSpec parse(String text) {
		return parse(text, ZoneId.systemDefault());
	}

	/**
	 * Parses {@code text}; times without a time zone are in {@code localZone} (what systemd takes from $TZ), whose
	 * abbreviations (e.g. CET and CEST) are also understood as a suffix.
	 */
	static CalendarSpec parse(String text, ZoneId localZone) {
		if (text == null)
			throw new IllegalArgumentException("bad calendar event: null");
		CalendarSpec c = new CalendarSpec(text, localZone);
		new Parser(c).parse();
		return c;
	}

	/** The normalized form, as {@code systemd-analyze calendar} prints it as "Normalized form:". */
	String normalized() {
		StringBuilder f = new StringBuilder();
		if (weekdaysBits > 0 && weekdaysBits <= BITS_WEEKDAYS) {
			formatWeekdays(f);
			f.append(' ');
		}
		formatChain(f, 4, year, false);
		f.append('-');
		formatChain(f, 2, month, false);
		f.append(endOfMonth ? '~' : '-');
		formatChain(f, 2, day, false);
		f.append(' ');
		formatChain(f, 2, hour, false);
		f.append(':');
		formatChain(f, 2, minute, false);
		f.append(':');
		formatChain(f, 2, microsecond, true);
		if (utc)
			f.append(" UTC");
		else if (timezone != null)
			f.append(' ').append(timezone);
		else if (dst == 0 || dst == 1) {
			String name = localZoneNames[dst];
			if (!name.isEmpty())
				f.append(' ').append(name);
		}
		return f.toString();
	}

	@Override
	public String toString() {
		return normalized();
	}

	/** The zone the event's fields are matched in. */
	ZoneId zone() {
		return utc ? ZoneOffset.UTC : timezone != null ? zoneOf(timezone) : localZone;
	}

	/**
	 * The next time strictly after {@code after} that matches, in {@link #zone()}, or null if there is none (a past
	 * fixed date, an impossible date such as {@code *-02-30}, a year past 2199, or when systemd's search would give up).
	 * Like systemd, an event ending in the local zone's DST abbreviation (e.g. {@code 02:26:33 CEST}) can yield a time
	 * before {@code after} when {@code after} lies in the hour repeated when DST ends; every other result is later.
	 */
	ZonedDateTime next(ZonedDateTime after) {
		Instant i = after.toInstant();
		long usec;
		try {
			usec = Math.addExact(Math.multiplyExact(i.getEpochSecond(), USEC_PER_SEC), i.getNano() / 1000);
		} catch (ArithmeticException e) {
			return null;
		}
		if (usec > USEC_TIMESTAMP_FORMATTABLE_MAX)
			return null;
		if (usec < -1)
			usec = -1; // systemd's clock has no time before 1970
		ZoneId zone = zone();
		Long next = new Evaluator(utc ? null : zone.getRules()).nextUsec(usec);
		if (next == null)
			return null;
		return ZonedDateTime.ofInstant(Instant.ofEpochSecond(Math.floorDiv(next, USEC_PER_SEC),
			Math.floorMod(next, USEC_PER_SEC) * 1000L), zone);
	}

	// ------------------------------------------------------------------------------------------------ formatting

	private void formatWeekdays(StringBuilder f) {
		int l = -1, x;
		boolean needComma = false;
		for (x = 0; x < DAY_NAMES.length; x++) {
			if ((weekdaysBits & (1 << x)) != 0) {
				if (l < 0) {
					if (needComma)
						f.append(',');
					else
						needComma = true;
					f.append(DAY_NAMES[x]);
					l = x;
				}
			} else if (l >= 0) {
				if (x > l + 1)
					f.append(x > l + 2 ? ".." : ",").append(DAY_NAMES[x - 1]);
				l = -1;
			}
		}
		if (l >= 0 && x > l + 1)
			f.append(x > l + 2 ? ".." : ",").append(DAY_NAMES[x - 1]);
	}

	private static void formatChain(StringBuilder f, int space, List<Component> chain, boolean usec) {
		int d = usec ? USEC_PER_SEC : 1;
		if (chain == null || usec && chain.stream().anyMatch(c -> c.start == 0 && c.stop < 0 && c.repeat == USEC_PER_SEC)) {
			f.append('*'); // one of the values covers all
			return;
		}
		for (int i = 0; i < chain.size(); i++) {
			Component c = chain.get(i);
			if (i > 0)
				f.append(',');
			pad(f, space, c.start / d);
			if (c.start % d > 0)
				f.append('.').append(String.format(Locale.ROOT, "%06d", c.start % d));
			if (c.stop > 0) {
				f.append("..");
				pad(f, space, c.stop / d);
			}
			if (c.stop % d > 0)
				f.append('.').append(String.format(Locale.ROOT, "%06d", c.stop % d));
			if (c.repeat > 0 && !(c.stop > 0 && c.repeat == d))
				f.append('/').append(c.repeat / d);
			if (c.repeat % d > 0)
				f.append('.').append(String.format(Locale.ROOT, "%06d", c.repeat % d));
		}
	}

	private static void pad(StringBuilder f, int width, int value) {
		String s = Integer.toString(value);
		for (int i = s.length(); i < width; i++)
			f.append('0');
		f.append(s);
	}

	private static String[] zoneAbbreviations(ZoneId zone) {
		try {
			TimeZone tz = TimeZone.getTimeZone(zone);
			return new String[] { tz.getDisplayName(false, TimeZone.SHORT, Locale.ROOT),
				tz.getDisplayName(true, TimeZone.SHORT, Locale.ROOT) };
		} catch (RuntimeException e) {
			return new String[] { "", "" };
		}
	}

	// ------------------------------------------------------------------------------------------------ parsing

	/** A port of systemd's calendar_spec_from_string() and its helpers, with messages instead of errno values. */
	private static final class Parser {
		private final CalendarSpec c;
		/** the text left after a time zone suffix was cut off */
		private String s;
		private int p;

		Parser(CalendarSpec c) {
			this.c = c;
		}

		private IllegalArgumentException bad(String why) {
			return new IllegalArgumentException("bad calendar event \"" + c.text + "\": " + why);
		}

		private char at(int i) {
			return i < s.length() ? s.charAt(i) : 0;
		}

		/** the blank-separated word around position i (or the word before, at a blank), to name the bad part */
		private String word(int i) {
			int from = Math.min(i, s.length());
			if (from > 0 && (from == s.length() || s.charAt(from) == ' '))
				from--;
			while (from > 0 && s.charAt(from) == ' ')
				from--;
			while (from > 0 && s.charAt(from - 1) != ' ')
				from--;
			int to = from;
			while (to < s.length() && s.charAt(to) != ' ')
				to++;
			return "\"" + s.substring(from, to) + "\"";
		}

		private String rest(int i) {
			return i >= s.length() ? "end" : "\"" + s.substring(i) + "\"";
		}

		void parse() {
			String text = c.text;
			if (text.indexOf('\0') >= 0)
				throw bad("contains a NUL character");
			s = text;
			if (endsWithNoCase(s, " UTC")) {
				c.utc = true;
				s = s.substring(0, s.length() - 4);
			} else {
				int j;
				int e = -1;
				for (j = 0; j <= 1; j++) {
					String name = c.localZoneNames[j];
					if (name.isEmpty() || !endsWithNoCase(s, name))
						continue;
					e = s.length() - name.length();
					if (e == 0 || s.charAt(e - 1) != ' ')
						continue;
					break;
				}
				if (j <= 1) {
					s = s.substring(0, e - 1);
					c.dst = j;
				} else {
					int lastSpace = s.lastIndexOf(' ');
					if (lastSpace >= 0 && timezoneValid(s.substring(lastSpace + 1))) {
						c.timezone = s.substring(lastSpace + 1);
						s = s.substring(0, lastSpace);
					}
				}
			}
			if (s.isEmpty())
				throw bad("no date or time given");

			if (eqNoCase(s, "minutely")) {
				c.microsecond = constChain(0);
			} else if (eqNoCase(s, "hourly")) {
				c.minute = constChain(0);
				c.microsecond = constChain(0);
			} else if (eqNoCase(s, "daily")) {
				midnight();
			} else if (eqNoCase(s, "monthly")) {
				c.day = constChain(1);
				midnight();
			} else if (eqNoCase(s, "annually") || eqNoCase(s, "yearly") || eqNoCase(s, "anually")) {
				c.month = constChain(1);
				c.day = constChain(1);
				midnight();
			} else if (eqNoCase(s, "weekly")) {
				c.weekdaysBits = 1;
				midnight();
			} else if (eqNoCase(s, "quarterly")) {
				c.month = constChain(1, 4, 7, 10);
				c.day = constChain(1);
				midnight();
			} else if (eqNoCase(s, "biannually") || eqNoCase(s, "bi-annually") || eqNoCase(s, "semiannually")
					|| eqNoCase(s, "semi-annually")) {
				c.month = constChain(1, 7);
				c.day = constChain(1);
				midnight();
			} else {
				p = 0;
				parseWeekdays();
				if (!parseDate())
					parseTime();
				if (p < s.length())
					throw bad("unexpected " + rest(p));
			}
			c.normalize();
			String invalid = c.invalid();
			if (invalid != null)
				throw bad(invalid);
		}

		private void midnight() {
			c.hour = constChain(0);
			c.minute = constChain(0);
			c.microsecond = constChain(0);
		}

		private static List<Component> constChain(int... values) {
			List<Component> l = new ArrayList<>();
			for (int v : values)
				l.add(new Component(v, -1, 0));
			return l;
		}

		private int skipSpaces(int i) {
			while (at(i) == ' ')
				i++;
			return i;
		}

		private void parseWeekdays() {
			int l = -1;
			boolean first = true;
			for (;;) {
				int i;
				int nr = -1;
				for (i = 0; i < DAY_PREFIXES.length; i++) {
					String name = DAY_PREFIXES[i];
					if (!s.regionMatches(true, p, name, 0, name.length()) || !asciiOnly(p, name.length()))
						continue;
					char next = at(p + name.length());
					if (next != 0 && next != '-' && next != '.' && next != ',' && next != ' ')
						throw bad("bad weekday " + word(p));
					nr = i / 2;
					c.weekdaysBits |= 1 << nr;
					if (l >= 0) {
						if (l > nr)
							throw bad("weekday range " + DAY_NAMES[l] + ".." + DAY_NAMES[nr] + " runs backwards");
						for (int j = l + 1; j < nr; j++)
							c.weekdaysBits |= 1 << j;
					}
					p += name.length();
					break;
				}
				if (i >= DAY_PREFIXES.length) {
					if (first)
						return;
					throw bad("bad weekday " + word(p));
				}
				if (at(p) == 0)
					return;
				if (at(p) == ' ') {
					p = skipSpaces(p);
					return;
				}
				if (at(p) == '.') {
					if (l >= 0 || at(p + 1) != '.')
						throw bad("bad weekday range " + word(p));
					l = nr;
					p += 2;
				} else if (at(p) == '-') {
					if (l >= 0)
						throw bad("bad weekday range " + word(p));
					l = nr;
					p += 1;
				} else if (at(p) == ',') {
					l = -1;
					p += 1;
				}
				if (at(p) == 0 || at(p) == ' ') {
					p = skipSpaces(p);
					if (l >= 0)
						throw bad("open weekday range " + word(p - 1));
					return;
				}
				first = false;
			}
		}

		private boolean asciiOnly(int from, int len) {
			for (int i = from; i < from + len; i++)
				if (s.charAt(i) >= 0x80)
					return false;
			return true;
		}

		/** @return true if the date was given as @TIMESTAMP (then no time follows) */
		private boolean parseDate() {
			int t = p;
			if (at(t) == 0)
				return false;
			if (at(t) == '@') {
				t = parseTimestamp(t + 1);
				p = t;
				return true;
			}
			Chain first = new Chain();
			t = parseChain(t, false, first, "date");
			if (at(t) == 0 || at(t) == ':')
				return false; // a time, not a date
			if (at(t) == '~')
				c.endOfMonth = true;
			else if (at(t) != '-')
				throw bad("unexpected " + rest(t) + " in date " + word(p));
			t++;
			Chain second = new Chain();
			t = parseChain(t, false, second, "date");
			if (at(t) == 0 || at(t) == ' ') {
				p = skipSpaces(t);
				c.month = first.value;
				c.day = second.value;
				return false;
			} else if (c.endOfMonth)
				throw bad("unexpected " + rest(t) + " in date " + word(p));
			if (at(t) == '~')
				c.endOfMonth = true;
			else if (at(t) != '-')
				throw bad("unexpected " + rest(t) + " in date " + word(p));
			t++;
			Chain third = new Chain();
			t = parseChain(t, false, third, "date");
			if (at(t) != 0 && at(t) != ' ')
				throw bad("unexpected " + rest(t) + " in date " + word(p));
			p = skipSpaces(t);
			c.year = first.value;
			c.month = second.value;
			c.day = third.value;
			return false;
		}

		/** @TIMESTAMP: strtoul() semantics, then the UTC date and time of that second */
		private int parseTimestamp(int t) {
			int i = t;
			while (i < s.length() && " \t\n\u000b\f\r".indexOf(s.charAt(i)) >= 0)
				i++;
			boolean negative = false;
			if (at(i) == '+' || at(i) == '-') {
				negative = at(i) == '-';
				i++;
			}
			int digits = i;
			while (at(i) >= '0' && at(i) <= '9')
				i++;
			if (i == digits)
				throw bad("expected seconds since the epoch after \"@\"");
			BigInteger v = new BigInteger(s.substring(digits, i));
			BigInteger mod = BigInteger.ONE.shiftLeft(64);
			if (v.compareTo(mod) >= 0)
				throw bad("timestamp " + word(t) + " too large");
			if (negative)
				v = mod.subtract(v).mod(mod);
			long seconds = v.longValue(); // two's complement: values of 2^63 and above turn negative, as time_t does
			LocalDateTime d;
			try {
				d = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
			} catch (RuntimeException e) {
				throw bad("timestamp " + word(t) + " out of range");
			}
			c.utc = true;
			c.year = constChain(d.getYear());
			c.month = constChain(d.getMonthValue());
			c.day = constChain(d.getDayOfMonth());
			c.hour = constChain(d.getHour());
			c.minute = constChain(d.getMinute());
			c.microsecond = constChain(d.getSecond() * USEC_PER_SEC);
			return i;
		}

		private void parseTime() {
			int t = p;
			if (at(t) == 0) {
				c.hour = constChain(0);
				c.minute = constChain(0);
				c.microsecond = constChain(0);
				return;
			}
			Chain h = new Chain(), m = new Chain(), sec = new Chain();
			t = parseChain(t, false, h, "hour");
			if (at(t) != ':')
				throw bad("unexpected " + rest(t) + " in time " + word(p));
			t++;
			t = parseChain(t, false, m, "minute");
			if (at(t) == 0) {
				sec.value = constChain(0);
			} else {
				if (at(t) != ':')
					throw bad("unexpected " + rest(t) + " in time " + word(p));
				t++;
				t = parseChain(t, true, sec, "second");
				if (at(t) != 0)
					throw bad("unexpected " + rest(t) + " in time " + word(p));
			}
			p = t;
			c.hour = h.value;
			c.minute = m.value;
			c.microsecond = sec.value;
		}

		/** what parseChain() parsed: null for "*" */
		private static final class Chain {
			List<Component> value;
		}

		private int parseChain(int t, boolean usec, Chain out, String what) {
			if (at(t) == '*') {
				if (at(t + 1) == '/')
					throw bad("\"*/step\" is not supported in " + word(t) + ", write \"0/step\"");
				out.value = usec ? new ArrayList<>(List.of(new Component(0, -1, USEC_PER_SEC))) : null;
				return t + 1;
			}
			List<Component> chain = new ArrayList<>();
			for (int nesting = 0;; nesting++) {
				if (nesting > COMPONENTS_MAX)
					throw bad("more than " + (COMPONENTS_MAX + 1) + " values in one list");
				int[] v = new int[1];
				int e = parseDecimal(t, usec, v, what);
				int start = v[0], stop = -1, repeat = 0;
				if (at(e) == '.' && at(e + 1) == '.') {
					e = parseDecimal(e + 2, usec, v, what);
					stop = v[0];
					repeat = usec ? USEC_PER_SEC : 1;
				}
				if (at(e) == '/') {
					e = parseDecimal(e + 1, usec, v, what);
					repeat = v[0];
					if (repeat == 0)
						throw bad("repetition " + word(t) + " must be larger than 0");
				} else {
					if (start > Integer.MAX_VALUE - repeat)
						throw bad("number " + word(t) + " too large");
					if (usec && stop >= 0 && start + repeat > stop)
						throw bad("seconds range " + num(start, true) + ".." + num(stop, true)
							+ " is shorter than its default step of 1s");
				}
				char n = at(e);
				if (n != 0 && n != ' ' && n != ',' && n != '-' && n != '~' && n != ':')
					throw bad("unexpected " + rest(e) + " in " + what + " " + word(t));
				chain.add(new Component(start, stop, repeat));
				if (n != ',') {
					out.value = chain;
					return e;
				}
				t = e + 1;
			}
		}

		private int parseDecimal(int t, boolean usec, int[] out, String what) {
			if (at(t) == ' ')
				throw bad("unexpected blank at " + rest(t));
			if (!(at(t) >= '0' && at(t) <= '9'))
				throw bad("expected a number at " + rest(t) + " in " + what + " " + word(t));
			int e = t;
			while (at(e) >= '0' && at(e) <= '9')
				e++;
			long value;
			String digits = s.substring(t, e).replaceFirst("^0+(?=.)", "");
			if (digits.length() > 18)
				throw bad("number " + word(t) + " too large");
			value = Long.parseLong(digits);
			if (value > Integer.MAX_VALUE)
				throw bad("number " + word(t) + " too large");
			if (usec) {
				value *= USEC_PER_SEC;
				if (at(e) == '.' && at(e + 1) != '.') {
					e++;
					int frac = 0, i;
					for (i = 0; i < 6; i++, e++) {
						if (!(at(e) >= '0' && at(e) <= '9')) {
							if (i == 0)
								throw bad("expected digits after the decimal point in " + word(t));
							for (; i < 6; i++)
								frac *= 10;
							break;
						}
						frac = frac * 10 + (at(e) - '0');
					}
					if (at(e) >= '5' && at(e) <= '9')
						frac++;
					while (at(e) >= '0' && at(e) <= '9')
						e++;
					value += frac;
				}
			}
			if (value > Integer.MAX_VALUE)
				throw bad("number " + word(t) + " too large");
			out[0] = (int) value;
			return e;
		}
	}

	private static boolean eqNoCase(String a, String b) {
		return a.length() == b.length() && endsWithNoCase(a, b);
	}

	private static boolean endsWithNoCase(String s, String suffix) {
		int off = s.length() - suffix.length();
		if (off < 0)
			return false;
		for (int i = 0; i < suffix.length(); i++)
			if (asciiLower(s.charAt(off + i)) != asciiLower(suffix.charAt(i)))
				return false;
		return true;
	}

	private static char asciiLower(char ch) {
		return ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : ch;
	}

	/** names in tzdata's /usr/share/zoneinfo that java.time knows under other names */
	private static final Map<String, String> ZONE_ALIASES = Map.of("EST", "-05:00", "MST",
		"-07:00", "HST", "-10:00", "GMT+0", "UTC", "GMT-0", "UTC", "ROC", "Asia/Taipei", "Factory", "UTC");

	/** the zone for a name timezoneValid() accepts */
	private static ZoneId zoneOf(String name) {
		if (name.startsWith("posix/"))
			name = name.substring("posix/".length());
		return ZoneId.of(ZONE_ALIASES.getOrDefault(name, name));
	}

	/** systemd's timezone_is_valid(), with java.time's zone list standing in for /usr/share/zoneinfo */
	private static boolean timezoneValid(String name) {
		if (name.isEmpty())
			return false;
		if (name.equals("UTC"))
			return true;
		if (name.charAt(0) == '/')
			return false;
		boolean slash = false;
		for (int i = 0; i < name.length(); i++) {
			char ch = name.charAt(i);
			if (!(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '-' || ch == '_'
					|| ch == '+' || ch == '/'))
				return false;
			if (ch == '/') {
				if (slash)
					return false;
				slash = true;
			} else
				slash = false;
		}
		if (slash)
			return false;
		if (name.startsWith("posix/"))
			name = name.substring("posix/".length());
		return ZONE_ALIASES.containsKey(name) || ZONE_IDS.contains(name) && !name.startsWith("SystemV/");
	}

	// ------------------------------------------------------------------------------------------------ normalization

	private void normalize() {
		if ("UTC".equals(timezone)) {
			utc = true;
			timezone = null;
		}
		if (weekdaysBits <= 0 || weekdaysBits >= BITS_WEEKDAYS)
			weekdaysBits = -1;
		if (endOfMonth && day == null)
			endOfMonth = false;
		if (year != null)
			for (Component y : year) {
				y.start = fixYear(y.start);
				y.stop = fixYear(y.stop);
				y.givenStop = fixYear(y.givenStop);
			}
		year = normalizeChain(year);
		month = normalizeChain(month);
		day = normalizeChain(day);
		hour = normalizeChain(hour);
		minute = normalizeChain(minute);
		microsecond = normalizeChain(microsecond);
	}

	/** 12 → 2012, 89 → 1989 */
	private static int fixYear(int y) {
		if (y >= 0 && y < 70)
			return y + 2000;
		if (y >= 70 && y < 100)
			return y + 1900;
		return y;
	}

	private static List<Component> normalizeChain(List<Component> chain) {
		if (chain == null)
			return null;
		for (Component i : chain) {
			// make the length of a range a multiple of the repetition
			if (i.stop > i.start && i.repeat > 0)
				i.stop -= (i.stop - i.start) % i.repeat;
			// a repetition that cannot trigger even once, or a range of one value, is just that value
			if ((i.stop > i.start && i.repeat > 0 && i.start + i.repeat > i.stop) || i.start == i.stop) {
				i.repeat = 0;
				i.stop = -1;
			}
		}
		List<Component> sorted = new ArrayList<>(chain);
		sorted.sort(ORDER);
		List<Component> unique = new ArrayList<>();
		for (Component i : sorted)
			if (unique.isEmpty() || ORDER.compare(unique.get(unique.size() - 1), i) != 0)
				unique.add(i);
		return List.copyOf(unique);
	}

	/** systemd's calendar_spec_valid(), naming what is out of range; null if valid */
	private String invalid() {
		String r = invalidChain(year, MIN_YEAR, MAX_YEAR, false, "year", false);
		if (r == null)
			r = invalidChain(month, 1, 12, false, "month", false);
		if (r == null)
			r = invalidChain(day, 1, 31, endOfMonth, "day", false);
		if (r == null)
			r = invalidChain(hour, 0, 23, false, "hour", false);
		if (r == null)
			r = invalidChain(minute, 0, 59, false, "minute", false);
		if (r == null)
			r = invalidChain(microsecond, 0, 60 * USEC_PER_SEC - 1, false, "second", true);
		return r;
	}

	private static String invalidChain(List<Component> chain, int from, int to, boolean endOfMonth, String what,
			boolean usec) {
		if (chain == null)
			return null;
		if (endOfMonth)
			what = "day counted from the month's end";
		for (Component c : chain) {
			// no more than 28 days back from the month's end; systemd 252 lowers this bound by 3 again for each
			// further value of the list (so "~3,27" is refused while "~27,3" would be fine if it stayed unsorted)
			if (endOfMonth)
				to -= 3;
			if (c.start < from || c.start > to)
				return what + " " + num(c.start, usec) + " out of range";
			if (c.repeat > to - from)
				return what + " repetition /" + num(c.repeat, usec) + " too large";
			if (c.stop >= 0) {
				if (c.stop < from || c.stop > to)
					return what + " " + num(c.givenStop, usec) + " out of range";
				if (c.start + c.repeat > c.stop)
					return what + " range " + num(c.start, usec) + ".." + num(c.stop, usec) + " is empty";
			} else {
				if (endOfMonth && c.start - c.repeat < from)
					return what + " " + num(c.start, usec) + "/" + num(c.repeat, usec) + " repeats past the month's end";
				if (!endOfMonth && c.start + c.repeat > to)
					return what + " " + num(c.start, usec) + "/" + num(c.repeat, usec) + " never repeats within "
						+ from + ".." + (usec ? to / USEC_PER_SEC : to);
			}
		}
		return null;
	}

	private static String num(int v, boolean usec) {
		if (!usec)
			return Integer.toString(v);
		String s = Integer.toString(v / USEC_PER_SEC);
		if (v % USEC_PER_SEC != 0)
			s += String.format(Locale.ROOT, ".%06d", v % USEC_PER_SEC).replaceFirst("0+$", "");
		return s;
	}

	// ------------------------------------------------------------------------------------------------ evaluation

	/** C's struct tm; year counts from 1900 and mon from 0, as there */
	private static final class Tm {
		int sec, min, hour, mday, mon, year, wday, yday, isdst;

		Tm copy() {
			Tm t = new Tm();
			t.set(this);
			return t;
		}

		void set(Tm o) {
			sec = o.sec;
			min = o.min;
			hour = o.hour;
			mday = o.mday;
			mon = o.mon;
			year = o.year;
			wday = o.wday;
			yday = o.yday;
			isdst = o.isdst;
		}
	}

	private static final int[][] MON_YDAY = {
		{ 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365 },
		{ 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366 } };

	/** One search: holds what glibc keeps in statics (mktime's guess of the UTC offset). */
	private final class Evaluator {
		/** null for UTC (timegm) */
		private final ZoneRules rules;
		/** glibc's localtime_offset: the last result's (UTC - local) in seconds, the first guess for the next call */
		private long localtimeOffset;
		private int matched;

		Evaluator(ZoneRules rules) {
			this.rules = rules;
		}

		/** calendar_spec_next_usec_impl() */
		Long nextUsec(long usec) {
			usec++;
			long t = Math.floorDiv(usec, USEC_PER_SEC);
			Tm tm = convert(t);
			if (tm == null)
				return null;
			int[] tmUsec = { Math.floorMod(usec, USEC_PER_SEC) };
			if (findNext(tm, tmUsec) < 0)
				return null;
			t = mktime(tm);
			if (t < 0)
				return null;
			return t * USEC_PER_SEC + tmUsec[0];
		}

		private int findNext(Tm tm, int[] usec) {
			Tm c = tm.copy();
			int tmUsec = usec[0];
			int r;
			boolean invalidateDst = false;
			for (int iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
				mktime(c); // normalize the current date
				if (!invalidateDst)
					c.isdst = dst;

				c.year += 1900;
				r = findMatchingComponent(year, false, c, c.year);
				c.year = matched - 1900;
				if (r > 0) {
					c.mon = 0;
					c.mday = 1;
					c.hour = c.min = c.sec = tmUsec = 0;
				}
				if (r < 0)
					return r;
				if (tmWithinBounds(c) <= 0)
					return ENOENT;

				c.mon += 1;
				r = findMatchingComponent(month, false, c, c.mon);
				c.mon = matched - 1;
				if (r > 0) {
					c.mday = 1;
					c.hour = c.min = c.sec = tmUsec = 0;
				}
				if (r < 0 || (r = tmWithinBounds(c)) < 0) {
					c.year++;
					c.mon = 0;
					c.mday = 1;
					c.hour = c.min = c.sec = tmUsec = 0;
					continue;
				}
				if (r == 0)
					continue;

				r = findMatchingComponent(day, true, c, c.mday);
				c.mday = matched;
				if (r > 0)
					c.hour = c.min = c.sec = tmUsec = 0;
				if (r < 0 || (r = tmWithinBounds(c)) < 0) {
					c.mon++;
					c.mday = 1;
					c.hour = c.min = c.sec = tmUsec = 0;
					continue;
				}
				if (r == 0)
					continue;

				if (!matchesWeekday(c)) {
					c.mday++;
					c.hour = c.min = c.sec = tmUsec = 0;
					continue;
				}

				r = findMatchingComponent(hour, false, c, c.hour);
				c.hour = matched;
				if (r > 0)
					c.min = c.sec = tmUsec = 0;
				if (r < 0 || (r = tmWithinBounds(c)) < 0) {
					c.mday++;
					c.hour = c.min = c.sec = tmUsec = 0;
					continue;
				}
				if (r == 0)
					continue; // the hour may be missing around a DST change: retry from the normalized time

				r = findMatchingComponent(minute, false, c, c.min);
				c.min = matched;
				if (r > 0)
					c.sec = tmUsec = 0;
				if (r < 0 || (r = tmWithinBounds(c)) < 0) {
					c.hour++;
					c.min = c.sec = tmUsec = 0;
					continue;
				}
				if (r == 0)
					continue;

				c.sec = c.sec * USEC_PER_SEC + tmUsec;
				r = findMatchingComponent(microsecond, false, c, c.sec);
				c.sec = matched;
				tmUsec = c.sec % USEC_PER_SEC;
				c.sec /= USEC_PER_SEC;
				if (r < 0 || (r = tmWithinBounds(c)) < 0) {
					c.min++;
					c.sec = tmUsec = 0;
					continue;
				}
				if (r == 0)
					continue;

				r = compareFields(tm, c);
				if (r == 0)
					r = Integer.compare(usec[0], tmUsec + 1);
				if (r >= 0) {
					// stuck (a DST change took us back): advance, let mktime determine the DST transition, try again
					invalidateDst = true;
					c.hour++;
					continue;
				}

				tm.set(c);
				usec[0] = tmUsec;
				return 0;
			}
			return -1; // systemd: "Infinite loop in calendar calculation"
		}

		private int compareFields(Tm a, Tm b) {
			int r = Integer.compare(a.year, b.year);
			if (r == 0)
				r = Integer.compare(a.mon, b.mon);
			if (r == 0)
				r = Integer.compare(a.mday, b.mday);
			if (r == 0)
				r = Integer.compare(a.hour, b.hour);
			if (r == 0)
				r = Integer.compare(a.min, b.min);
			if (r == 0)
				r = Integer.compare(a.sec, b.sec);
			return r;
		}

		/**
		 * The earliest value of the list that is at least {@code val}, left in {@link #matched}; returns 1 if that
		 * differs from val, 0 if not, ENOENT if there is none.
		 */
		private int findMatchingComponent(List<Component> chain, boolean isDay, Tm tm, int val) {
			matched = val;
			if (chain == null)
				return 0;
			boolean eom = endOfMonth && isDay;
			int d = -1;
			boolean dSet = false;
			for (Component c : chain) {
				int start, stop;
				if (eom) {
					start = findEndOfMonth(tm, c.start);
					stop = findEndOfMonth(tm, c.stop);
					if (stop > 0) {
						int x = start;
						start = stop;
						stop = x;
					}
				} else {
					start = c.start;
					stop = c.stop;
				}
				if (start >= val) {
					if (!dSet || start < d) {
						d = start;
						dSet = true;
					}
				} else if (c.repeat > 0) {
					int k = start + c.repeat * ((val - start + c.repeat - 1) / c.repeat);
					if ((!dSet || k < d) && (stop < 0 || k <= stop)) {
						d = k;
						dSet = true;
					}
				}
			}
			if (!dSet)
				return ENOENT;
			matched = d;
			return val != d ? 1 : 0;
		}

		private int findEndOfMonth(Tm tm, int day) {
			Tm t = tm.copy();
			t.mon++;
			t.mday = 1 - day;
			if (mktime(t) < 0 || t.mon != tm.mon)
				return -1;
			return t.mday;
		}

		/** 1 if tm is a valid time, 0 if it had to be normalized (then tm is moved forward), negative on errors */
		private int tmWithinBounds(Tm tm) {
			// an upper bound on the year, so that impossible dates like *-02-31 end the search
			if (tm.year + 1900 > MAX_YEAR)
				return -1;
			Tm t = tm.copy();
			if (mktime(t) < 0)
				return -1;
			// was something normalized? Then reset the smaller units, lest e.g. 3-33 → 4-2 skip 4-1
			int cmp;
			if ((cmp = Integer.compare(t.year, tm.year)) != 0)
				t.mon = 0;
			else if ((cmp = Integer.compare(t.mon, tm.mon)) != 0)
				t.mday = 1;
			else if ((cmp = Integer.compare(t.mday, tm.mday)) != 0)
				t.hour = 0;
			else if ((cmp = Integer.compare(t.hour, tm.hour)) != 0)
				t.min = 0;
			else if ((cmp = Integer.compare(t.min, tm.min)) != 0)
				t.sec = 0;
			else
				cmp = Integer.compare(t.sec, tm.sec);
			if (cmp < 0)
				return -1; // refuse to go backward
			if (cmp > 0)
				tm.set(t);
			return cmp == 0 ? 1 : 0;
		}

		private boolean matchesWeekday(Tm tm) {
			if (weekdaysBits < 0 || weekdaysBits >= BITS_WEEKDAYS)
				return true;
			Tm t = tm.copy();
			if (mktime(t) < 0)
				return false;
			int k = t.wday == 0 ? 6 : t.wday - 1;
			return (weekdaysBits & (1 << k)) != 0;
		}

		// -------------------------------------------------------------------------------------- mktime, localtime

		/** localtime_r() or gmtime_r(); null when out of range */
		private Tm convert(long t) {
			try {
				Instant i = Instant.ofEpochSecond(t);
				ZoneOffset off = rules == null ? ZoneOffset.UTC : rules.getOffset(i);
				LocalDateTime l = LocalDateTime.ofEpochSecond(t, 0, off);
				Tm tm = new Tm();
				tm.year = l.getYear() - 1900;
				tm.mon = l.getMonthValue() - 1;
				tm.mday = l.getDayOfMonth();
				tm.hour = l.getHour();
				tm.min = l.getMinute();
				tm.sec = l.getSecond();
				tm.wday = l.getDayOfWeek().getValue() % 7;
				tm.yday = l.getDayOfYear() - 1;
				tm.isdst = rules != null && rules.isDaylightSavings(i) ? 1 : 0;
				return tm;
			} catch (RuntimeException e) {
				return null;
			}
		}

		/** seconds from 1970-01-01 00:00:00 to the given (year counted from 1900, 0-based day of year) time */
		private long localSeconds(long year, long yday, long hour, long min, long sec) {
			long days = LocalDate.of((int) (year + 1900), 1, 1).toEpochDay() + yday;
			return ((days * 24 + hour) * 60 + min) * 60 + sec;
		}

		/**
		 * mktime() (or timegm() for UTC), modelled on glibc's __mktime_internal(): normalizes tp and returns the
		 * time, or -1 on failure (then tp is unchanged).
		 */
		private long mktime(Tm tp) {
			try {
				return rules == null ? timegm(tp) : mktimeLocal(tp);
			} catch (RuntimeException e) { // a date java.time cannot represent
				return -1;
			}
		}

		private long timegm(Tm tp) {
			int mon = tp.mon;
			int monRemainder = mon % 12;
			boolean negative = monRemainder < 0;
			long year = (long) tp.year + mon / 12 - (negative ? 1 : 0);
			long yday = MON_YDAY[leap(year + 1900) ? 1 : 0][monRemainder + (negative ? 12 : 0)] - 1 + (long) tp.mday;
			long t = localSeconds(year, yday, tp.hour, tp.min, tp.sec);
			Tm tm = convert(t);
			if (tm == null)
				return -1;
			tp.set(tm);
			return t;
		}

		private long mktimeLocal(Tm tp) {
			int sec = tp.sec, min = tp.min, hour = tp.hour, mday = tp.mday, mon = tp.mon, isdst = tp.isdst;
			int dst2 = 0;
			int monRemainder = mon % 12;
			boolean negative = monRemainder < 0;
			long year = (long) tp.year + mon / 12 - (negative ? 1 : 0);
			long yday = MON_YDAY[leap(year + 1900) ? 1 : 0][monRemainder + (negative ? 12 : 0)] - 1 + (long) mday;
			int secRequested = sec;
			if (sec < 0)
				sec = 0;
			if (sec > 59)
				sec = 59;
			long requested = localSeconds(year, yday, hour, min, sec);
			long off = localtimeOffset;
			// first guess: the same offset as last time
			long t0 = requested + off;
			long t = t0, t1 = t0, t2 = t0;
			int remainingProbes = 6;
			Tm tm;
			boolean found = false;
			while (true) {
				tm = convert(t);
				if (tm == null)
					return -1;
				long dt = requested - localSeconds(tm.year, tm.yday, tm.hour, tm.min, tm.sec);
				if (dt == 0)
					break;
				int tmDst = tm.isdst != 0 ? 1 : 0;
				if (t == t1 && t != t2 && (isdst < 0 ? dst2 <= tmDst : (isdst != 0) != (tm.isdst != 0))) {
					// oscillating around a spring-forward gap: take the time the gap away from the request
					found = true;
					break;
				}
				if (--remainingProbes == 0)
					return -1;
				t1 = t2;
				t2 = t;
				t += dt;
				dst2 = tmDst;
			}
			if (!found && isdstDiffer(isdst, tm.isdst)) {
				// wrong tm_isdst: take the UTC offset of a neighbouring time with the right one
				int stride = 601200;
				int durationMax = 536454000;
				int deltaBound = durationMax / 2 + stride;
				search: {
					for (long delta = stride; delta < deltaBound; delta += stride)
						for (int direction = -1; direction <= 1; direction += 2) {
							long ot = t + delta * direction;
							Tm otm = convert(ot);
							if (otm == null)
								return -1;
							if (!isdstDiffer(isdst, otm.isdst)) {
								long gt = ot + requested - localSeconds(otm.year, otm.yday, otm.hour, otm.min, otm.sec);
								Tm gtm = convert(gt);
								if (gtm == null)
									return -1;
								tm = gtm;
								t = gt;
								break search;
							}
						}
					return -1;
				}
			}
			localtimeOffset = t - t0 + off;
			if (secRequested != tm.sec) {
				t += secRequested - sec;
				tm = convert(t);
				if (tm == null)
					return -1;
			}
			tp.set(tm);
			return t;
		}
	}

	private static boolean isdstDiffer(int a, int b) {
		return (a == 0) != (b == 0) && a >= 0 && b >= 0;
	}

	private static boolean leap(long y) {
		return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	}
}
