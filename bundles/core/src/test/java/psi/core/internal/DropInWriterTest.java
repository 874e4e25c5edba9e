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
}
