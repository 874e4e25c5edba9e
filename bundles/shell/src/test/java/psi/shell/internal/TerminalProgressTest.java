package psi.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The progress shown on standard error: a transfer line on a terminal only, steps always. */
class TerminalProgressTest {

	@Test
	void transferLineSaysBytesRateAndTimeLeft() {
		assertEquals("foo_1.raw  128.0M/256.0M  50%  64.0M/s  2s left",
			TerminalProgress.line("foo_1.raw", 128L << 20, 256L << 20, 2_000_000_000L));
		assertEquals("foo_1.raw  1.0M  1.0M/s", TerminalProgress.line("foo_1.raw", 1L << 20, -1, 1_000_000_000L));
		assertEquals("foo_1.raw  100.0M/200.0G  0%  1.0M/s  204700s left".replace("204700s", 204700 / 60 + "m" + 204700 % 60 + "s"),
			TerminalProgress.line("foo_1.raw", 100L << 20, 200L << 30, 100_000_000_000L));
	}

	@Test
	void aScriptSeesStepsButNoTransferLine() {
		ByteArrayOutputStream b = new ByteArrayOutputStream();
		TerminalProgress p = new TerminalProgress(new PrintStream(b, true, StandardCharsets.UTF_8), false);
		p.step("Fetching https://h/foo_1.raw");
		p.transfer("foo_1.raw", 10, 100);
		p.transferDone();
		p.step("Placed /var/lib/portables/foo_1.raw");
		assertEquals("Fetching https://h/foo_1.raw\nPlaced /var/lib/portables/foo_1.raw\n", b.toString(StandardCharsets.UTF_8));
	}

	@Test
	void aTerminalSeesTheTransferLineRedrawnAndCleared() {
		ByteArrayOutputStream b = new ByteArrayOutputStream();
		TerminalProgress p = new TerminalProgress(new PrintStream(b, true, StandardCharsets.UTF_8), true);
		p.transfer("foo_1.raw", 10, 100);
		p.transfer("foo_1.raw", 20, 100); // within 200 ms: not redrawn
		p.transfer("foo_1.raw", 100, 100); // the end is always drawn
		p.transferDone();
		p.step("Placed");
		String out = b.toString(StandardCharsets.UTF_8);
		assertEquals(2, out.split("foo_1.raw", -1).length - 1, out);
		assertTrue(out.endsWith("\r\033[KPlaced\n"), out);
	}
}
