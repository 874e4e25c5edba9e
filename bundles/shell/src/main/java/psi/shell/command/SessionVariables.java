package psi.shell.command;

/**
 * The Gogo session variables by which a front end running psi's commands on
 * behalf of someone else (the daemon, for a client) tells them about that
 * caller's side. The working directory is the session's own
 * ({@code CommandSession.currentDir}). A session without them is the local
 * one: the process's terminal and environment.
 */
public final class SessionVariables {

	/** {@code Boolean}: the caller's standard error is a terminal (progress is drawn). */
	public static final String TERMINAL = ".psi.terminal";

	/** {@code Map<String, String>}: the caller's environment that output depends on (locale, {@code TERM}, {@code COLUMNS}). */
	public static final String ENVIRONMENT = ".psi.environment";

	/** {@code Boolean}: the caller may read the system journal (as members of {@code adm} and {@code systemd-journal}); {@code status} shows log lines only then. */
	public static final String JOURNAL = ".psi.journal";

	/**
	 * {@code java.util.function.Consumer<Thread>}: told the thread a command
	 * runs on when it starts, so that the front end can interrupt the command
	 * (the client's Ctrl-C) and still wait for it to finish: interrupting
	 * Gogo's job instead returns at once and leaves the command running.
	 */
	public static final String INTERRUPTS = ".psi.interrupts";

	private SessionVariables() {
	}
}
