package psi.manager.embedded.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * systemd's calendar events: normalized forms and elapse times compared with what {@code systemd-analyze calendar}
 * (systemd 252) computes from the same base times in the same time zones, plus expressions both refuse.
 */
class CalendarSpecTest {

	private static final Path SYSTEMD_ANALYZE = Path.of("/usr/bin/systemd-analyze");
	private static final int ITERATIONS = 5;

	/** accepted in both test zones */
	private static final List<String> EXPRESSIONS = List.of(
		// shorthands
		"minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "anually", "quarterly",
		"semiannually", "semi-annually", "bi-annually", "DAILY",
		// the usual
		"*-*-* 04:00:00", "Mon..Fri 22:30", "Sat,Sun 08:00", "*-*-01 00:00:00", "*-02-29", "*:0/15", "*-*~1",
		"2026-12-24 18:00 UTC", "Wed *-*-1..7 12:00", "12:00", "01:02:03", "*:05,35", "*-*-* *:*:*",
		// weekdays
		"monday,FRIDAY 9:15", "Mon-Wed", "Tue..Thu,Sat 7:00", "Mon,", "Mon..Sun", "sun 23:59:59",
		// dates, lists, ranges, repetitions
		"2024-*-* 12:00", "24-06-01", "2024,2026-01-01", "2023..2031/2-01-01", "*-1..12/3-1 3:00", "*-*-* 0/6:00",
		"*-*-* 8..18/2:30", "*-*-31", "Fri *-*-13", "*-*-* 1..10/4:00", "*-*-* 5..5:00", "2020-01-01", "*-02-30",
		"@1735689600", "@1700000000",
		// counted from the month's end
		"*-02~03", "Mon *-05~07/1", "*-*~1..7", "*-*~7/2", "Fri *-*~1..7 18:00",
		// seconds with fractions
		"*:*:0.5/1.5", "00:00:30.5", "*:*:1.5..3", "*:*:10..20/2.5", "*:*:0/1", "00:00:30.1234567",
		// time zones
		"daily UTC", "Mon 12:00 utc", "12:00 CET", "*-*-* 02:30 Europe/Berlin", "Mon,Fri 12:00 Europe/Berlin",
		"hourly Europe/Berlin", "*:0/15 Europe/Berlin", "*-*-* 02:*:00 Europe/Berlin", "*-*-* 12:00 America/New_York",
		"Sun *-*-* 01:30 America/New_York", "daily Asia/Tokyo",
		// around DST changes in the local zone (Europe/Berlin in the second run)
		"*-*-* 02:30", "*-*-* 02:*:00", "*-*-* 01,02,03:00/20", "2024-03-31 02:30", "2024-10-27 02:30",
		"2024-10-27 02:*:00", "*-*-* 03:00", "*-*-* *:26:33",
		// lists whose normalized form is "*", end-of-month lists
		"*:*:0/1,5", "*:*:3,0..5", "*-*~13,25", "*-*~2,1..5");

	/** accepted only where the local zone has these abbreviations */
	private static final Map<String, List<String>> ZONE_EXPRESSIONS = Map.of(
		"UTC", List.of(),
		// "cest" stays on summer time's offset, where systemd must step past the fall-back hour
		"Europe/Berlin", List.of("12:00 CEST", "Mon *-*-* 12:00 cet", "*-*-* *:26:33 cest", "*-*-* 02:26:33 cest"));

	private static final List<String> BASES = List.of("2024-01-01 00:00:00", "2024-03-30 23:00:00",
		"2024-10-26 23:50:00", "2024-10-27 00:26:33", "2025-06-15 13:37:42");

	/** refused by systemd; note that systemd refuses "*&#47;step" although cron knows it */
	private static final List<String> REFUSED = List.of("Mon 25:00", "*/2:00", "*-*-* 02:*/20:00", "*-02-32",
		"2200-01-01", "1969-12-31", "Mon..Tue..Wed", "Fri..Mon", "bogus", "12:60", "*:*:60", "*-*~29", "*-*~7..1",
		"1..3/0.5:00", "12:00 Europe/Nowhere", "", "Europe/Berlin", "Mon.. 10:00", "*:50/20", "*-*-* 12:00:00:00",
		"0..59/15:00", "*:*:1.5..2", "Mond 12:00", "+1:00", "2024-01-01-01", "12:00 UTC UTC", "00:00:30.",
		"2024-*~1/2", "*-*~3,27", "*-*~28,14/5");

