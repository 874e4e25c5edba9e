package psi.portable1.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BusLabelTest {

	@Test
	void escapesAsSystemd() {
		assertEquals("minimal_5f1", BusLabel.escape("minimal_1"));
		assertEquals("gptfoo", BusLabel.escape("gptfoo"));
		assertEquals("foo_2dbar", BusLabel.escape("foo-bar"));
		assertEquals("foo_2ev2", BusLabel.escape("foo.v2"));
		assertEquals("_31abc", BusLabel.escape("1abc"));
		assertEquals("a_20b", BusLabel.escape("a b"));
		assertEquals("_c3_a9", BusLabel.escape("\u00e9"));
		assertEquals("_", BusLabel.escape(""));
	}

	@Test
	void unescapesWhatItEscapes() {
		for (String s : new String[] { "minimal_1", "1abc", "foo.v2", "\u00e9t\u00e9", "a_b-c", "" }) {
			assertEquals(s, BusLabel.unescape(BusLabel.escape(s)));
		}
		// as systemd: a '_' without two hex digits after it stays
		assertEquals("a_zz", BusLabel.unescape("a_zz"));
		assertEquals("a_", BusLabel.unescape("a_"));
	}

	@Test
	void decodesOneLabelBelowThePrefix() {
		assertEquals("gpt_1", BusLabel.decode("/org/freedesktop/portable1/image/gpt_5f1", Calls.IMAGE_PREFIX));
		assertNull(BusLabel.decode("/org/freedesktop/portable1/image", Calls.IMAGE_PREFIX));
		assertNull(BusLabel.decode("/org/freedesktop/portable1/image/a/b", Calls.IMAGE_PREFIX));
		assertNull(BusLabel.decode("/org/freedesktop/portable1/imagex", Calls.IMAGE_PREFIX));
	}

	@Test
	void tellsNamesFromPaths() {
		assertTrue(ImageNames.isValidName("gpt_1.raw"));
		assertFalse(ImageNames.isValidName("/srv/x"));
		assertFalse(ImageNames.isValidName("rel/x"));
		assertFalse(ImageNames.isValidName(".."));
		assertFalse(ImageNames.isValidName(".#lock"));
		assertFalse(ImageNames.isValidName("a\tb"));
		assertFalse(ImageNames.isValidName("x".repeat(256)));
		assertTrue(ImageNames.isNormalized("/srv/images/x"));
		assertFalse(ImageNames.isNormalized("/srv/images/../x"));
		assertFalse(ImageNames.isNormalized("/srv//x"));
		assertFalse(ImageNames.isNormalized("/srv/./x"));
	}
}
