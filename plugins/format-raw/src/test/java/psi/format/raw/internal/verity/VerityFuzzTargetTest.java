package psi.format.raw.internal.verity;

import java.nio.ByteBuffer;

import com.code_intelligence.jazzer.junit.FuzzTest;

import psi.spi.format.ImageException;

/**
 * Coverage-guided fuzzing (Jazzer) of the dm-verity superblock and of the
 * verity signature partition's JSON: parsed into values a verifier can use
 * (a known digest, block sizes the kernel accepts, a salt within bounds) or
 * refused in one line, nothing else. Without {@code JAZZER_FUZZ} the seeds
 * below {@code VerityFuzzTargetTestInputs} run as tests;
 * {@code itest/harness/fuzz.sh} fuzzes.
 */
class VerityFuzzTargetTest {

	@FuzzTest(maxDuration = "10m")
	void superblock(byte[] data) {
		try {
			// read() always hands parse() the superblock's 512 bytes, little-endian
			ByteBuffer b = ByteBuffer.allocate(VeritySuperblock.SIZE).order(java.nio.ByteOrder.LITTLE_ENDIAN);
			b.put(data, 0, Math.min(data.length, VeritySuperblock.SIZE)).clear();
			VeritySuperblock s = VeritySuperblock.parse(b, 0, "image 'fuzz'");
			if (s.salt().length > 256 || s.dataBlockSize() < 512 || s.hashBlockSize() < 512 || s.digestSize() <= 0) {
				throw new AssertionError("accepted a superblock a verifier cannot use: " + s);
			}
			s.newDigest();
			s.params();
		} catch (ImageException e) {
			oneLine(e);
		}
	}

	@FuzzTest(maxDuration = "10m")
	void signature(byte[] data) {
		try {
			VeritySignature s = VeritySignature.parse(data, "image 'fuzz' verity signature partition");
			if (s.rootHash().length == 0 || s.signature().length == 0) {
				throw new AssertionError("accepted an empty root hash or signature");
			}
		} catch (ImageException e) {
			oneLine(e);
		}
	}

	static void oneLine(Exception e) {
		String m = e.getMessage();
		if (m == null || m.isBlank() || m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
			throw new AssertionError("a refusal that is not one line: " + m, e);
		}
	}
}
