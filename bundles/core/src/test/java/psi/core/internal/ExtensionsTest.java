package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import psi.spi.format.RootKind;

/** Extension images: the release check, the marker and the drop-in, as systemd 252 has them. */
class ExtensionsTest {

	static OsRelease osr(String text) {
		return OsRelease.parse(text.getBytes(StandardCharsets.UTF_8));
	}

	static boolean fits(String base, String ext) {
		return ExtensionRelease.fits(osr(base), osr(ext), "x86-64");
	}

	@Test
	void theReleaseCheckIsSystemds() {
		String base = "ID=debian\nVERSION_ID=12\n";
		assertTrue(fits(base, "ID=debian\nVERSION_ID=12\n"));
		assertFalse(fits(base, "ID=debian\nVERSION_ID=11\n"), "another version");
		assertFalse(fits(base, "ID=fedora\nVERSION_ID=12\n"), "another ID");
		assertFalse(fits(base, "VERSION_ID=12\n"), "no ID");
		assertFalse(fits(base, ""), "an empty file");
		assertTrue(fits(base, "ID=_any\n"), "_any needs no version");
		assertFalse(fits(base, "ID=debian\n"), "the base has a version, the extension none");
		// the level counts only when both have one; then the version does not
		assertTrue(fits("ID=debian\nVERSION_ID=12\nSYSEXT_LEVEL=1.0\n", "ID=debian\nVERSION_ID=7\nSYSEXT_LEVEL=1.0\n"));
		assertFalse(fits("ID=debian\nVERSION_ID=12\nSYSEXT_LEVEL=1.0\n", "ID=debian\nVERSION_ID=12\nSYSEXT_LEVEL=2\n"));
		assertFalse(fits(base, "ID=debian\nSYSEXT_LEVEL=1.0\n"), "a level alone against a base with only a version");
		assertTrue(fits("ID=debian\nSYSEXT_LEVEL=1.0\n", "ID=debian\n"), "a base with only a level takes an extension without");
		assertTrue(fits("ID=arch\n", "ID=arch\n"), "a rolling release");
		// scope and architecture
		assertFalse(fits(base, "ID=debian\nVERSION_ID=12\nSYSEXT_SCOPE=system\n"));
		assertTrue(fits(base, "ID=debian\nVERSION_ID=12\nSYSEXT_SCOPE=system portable\n"));
		assertFalse(fits(base, "ID=debian\nVERSION_ID=12\nARCHITECTURE=arm64\n"));
		assertTrue(fits(base, "ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\n"));
		assertTrue(fits(base, "ID=debian\nVERSION_ID=12\nARCHITECTURE=_any\n"));
	}

	/** A directory tree whose files carry the attributes of the map (path → value of user.extension-release.strict). */
	static ImageReader reader(java.nio.file.Path dir, java.util.Map<String, String> strict) {
		psi.spi.format.DirectoryTree t = new psi.spi.format.DirectoryTree(dir, "directory") {
			@Override
			public Optional<byte[]> xattr(String path, String name) {
				return Optional.ofNullable(strict.get(path)).map(String::getBytes);
			}
		};
		return new ImageReader(t, dir.toString());
	}

	static void release(java.nio.file.Path dir, String name, String text) throws java.io.IOException {
		java.nio.file.Path d = dir.resolve("usr/lib/extension-release.d");
		java.nio.file.Files.createDirectories(d);
		java.nio.file.Files.writeString(d.resolve("extension-release." + name), text);
	}

