package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import psi.spi.format.Entry;

/**
 * Reads every file of a squashfs image with psi's reader and prints the
 * throughput: what {@code itest/bench/squashfs-read.sh} compares with
 * {@code unsquashfs -d}. Not a test.
 * <p>
 * {@code java -cp ... psi.format.raw.internal.squashfs.ReadAllBench IMAGE [--runs N] [--warmup N] [--ahead THREADS [--depth BLOCKS]] [--files THREADS]}
 * <ul>
 * <li>{@code --ahead T}: give the reader a pool of T threads that decompress
 * the blocks of the file being read ahead of it (one file at a time), at
 * most {@code --depth} blocks ahead (default four times the threads);</li>
 * <li>{@code --files T}: read T files at once, with T threads sharing the
 * reader (as several callers would).</li>
 * </ul>
 * Each run walks the tree (list, lstat) and streams every regular file to
 * the end. Prints one line per run and a final line
 * {@code RESULT bytes=B files=F best_ms=M median_ms=M}.
 */
public final class ReadAllBench {

	private ReadAllBench() {
	}

	public static void main(String[] args) throws Exception {
		Path img = Path.of(args[0]);
		int runs = 5;
		int warmup = 2;
		int ahead = 0;
		int files = 1;
		int depth = -1;
		for (int i = 1; i < args.length; i++) {
			switch (args[i]) {
				case "--runs" -> runs = Integer.parseInt(args[++i]);
				case "--warmup" -> warmup = Integer.parseInt(args[++i]);
				case "--ahead" -> ahead = Integer.parseInt(args[++i]);
				case "--files" -> files = Integer.parseInt(args[++i]);
				case "--depth" -> depth = Integer.parseInt(args[++i]);
				default -> throw new IllegalArgumentException("unknown option " + args[i]);
			}
		}
		ExecutorService aheadPool = ahead > 0 ? Executors.newFixedThreadPool(ahead, daemon("psi-squashfs-ahead")) : null;
		ExecutorService filePool = files > 1 ? Executors.newFixedThreadPool(files, daemon("psi-squashfs-files")) : null;
		List<Long> times = new ArrayList<>();
		long[] last = null;
		try (FileChannel ch = FileChannel.open(img)) {
			for (int run = 0; run < warmup + runs; run++) {
				long t0 = System.nanoTime();
				long[] got;
				try (SquashfsReader r = new SquashfsReader(ch, 0, ch.size(), "image '" + img + "'", aheadPool, depth > 0 ? depth : ahead * 4)) {
					got = readAll(r, filePool);
				}
				long ns = System.nanoTime() - t0;
				boolean measured = run >= warmup;
				if (measured) {
					times.add(ns);
				}
				System.out.printf(Locale.ROOT, "%s run %d: %d files, %d bytes in %.1f ms: %.1f MB/s%n", measured ? "measured" : "warmup", run,
					got[1], got[0], ns / 1e6, got[0] / (ns / 1e9) / 1e6);
				last = got;
			}
		} finally {
			if (aheadPool != null) {
				aheadPool.shutdownNow();
			}
			if (filePool != null) {
				filePool.shutdownNow();
			}
		}
		List<Long> sorted = times.stream().sorted().toList();
		System.out.printf(Locale.ROOT, "RESULT bytes=%d files=%d best_ms=%.1f median_ms=%.1f%n", last[0], last[1], sorted.get(0) / 1e6,
			sorted.get(sorted.size() / 2) / 1e6);
	}

	private static java.util.concurrent.ThreadFactory daemon(String name) {
		return r -> {
			Thread t = new Thread(r, name);
			t.setDaemon(true);
			return t;
		};
	}

	/** @return {bytes, files} */
	static long[] readAll(SquashfsReader r, ExecutorService filePool) throws Exception {
		List<String> paths = new ArrayList<>();
		collect(r, "/", paths);
		AtomicLong bytes = new AtomicLong();
		if (filePool == null) {
			byte[] buf = new byte[1 << 20];
			for (String p : paths) {
				bytes.addAndGet(drain(r, p, buf));
			}
		} else {
			List<Future<?>> done = new ArrayList<>();
			int n = ((java.util.concurrent.ThreadPoolExecutor) filePool).getCorePoolSize();
			for (int k = 0; k < n; k++) {
				int first = k;
				done.add(filePool.submit(() -> {
					byte[] buf = new byte[1 << 20];
					for (int i = first; i < paths.size(); i += n) {
						bytes.addAndGet(drain(r, paths.get(i), buf));
					}
					return null;
				}));
			}
			for (Future<?> f : done) {
				f.get();
			}
		}
		return new long[] { bytes.get(), paths.size() };
	}

	private static void collect(SquashfsReader r, String dir, List<String> files) throws IOException {
		for (String name : r.list(dir)) {
			String p = dir.equals("/") ? "/" + name : dir + "/" + name;
			Entry e = r.lstat(p).orElseThrow();
			if (e.kind() == Entry.Kind.DIRECTORY) {
				collect(r, p, files);
			} else if (e.kind() == Entry.Kind.FILE) {
				files.add(p);
			}
		}
	}

	private static long drain(SquashfsReader r, String p, byte[] buf) throws IOException {
		long n = 0;
		try (InputStream in = r.open(p)) {
			for (int k; (k = in.read(buf)) > 0;) {
				n += k;
			}
		}
		return n;
	}
}
