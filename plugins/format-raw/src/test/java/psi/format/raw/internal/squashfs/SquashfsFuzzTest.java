package psi.format.raw.internal.squashfs;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.Entry;
import psi.spi.format.ImageException;

/**
 * Seeded mutations of images made by mksquashfs (bit flips, overwritten
 * bytes and fields, truncation, copied ranges), each opened and walked
 * entirely: list, lstat, read and stream every file, xattrs; every other
 * iteration with a reader that decompresses ahead on a pool. An IOException
 * is the only acceptable failure; anything else (a RuntimeException, an
 * Error such as OutOfMemoryError) or an iteration that takes longer than 10 s
 * fails the test with the image and the seed to replay it.
 * <p>
 * Runs for {@code -Dpsi.fuzz.seconds} (default 20). The mutations of
 * iteration i are determined by (base seed, i) alone, so a failure is
 * reproduced by {@code -Dpsi.fuzz.seed=... -Dpsi.fuzz.from=i}.
 */
class SquashfsFuzzTest {

	private static final long BASE_SEED = Long.getLong("psi.fuzz.seed", 0x5eed_5175L);
	private static final long SECONDS = Long.getLong("psi.fuzz.seconds", 20);
	private static final long FROM = Long.getLong("psi.fuzz.from", 0);
	private static final long ITERATION_TIMEOUT_SECONDS = 10;
	private static final int WALK_BUDGET = 5000;
	private static final long ALLOCATION_LIMIT = 256L << 20;
	private static volatile long maxAllocated;

	@TempDir
	Path tmp;

	private record Image(String name, byte[] bytes) {
	}

