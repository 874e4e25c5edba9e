package psi.format.raw.internal.verity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.ImageException;

/**
 * Seeded mutation loops, for a fixed time each, over dm-verity superblocks and
 * trees made by veritysetup and over signature JSON: verification may pass
 * (a mutation of a field it does not use) or fail with an ImageException,
 * nothing else, never a hang; a damaged tree never passes. A failure names the
 * seed and iteration.
 */
class VerityFuzzTest {

	static final long SEED = 0x7e717eL;
	static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(5);
	static final long PER_ITERATION_SECONDS = 10;

	@TempDir
	Path dir;

	private ExecutorService worker;

	@BeforeEach
	void start() {
		worker = Executors.newSingleThreadExecutor(r -> {
			Thread t = new Thread(r, "verity-fuzz");
			t.setDaemon(true);
			return t;
		});
	}

	@AfterEach
	void stop() {
		worker.shutdownNow();
	}

	private <T> T within(long iteration, Callable<T> task) throws Exception {
		Future<T> f = worker.submit(task);
		try {
			return f.get(PER_ITERATION_SECONDS, TimeUnit.SECONDS);
		} catch (TimeoutException e) {
			fail("seed " + SEED + " iteration " + iteration + ": no answer in " + PER_ITERATION_SECONDS + " s");
			return null;
		} catch (ExecutionException e) {
			throw new AssertionError("seed " + SEED + " iteration " + iteration + ": " + e.getCause(), e.getCause());
		}
	}

	private static final long[] INTERESTING = { 0, 1, 2, -1, 511, 512, 513, 4096, 1 << 19, 1 << 20, Integer.MAX_VALUE,
		0x80000000L, 0xffffffffL, Long.MAX_VALUE, Long.MIN_VALUE, 255, 256, 257, 65535 };

	@Test
	void mutatedSuperblocksAndTrees() throws Exception {
		Path data = VerityFixtures.data(dir.resolve("data"), 256 << 10, 11);
		Path[] hashes = { dir.resolve("hash-512"), dir.resolve("hash-4096"), dir.resolve("hash-sha1-0") };
		byte[][] roots = { VerityFixtures.format(data, hashes[0], "--data-block-size=512", "--hash-block-size=512").root(),
			VerityFixtures.format(data, hashes[1]).root(),
			VerityFixtures.format(data, hashes[2], "--format=0", "--hash=sha1", "--data-block-size=1024").root() };
		byte[][] originals = new byte[3][];
		for (int i = 0; i < 3; i++) {
			originals[i] = Files.readAllBytes(hashes[i]);
		}
		byte[] dataOriginal = Files.readAllBytes(data);
		int passed = 0;
		int refused = 0;
		int superblockRefusals = 0;
		long iterations = 0;
		long end = System.nanoTime() + BUDGET_NANOS;
		for (long it = 0; System.nanoTime() < end; it++) {
			Random r = new Random(SEED + it);
			int k = (int) (it % 3);
			byte[] hash = originals[k].clone();
			byte[] d = dataOriginal;
			ByteBuffer sb = ByteBuffer.wrap(hash).order(ByteOrder.LITTLE_ENDIAN);
			boolean treeDamaged = false;
			switch (r.nextInt(5)) {
				case 0 -> { // a field of the superblock
					int[] ints = { 8, 12, 64, 68 };
					long v = INTERESTING[r.nextInt(INTERESTING.length)];
					switch (r.nextInt(4)) {
						case 0 -> sb.putInt(ints[r.nextInt(ints.length)], (int) v);
						case 1 -> sb.putLong(72, r.nextBoolean() ? v : sb.getLong(72) + r.nextInt(5) - 2);
						case 2 -> sb.putShort(80, (short) v);
						default -> sb.put(32 + r.nextInt(32), (byte) r.nextInt(256));
					}
				}
				case 1 -> { // random bytes of the superblock
					for (int i = 1 + r.nextInt(6); i > 0; i--) {
						sb.put(r.nextInt(512), (byte) r.nextInt(256));
					}
				}
				case 2 -> { // a byte of the tree
					int treeStart = k == 0 ? 512 : 4096;
					int at = treeStart + r.nextInt(hash.length - treeStart);
					hash[at] ^= (byte) (1 + r.nextInt(255));
					treeDamaged = true;
				}
				case 3 -> { // a byte of the data
					d = dataOriginal.clone();
					d[r.nextInt(d.length)] ^= (byte) (1 + r.nextInt(255));
					treeDamaged = true;
				}
				default -> { // a cut-off hash device
					hash = java.util.Arrays.copyOf(hash, r.nextInt(hash.length));
				}
			}
			Path h = dir.resolve("h");
			Path dd = dir.resolve("d");
			Files.write(h, hash);
			Files.write(dd, d);
			byte[] root = roots[k];
			boolean damaged = treeDamaged;
			long iteration = it;
			String outcome = within(it, () -> {
				try (FileChannel dc = FileChannel.open(dd); FileChannel hc = FileChannel.open(h)) {
					VerityTree.verify(dc, 0, hc, 0, root, "fuzz");
					return "passed";
				} catch (ImageException e) {
					assertTrue(e.getMessage().startsWith("fuzz") && !e.getMessage().contains("\n"), e.getMessage());
					return e.getMessage().contains("superblock") ? "superblock" : "refused";
				}
			});
			if (damaged && outcome.equals("passed")) {
				fail("seed " + SEED + " iteration " + iteration + ": a damaged tree or data passed");
			}
			switch (outcome) {
				case "passed" -> passed++;
				case "superblock" -> superblockRefusals++;
				default -> refused++;
			}
			iterations++;
		}
		System.out.printf("verity fuzz: %d iterations in %d s: %d passed (unused fields), %d refused by the superblock check,"
			+ " %d refused by the tree check%n", iterations, TimeUnit.NANOSECONDS.toSeconds(BUDGET_NANOS), passed,
			superblockRefusals, refused);
		assertTrue(iterations > 100 && passed > 0 && refused > 0 && superblockRefusals > 0);
	}

