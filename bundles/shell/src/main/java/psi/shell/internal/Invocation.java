package psi.shell.internal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Job;
import org.apache.felix.service.command.Process;

import psi.shell.command.SessionVariables;

/**
 * The side of whoever runs a command: where its output goes, its working
 * directory, whether it sits at a terminal, its locale. Read from the Gogo
 * session, so that the same command serves the local shell, the one-shot
 * launcher and the daemon's clients; the streams are captured here because
 * engine callbacks (progress, followed logs) come from other threads, where
 * {@code System.out} is not the session's.
 *
 * @param cwd the working directory, absolute
 * @param out standard output
 * @param err standard error
 * @param terminal whether standard error is a terminal (draw progress)
 * @param env the environment output depends on
 * @param journal whether the caller may read the system journal
 */
record Invocation(Path cwd, PrintStream out, PrintStream err, boolean terminal, Map<String, String> env, boolean journal) {

	/**
	 * @return the invocation of the command running on this thread, which is
	 *         made interruptible by its front end (every command that works
	 *         long asks for it before it starts)
	 */
	static Invocation current() {
		Process p = Process.Utils.current();
		Job job = p == null ? null : p.job();
		CommandSession s = job == null ? null : job.session();
		Path cwd = s == null || s.currentDir() == null ? Path.of("").toAbsolutePath() : s.currentDir();
		PrintStream out = p == null ? System.out : p.out();
		PrintStream err = p == null ? System.err : p.err();
		if (s != null && s.get(SessionVariables.INTERRUPTS) instanceof java.util.function.Consumer<?> c) {
			@SuppressWarnings("unchecked")
			java.util.function.Consumer<Thread> threads = (java.util.function.Consumer<Thread>) c;
			threads.accept(Thread.currentThread());
		}
		Object t = s == null ? null : s.get(SessionVariables.TERMINAL);
		Object e = s == null ? null : s.get(SessionVariables.ENVIRONMENT);
		@SuppressWarnings("unchecked")
		Map<String, String> env = e instanceof Map<?, ?> m ? (Map<String, String>) m : System.getenv();
		boolean terminal = t instanceof Boolean b ? b : System.console() != null;
		boolean journal = !(s != null && s.get(SessionVariables.JOURNAL) instanceof Boolean j) || j;
		return new Invocation(cwd, out, err, terminal && !"dumb".equals(env.get("TERM")), env, journal);
	}

	/** @return the terminal's width in columns ({@code COLUMNS}), 80 when unknown */
	int columns() {
		try {
			int c = Integer.parseInt(env.getOrDefault("COLUMNS", "80"));
			return c >= 20 && c <= 10_000 ? c : 80;
		} catch (NumberFormatException e) {
			return 80;
		}
	}
}
