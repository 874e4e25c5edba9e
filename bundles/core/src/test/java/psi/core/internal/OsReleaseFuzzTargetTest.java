package psi.core.internal;

import java.util.Map;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the os-release parser: any file is
 * read into fields with valid keys and values without control characters
 * left unescaped where psi shows them; nothing throws. Without
 * {@code JAZZER_FUZZ} the seeds below {@code OsReleaseFuzzTargetTestInputs}
 * run as tests; {@code itest/harness/fuzz.sh} fuzzes.
 */
class OsReleaseFuzzTargetTest {

	@FuzzTest(maxDuration = "10m")
	void osRelease(byte[] data) {
		OsRelease r = OsRelease.parse(data);
		for (Map.Entry<String, String> e : r.fields().entrySet()) {
			if (!OsRelease.isValidKey(e.getKey())) {
				throw new AssertionError("an invalid key was kept: " + e.getKey());
			}
			String shown = UnitValues.show(e.getValue());
			for (int i = 0; i < shown.length(); i++) {
				if (shown.charAt(i) < 0x20 || shown.charAt(i) == 0x7f) {
					throw new AssertionError("a control character is shown raw: " + shown);
				}
			}
		}
	}
}
