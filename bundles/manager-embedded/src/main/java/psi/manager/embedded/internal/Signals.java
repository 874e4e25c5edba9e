package psi.manager.embedded.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Sends signals by name to processes. The JDK sends only SIGTERM and
 * SIGKILL ({@link ProcessHandle#destroy()}); any other goes through the
 * shell's {@code kill}, by pid.
 */
final class Signals {

	/** The signals a unit may name in {@code KillSignal=} and friends. */
	static final Set<String> NAMES = Set.of("HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
		"ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS");

	private Signals() {
	}

	/** @return the signal's name without {@code SIG}, or {@code null} when it is none */
	static String name(String v) {
		String s = v.startsWith("SIG") ? v.substring(3) : v;
		return NAMES.contains(s) ? s : null;
	}

	static void send(String signal, List<Long> pids) {
		if (pids.isEmpty()) {
			return;
		}
		if (signal.equals("KILL") || signal.equals("TERM")) {
			for (long p : pids) {
				ProcessHandle.of(p).ifPresent(h -> {
					if (signal.equals("KILL")) {
						h.destroyForcibly();
					} else {
						h.destroy();
					}
				});
			}
			return;
		}
		List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "kill -s \"$0\" \"$@\" 2>/dev/null", signal));
		for (long p : pids) {
			cmd.add(Long.toString(p));
		}
		try {
			new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
		} catch (IOException e) {
			// no shell: nothing more to do
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}
}
