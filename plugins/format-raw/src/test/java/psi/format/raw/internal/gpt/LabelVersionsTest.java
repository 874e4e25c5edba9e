package psi.format.raw.internal.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The vectors of systemd's src/test/test-strverscmp.c. */
class LabelVersionsTest {

	private static void newer(String newer, String older) {
		assertEquals(0, LabelVersions.compare(newer, newer), newer);
		assertTrue(LabelVersions.compare(newer, older) > 0, newer + " > " + older);
		assertTrue(LabelVersions.compare(older, newer) < 0, older + " < " + newer);
		assertEquals(0, LabelVersions.compare(older, older), older);
	}

	@Test
	void systemdsOrder() {
		// "123.a-1" "123.1-1" are one string in systemd's list (a missing comma there), kept so
		List<String> versions = List.of("", "~1", "ab", "abb", "abc", "0001", "002", "12", "122", "122.9", "123~rc1", "123",
			"123-a", "123-a.1", "123-a1", "123-a1.1", "123-3", "123-3.1", "123^patch1", "123^1", "123.a-1123.1-1", "123a-1",
			"124");
		for (int i = 0; i < versions.size(); i++) {
			for (int j = i + 1; j < versions.size(); j++) {
				newer(versions.get(j), versions.get(i));
			}
		}
		newer("123.45-67.89", "123.45-67.88");
		newer("123.45-67.89a", "123.45-67.89");
		newer("123.45-67.89", "123.45-67.ab");
		newer("123.45-67.89", "123.45-67.9");
		newer("123.45-67.89", "123.45-67");
		newer("123.45-67.89", "123.45-66.89");
		newer("123.45-67.89", "123.45-9.99");
		newer("123.45-67.89", "123.42-99.99");
		newer("123.45-67.89", "123-99.99");
		newer("123.45-67.89", "123~rc1-99.99");
		newer("123-45.67.89", "123~rc1-99.99");
		newer("123~rc2-67.89", "123~rc1-99.99");
		newer("123^aa2-67.89", "123~rc1-99.99");
		newer("123aa2-67.89", "123~rc1-99.99");
		newer("123.45-67.89", "123-99.99");
		newer("123^aa2-67.89", "123-99.99");
		newer("123aa2-67.89", "123-99.99");
		newer("123.45-67.89", "123^45-67.89");
		newer("123^aa2-67.89", "123^aa1-99.99");
		newer("123aa2-67.89", "123^aa2-67.89");
		newer("123aa2-67.89", "123.aa2-67.89");
		newer("123.ab2-67.89", "123.aa2-67.89");
		assertEquals(0, LabelVersions.compare("123_aa2-67.89", "123aa+2-67.89"));
	}

	@Test
	void partitionLabels() {
		newer("root_10", "root_2");
		newer("root-x86-64_1.10", "root-x86-64_1.9");
		newer("a", null);
		assertEquals(0, LabelVersions.compare(null, ""));
		assertEquals(0, LabelVersions.compare(null, null));
		assertEquals(0, LabelVersions.compare("--~~^^..", "--~~^^.."));
	}
}
