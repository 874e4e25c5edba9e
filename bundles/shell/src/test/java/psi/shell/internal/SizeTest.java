package psi.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import psi.api.PsiException;

/** set-limit's sizes, as systemd's parse_size() with base 1024 reads them. */
class SizeTest {

	@Test
	void sizes() {
		assertEquals(1073741824L, PortableCommands.size("1G"));
		assertEquals(1536L, PortableCommands.size("1.5K"));
		assertEquals(512L, PortableCommands.size("512"));
		assertEquals(-1L, PortableCommands.size("-"));
		assertEquals(-1L, PortableCommands.size("infinity"));
		assertThrows(PsiException.class, () -> PortableCommands.size("lots"));
		assertThrows(PsiException.class, () -> PortableCommands.size("99999E"));
	}
}