	@Test
	void mutatedSignatureJson() throws Exception {
		byte[] base = VerityImages.json(new byte[32], VerityImages.FAKE_SIGNATURE).getBytes(StandardCharsets.US_ASCII);
		String alphabet = "{}[]\":,\\ \n0123456789abcdefeE+-.tnu\u0000\u00ff";
		int parsed = 0;
		int refused = 0;
		long end = System.nanoTime() + BUDGET_NANOS / 3;
		long it = 0;
		for (; System.nanoTime() < end; it++) {
			Random r = new Random(SEED + it);
			byte[] b = java.util.Arrays.copyOf(base, base.length + r.nextInt(8));
			for (int i = 1 + r.nextInt(4); i > 0; i--) {
				int at = r.nextInt(b.length);
				switch (r.nextInt(3)) {
					case 0 -> b[at] = (byte) alphabet.charAt(r.nextInt(alphabet.length()));
					case 1 -> b[at] = (byte) r.nextInt(256);
					default -> {
						byte[] c = new byte[b.length - 1];
						System.arraycopy(b, 0, c, 0, at);
						System.arraycopy(b, at + 1, c, at, c.length - at);
						b = c;
					}
				}
			}
			byte[] input = b;
			boolean ok = within(it, () -> {
				try {
					VeritySignature s = VeritySignature.parse(input, "fuzz");
					assertTrue(s.rootHash().length >= 16 && s.signature().length > 0);
					return true;
				} catch (ImageException e) {
					assertTrue(e.getMessage().startsWith("fuzz") && !e.getMessage().contains("\n"), e.getMessage());
					return false;
				}
			});
			if (ok) {
				parsed++;
			} else {
				refused++;
			}
		}
		System.out.printf("signature JSON fuzz: %d iterations: %d parsed, %d refused%n", it, parsed, refused);
		assertTrue(parsed > 0 && refused > 0);
	}

	/** The tree of a veritysetup image, read through the superblock after a bounded-length check. */
	@Test
	void theIntactTreeStillPasses() throws IOException {
		Path data = VerityFixtures.data(dir.resolve("data"), 64 << 10, 3);
		Path hash = dir.resolve("hash");
		byte[] root = VerityFixtures.format(data, hash).root();
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash, StandardOpenOption.READ)) {
			VerityTree.verify(d, 0, h, 0, root, "x");
			assertArrayEquals(root, VerityTree.computeRoot(d, 0, VeritySuperblock.read(h, 0, "x").params()));
		}
	}
}