	private static final Pattern STAMP = Pattern.compile("(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d) UTC$");
	private static final DateTimeFormatter STAMP_FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

	// ------------------------------------------------------------------------------------------- against systemd

	@Test
	void sameNormalizedFormsAndElapsesAsSystemd() throws Exception {
		requireSystemdAnalyze();
		int compared = 0;
		List<String> failures = new ArrayList<>();
		for (String tz : List.of("UTC", "Europe/Berlin")) {
			List<String> exprs = new ArrayList<>(EXPRESSIONS);
			exprs.addAll(ZONE_EXPRESSIONS.get(tz));
			for (String base : BASES) {
				List<String> cmd = new ArrayList<>(List.of(SYSTEMD_ANALYZE.toString(), "--no-pager", "calendar",
					"--iterations=" + ITERATIONS, "--base-time=" + base + " UTC", "--"));
				cmd.addAll(exprs);
				Result res = run(tz, cmd);
				Map<String, Block> blocks = blocks(res.stdout);
				ZonedDateTime baseTime = LocalDateTime.parse(base, STAMP_FORMAT).atZone(ZoneOffset.UTC);
				for (String expr : exprs) {
					String where = "\"" + expr + "\" TZ=" + tz + " base " + base;
					Block b = blocks.get(expr);
					if (b == null) {
						failures.add(where + ": systemd-analyze gave no result: " + res.stderr);
						continue;
					}
					CalendarSpec spec;
					try {
						spec = CalendarSpec.parse(expr, ZoneId.of(tz));
					} catch (IllegalArgumentException e) {
						failures.add(where + ": refused, but systemd accepts it: " + e.getMessage());
						continue;
					}
					if (!b.normalized.equals(spec.normalized()))
						failures.add(where + ": normalized \"" + spec.normalized() + "\", systemd \"" + b.normalized
							+ "\"");
					List<String> mine = new ArrayList<>();
					ZonedDateTime t = baseTime;
					for (int i = 0; i < ITERATIONS; i++) {
						t = spec.next(t);
						if (t == null)
							break;
						// systemd-analyze prints whole seconds
						mine.add(t.withZoneSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS)
							.format(STAMP_FORMAT));
					}
					if (!b.elapses.equals(mine))
						failures.add(where + ": elapses " + mine + ", systemd " + b.elapses);
					compared++;
				}
			}
		}
		assertTrue(failures.isEmpty(), failures.size() + " differences from systemd:\n" + String.join("\n", failures));
		assertTrue(compared >= 2 * BASES.size() * EXPRESSIONS.size());
	}

	@Test
	void refusedLikeSystemd() throws Exception {
		requireSystemdAnalyze();
		for (String expr : REFUSED) {
			Result res = run("UTC", List.of(SYSTEMD_ANALYZE.toString(), "--no-pager", "calendar", "--", expr));
			assertTrue(res.rc != 0 && res.stderr.contains("Failed to parse calendar specification"),
				"systemd-analyze accepts \"" + expr + "\": " + res.stdout);
			IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
				() -> CalendarSpec.parse(expr, ZoneOffset.UTC), "accepted \"" + expr + "\"");
			assertTrue(e.getMessage().startsWith("bad calendar event \"" + expr + "\": "), e.getMessage());
			assertTrue(!e.getMessage().contains("\n"), e.getMessage());
		}
	}

	@Test
	void givesUpLikeSystemd() throws Exception {
		requireSystemdAnalyze();
		// systemd's search stops after 1000 steps ("Infinite loop in calendar calculation")
		String expr = "Sun 2027-1/05~6 4:10:*";
		Result res = run("Europe/Berlin", List.of(SYSTEMD_ANALYZE.toString(), "--no-pager", "calendar",
			"--iterations=1", "--base-time=2024-01-01 00:00:00 UTC", expr));
		assertTrue(res.stderr.contains("Failed to determine next elapse"), res.stdout + res.stderr);
		assertNull(CalendarSpec.parse(expr, ZoneId.of("Europe/Berlin")).next(utc(2024, 1, 1, 0, 0, 0, 0)));
	}

	private static void requireSystemdAnalyze() {
		// not skipped: systemd-analyze comes with systemd, which the README's apt-get line installs (systemd-container)
		if (!Files.isExecutable(SYSTEMD_ANALYZE)) {
			throw new AssertionError(SYSTEMD_ANALYZE + " is missing: nothing to compare psi's calendar events with (apt-get install systemd)");
		}
	}

	private record Result(int rc, String stdout, String stderr) {
	}

	private static Result run(String tz, List<String> cmd) throws IOException, InterruptedException {
		ProcessBuilder pb = new ProcessBuilder(cmd);
		Map<String, String> env = pb.environment();
		env.put("TZ", tz);
		env.put("LC_ALL", "C");
		env.put("SYSTEMD_COLORS", "0");
		env.put("SYSTEMD_PAGER", "");
		Path err = Files.createTempFile("calendar", ".err");
		try {
			pb.redirectError(err.toFile());
			Process p = pb.start();
			p.getOutputStream().close();
			String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!p.waitFor(20, TimeUnit.SECONDS)) {
				p.destroyForcibly();
				throw new AssertionError("systemd-analyze hangs: " + cmd);
			}
			return new Result(p.exitValue(), out, Files.readString(err));
		} finally {
			Files.deleteIfExists(err);
		}
	}

	private static final class Block {
		String normalized = "";
		final List<String> elapses = new ArrayList<>();
		final List<String> local = new ArrayList<>();
	}

	/**
	 * systemd-analyze's output, by original form (printed only where it differs from the normalized form, else by
	 * the normalized form); elapses in UTC
	 */
	private static Map<String, Block> blocks(String stdout) {
		Map<String, Block> blocks = new LinkedHashMap<>();
		Block b = null;
		String key = null;
		for (String line : (stdout + "\n").split("\n", -1)) {
			String l = line.strip();
			if (l.isEmpty()) {
				if (b != null) {
					if (b.elapses.isEmpty()) // TZ=UTC: no "(in UTC)" lines, the times are in UTC already
						b.elapses.addAll(b.local);
					blocks.put(key != null ? key : b.normalized, b);
				}
				b = null;
				key = null;
				continue;
			}
			if (b == null)
				b = new Block();
			if (l.startsWith("Original form: ")) {
				key = l.substring("Original form: ".length());
			} else if (l.startsWith("Normalized form: ")) {
				b.normalized = l.substring("Normalized form: ".length());
			} else if (l.startsWith("Next elapse: ") || l.startsWith("Iter. #")) {
				Matcher m = STAMP.matcher(l);
				if (m.find())
					b.local.add(m.group(1));
			} else if (l.startsWith("(in UTC): ")) {
				Matcher m = STAMP.matcher(l);
				if (m.find())
					b.elapses.add(m.group(1));
			}
		}
		return blocks;
	}

	// ------------------------------------------------------------------------------------------- on its own

	private static ZonedDateTime utc(int y, int mo, int d, int h, int mi, int s, int nanos) {
		return ZonedDateTime.of(y, mo, d, h, mi, s, nanos, ZoneOffset.UTC);
	}

	@Test
	void fractionalSecondsToTheMicrosecond() {
		CalendarSpec spec = CalendarSpec.parse("*:*:0.5/1.5", ZoneOffset.UTC);
		assertEquals("*-*-* *:*:00.500000/1.500000", spec.normalized());
		ZonedDateTime t = utc(2024, 1, 1, 12, 0, 0, 0);
		List<ZonedDateTime> got = new ArrayList<>();
		for (int i = 0; i < 4; i++)
			got.add(t = spec.next(t).withZoneSameInstant(ZoneOffset.UTC));
		assertEquals(List.of(utc(2024, 1, 1, 12, 0, 0, 500_000_000), utc(2024, 1, 1, 12, 0, 2, 0),
			utc(2024, 1, 1, 12, 0, 3, 500_000_000), utc(2024, 1, 1, 12, 0, 5, 0)), got);
		// the list restarts every minute: 59.0 is followed by the next minute's 0.5
		assertEquals(utc(2024, 1, 1, 12, 1, 0, 500_000_000),
			spec.next(utc(2024, 1, 1, 12, 0, 59, 0)).withZoneSameInstant(ZoneOffset.UTC));
		assertEquals(utc(2024, 1, 2, 0, 0, 30, 500_000_000),
			CalendarSpec.parse("00:00:30.5 UTC").next(utc(2024, 1, 1, 0, 0, 30, 500_000_000))
				.withZoneSameInstant(ZoneOffset.UTC));
	}

	@Test
	void strictlyAfter() {
		CalendarSpec spec = CalendarSpec.parse("*-*-* 04:00:00", ZoneOffset.UTC);
		assertEquals(utc(2024, 1, 2, 4, 0, 0, 0), spec.next(utc(2024, 1, 1, 4, 0, 0, 0)));
		assertEquals(utc(2024, 1, 1, 4, 0, 0, 0), spec.next(utc(2024, 1, 1, 3, 59, 59, 999_999_999)));
	}

	@Test
	void noneIsNullAndQuick() {
		assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
			assertNull(CalendarSpec.parse("*-02-30").next(ZonedDateTime.now()));
			assertNull(CalendarSpec.parse("2020-01-01 UTC").next(utc(2024, 1, 1, 0, 0, 0, 0)));
			assertNull(CalendarSpec.parse("*-*-31 UTC").next(utc(2199, 12, 31, 0, 0, 0, 0)));
			assertNull(CalendarSpec.parse("daily").next(utc(9999, 12, 31, 0, 0, 0, 0)));
			assertEquals(utc(2196, 2, 29, 0, 0, 0, 0), CalendarSpec.parse("*-02-29 UTC").next(utc(2192, 3, 1, 0, 0, 0, 0)));
			assertNull(CalendarSpec.parse("*-02-29 UTC").next(utc(2196, 3, 1, 0, 0, 0, 0))); // 2200 is no leap year
		});
	}

	@Test
	void zones() {
		CalendarSpec berlin = CalendarSpec.parse("Mon 09:00 Europe/Berlin", ZoneOffset.UTC);
		assertEquals("Mon *-*-* 09:00:00 Europe/Berlin", berlin.normalized());
		assertEquals(ZoneId.of("Europe/Berlin"), berlin.zone());
		assertEquals(ZonedDateTime.of(2024, 7, 1, 9, 0, 0, 0, ZoneId.of("Europe/Berlin")),
			berlin.next(utc(2024, 6, 30, 0, 0, 0, 0)));
		assertEquals(ZoneOffset.UTC, CalendarSpec.parse("daily UTC", ZoneId.of("Asia/Tokyo")).zone());
		assertEquals(ZoneId.of("Asia/Tokyo"), CalendarSpec.parse("daily", ZoneId.of("Asia/Tokyo")).zone());
		assertEquals(ZoneId.systemDefault(), CalendarSpec.parse("daily").zone());
	}

	@Test
	void messagesNameTheBadPart() {
		assertEquals("bad calendar event \"Mon 25:00\": hour 25 out of range",
			assertThrows(IllegalArgumentException.class, () -> CalendarSpec.parse("Mon 25:00")).getMessage());
		assertEquals("bad calendar event \"Fri..Mon\": weekday range Fri..Mon runs backwards",
			assertThrows(IllegalArgumentException.class, () -> CalendarSpec.parse("Fri..Mon")).getMessage());
		assertEquals("bad calendar event \"Mond 12:00\": bad weekday \"Mond\"",
			assertThrows(IllegalArgumentException.class, () -> CalendarSpec.parse("Mond 12:00")).getMessage());
		assertEquals("bad calendar event \"*-*~29\": day counted from the month's end 29 out of range",
			assertThrows(IllegalArgumentException.class, () -> CalendarSpec.parse("*-*~29")).getMessage());
		assertEquals("bad calendar event \"*:*:60\": second 60 out of range",
			assertThrows(IllegalArgumentException.class, () -> CalendarSpec.parse("*:*:60")).getMessage());
		assertThrows(IllegalArgumentException.class, () -> CalendarSpec.parse(null));
		assertThrows(IllegalArgumentException.class, () -> CalendarSpec.parse("12:00\0"));
	}
}
