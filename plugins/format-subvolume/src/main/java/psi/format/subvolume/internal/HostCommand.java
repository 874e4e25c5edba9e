package psi.format.subvolume.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import psi.spi.format.ImageException;

/**
 * Runs one host tool (btrfs-progs' {@code btrfs}, coreutils' {@code stat}):
 * the JDK has neither ioctl(2) nor statfs(2). A failure, a missing tool or a
 * timeout becomes a one-line {@link ImageException} that starts with what was
 * being done.
 */
final class HostCommand {

	private HostCommand() {
	}

	/**
	 * @param what what is being done, e.g. {@code marking /x read-only}
	 * @param timeout how long the tool may take
	 * @param cmd the command line; paths in it must be absolute so none reads as an option
	 * @return standard output and error, merged
	 * @throws ImageException if the tool cannot be run, fails or takes too long
	 */
	static String run(String what, Duration timeout, List<String> cmd) throws ImageException {
		ProcessBuilder pb = new ProcessBuilder(cmd)
			.redirectErrorStream(true)
			.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
		pb.environment().put("LC_ALL", "C");
		Process p;
		try {
			p = pb.start();
		} catch (IOException e) {
			String pkg = cmd.get(0).equals("btrfs") ? "btrfs-progs" : "coreutils";
			throw new ImageException(what + " failed: cannot run '" + cmd.get(0) + "' (is " + pkg + " installed?)");
		}
		// wait first, read after: these tools print a line or two, far below the pipe buffer
		boolean finished;
		try {
			finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
		} catch (InterruptedException e) {
			p.destroyForcibly();
			Thread.currentThread().interrupt();
			throw new ImageException(what + " was interrupted");
		}
		if (!finished) {
			p.destroyForcibly();
			throw new ImageException(what + " failed: '" + String.join(" ", cmd) + "' did not finish in " + timeout.toSeconds() + " s");
		}
		String out;
		try (InputStream in = p.getInputStream()) {
			out = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
		} catch (IOException e) {
			throw new ImageException(what + " failed: reading the output of " + cmd.get(0) + ": " + e.getMessage());
		}
		if (p.exitValue() != 0) {
			String msg = out.strip().replaceAll("\\s*\n\\s*", "; ");
			throw new ImageException(what + " failed: " + cmd.get(0) + " exited with status " + p.exitValue()
				+ (msg.isEmpty() ? "" : ": " + msg));
		}
		return out;
	}
}
