package psi.launcher.internal;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Who runs a command and from where: the process itself (one-shot launcher)
 * or a client of the daemon.
 *
 * @param cwd the working directory relative image paths are resolved against
 * @param in standard input (the interactive shell reads it)
 * @param out standard output
 * @param err standard error
 * @param terminal whether standard error is a terminal
 * @param env the environment output depends on (locale, {@code TERM}, {@code COLUMNS})
 * @param gate what this caller may run
 */
record Caller(Path cwd, InputStream in, PrintStream out, PrintStream err, boolean terminal, Map<String, String> env, Gate gate) {

	/** Decides whether a caller may run a command. */
	interface Gate {
		/** A gate that lets everything through: the process's own user runs in-process. */
		Gate ANY = (command, args) -> null;

		/**
		 * @param command the Gogo function ({@code isattached})
		 * @param args the command's arguments, parsed
		 * @return {@code null} to run it, else the one-line refusal
		 */
		String refusal(String command, CommandLine.Parsed args);

		/** @return whether the caller may read the system journal (the log lines {@code status} shows) */
		default boolean mayReadJournal() {
			return true;
		}
	}

	/** @return the caller this process is: its own directory, streams, terminal and environment */
	static Caller self(InputStream in, PrintStream out, PrintStream err) {
		return new Caller(Path.of("").toAbsolutePath(), in, out, err, System.console() != null, System.getenv(), Gate.ANY);
	}

	/** The variables of the environment a client forwards: what output depends on. */
	static final List<String> FORWARDED_ENV = List.of("LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TERM", "COLUMNS", "NO_COLOR");
}
