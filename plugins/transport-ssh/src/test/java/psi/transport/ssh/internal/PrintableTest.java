package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PrintableTest {

	@Test
	void oneLineBounded() {
		assertEquals("", Printable.line(null, 10));
		assertEquals("a b", Printable.line("  a\n\n\tb \n", 10));
		assertEquals("abcde...", Printable.line("abcdefgh", 5));
		assertEquals("abcde", Printable.line("abcde\n", 5));
		assertEquals("x y", Printable.line("x\u001b\u2028y", 10));
	}
}
