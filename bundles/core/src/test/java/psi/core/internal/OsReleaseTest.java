package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class OsReleaseTest {

	private static Map<String, String> parse(String s) {
		return OsRelease.parse(s.getBytes(StandardCharsets.UTF_8)).fields();
	}

	@Test
	void readsDebiansOsRelease() {
		Map<String, String> f = parse("""
			PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
			NAME="Debian GNU/Linux"
			VERSION_ID="12"
			ID=debian
			HOME_URL="https://www.debian.org/"
			""");
		assertEquals("Debian GNU/Linux 12 (bookworm)", f.get("PRETTY_NAME"));
		assertEquals("debian", f.get("ID"));
		assertEquals(List.of("PRETTY_NAME", "NAME", "VERSION_ID", "ID", "HOME_URL"), List.copyOf(f.keySet()));
	}

	@Test
	void quotesAndEscapes() {
		Map<String, String> f = parse("A='single $quoted \\n'\nB=\"dq \\\"x\\\" \\$y \\\\ \\n\"\nC=un\\ quoted\\\"\nD=a\"b\"'c'd\n");
		assertEquals("single $quoted \\n", f.get("A"));
		assertEquals("dq \"x\" $y \\ \\n", f.get("B"));
		assertEquals("un quoted\"", f.get("C"));
		assertEquals("abcd", f.get("D"));
	}

	@Test
	void whitespaceCommentsAndContinuations() {
		Map<String, String> f = parse("""
			# a comment
			; another
			   KEY  =   value with spaces   \t
			LONG=one\\
			two
			QUOTED="line\\
			joined"
			EMPTY=
			""");
		assertEquals("value with spaces", f.get("KEY"));
		assertEquals("onetwo", f.get("LONG"));
		assertEquals("linejoined", f.get("QUOTED"));
		assertEquals("", f.get("EMPTY"));
		assertNull(OsRelease.parse("EMPTY=\n".getBytes(StandardCharsets.UTF_8)).get("EMPTY"));
	}

	@Test
	void ignoresBadLinesAndKeepsTheLastAssignment() {
		Map<String, String> f = parse("no equals sign\n1BAD=x\nBAD-KEY=y\nID=first\nID=second\nLAST=no newline");
		assertFalse(f.containsKey("1BAD"));
		assertFalse(f.containsKey("BAD-KEY"));
		assertEquals("second", f.get("ID"));
		assertEquals("no newline", f.get("LAST"));
	}

	@Test
	void dropsValuesThatAreNotUtf8() {
		byte[] b = "ID=ok\nNAME=\u0000\n".getBytes(StandardCharsets.ISO_8859_1);
		b[b.length - 2] = (byte) 0xff;
		Map<String, String> f = OsRelease.parse(b).fields();
		assertEquals("ok", f.get("ID"));
		assertFalse(f.containsKey("NAME"));
	}

	@Test
	void unterminatedQuoteKeepsWhatWasRead() {
		assertEquals("open", parse("A=\"open").get("A"));
	}

	@Test
	void refusesHugeFiles() {
		assertThrows(IllegalArgumentException.class, () -> OsRelease.parse(new byte[OsRelease.MAX_SIZE + 1]));
	}
}
