package psi.transport.ssh.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of OpenSSH's {@code ssh}: its stdin and stdout carry the SFTP
 * session; its stderr goes to a private temporary file (no thread reads
 * it, and ssh never blocks on it), whose end explains a failure.
 * {@link #close()} ends ssh, and what it started (a ProxyJump's ssh, a
 * ProxyCommand) when ssh had to be ended, and waits for it. Not thread safe.
 */
final class SshProcess implements AutoCloseable {

	/** How much of the end of ssh's stderr is read to explain a failure. */
	private static final int STDERR_TAIL = 16 * 1024;

	private static final Pattern UNKNOWN_KEY = Pattern.compile("No (\\S+) host key is known for (\\S+)");
	private static final Pattern CHANGED_KEY = Pattern.compile("Host key for (\\S+) has changed");
	private static final Pattern OFFENDING = Pattern.compile("Offending \\S+ key in (\\S+)");

	private final Process process;
	private final Path stderr;

	private SshProcess(Process process, Path stderr) {
		this.process = process;
		this.stderr = stderr;
	}

	/**
	 * Starts ssh.
	 *
	 * @param command the program and its arguments
	 * @param environment changes to the environment ssh inherits: a
	 *            {@code null} value removes the variable
	 * @throws IOException if the program cannot be run, in one line
	 */
	static SshProcess start(List<String> command, Map<String, String> environment) throws IOException {
		Path err = Files.createTempFile("psi-ssh-", ".stderr");
		try {
			ProcessBuilder pb = new ProcessBuilder(command).redirectError(err.toFile());
			Map<String, String> env = pb.environment();
			environment.forEach((k, v) -> {
				if (v == null) {
					env.remove(k);
				} else {
					env.put(k, v);
				}
			});
			return new SshProcess(pb.start(), err);
		} catch (IOException | RuntimeException e) {
			Files.deleteIfExists(err);
			throw new IOException("cannot run " + command.get(0) + ": " + Printable.line(e.getMessage(), 200), e);
		}
	}

	/** @return ssh's stdout: the server's SFTP replies */
	InputStream stdout() {
		return process.getInputStream();
	}

	/** @return ssh's stdin, buffered: the SFTP requests */
	OutputStream stdin() {
		return process.getOutputStream();
	}

	/**
	 * Ends the session the normal way: closes ssh's stdin, which makes it
	 * close the channel and exit, and waits a little for that.
	 */
	void finish() {
		try {
			process.getOutputStream().close();
			process.waitFor(2, TimeUnit.SECONDS);
		} catch (IOException e) {
			// ssh has gone already; close() reaps it
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * Explains why the session ended: waits for ssh to exit (it is ended
	 * after 10 s), then reads its stderr.
	 *
	 * @return one line, without the URL
	 */
	String failure() {
		int exit = -1;
		try {
			if (process.waitFor(10, TimeUnit.SECONDS)) {
				exit = process.exitValue();
			} else {
				destroy();
			}
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
		String text = "";
		try (RandomAccessFile f = new RandomAccessFile(stderr.toFile(), "r")) {
			long from = Math.max(0, f.length() - STDERR_TAIL);
			byte[] b = new byte[(int) (f.length() - from)];
			f.seek(from);
			f.readFully(b);
			text = new String(b, StandardCharsets.UTF_8);
		} catch (IOException e) {
			// nothing to explain with
		}
		return cause(text, exit);
	}

	/**
	 * @param stderr the end of what ssh wrote to stderr
	 * @param exit its exit status, or -1 if unknown
	 * @return what went wrong, in one line: the host key problem if any,
	 *         else ssh's last meaningful line
	 */
	static String cause(String stderr, int exit) {
		Matcher changed = CHANGED_KEY.matcher(stderr);
		if (stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || changed.find()) {
			Matcher offending = OFFENDING.matcher(stderr);
			String host = changed.find(0) ? changed.group(1) : "the host";
			String where = offending.find() ? offending.group(1) : "known_hosts";
			return Printable.line("REMOTE HOST IDENTIFICATION HAS CHANGED (host key for " + host + " differs from " + where + ")", 300);
		}
		Matcher unknown = UNKNOWN_KEY.matcher(stderr);
		if (unknown.find()) {
			return Printable.line("Host key verification failed (no " + unknown.group(1) + " host key is known for " + unknown.group(2)
				+ ")", 300);
		}
		String[] lines = stderr.split("\r?\n|\r");
		for (int i = lines.length - 1; i >= 0; i--) {
			String line = lines[i].strip();
			if (meaningful(line)) {
				if (line.startsWith("ssh: ")) {
					line = line.substring(5);
				}
				return Printable.line(line, 300);
			}
		}
		if (exit > 128 && exit < 160) {
			// how Process reports a death by signal
			return "ssh was ended by signal " + (exit - 128);
		}
		return exit < 0 ? "ssh ended the session without a message" : "ssh exited with status " + exit + " without a message";
	}

	private static boolean meaningful(String line) {
		return !line.isEmpty() && !line.chars().allMatch(c -> c == '@' || c == ' ') && !line.startsWith("debug")
			&& !line.startsWith("Warning: Permanently added") && !line.startsWith("** ");
	}

	/**
	 * Ends ssh if it still runs (TERM, KILL after 5 s), then what it had
	 * started; waits for ssh to exit and removes the stderr file. Safe to
	 * call more than once.
	 */
	@Override
	public void close() {
		destroy();
		try {
			Files.deleteIfExists(stderr);
		} catch (IOException e) {
			// a file in the temporary directory; nothing else to do
		}
	}

	private void destroy() {
		if (process.isAlive()) {
			// what ssh started (a ProxyJump's ssh, a ProxyCommand) may outlive a killed ssh;
			// left alone when ssh ends by itself, which ends them or detaches them on purpose
			List<ProcessHandle> started = process.descendants().toList();
			process.destroy();
			boolean interrupted = false;
			try {
				if (!process.waitFor(5, TimeUnit.SECONDS)) {
					process.destroyForcibly();
				}
			} catch (InterruptedException e) {
				interrupted = true;
				process.destroyForcibly();
			}
			process.onExit().join();
			for (ProcessHandle p : started) {
				p.destroyForcibly();
			}
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}
		closeQuietly(process.getInputStream());
		closeQuietly(process.getOutputStream());
	}

	private static void closeQuietly(AutoCloseable c) {
		try {
			c.close();
		} catch (Exception e) {
			// the process has ended; its pipes go with it
		}
	}
}
