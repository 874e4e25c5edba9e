package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;

/** systemd's version order and its .v/ directories. */
class VersionsTest {

	@TempDir
	Path root;

	@Test
	void theOrderOfSystemdsOwnExample() {
		// string-util-fundamental.c's list, oldest first, and the UAPI version format's cases
		List<String> ordered = List.of("122.1", "123~rc1-1", "123", "123-a", "123-a.1", "123-1", "123-1.1", "123^post1", "123.a-1", "123.1-1",
			"123a-1", "124-1");
		List<String> shuffled = new ArrayList<>(ordered);
		Collections.shuffle(shuffled, new java.util.Random(7));
		shuffled.sort(Versions::compare);
		assertEquals(ordered, shuffled);
		assertTrue(Versions.compare("1.10", "1.9") > 0, "numbers, not strings");
		assertEquals(0, Versions.compare("1.0010", "1.10"), "leading zeros");
		assertEquals(0, Versions.compare("123_a", "123a"), "other characters are dropped");
		assertTrue(Versions.compare("1~", "1") < 0);
		assertTrue(Versions.compare("a", "1") < 0, "numbers are newer than letters");
	}

	@Test
	void aVersionedDirectoryStandsForItsNewestVersion() throws Exception {
		Path v = Files.createDirectories(root.resolve("var/lib/portables/app.raw.v"));
		String arch = ExtensionRelease.hostArchitecture();
		for (String f : List.of("app_1.2.raw", "app_1.10.raw", "app_1.11_" + (arch.equals("arm64") ? "x86-64" : "arm64") + ".raw", "app_2+0.raw",
			"app_1.9.psi", "other_3.raw", "app_.raw")) {
			Files.writeString(v.resolve(f), "x");
		}
		Files.createDirectories(v.resolve("app_1.12.raw")); // a directory where a file is looked for
		HostLayout layout = new HostLayout(root);
		List<String> names = Versions.all(layout, "/var/lib/portables/app.raw.v").stream().map(Versions.Pick::fileName).toList();
		assertEquals(List.of("app_1.10.raw", "app_1.2.raw", "app_2+0.raw"), names, "no tries left: last; another architecture's: never");
		ImageResolver images = new ImageResolver(layout, List.of(), new PluginCalls(PluginCalls.Limits.DEFAULT), new AttachmentIndex(layout));
		assertEquals("/var/lib/portables/app.raw.v/app_1.10.raw", images.exact("app").orElseThrow());
		assertEquals("/var/lib/portables/app.raw.v/app_1.10.raw", images.locate("/var/lib/portables/app.raw.v"));
		Files.writeString(v.resolve("app_1.13_" + arch + "+3-1.raw"), "x");
		assertEquals("/var/lib/portables/app.raw.v/app_1.13_" + arch + "+3-1.raw", images.exact("app").orElseThrow(),
			"a newer version for this architecture, with tries left");

		// directories in NAME.v/
		Path d = Files.createDirectories(root.resolve("var/lib/portables/dir.v"));
		Files.createDirectories(d.resolve("dir_7"));
		Files.createDirectories(d.resolve("dir_10"));
		assertEquals("/var/lib/portables/dir.v/dir_10", images.exact("dir").orElseThrow());

		Files.createDirectories(root.resolve("var/lib/portables/none.v"));
		PsiException e = assertThrows(PsiException.class, () -> images.exact("none"));
		assertTrue(e.getMessage().startsWith("No image version found in '/var/lib/portables/none.v'."), e.getMessage());
	}

	@Test
	void markersOfAPickedVersionMatchTheNameAndEveryVersion() {
		String m = "/var/lib/portables/app.raw.v/app_1.10.raw";
		assertTrue(DropInWriter.markerMatches(m, "app"));
		assertTrue(DropInWriter.markerMatches(m, "/var/lib/portables/app.raw.v"));
		assertTrue(DropInWriter.markerMatches(m, "/var/lib/portables/app.raw.v/app_1.11.raw"));
		assertTrue(!DropInWriter.markerMatches(m, "apple"));
		assertTrue(DropInWriter.markerMatches("/var/lib/portables/app_1.raw", "/srv/app.raw.v"), "a .v/ path matches every version of its name");
	}
}
