package psi.format.raw.internal.verity;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The psi half of itest/bench/verity-verify.sh: times
 * {@link VerityTree#verify(FileChannel, long, FileChannel, long, byte[], String)}
 * on a data file and a hash file made by {@code veritysetup format}, after one
 * warm-up run, and prints each run and the median.
 * <p>
 * {@code java -cp CLASSES VerityBench DATA HASH ROOTHASH [RUNS]}
 */
public final class VerityBench {

	private VerityBench() {
	}

	public static void main(String[] args) throws Exception {
		if (args.length < 3) {
			System.err.println("usage: VerityBench DATA HASH ROOTHASH [RUNS]");
			System.exit(2);
		}
		Path data = Path.of(args[0]);
		Path hash = Path.of(args[1]);
		byte[] root = HexFormat.of().parseHex(args[2]);
		int runs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
		try (FileChannel d = FileChannel.open(data); FileChannel h = FileChannel.open(hash)) {
			long bytes = VeritySuperblock.read(h, 0, "hash").params().dataBytes();
			VerityTree.verify(d, 0, h, 0, root, "bench");
			double[] seconds = new double[runs];
			for (int i = 0; i < runs; i++) {
				long t0 = System.nanoTime();
				VerityTree.verify(d, 0, h, 0, root, "bench");
				seconds[i] = (System.nanoTime() - t0) / 1e9;
				System.out.printf(Locale.ROOT, "psi run %d: %.3f s, %.2f GB/s%n", i + 1, seconds[i], bytes / seconds[i] / 1e9);
			}
			Arrays.sort(seconds);
			System.out.printf(Locale.ROOT, "psi-median-seconds %.4f%n", seconds[runs / 2]);
		}
	}
}
