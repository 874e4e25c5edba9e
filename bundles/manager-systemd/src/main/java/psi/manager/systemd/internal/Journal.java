package psi.manager.systemd.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import psi.spi.manager.ServiceManager.JournalFollower;

/**
 * systemd's journal through {@code journalctl}: the lines whose field
 * {@code PORTABLE=} names an image, as {@code journalctl -o short} prints
 * them. journalctl reads the journal files, so this works whether or not
 * systemd runs.
 */
final class Journal {

	/** The most output read from one journalctl call. */
	static final int MAX_OUTPUT = 4 << 20;

	private Journal() {
	}

	private static List<String> command(String portable, int lines, boolean follow) {
		List<String> cmd = new ArrayList<>(List.of("journalctl", "--no-pager", "-q", "-o", "short"));
		if (follow) {
			cmd.add("-f");
		}
		cmd.addAll(List.of("-n", Integer.toString(Math.max(0, lines)), "PORTABLE=" + portable));
		return cmd;
	}

	static List<String> lines(String portable, int lines) throws IOException {
		Process p = new ProcessBuilder(command(portable, lines, false)).redirectErrorStream(true).start();
		try {
			String out = new String(p.getInputStream().readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8);
			if (!p.waitFor(30, TimeUnit.SECONDS)) {
				throw new IOException("journalctl did not answer in 30 s");
			}
			if (p.exitValue() != 0 && out.isBlank()) {
				throw new IOException("journalctl failed with status " + p.exitValue());
			}
			return out.lines().toList();
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new java.io.InterruptedIOException("interrupted while reading the journal");
		} finally {
			p.destroyForcibly();
		}
	}

	static JournalFollower follow(String portable, int lines, Consumer<String> sink) throws IOException {
		Process p = new ProcessBuilder(command(portable, lines, true)).redirectErrorStream(true).start();
		Thread reader = new Thread(() -> {
			try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
				for (String l; (l = r.readLine()) != null;) {
					sink.accept(l);
				}
			} catch (IOException e) {
				// the process ended or was stopped
			}
		}, "psi-journal-follow");
		reader.setDaemon(true);
		reader.start();
		return new JournalFollower() {
			@Override
			public void await() throws InterruptedException {
				p.waitFor();
				reader.join();
			}

			@Override
			public void close() {
				p.destroy();
			}
		};
	}
}