	@Test
	void theReleaseFileIsFoundAsSystemdFindsIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
		release(dir, "other", "ID=x\n");
		String d = ExtensionRelease.DIR;
		// named after the image: found; else only a file that says it is not strict, or any with --force
		var e = org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class,
			() -> ExtensionRelease.read(reader(dir, java.util.Map.of()), "app", false, "/x/app"));
		assertEquals("Image '/x/app' lacks extension-release data, refusing.", ((psi.api.PsiException) e).summary());
		assertEquals(d + "/extension-release.app", ExtensionRelease.read(reader(dir, java.util.Map.of()), "app", true, "/x/app").path());
		assertEquals("ID=x\n", ExtensionRelease.read(reader(dir, java.util.Map.of(d + "/extension-release.other", "false")), "app", false, "/x/app").text());
		org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class,
			() -> ExtensionRelease.read(reader(dir, java.util.Map.of(d + "/extension-release.other", "true")), "app", false, "/x/app"));
		// two candidates are ambiguous
		release(dir, "third", "ID=y\n");
		org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class,
			() -> ExtensionRelease.read(reader(dir, java.util.Map.of()), "app", true, "/x/app"));
		// the file of the image's own name wins over every other
		release(dir, "app", "ID=z\n");
		assertEquals("ID=z\n", ExtensionRelease.read(reader(dir, java.util.Map.of()), "app", false, "/x/app").text());
	}

	@Test
	void theStrictAttributeCountsOnlyWhenFalse() {
		assertFalse(ExtensionRelease.notStrict(Optional.empty()));
		assertFalse(ExtensionRelease.notStrict(Optional.of("true".getBytes())));
		assertFalse(ExtensionRelease.notStrict(Optional.of("maybe".getBytes())));
		assertTrue(ExtensionRelease.notStrict(Optional.of("false".getBytes())));
		assertTrue(ExtensionRelease.notStrict(Optional.of("0".getBytes())));
		assertTrue(ExtensionRelease.notStrict(Optional.of("No".getBytes())));
	}

	@Test
	void theMarkerNamesEveryLayerEscapedAsXescape() {
		String m = DropInWriter.marker(List.of("/var/lib/portables/rt", "/srv/a:b", "/srv/caf\u00e9.raw"));
		assertEquals("# Drop-in created for image '/var/lib/portables/rt:/srv/a\\x3ab:/srv/caf\\xc3\\xa9.raw', do not edit.", m);
		assertEquals(List.of("/var/lib/portables/rt", "/srv/a:b", "/srv/caf\u00e9.raw"), DropInWriter.parseMarker(m));
	}

	@Test
	void extensionsMatchOneForOne() {
		List<String> m = List.of("/var/lib/portables/rt", "/var/lib/portables/app0", "/srv/ext/app1.raw");
		assertTrue(DropInWriter.markerMatches(m, "rt", null), "the base alone matches any extensions, as 252");
		assertTrue(DropInWriter.markerMatches(m, "rt", List.of()));
		assertTrue(DropInWriter.markerMatches(m, "rt", List.of("app0", "/x/app1_2.raw")), "a newer version of an extension");
		assertFalse(DropInWriter.markerMatches(m, "rt", List.of("app1", "app0")), "the order counts");
		assertFalse(DropInWriter.markerMatches(m, "rt", List.of("app0")), "the marker names more");
		assertFalse(DropInWriter.markerMatches(List.of("/var/lib/portables/rt"), "rt", List.of("app0")), "the marker names fewer");
	}

	@Test
	void aServiceFromAnExtensionGetsTheExtensionLines() {
		List<DropInWriter.Extension> ext = List.of(new DropInWriter.Extension("/var/lib/portables/app0", true),
			new DropInWriter.Extension("/srv/ext/app1.raw", false));
		String fromExt = DropInWriter.portableConf("/var/lib/portables/rt.raw", RootKind.IMAGE, ext, true, true, "app1.service", "app1.raw",
			"/etc/os-release", DropInWriter.Style.V252);
		assertEquals("# Drop-in created for image '/var/lib/portables/rt.raw:/var/lib/portables/app0:/srv/ext/app1.raw', do not edit.\n"
			+ "\n[Service]\nRootImage=/var/lib/portables/rt.raw\nEnvironment=PORTABLE=app1.raw\n"
			+ "BindReadOnlyPaths=/etc/os-release:/run/host/os-release\nLogExtraFields=PORTABLE=app1.raw\n"
			+ "ExtensionDirectories=/var/lib/portables/app0:x-systemd.relax-extension-release-check\n"
			+ "ExtensionImages=/srv/ext/app1.raw:x-systemd.relax-extension-release-check\n", fromExt);
		String fromBase = DropInWriter.portableConf("/var/lib/portables/rt", RootKind.DIRECTORY, ext, false, true, "rt.service", "rt",
			"/etc/os-release", DropInWriter.Style.V252);
		assertFalse(fromBase.contains("Extension"), fromBase);
		String dirBase = DropInWriter.portableConf("/var/lib/portables/rt", RootKind.DIRECTORY, ext, true, true, "app0.service", "app0",
			"/etc/os-release", DropInWriter.Style.V252);
		assertTrue(dirBase.endsWith("ExtensionDirectories=/var/lib/portables/app0\nExtensionImages=/srv/ext/app1.raw\n"),
			"no relax option under a directory base, as 252: " + dirBase);
	}
}
