package psi.verify.sums.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;

import psi.spi.verify.VerificationException;

/**
 * Coverage-guided fuzzing (Jazzer) of the OpenPGP packets psi reads through
 * Bouncy Castle: detached signatures ({@code SHA256SUMS.gpg}/{@code .asc})
 * and trusted keyrings, binary or armored. Read, or refused with one line;
 * never another exception, an error, or a hang. Without {@code JAZZER_FUZZ}
 * the seeds below {@code OpenPgpFuzzTargetTestInputs} run as tests;
 * {@code itest/harness/fuzz.sh} fuzzes.
 */
class OpenPgpFuzzTargetTest {

	@FuzzTest(maxDuration = "10m")
	void signature(byte[] data) {
		try {
			OpenPgpVerifier.signatures(data, "SHA256SUMS.gpg").forEach(s -> {
				s.getKeyID();
				s.getHashAlgorithm();
				s.getCreationTime();
			});
		} catch (VerificationException e) {
			Sha256SumsFuzzTargetTest.oneLine(e);
		}
	}

	@FuzzTest(maxDuration = "10m")
	void keyring(byte[] data) {
		try {
			TrustedKeys.parse(data, "/etc/psi/trusted.gpg.d/fuzz.gpg").forEach(r -> r.getPublicKeys().forEachRemaining(k -> {
				k.getFingerprint();
				k.getUserIDs().forEachRemaining(u -> u.length());
				k.getSignatures().forEachRemaining(s -> s.getKeyID());
			}));
		} catch (VerificationException e) {
			Sha256SumsFuzzTargetTest.oneLine(e);
		}
	}
}
