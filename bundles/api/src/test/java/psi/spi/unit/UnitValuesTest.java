package psi.spi.unit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Words, values, specifiers and commands read as systemd 252 reads them (its test-extract-word, test-time-util, test-execute cases). */
class UnitValuesTest {

	@Test
	void wordsQuotesAndEscapes() {
		assertEquals(List.of("a", "b c", "d"), Words.split("a \"b c\"  d"));
		assertEquals(List.of("ab cd"), Words.split("a\"b c\"d"));
		assertEquals(List.of("it's"), Words.split("\"it's\""));
		assertEquals(List.of("a\tb", "x y", "é"), Words.split("a\\tb x\\sy \\xc3\\xa9"));
		assertEquals(List.of("\u00e9", "A"), Words.split("\\u00e9 \\101"));
		assertEquals(List.of(""), Words.split("''"));
		assertEquals(List.of(), Words.split("   "));
		assertThrows(IllegalArgumentException.class, () -> Words.split("\"open"));
		assertThrows(IllegalArgumentException.class, () -> Words.split("x\\"));
		assertThrows(IllegalArgumentException.class, () -> Words.split("\\q"));
		assertThrows(IllegalArgumentException.class, () -> Words.split("\\x00"));
	}

	@Test
	void booleansTimeSpansAndSizes() {
		assertTrue(Values.bool("Yes"));
		assertFalse(Values.bool("off"));
		assertThrows(IllegalArgumentException.class, () -> Values.bool("maybe"));
		long s = 1_000_000;
		assertEquals(90 * s, Values.timespan("90", s));
		assertEquals(90 * s, Values.timespan("1min 30s", s));
		assertEquals(90 * s, Values.timespan("1min30s", s));
		assertEquals(5_400 * s, Values.timespan("1.5h", s));
		assertEquals(500_000, Values.timespan("500ms", s));
		assertEquals(2 * 86_400 * s, Values.timespan("2d", s));
		assertEquals(Values.INFINITY, Values.timespan("infinity", s));
		assertThrows(IllegalArgumentException.class, () -> Values.timespan("5 parsecs", s));
		assertThrows(IllegalArgumentException.class, () -> Values.timespan("", s));
		assertThrows(IllegalArgumentException.class, () -> Values.timespan("-1", s));
		assertEquals(512L << 20, Values.bytes("512M"));
		assertEquals(3L << 29, Values.bytes("1.5G"));
		assertEquals(4096, Values.bytes("4096"));
		assertEquals(Values.INFINITY, Values.bytes("infinity"));
		assertThrows(IllegalArgumentException.class, () -> Values.bytes("12Q"));
		assertThrows(IllegalArgumentException.class, () -> Values.bytes("99999E"));
	}

	@Test
	void specifiers() {
		Map<Character, String> m = Map.of('n', "foo@a-b.service", 'i', "a-b", 'I', Specifiers.unescape("a-b"));
		assertEquals("foo@a-b.service a/b 100%", Specifiers.expand("%n %I 100%%", m::get));
		assertEquals("ends in %", Specifiers.expand("ends in %", m::get));
		assertThrows(IllegalArgumentException.class, () -> Specifiers.expand("%Z", m::get));
		assertEquals("/var/x y", Specifiers.unescape("-var-x\\x20y"));
	}

	@Test
	void execCommandsWithPrefixesAndSeparators() {
		List<ExecCommand> c = ExecCommand.parse("-@/bin/busybox httpd -f -p \"8080\" ; /bin/true \\; x", w -> w);
		assertEquals(2, c.size());
		assertEquals("/bin/busybox", c.get(0).path());
		assertEquals(List.of("httpd", "-f", "-p", "8080"), c.get(0).argv());
		assertEquals(Set.of(ExecCommand.Prefix.IGNORE_FAILURE, ExecCommand.Prefix.ARGV0), c.get(0).prefixes());
		assertEquals(List.of("/bin/true", ";", "x"), c.get(1).argv());
		assertEquals(Set.of(ExecCommand.Prefix.AMBIENT_FALLBACK), ExecCommand.parse("!!/bin/x", w -> w).get(0).prefixes());
		assertEquals(Set.of(ExecCommand.Prefix.FULL_PRIVILEGES), ExecCommand.parse("+/bin/x", w -> w).get(0).prefixes());
		// + after ! is no prefix: the path then starts with + and is refused
		assertThrows(IllegalArgumentException.class, () -> ExecCommand.parse("!+/bin/x", w -> w));
		assertThrows(IllegalArgumentException.class, () -> ExecCommand.parse("bin/x", w -> w));
		assertEquals("busybox", ExecCommand.parse("busybox true", w -> w).get(0).path());
		assertEquals("/usr/bin/x", ExecCommand.parse("/usr//bin/./x", w -> w).get(0).path());
		assertEquals(List.of("/bin/x", "foo.service"), ExecCommand.parse("/bin/x %n", w -> w.replace("%n", "foo.service")).get(0).argv());
	}

	@Test
	void environmentExpansion() {
		ExecCommand c = ExecCommand.parse("/bin/x $OPTS ${ONE}-$$ $UNSET ${UNSET}", w -> w).get(0);
		assertEquals(List.of("/bin/x", "-a", "-b", "1-$", ""), c.argv(Map.of("OPTS", " -a  -b ", "ONE", "1")));
		ExecCommand raw = ExecCommand.parse(":/bin/x $OPTS", w -> w).get(0);
		assertEquals(List.of("/bin/x", "$OPTS"), raw.argv(Map.of("OPTS", "-a")));
	}
}
