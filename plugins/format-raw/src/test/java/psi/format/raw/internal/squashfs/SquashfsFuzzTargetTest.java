package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the squashfs reader: the input is a
 * whole image (the seeds are mksquashfs images, one per compressor); it is
 * opened and walked (every directory listed, every file and link read, as
 * {@link SquashfsFuzzTest} walks) or refused with one line, nothing else, no
 * loop. Without {@code JAZZER_FUZZ} the seeds below
 * {@code SquashfsFuzzTargetTestInputs} run as tests;
 * {@code itest/harness/fuzz.sh} fuzzes.
 */
class SquashfsFuzzTargetTest {

	private final Path file;

	SquashfsFuzzTargetTest() throws IOException {
		file = Files.createTempFile("psi-fuzz-squashfs", ".img");
		file.toFile().deleteOnExit();
	}

	@FuzzTest(maxDuration = "10m")
	void squashfs(byte[] data) throws IOException {
		try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
			ch.write(ByteBuffer.wrap(data));
		}
		try (FileChannel ch = FileChannel.open(file); SquashfsReader r = new SquashfsReader(ch, 0, ch.size(), "image 'fuzz'", Runnable::run, 0)) {
			SquashfsFuzzTest.walk(r, "/", new HashSet<>(), new int[] { 5000 }, 0);
		} catch (IOException e) {
			String m = e.getMessage();
			if (m == null || m.isBlank() || m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
				throw new AssertionError("a refusal that is not one line: " + m, e);
			}
		}
	}
}