	@Test
	void mutatedImagesFailOnlyWithIOExceptions() throws Exception {
		Path src = tmp.resolve("src");
		SquashfsFixtures.smallTree(src);
		List<Image> images = new ArrayList<>();
		for (List<String> o : List.of(List.of("-comp", "gzip", "-noI", "-noD", "-noF", "-noX"), List.of("-comp", "gzip"),
			List.of("-comp", "xz"), List.of("-comp", "zstd"), List.of("-comp", "lz4"), List.of("-comp", "lzo"), List.of("-comp", "lzma"))) {
			List<String> opts = new ArrayList<>(o);
			opts.addAll(List.of("-b", "4K"));
			String name = String.join(" ", opts);
			Path img = SquashfsFixtures.mksquashfs(src, tmp.resolve(images.size() + ".img"), opts.toArray(String[]::new));
			images.add(new Image(name, Files.readAllBytes(img)));
		}
		Path file = tmp.resolve("mutated.img");
		ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
			Thread t = new Thread(r, "squashfs-fuzz");
			t.setDaemon(true);
			return t;
		});
		// odd iterations read through a reader that decompresses ahead on this pool
		ExecutorService decompressors = Executors.newFixedThreadPool(2, r -> {
			Thread t = new Thread(r, "squashfs-fuzz-ahead");
			t.setDaemon(true);
			return t;
		});
		Map<String, Integer> outcomes = new TreeMap<>();
		Set<String> messages = new HashSet<>();
		long iterations = 0;
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
		try {
			for (long i = FROM; System.nanoTime() < deadline; i++, iterations++) {
				Image image = images.get((int) (i % images.size()));
				long seed = BASE_SEED * 1_000_003L + i;
				byte[] mutated = mutate(image.bytes, new Random(seed));
				Files.write(file, mutated, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
				String replay = "image '" + image.name + "', iteration " + i + " (-Dpsi.fuzz.seed=" + BASE_SEED + " -Dpsi.fuzz.from=" + i + ")";
				Executor ahead = i % 2 == 1 ? decompressors : null;
				Future<String> f = runner.submit(() -> walkAll(file, ahead));
				String outcome;
				try {
					outcome = f.get(ITERATION_TIMEOUT_SECONDS, TimeUnit.SECONDS);
				} catch (TimeoutException e) {
					f.cancel(true);
					fail("no result after " + ITERATION_TIMEOUT_SECONDS + " s, a hang: " + replay + "\n" + stack(runnerStack()));
					return;
				} catch (ExecutionException e) {
					Throwable c = e.getCause();
					if (c instanceof ImageException ie) {
						assertTrue(!ie.getMessage().contains("\n") && ie.getMessage().startsWith("squashfs in image 'fuzz': "),
							"one line naming the image: " + ie.getMessage());
						messages.add(ie.getMessage().replaceAll("\\d+", "N"));
						outcome = "ImageException";
					} else if (c instanceof IOException) {
						outcome = c.getClass().getSimpleName();
					} else {
						fail("not an IOException: " + replay + "\n" + stack(c));
						return;
					}
				}
				outcomes.merge(outcome, 1, Integer::sum);
			}
		} finally {
			runner.shutdownNow();
			decompressors.shutdownNow();
		}
		System.out.println("squashfs fuzz: " + iterations + " iterations in " + SECONDS + " s over " + images.size() + " images; outcomes "
			+ outcomes + "; " + messages.size() + " distinct ImageException messages (numbers masked); at most " + (maxAllocated >> 20)
			+ " MiB allocated by one walk");
		assertTrue(iterations > images.size(), "every image was mutated at least once");
	}

	private static Throwable runnerStack() {
		Throwable t = new Throwable("the fuzz thread's stack");
		for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
			if (e.getKey().getName().equals("squashfs-fuzz")) {
				t.setStackTrace(e.getValue());
			}
		}
		return t;
	}

	private static String stack(Throwable t) {
		StringWriter w = new StringWriter();
		t.printStackTrace(new PrintWriter(w));
		return w.toString();
	}

	/**
	 * Opens and walks a whole image. An allocation sized by a field the reader
	 * did not bound would not always exhaust the heap: the bytes the walk
	 * allocates are counted instead, and more than {@value #ALLOCATION_LIMIT}
	 * (the tree holds 60 KB) fails it (only the walking thread's allocations
	 * are counted: the sequential half of the iterations checks this).
	 */
	private static String walkAll(Path file, Executor ahead) throws IOException {
		com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
		long before = mx.getCurrentThreadAllocatedBytes();
		try (FileChannel ch = FileChannel.open(file); SquashfsReader r = new SquashfsReader(ch, 0, ch.size(), "image 'fuzz'", ahead, 4)) {
			int[] budget = { WALK_BUDGET };
			walk(r, "/", new HashSet<>(), budget, 0);
			return "walked";
		} finally {
			long allocated = mx.getCurrentThreadAllocatedBytes() - before;
			maxAllocated = Math.max(maxAllocated, allocated);
			if (allocated > ALLOCATION_LIMIT) {
				throw new AssertionError("the walk allocated " + allocated + " bytes");
			}
		}
	}

	static void walk(SquashfsReader r, String dir, Set<Long> seen, int[] budget, int depth) throws IOException {
		if (depth > 64) {
			throw new AssertionError("a walk 64 deep in a tree 3 deep: the reader let a loop through");
		}
		r.xattrs(dir);
		for (String name : r.list(dir)) {
			if (--budget[0] < 0) {
				return;
			}
			String p = dir.equals("/") ? "/" + name : dir + "/" + name;
			Inode i = r.stat(p).orElse(null);
			if (i == null) {
				continue; // a listed name the lookup cannot find (unsorted after mutation)
			}
			Entry e = r.lstat(p).orElseThrow();
			r.xattrs(p);
			switch (e.kind()) {
				case DIRECTORY -> {
					if (seen.add(i.number())) {
						walk(r, p, seen, budget, depth + 1);
					}
				}
				case FILE -> {
					try {
						r.read(p, 1 << 20);
					} catch (ImageException tooLarge) {
						// a size mutated past the limit; stream what the limit allows instead
					}
					try (InputStream in = r.open(p)) {
						in.readNBytes(1 << 20);
					}
				}
				default -> {
				}
			}
		}
	}

	private static final long[] INTERESTING = { 0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0x2000, 0x7fff, 0x8000, 0xffff, 0x10000,
		0x1000000, 0x7fffffff, 0x80000000L, 0xffffffffL, -1L, Long.MAX_VALUE };

	/** One to four mutations, mostly in the metadata (the tables after the data). */
	static byte[] mutate(byte[] original, Random rnd) {
		byte[] b = original.clone();
		ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
		int inodeTable = (int) Math.min(b.length - 1, Math.max(96, le.getLong(64)));
		int n = 1 + rnd.nextInt(4);
		for (int k = 0; k < n; k++) {
			int region = rnd.nextInt(10);
			int pos = region < 2 ? rnd.nextInt(96) // the superblock
				: region < 8 ? inodeTable + rnd.nextInt(b.length - inodeTable) // inodes, directories, tables
				: rnd.nextInt(b.length); // anywhere, data included
			switch (rnd.nextInt(6)) {
				case 0 -> b[pos] ^= (byte) (1 << rnd.nextInt(8));
				case 1 -> b[pos] = (byte) rnd.nextInt(256);
				case 2 -> {
					if (pos + 2 <= b.length) {
						le.putShort(pos, (short) INTERESTING[rnd.nextInt(INTERESTING.length)]);
					}
				}
				case 3 -> {
					if (pos + 4 <= b.length) {
						le.putInt(pos, (int) INTERESTING[rnd.nextInt(INTERESTING.length)]);
					}
				}
				case 4 -> {
					if (pos + 8 <= b.length) {
						le.putLong(pos, INTERESTING[rnd.nextInt(INTERESTING.length)]);
					}
				}
				default -> {
					int len = 1 + rnd.nextInt(64);
					int from = rnd.nextInt(b.length);
					if (from + len <= b.length && pos + len <= b.length) {
						System.arraycopy(b.clone(), from, b, pos, len);
					}
				}
			}
		}
		if (rnd.nextInt(20) == 0) {
			return java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
		}
		return b;
	}
}
