package psi.launcher.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;

import psi.shell.command.CommandOutput;
import psi.shell.command.SessionVariables;

/**
 * psi's interactive shell, on a terminal: a line editor (JLine) with Tab
 * completion ({@link ShellCompleter}) and history. A line naming a psi
 * command ({@code attach --profile strict foo}, also typed as
 * {@code psi attach ...}) runs exactly as {@code psi attach ...} does on the
 * command line: the same options, messages, refusals and exit status. Any
 * other line is Gogo's (pipes, variables, closures, the shell's own
 * commands). Ctrl-C clears the line or interrupts the running command;
 * Ctrl-D or {@code exit} leaves.
 */
final class Console {

	/** The prompt. */
	static final String PROMPT = "psi> ";

	/** Words that leave the shell. */
	static final Set<String> EXIT = Set.of("exit", "quit", "logout");

	private final CommandRunner runner;
	private final Caller caller;
	/** Gogo's session, for the lines that are not one psi command. */
	private final CommandSession session;
	private final ShellCompleter.Source source;
	/** The root the shell's psi commands operate on ({@code --root}), or {@code null}: the host's. */
	private final String root;
	/** The threads of the command running now, to interrupt on Ctrl-C. */
	private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
	private volatile boolean running;

	/**
	 * @param runner runs psi's commands
	 * @param caller who runs the shell; its input is the terminal's
	 * @param root the root psi's commands operate on unless a line says {@code --root}; {@code null}: the host's
	 */
	Console(CommandRunner runner, Caller caller, String root) {
		this.runner = runner;
		this.caller = caller;
		this.root = root;
		this.session = runner.session(caller);
		this.source = runner.completions(session, root);
		session.put(SessionVariables.INTERRUPTS, (Consumer<Thread>) threads::add);
	}

	/**
	 * Runs the shell on a terminal until Ctrl-D or {@code exit}.
	 *
	 * @param terminal the terminal (the process's own, or the client's, over the daemon's socket)
	 * @param history the history file, or {@code null} to keep it in memory
	 * @return the exit status: that of the last command
	 */
	int run(Terminal terminal, Path history) {
		LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("psi").completer(new ShellCompleter(source))
			.parser(parser()).variable(LineReader.HISTORY_SIZE, 1000).variable(LineReader.HISTORY_FILE_SIZE, 1000);
		if (history != null) {
			b.variable(LineReader.HISTORY_FILE, history);
		}
		LineReader reader = b.build();
		reader.setOpt(LineReader.Option.AUTO_FRESH_LINE);
		reader.unsetOpt(LineReader.Option.INSERT_TAB);
		// Ctrl-C while a command runs interrupts it (while reading, JLine has its own handler: the line is cleared)
		terminal.handle(Terminal.Signal.INT, s -> interrupt());
		terminal.writer().println("psi shell: Tab completes, help lists the commands, psi COMMAND --help their options; Ctrl-D or exit leaves.");
		terminal.flush();
		profile();
		int status = 0;
		try {
			while (true) {
				String line;
				try {
					line = reader.readLine(PROMPT);
				} catch (UserInterruptException e) {
					Thread.interrupted(); // JLine's interrupt of this thread was for the line, now dropped
					continue;
				} catch (EndOfFileException e) {
					break;
				}
				if (EXIT.contains(line.trim())) {
					break;
				}
				status = execute(line, withColumns(terminal.getWidth()));
			}
		} finally {
			session.close();
		}
		return status;
	}

	/**
	 * Runs lines read from a stream that is no terminal ({@code psi < script},
	 * a pipe): no prompt, no editing, each line as typed in the shell.
	 *
	 * @return the exit status of the last line
	 */
	int run() {
		int status = 0;
		try (BufferedReader in = new BufferedReader(new InputStreamReader(caller.in(), StandardCharsets.UTF_8))) {
			for (String line; (line = in.readLine()) != null;) {
				if (EXIT.contains(line.trim())) {
					break;
				}
				status = execute(line, caller);
			}
		} catch (IOException e) {
			caller.err().println("psi: reading the commands: " + CommandRunner.oneLine(e.getMessage()));
			return 1;
		} finally {
			session.close();
		}
		return status;
	}

	/**
	 * Runs the admin's {@code etc/gosh_profile} beside psi's jar (Gogo's
	 * {@code gosh.home}), as Gogo's own login shell did: aliases, variables.
	 */
	private void profile() {
		String home = System.getProperty("gosh.home");
		Path p = home == null ? null : Path.of(home, "etc", "gosh_profile");
		try {
			if (p != null && java.nio.file.Files.size(p) > 0) {
				session.execute("source '" + p.toUri() + "'"); // what its last line gives is not shown
			}
		} catch (IOException e) {
			// none: nothing to run
		} catch (Exception e) {
			caller.err().println("psi: " + p + ": " + CommandRunner.oneLine(e.getMessage() == null ? e.toString() : e.getMessage()));
		}
	}

