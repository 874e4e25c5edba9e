package psi.format.raw.internal.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the GPT reader. The input is an
 * image's first 34 sectors (MBR, header, entries) and, beyond them, its
 * last sectors (the backup), in a sparse file of {@value #SIZE} bytes; the
 * table is read and the root partition selected, or the image refused in
 * one line, nothing else. Without {@code JAZZER_FUZZ} the seeds below
 * {@code GptFuzzTargetTestInputs} run as tests; {@code itest/harness/fuzz.sh}
 * fuzzes.
 */
class GptFuzzTargetTest {

	static final long SIZE = 2 << 20;
	private static final int HEAD = 34 * 512;

	private final Path file;

	GptFuzzTargetTest() throws IOException {
		file = Files.createTempFile("psi-fuzz-gpt", ".raw");
		file.toFile().deleteOnExit();
	}

	@FuzzTest(maxDuration = "10m")
	void gpt(byte[] data) throws IOException {
		try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
			int head = Math.min(data.length, HEAD);
			ch.write(ByteBuffer.wrap(data, 0, head), 0);
			if (data.length > HEAD) {
				int tail = (int) Math.min(data.length - HEAD, SIZE - HEAD);
				ch.write(ByteBuffer.wrap(data, HEAD, tail), SIZE - tail);
			}
			ch.truncate(SIZE);
			if (ch.size() < SIZE) {
				ch.write(ByteBuffer.wrap(new byte[1]), SIZE - 1);
			}
		}
		try (FileChannel ch = FileChannel.open(file)) {
			Optional<GptTable> t = GptTable.read(ch, SIZE, "image 'fuzz'");
			if (t.isPresent()) {
				for (Partition p : t.get().partitions()) {
					if (p.offset() < 0 || p.length() < 0 || p.offset() + p.length() > SIZE) {
						throw new AssertionError("a partition outside the image: " + p);
					}
				}
				DiscoverablePartitions.select(t.get(), "x86-64");
			}
		} catch (psi.spi.format.ImageException e) {
			String m = e.getMessage();
			if (m == null || m.isBlank() || m.indexOf('\n') >= 0) {
				throw new AssertionError("a refusal that is not one line: " + m, e);
			}
		}
	}
}
