package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class NamesTest {

	@Test
	void imageNameOrPath() {
		assertTrue(ImageName.isValidName("foobar"));
		assertTrue(ImageName.isValidName("foobar_47.11.raw"));
		assertTrue(ImageName.isValidName("sin gle"));
		assertFalse(ImageName.isValidName("./foobar"));
		assertFalse(ImageName.isValidName("/var/lib/portables/foobar"));
		assertFalse(ImageName.isValidName("single/"));
		assertFalse(ImageName.isValidName(".."));
		assertFalse(ImageName.isValidName(".#lock"));
		assertFalse(ImageName.isValidName("tab\there"));
		assertFalse(ImageName.isValidName("quote'"));
		assertFalse(ImageName.isValidName("x".repeat(256)));
	}

	@Test
	void versionsAndDefaultPrefix() {
		assertEquals("47.11", ImageName.version("foobar_47.11.raw"));
		assertEquals("2", ImageName.version("ver_2"));
		assertNull(ImageName.version("foobar.raw"));
		assertEquals("foobar", ImageName.defaultPrefix("foobar_47.11.raw"));
		assertEquals("foobar", ImageName.defaultPrefix("foobar.raw"));
		assertEquals("foobar", ImageName.defaultPrefix("foobar.psi"));
		assertEquals("foo-bar.x", ImageName.defaultPrefix("foo-bar.x"));
		assertThrows(IllegalArgumentException.class, () -> ImageName.defaultPrefix("sin gle"));
		assertThrows(IllegalArgumentException.class, () -> ImageName.defaultPrefix("_1.raw"));
		assertEquals("foobar_1", ImageName.stripSuffix("foobar_1.raw"));
	}

	@Test
	void unitNames() {
		for (String ok : List.of("foo.service", "foo@.service", "foo@bar.service", "a-b_c.d:e.socket", "x.timer", "x.path", "x.target")) {
			assertTrue(UnitNames.isValid(ok), ok);
		}
		for (String bad : List.of("foo", "foo.conf", "@.service", "a@b@c.service", "sp ace.service", "x".repeat(250) + ".service", ".service")) {
			assertFalse(UnitNames.isValid(bad), bad);
		}
		assertFalse(UnitNames.isPortableType("foo.mount"));
	}

	@Test
	void prefixMatchingAsPortabled() {
		List<String> foo = List.of("foo");
		assertTrue(UnitNames.matches("foo.service", foo));
		assertTrue(UnitNames.matches("foo-bar.service", foo));
		assertTrue(UnitNames.matches("foo@.service", foo));
		assertTrue(UnitNames.matches("foo.socket", foo));
		assertTrue(UnitNames.matches("foo.bar.timer", foo));
		assertFalse(UnitNames.matches("foobar.service", foo));
		assertFalse(UnitNames.matches("fo.service", foo));
		assertFalse(UnitNames.matches("foo.mount", foo));
		assertTrue(UnitNames.matches("anything.path", List.of()));
		assertTrue(UnitNames.matches("pfx-b.service", List.of("pfx-a", "pfx-b")));
	}

	@Test
	void markersMatchAsPortabled() {
		assertTrue(DropInWriter.markerMatches("/var/lib/portables/foo", "foo"));
		assertTrue(DropInWriter.markerMatches("/var/lib/portables/foo.raw", "foo"));
		assertTrue(DropInWriter.markerMatches("/srv/images/foo", "/other/mount/foo"));
		assertFalse(DropInWriter.markerMatches("/var/lib/portables/foo_1.raw", "foo"));
		assertFalse(DropInWriter.markerMatches("/var/lib/portables/foobar", "foo"));
		// the version rule: foo_2 replaces any version of foo
		assertTrue(DropInWriter.markerMatches("/var/lib/portables/foo_1.raw", "foo_2"));
		assertTrue(DropInWriter.markerMatches("/var/lib/portables/foo", "foo_2"));
		assertTrue(DropInWriter.markerMatches("/var/lib/portables/foo_1", "/var/lib/portables/foo_2.raw"));
		assertFalse(DropInWriter.markerMatches("/var/lib/portables/foobar_1", "foo_2"));
		assertEquals(java.util.List.of("/x/y"), DropInWriter.parseMarker(DropInWriter.marker("/x/y")));
		assertNull(DropInWriter.parseMarker("# something else"));
	}
}