	/** Interrupts the command running now (Ctrl-C, the client gone); nothing while the shell waits for a line. */
	void interrupt() {
		if (running) {
			threads.forEach(Thread::interrupt);
		}
	}

	private Caller withColumns(int columns) {
		if (columns <= 0) {
			return caller;
		}
		Map<String, String> env = new HashMap<>(caller.env());
		env.put("COLUMNS", Integer.toString(columns));
		return new Caller(caller.cwd(), caller.in(), caller.out(), caller.err(), caller.terminal(), env, caller.gate());
	}

	/** @return the status of one line: a psi command as on the command line, else Gogo's */
	private int execute(String line, Caller who) {
		if (line.isBlank() || line.trim().startsWith("#")) {
			return 0;
		}
		Thread.interrupted();
		threads.clear();
		threads.add(Thread.currentThread());
		running = true;
		try {
			List<String> argv = psiLine(line);
			if (argv != null) {
				return runner.run(argv, who, s -> s.put(SessionVariables.INTERRUPTS, (Consumer<Thread>) threads::add));
			}
			return gogo(session, line, who.out(), who.err());
		} finally {
			running = false;
			threads.clear();
			Thread.interrupted(); // an interrupt that came as the command ended is not the next one's
		}
	}

	/**
	 * @return the line as {@code psi}'s arguments when it is one psi command
	 *         with plain words (quotes allowed), else {@code null}: Gogo's
	 */
	List<String> psiLine(String line) {
		for (char c : new char[] { '|', ';', '$', '{', '}', '(', ')', '[', ']', '<', '>', '&', '\\', '`' }) {
			if (line.indexOf(c) >= 0) {
				return null;
			}
		}
		List<String> words;
		try {
			words = new ArrayList<>(parser().parse(line, line.length()).words());
		} catch (RuntimeException e) {
			return null; // an open quote: Gogo says what is wrong
		}
		words.removeIf(String::isEmpty);
		if (!words.isEmpty() && words.get(0).equals("psi")) {
			words.remove(0);
			return rooted(words);
		}
		int i = 0;
		while (i < words.size() && words.get(i).startsWith("-")) {
			i += CommandLine.GLOBAL_VALUE_OPTIONS.contains(words.get(i)) ? 2 : 1; // --root DIR before the command
		}
		if (i >= words.size()) {
			return null;
		}
		String first = words.get(i);
		for (CommandReference.Command c : source.commands()) {
			if (c.name().equals(first)) {
				return rooted(words);
			}
		}
		return null;
	}

	/** @return the words with {@code --root} of the shell's root first, unless they name one */
	private List<String> rooted(List<String> words) {
		if (root == null || words.stream().anyMatch(w -> w.equals("--root") || w.startsWith("--root=") || w.startsWith("-H"))) {
			return words;
		}
		List<String> out = new ArrayList<>(List.of("--root", root));
		out.addAll(words);
		return out;
	}

	private static int gogo(CommandSession session, String line, PrintStream out, PrintStream err) {
		try {
			Object result = session.execute(line);
			if (result instanceof CommandOutput o) {
				err.print(o.notice());
				out.print(o.text());
				return o.exitStatus();
			}
			if (result != null && !(result instanceof Boolean)) { // grep's match, not worth a line
				out.println(session.format(result, Converter.INSPECT));
			}
			return 0;
		} catch (Exception e) {
			String m = e.getClass().getSimpleName().equals("CommandNotFoundException")
				? "unknown command '" + line.trim().split("\\s+", 2)[0] + "'; help lists the commands, Tab completes them"
				: e.getMessage() == null ? e.toString() : e.getMessage();
			err.println("psi: " + CommandRunner.oneLine(m));
			return Thread.currentThread().isInterrupted() ? CommandRunner.INTERRUPTED : 1;
		}
	}

	/**
	 * @return the terminal {@code builder} makes; JLine finds its providers
	 *         through the thread's context class loader, which under OSGi is
	 *         not JLine's own
	 */
	static Terminal terminal(org.jline.terminal.TerminalBuilder builder) throws IOException {
		Thread t = Thread.currentThread();
		ClassLoader before = t.getContextClassLoader();
		t.setContextClassLoader(Terminal.class.getClassLoader());
		try {
			return builder.build();
		} finally {
			t.setContextClassLoader(before);
		}
	}

	/** @return the words of a line as a POSIX shell splits them: quotes, no escapes beyond them */
	private static DefaultParser parser() {
		DefaultParser p = new DefaultParser();
		p.setEofOnUnclosedQuote(true);
		return p;
	}
}
