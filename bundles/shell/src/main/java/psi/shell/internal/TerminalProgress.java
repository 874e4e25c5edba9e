package psi.shell.internal;

import java.io.PrintStream;
import java.util.Locale;

import psi.api.ProgressListener;

/**
 * Shows a long operation on standard error: each step as a line, and on a
 * terminal a transfer line (bytes, rate, time left) redrawn at most five
 * times a second. Quiet about transfers when standard error is not a terminal.
 */
final class TerminalProgress implements ProgressListener {

	private static final long REDRAW_NANOS = 200_000_000L;

	private final PrintStream err;
	private final boolean terminal;
	private final int columns;
	private long startNanos;
	private long lastDraw;
	private boolean drawn;

	/**
	 * @param err where to write
	 * @param terminal whether it is a terminal
	 */
	TerminalProgress(PrintStream err, boolean terminal) {
		this(err, terminal, 80);
	}

	private TerminalProgress(PrintStream err, boolean terminal, int columns) {
		this.err = err;
		this.terminal = terminal;
		this.columns = columns;
	}

	/** @return a progress printer on the caller's standard error, drawing transfers when it is a terminal */
	static TerminalProgress of(Invocation caller) {
		return new TerminalProgress(caller.err(), caller.terminal(), caller.columns());
	}

	@Override
	public synchronized void step(String line) {
		clear();
		err.println(line);
		err.flush();
	}

	/** Waiting for another psi is said on a terminal only: scripts just wait. */
	@Override
	public synchronized void waiting(String line) {
		if (terminal) {
			step(line);
		}
	}

	@Override
	public synchronized void transfer(String what, long bytes, long total) {
		if (!terminal) {
			return;
		}
		long now = System.nanoTime();
		if (startNanos == 0) {
			startNanos = now;
		}
		if (drawn && now - lastDraw < REDRAW_NANOS && bytes != total) {
			return;
		}
		lastDraw = now;
		drawn = true;
		String line = line(what, bytes, total, now - startNanos);
		// one line less than the width: a full line would wrap on some terminals and the redraw then stacks
		err.print("\r\033[K" + (line.length() < columns ? line : line.substring(0, columns - 1)));
		err.flush();
	}

	@Override
	public synchronized void transferDone() {
		clear();
		startNanos = 0;
	}

	private void clear() {
		if (drawn) {
			err.print("\r\033[K");
			drawn = false;
		}
	}

	/** @return {@code foo.raw  12.0M/256.0M  47%  100.0M/s  2s left} */
	static String line(String what, long bytes, long total, long elapsedNanos) {
		double seconds = elapsedNanos / 1e9;
		double rate = seconds > 0 ? bytes / seconds : 0;
		StringBuilder sb = new StringBuilder(what).append("  ").append(Render.bytes(bytes));
		if (total > 0) {
			sb.append('/').append(Render.bytes(total)).append(String.format(Locale.ROOT, "  %d%%", bytes * 100 / total));
		}
		if (rate > 0) {
			sb.append("  ").append(Render.bytes((long) rate)).append("/s");
			if (total > bytes) {
				long left = (long) Math.ceil((total - bytes) / rate);
				sb.append("  ").append(left >= 60 ? left / 60 + "m" + left % 60 + "s" : left + "s").append(" left");
			}
		}
		return sb.toString();
	}
}
