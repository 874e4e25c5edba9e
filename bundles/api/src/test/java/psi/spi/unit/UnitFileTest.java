package psi.spi.unit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The unit reader splits lines where systemd's {@code config_parse()} splits
 * them: a line it joined that systemd does not (or the other way round)
 * would hide a setting from the sandbox guard.
 */
class UnitFileTest {

	private static List<String> read(String unit) {
		return UnitFile.read(unit.getBytes(StandardCharsets.UTF_8)).stream()
			.map(a -> a.section() + "|" + a.key() + "|" + a.value() + "|" + a.line()).toList();
	}

	@Test
	void sectionsKeysValuesAndLines() {
		assertEquals(List.of("Unit|Description|a b|2", "Service|ExecStart|/bin/x --y|5"),
			read("[Unit]\nDescription = a b \n\n[Service]\n\tExecStart=/bin/x --y\n# ExecStart=+/bin/no\n; no=no\n"));
	}

	@Test
	void aContinuedLineIsOneAssignmentSkippingCommentsInside() {
		assertEquals(List.of("Service|ExecStart|/bin/x  --y  --z|2"),
			read("[Service]\nExecStart=/bin/x \\\n# a comment\n --y \\\n --z\n"));
	}

	/** An escaped backslash ends the line: the next line is an assignment of its own, as systemd reads it. */
	@Test
	void anEscapedBackslashDoesNotContinue() {
		assertEquals(List.of("Service|Description|x\\\\|2", "Service|ExecStartPre|+/bin/evil|3"),
			read("[Service]\nDescription=x\\\\\nExecStartPre=+/bin/evil\n"));
		assertEquals(List.of("Service|Description|x\\\\ ExecStartPre=+/bin/evil|2"),
			read("[Service]\nDescription=x\\\\\\\nExecStartPre=+/bin/evil\n"));
	}

	/** systemd skips a byte order mark: the section header after it counts. */
	@Test
	void aByteOrderMarkIsSkipped() {
		assertEquals(List.of("Service|ExecStartPre|+/bin/evil|2"), read("\uFEFF[Service]\nExecStartPre=+/bin/evil\n"));
	}

	@Test
	void crLfLineEndsAndLinesWithoutKeys() {
		assertEquals(List.of("Service|User|root|2"), read("[Service]\r\nUser=root\r\n=nokey\r\nnothing\r\n"));
	}
}
