package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import psi.spi.format.RootKind;

class DropInWriterTest {

	@Test
	void serviceDropInIsPortabled252sByteForByte() {
		// GROUND-TRUTH.md §2: 235 bytes, sha256 951a95ca...f093
		String expected = """
			# Drop-in created for image '/var/lib/portables/single', do not edit.

			[Service]
			RootDirectory=/var/lib/portables/single
			Environment=PORTABLE=single
			BindReadOnlyPaths=/etc/os-release:/run/host/os-release
			LogExtraFields=PORTABLE=single
			""";
		String actual = DropInWriter.portableConf("/var/lib/portables/single", RootKind.DIRECTORY, "single.service", "single", "/etc/os-release");
		assertEquals(expected, actual);
		assertEquals(235, actual.getBytes().length);
	}

	@Test
	void rawImagesGetRootImage() {
		String actual = DropInWriter.portableConf("/var/lib/portables/gptfoo.raw", RootKind.IMAGE, "gptfoo.service", "gptfoo.raw", "/usr/lib/os-release");
		assertEquals("""
			# Drop-in created for image '/var/lib/portables/gptfoo.raw', do not edit.

			[Service]
			RootImage=/var/lib/portables/gptfoo.raw
			Environment=PORTABLE=gptfoo.raw
			BindReadOnlyPaths=/usr/lib/os-release:/run/host/os-release
			LogExtraFields=PORTABLE=gptfoo.raw
			""", actual);
	}

	@Test
	void otherUnitsGetOnlyTheMarker() {
		String actual = DropInWriter.portableConf("/var/lib/portables/sst", RootKind.DIRECTORY, "sst.socket", "sst", "/etc/os-release");
		assertEquals("# Drop-in created for image '/var/lib/portables/sst', do not edit.\n", actual);
		assertEquals(67, actual.length());
	}

	@Test
	void valuesAreWrittenSoThatSystemdReadsThemBack() {
		// a specifier character doubled in paths and words; a word with a space quoted; ordinary names as portabled writes them
		String actual = DropInWriter.portableConf("/srv/my img%n", RootKind.DIRECTORY, "a.service", "my img%n", "/etc/os-release");
		assertEquals("""
			# Drop-in created for image '/srv/my img%n', do not edit.

			[Service]
			RootDirectory=/srv/my img%%n
			Environment="PORTABLE=my img%%n"
			BindReadOnlyPaths=/etc/os-release:/run/host/os-release
			LogExtraFields="PORTABLE=my img%%n"
			""", actual);
		assertEquals("\"PORTABLE=a\\\"b\"", UnitValues.word("PORTABLE=a\"b"));
		assertEquals("PORTABLE=x_1.raw", UnitValues.word("PORTABLE=x_1.raw"));
	}

	@Test
	void pathsSystemdWouldNotReadBackAreRefused() {
		for (String bad : new String[] { "/srv/x\n[Service]\nExecStartPre=/tmp/evil\n#", "/srv/a\rb", "/srv/a\u001b[31m", "/srv/back\\slash",
			"/srv/trailing ", "/srv/" + "n".repeat(256) }) {
			psi.api.PsiException e = org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class, () -> UnitValues.checkPath(bad));
			org.junit.jupiter.api.Assertions.assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
			org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().endsWith("refusing"), e.getMessage());
		}
		assertEquals("/srv/ok dir%1", UnitValues.checkPath("/srv/ok dir%1"));
	}
}
