package psi.core.internal;

import psi.spi.unit.SyscallGroups;
import psi.spi.unit.UnitFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The unit reader against systemd's own parser: for each tricky unit, does
 * systemd 252 ({@code systemd-analyze verify}, which loads the unit as the
 * manager would) see the {@code ExecStartPre=+} line, and does the reader?
 * They must agree, or an image could hide a setting from the sandbox guard.
 * The command is relative on purpose: systemd then names it in a warning.
 */
class UnitFileReaderSystemdTest {

	private static final String EXEC = "ExecStartPre=+psi-probe-relative";

	@TempDir
	Path dir;

	@ParameterizedTest
	@ValueSource(strings = { "[Service]\nX=x\\\\\n" + EXEC, // an escaped backslash ends the line
		"[Service]\nDescription=x\\\n" + EXEC, // an odd one continues it
		"\uFEFF[Service]\n" + EXEC, // a byte order mark
		"[Service]\n# a comment \\\n" + EXEC, // a comment does not continue
		"[Service]\r\n" + EXEC + "\r", // CR LF
		"  [Service]  \n\t" + EXEC, // whitespace around
		"[Service]\nX=a \\\n# inside \\\n" + EXEC, // a comment inside a continuation, ending in a backslash
		"[Service]\nX=a \\\n\n" + EXEC, // an empty line ends a continuation
		"[Unit]\n" + EXEC, // another section
		"[Service]\nExecStartPre =+psi-probe-relative", // spaces around the key
		"[Service]\nX=a\\\\\\\n" + EXEC, // three backslashes: the last one continues
		"[ Service ]\n" + EXEC, // a section named with spaces is another section
		"[Service]\n\\\n" + EXEC, // a line that is only a backslash
		"[Service]\nX=\u00ff \\\n" + EXEC }) // a continued line with a non-ASCII character
	void theReaderSeesWhatSystemdSees(String body) throws Exception {
		Path systemdAnalyze = Path.of("/usr/bin/systemd-analyze");
		assertTrue(Files.isExecutable(systemdAnalyze), "systemd-analyze is missing: apt-get install systemd");
		Path unit = dir.resolve("probe.service");
		Files.write(unit, (body + "\nExecStart=/bin/true\n").getBytes(StandardCharsets.UTF_8));
		Process p = new ProcessBuilder(systemdAnalyze.toString(), "verify", "--man=no", unit.toString()).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertTrue(p.waitFor(60, TimeUnit.SECONDS), "systemd-analyze verify did not end");
		boolean systemd = out.contains("psi-probe-relative");
		boolean reader = UnitFile.read(Files.readAllBytes(unit)).stream()
			.anyMatch(a -> a.section().equals("Service") && a.key().equals("ExecStartPre"));
		assertEquals(systemd, reader, "systemd " + (systemd ? "sees" : "does not see") + " the ExecStartPre= line of\n" + body
			+ "\nsystemd-analyze said:\n" + out);
	}
}
