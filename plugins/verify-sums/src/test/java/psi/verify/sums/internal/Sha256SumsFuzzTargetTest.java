package psi.verify.sums.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;

import psi.spi.verify.VerificationException;

/**
 * Coverage-guided fuzzing (Jazzer) of the SHA256SUMS parser: any input is
 * parsed or refused with one line, nothing else. Without {@code JAZZER_FUZZ}
 * the seeds below {@code Sha256SumsFuzzTargetTestInputs} run as tests;
 * {@code itest/harness/fuzz.sh} fuzzes.
 */
class Sha256SumsFuzzTargetTest {

	@FuzzTest(maxDuration = "10m")
	void sums(byte[] data) {
		for (boolean perFile : new boolean[] { false, true }) {
			try {
				Sha256Sums s = Sha256Sums.parse(data, "SHA256SUMS", "checksum", perFile);
				for (Sha256Sums.Entry e : s.entries()) {
					if (e.name() != null && !Sha256Sums.isPlainName(e.name()) || e.digest().length != 32) {
						throw new AssertionError("accepted a bad entry: " + e);
					}
				}
			} catch (VerificationException e) {
				oneLine(e);
			}
		}
	}

	/** A refusal is one line, as the admin reads it. */
	static void oneLine(Exception e) {
		String m = e.getMessage();
		if (m == null || m.isBlank() || m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
			throw new AssertionError("a refusal that is not one line: " + m, e);
		}
	}
}
