package psi.transport.ssh.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import psi.spi.transport.Transport.Fetched;
import psi.spi.transport.Transport.Progress;
import psi.spi.transport.Transport.Request;

/**
 * Not a test: fetches one file through the ssh transport and through
 * OpenSSH's {@code sftp} and {@code scp} from the same sshd, side by side in
 * one run, in one warm JVM.
 *
 * <pre>
 * itest/servers/sshd.sh start /tmp/psi-sshd
 * java -cp plugins/transport-ssh/target/classes:plugins/transport-ssh/target/test-classes:bundles/api/target/classes \
 *     psi.transport.ssh.internal.SshFetchBench /tmp/psi-sshd [MB] [RUNS]
 * itest/servers/sshd.sh stop /tmp/psi-sshd
 * </pre>
 *
 * The source is random bytes in the page cache; every target is written to
 * the same directory and deleted before each run. psi also hashes (SHA-256)
 * and fsyncs as it must; sftp and scp do neither, so one row adds
 * {@code sync FILE} and {@code sha256sum} after sftp. Runs go in rounds,
 * every variant once per round, after a warm-up round; prints the median of
 * RUNS (default 5) rounds, and the range, in MB/s (10^6 bytes per second).
 */
public final class SshFetchBench {

	private SshFetchBench() {
	}

	/**
	 * @param args the sshd.sh directory, the size in MiB (default 256), the number of runs (default 5)
	 */
	public static void main(String[] args) throws Exception {
		Path dir = Path.of(args[0]).toAbsolutePath();
		int mb = args.length > 1 ? Integer.parseInt(args[1]) : 256;
		int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
		Path config = dir.resolve("ssh_config");
		Path work = Files.createTempDirectory(Path.of("/var/tmp"), "psi-ssh-bench");
		Path src = work.resolve("source.raw");
		byte[] block = new byte[1 << 20];
		Random r = new Random(1);
		try (var out = Files.newOutputStream(src)) {
			for (int i = 0; i < mb; i++) {
				r.nextBytes(block);
				out.write(block);
			}
		}
		long size = Files.size(src);
		String expected = HexFormat.of().formatHex(digest(src));
		Path target = work.resolve("target.raw");
		System.out.printf("ssh fetch of %d MiB from sshd on 127.0.0.1, median of %d runs, MB/s (10^6 B/s)%n", mb, runs);
		System.out.println("cipher: " + cipher(config));

		List<String> names = new ArrayList<>();
		List<Task> tasks = new ArrayList<>();
		for (int[] cw : new int[][] { { 32 * 1024, 64 }, { 64 * 1024, 64 }, { 256 * 1024, 16 }, { 256 * 1024, 64 } }) {
			SshTransport t = new SshTransport(new SshCommand("ssh", config.toString(), 10), Map.of(), cw[0], cw[1]);
			names.add("psi SshTransport, " + cw[1] + " x " + cw[0] / 1024 + " KiB READs (SHA-256 + fsync)");
			tasks.add(() -> {
				Fetched f = t.fetch(new Request(java.net.URI.create("ssh://psitest" + src), target, Long.MAX_VALUE), Progress.NONE);
				if (!f.sha256().equals(expected)) {
					throw new IllegalStateException("wrong SHA-256");
				}
			});
		}
		names.add("sftp (OpenSSH 9.2: 64 x 32 KiB READs)");
		tasks.add(() -> run("sftp", "-q", "-F", config.toString(), "psitest:" + src, target.toString()));
		names.add("sftp, then fsync and sha256sum of the copy");
		tasks.add(() -> {
			run("sftp", "-q", "-F", config.toString(), "psitest:" + src, target.toString());
			run("sync", target.toString());
			run("sha256sum", target.toString());
		});
		names.add("sftp -B 261120 (64 x 255 KiB READs)");
		tasks.add(() -> run("sftp", "-q", "-B", "261120", "-F", config.toString(), "psitest:" + src, target.toString()));
		names.add("scp (OpenSSH 9.2: SFTP protocol)");
		tasks.add(() -> run("scp", "-q", "-F", config.toString(), "psitest:" + src, target.toString()));
		names.add("scp -O (legacy scp protocol)");
		tasks.add(() -> run("scp", "-q", "-O", "-F", config.toString(), "psitest:" + src, target.toString()));

		// rounds, each running every variant once: a machine whose load changes slows all alike
		double[][] rates = new double[tasks.size()][runs];
		for (int round = -1; round < runs; round++) {
			for (int i = 0; i < tasks.size(); i++) {
				Files.deleteIfExists(target);
				long t0 = System.nanoTime();
				tasks.get(i).run();
				long ns = System.nanoTime() - t0;
				if (Files.size(target) != size) {
					throw new IllegalStateException(names.get(i) + ": " + Files.size(target) + " bytes");
				}
				if (round >= 0) {
					rates[i][round] = size / (ns / 1e9) / 1e6;
				}
			}
		}
		int sftp = names.indexOf("sftp (OpenSSH 9.2: 64 x 32 KiB READs)");
		double base = median(rates[sftp]);
		for (int i = 0; i < tasks.size(); i++) {
			double[] range = rates[i].clone();
			Arrays.sort(range);
			System.out.printf("  %-58s %5.0f MB/s (%4.0f..%4.0f)  %5.2f x sftp%n", names.get(i), median(rates[i]), range[0], range[range.length - 1],
				median(rates[i]) / base);
		}
		Files.deleteIfExists(target);
		Files.deleteIfExists(src);
		Files.deleteIfExists(work);
	}

	interface Task {
		void run() throws Exception;
	}

	private static double median(double[] rates) {
		double[] r = rates.clone();
		Arrays.sort(r);
		return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
	}

	private static void run(String... command) throws Exception {
		Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
			.redirectError(ProcessBuilder.Redirect.INHERIT).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
			.start();
		if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
			p.destroyForcibly();
			throw new IllegalStateException(String.join(" ", command) + " failed");
		}
	}

	private static String cipher(Path config) throws Exception {
		Process p = new ProcessBuilder("ssh", "-F", config.toString(), "-G", "psitest").start();
		String out = new String(p.getInputStream().readAllBytes());
		p.waitFor();
		return out.lines().filter(l -> l.startsWith("ciphers ")).findFirst().orElse("?");
	}

	private static byte[] digest(Path p) throws Exception {
		MessageDigest md = MessageDigest.getInstance("SHA-256");
		byte[] b = new byte[1 << 20];
		try (var in = Files.newInputStream(p)) {
			for (int n; (n = in.read(b)) > 0;) {
				md.update(b, 0, n);
			}
		}
		return md.digest();
	}
}
