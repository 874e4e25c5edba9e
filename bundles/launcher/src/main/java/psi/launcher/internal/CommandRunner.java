package psi.launcher.internal;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import psi.api.PsiException;
import psi.shell.command.CommandOutput;
import psi.shell.command.SessionVariables;

/**
 * Runs one psi command line, {@code psi [--root DIR] COMMAND [ARGS...]}, for
 * a caller: checks it against the command's own annotations, asks the
 * caller's gate, runs the Gogo command in a session holding the caller's
 * streams, directory, terminal and environment, and renders its answer and
 * its failures as one line each. The one-shot launcher and the daemon both
 * run commands here, so that their output and exit status are the same.
 */
@Component(service = CommandRunner.class)
public class CommandRunner {

	/** The scope of psi's Gogo commands. */
	static final String SCOPE = "psi";

	/** The exit status of a command the caller interrupted (Ctrl-C), as a shell reports SIGINT. */
	static final int INTERRUPTED = 130;

	private final BundleContext context;
	private final CommandProcessor processor;
	private final Settings settings;

	/**
	 * @param context this bundle's context
	 * @param processor Gogo
	 * @param settings psi's settings, read again before each command
	 */
	@Activate
	public CommandRunner(BundleContext context, @Reference CommandProcessor processor, @Reference Settings settings) {
		this.context = context;
		this.processor = processor;
		this.settings = settings;
	}

	/** @return a Gogo session with the caller's streams, directory, terminal and environment */
	CommandSession session(Caller caller) {
		CommandSession session = processor.createSession(caller.in(), caller.out(), caller.err());
		session.currentDir(caller.cwd());
		session.put(SessionVariables.TERMINAL, caller.terminal());
		session.put(SessionVariables.ENVIRONMENT, Map.copyOf(caller.env()));
		session.put(SessionVariables.JOURNAL, caller.gate().mayReadJournal());
		return session;
	}

	/** What the command line names: the command and its arguments, global options first. */
	record Line(String command, String function, List<String> args) {
	}

	/**
	 * Splits off the global options.
	 *
	 * @return the command, or {@code null} when the line was answered here (help, an error), with its status in {@code status[0]}
	 */
	Line line(List<String> argv, Caller caller, int[] status) {
		List<String> global = new ArrayList<>();
		int i = 0;
		while (i < argv.size() && argv.get(i).startsWith("-")) {
			String a = argv.get(i);
			if (a.equals("-h") || a.equals("--help")) {
				caller.out().print(overview());
				status[0] = 0;
				return null;
			}
			if (a.equals(REFERENCE) && i + 1 < argv.size()) {
				// the build writes the man page and the completions from the commands' annotations
				try {
					for (java.nio.file.Path p : CommandReference.write(caller.cwd().resolve(argv.get(i + 1)), CommandReference.commands(commandMethods()),
						settings.ocds(), context.getBundle().getVersion().toString())) {
						caller.out().println("Wrote " + p);
					}
					status[0] = 0;
				} catch (java.io.IOException e) {
					caller.err().println("psi " + REFERENCE + ": " + oneLine(e.getMessage()));
					status[0] = 1;
				}
				return null;
			}
			if (a.equals(CommandLine.NO_DAEMON) || CommandLine.IGNORED.contains(a)) {
				i++; // the client's: running here is running in-process; or nothing to do
			} else if (CommandLine.GLOBAL_VALUE_OPTIONS.contains(a) && i + 1 < argv.size()) {
				global.add(a);
				global.add(argv.get(i + 1));
				i += 2;
			} else if (a.startsWith("--") && CommandLine.GLOBAL_VALUE_OPTIONS.contains(a.split("=", 2)[0])) {
				global.add(a);
				i++;
			} else {
				caller.err().println("psi: unknown option '" + oneLine(a) + "'; see psi --help");
				status[0] = 1;
				return null;
			}
		}
		if (i >= argv.size()) {
			caller.err().println("psi: no command given; see psi --help");
			status[0] = 1;
			return null;
		}
		String command = argv.get(i);
		List<String> rest = new ArrayList<>(global);
		rest.addAll(argv.subList(i + 1, argv.size()));
		return new Line(command, CommandLine.function(command), rest);
	}

	/**
	 * Runs a command line.
	 *
	 * @param argv the arguments after {@code psi}
	 * @param caller who runs it
	 * @return the exit status
	 */
	int run(List<String> argv, Caller caller) {
		return run(argv, caller, s -> {
		});
	}

	/**
	 * As {@link #run(List, Caller)}, telling {@code sessions} the Gogo session
	 * the command runs in (to interrupt it) before it starts.
	 */
	int run(List<String> argv, Caller caller, java.util.function.Consumer<CommandSession> sessions) {
		// a setting changed in /etc/psi takes effect now; what is wrong in it is said once, to the command that found it
		caller.err().print(settings.refresh());
		int[] status = { 0 };
		Remote.Split remote;
		try {
			remote = Remote.split(argv, caller.cwd());
		} catch (CommandLine.UsageException e) {
			caller.err().println(oneLine(e.getMessage()));
			return 1;
		}
		if (!remote.hosts().isEmpty()) {
			return remote(remote, caller);
		}
		Line line = line(argv, caller, status);
		if (line == null) {
			return status[0];
		}
		String command = line.command();
		Object target = command(line.function());
		if (target == null) {
			caller.err().println("psi: unknown command '" + oneLine(command) + "'; see psi --help");
			return 1;
		}
		List<Method> methods = methods(target, line.function());
		if (line.args().contains("--help") || line.args().contains("-h")) {
			caller.out().print(CommandLine.help(command, methods));
			return 0;
		}
		CommandSession session = session(caller);
		sessions.accept(session);
		try {
			CommandLine.Parsed parsed = CommandLine.parse(command, line.args(), CommandLine.options(methods));
			String refusal = caller.gate().refusal(line.function(), parsed);
			if (refusal != null) {
				caller.err().println(oneLine(refusal));
				return 1;
			}
			Object result = session.execute(CommandLine.gogo(SCOPE, line.function(), parsed.gogo()));
			if (result instanceof CommandOutput o) {
				caller.err().print(o.notice());
				caller.out().print(o.text());
				return o.exitStatus();
			}
			if (result != null) {
				caller.out().println(session.format(result, Converter.INSPECT));
			}
			return 0;
		} catch (CommandLine.UsageException e) {
			caller.err().println(oneLine(e.getMessage()));
			return 1;
		} catch (PsiException e) {
			if (interrupted(e)) {
				caller.err().println("psi " + command + ": interrupted: " + oneLine(e.getMessage()));
				return INTERRUPTED;
			}
			if (e.getMessage() != null) {
				caller.err().println(oneLine(e.getMessage()));
			}
			for (Throwable s : e.getSuppressed()) {
				caller.err().println("psi: also: " + oneLine(s.getMessage()));
				for (Throwable t : s.getSuppressed()) {
					caller.err().println("psi:   " + oneLine(t.toString()));
				}
			}
			return e.exitStatus();
		} catch (InterruptedException e) {
			caller.err().println("psi " + command + ": interrupted");
			return INTERRUPTED;
		} catch (IllegalArgumentException e) {
			if (String.valueOf(e.getMessage()).startsWith("Cannot coerce")) {
				caller.err().println("psi " + command + ": wrong number or kind of arguments; see psi " + command + " --help");
				return 1;
			}
			return internal(command, e, caller);
		} catch (Exception e) {
			if (interrupted(e)) {
				caller.err().println("psi " + command + ": interrupted");
				return INTERRUPTED;
			}
			return internal(command, e, caller);
		} finally {
			session.close();
		}
	}

	/** @return whether a failure is the caller's interrupt (Ctrl-C in the client) */
	private static boolean interrupted(Throwable e) {
		for (Throwable t = e; t != null; t = t.getCause()) {
			if (t instanceof InterruptedException || t instanceof java.io.InterruptedIOException
				|| t instanceof java.nio.channels.ClosedByInterruptException) {
				return true;
			}
		}
		return Thread.currentThread().isInterrupted();
	}

	/** @return a message as one line on a terminal: control characters (from an image, a server) C-escaped */
	static String oneLine(String m) {
		if (m == null) {
			return "";
		}
		StringBuilder sb = new StringBuilder(m.length());
		for (int i = 0; i < m.length(); i++) {
			char c = m.charAt(i);
			if (c < 0x20 || c >= 0x7f && c <= 0x9f) {
				sb.append(c == '\n' ? "\\n" : c == '\t' ? "\\t" : String.format("\\x%02x", (int) c));
			} else {
				sb.append(c);
			}
		}
		return sb.toString();
	}

	private static int internal(String command, Exception e, Caller caller) {
		caller.err().println("psi " + oneLine(command) + ": " + oneLine(e.toString()));
		if (caller.env().get("PSI_DEBUG") != null || System.getenv("PSI_DEBUG") != null) {
			e.printStackTrace(caller.err());
		}
		return 1;
	}

	/**
	 * @return the service providing {@code psi:function}, or {@code null} once
	 *         DS has processed every component and there is none
	 */
	Object command(String function) {
		long deadline = System.nanoTime() + 10_000_000_000L;
		while (true) {
			boolean settled = scrSettled();
			try {
				ServiceReference<?>[] refs = context.getAllServiceReferences(null,
					"(&(" + CommandProcessor.COMMAND_SCOPE + "=" + SCOPE + ")(" + CommandProcessor.COMMAND_FUNCTION + "=" + function + "))");
				if (refs != null && refs.length > 0) {
					Object s = context.getService(refs[0]);
					if (s != null) {
						return s;
					}
				}
			} catch (InvalidSyntaxException e) {
				return null; // a function name no filter can hold is no command
			}
			if (settled || System.nanoTime() > deadline) {
				return null;
			}
			try {
				Thread.sleep(2);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				return null;
			}
		}
	}

	/**
	 * Whether SCR has processed every component of every active bundle: SCR
	 * enables components asynchronously, so a command may register a little
	 * after its bundle started.
	 */
	private boolean scrSettled() {
		ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
		ServiceComponentRuntime scr = ref == null ? null : context.getService(ref);
		if (scr == null) {
			return false;
		}
		try {
			for (Bundle b : context.getBundles()) {
				if (b.getState() == Bundle.ACTIVE && b.getHeaders("").get("Service-Component") != null
					&& scr.getComponentDescriptionDTOs(b).isEmpty()) {
					return false;
				}
			}
			for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
				if (scr.isComponentEnabled(d) && scr.getComponentConfigurationDTOs(d).isEmpty()
					&& !"require".equals(d.configurationPolicy)) {
					return false;
				}
			}
			return true;
		} finally {
			context.ungetService(ref);
		}
	}

	/** @return the methods implementing {@code function} */
	static List<Method> methods(Object target, String function) {
		List<Method> out = new ArrayList<>();
		for (Method m : target.getClass().getMethods()) {
			if (m.getName().toLowerCase(Locale.ROOT).equals(function)) {
				out.add(m);
			}
		}
		return out;
	}

	/** @return the options of a command by every name, or an empty map when there is no such command */
	Map<String, CommandLine.Option> options(String function) {
		Object target = command(function);
		return target == null ? new HashMap<>() : CommandLine.options(methods(target, function));
	}

	/**
	 * {@code psi -H HOST COMMAND ...}: checks the command line here (an
	 * unknown command or option fails before any connection), then runs it
	 * there ({@link Remote}). Only in-process: ssh runs as the user who
	 * typed the command, with their keys, never as the daemon.
	 */
	private int remote(Remote.Split split, Caller caller) {
		if (caller.gate() != Caller.Gate.ANY) {
			caller.err().println("psi: -H runs ssh as the user who types it, not in the daemon; the psi command does so by itself (psi-client runs -H in-process)");
			return 1;
		}
		int[] status = { 0 };
		Line line = line(split.rest(), caller, status);
		if (line == null) {
			return status[0];
		}
		Object target = command(line.function());
		if (target == null) {
			caller.err().println("psi: unknown command '" + oneLine(line.command()) + "'; see psi --help");
			return 1;
		}
		List<Method> methods = methods(target, line.function());
		if (line.args().contains("--help") || line.args().contains("-h")) {
			caller.out().print(CommandLine.help(line.command(), methods));
			return 0;
		}
		CommandLine.Parsed parsed;
		try {
			parsed = CommandLine.parse(line.command(), line.args(), CommandLine.options(methods));
		} catch (CommandLine.UsageException e) {
			caller.err().println(oneLine(e.getMessage()));
			return 1;
		}
		int image = -1;
		if (Remote.COPIES.contains(line.function()) && !parsed.positional().isEmpty()) {
			String arg = parsed.positional().get(0);
			boolean local = !arg.contains("://") && (arg.contains("/") || arg.endsWith(".raw") || arg.endsWith(".psi"))
				&& java.nio.file.Files.exists(caller.cwd().resolve(arg));
			if (local) {
				// its place in the command line as it goes there: after the command word (global options stay in front)
				int at = split.rest().indexOf(line.command());
				image = split.rest().subList(at + 1, split.rest().size()).indexOf(arg) + at + 1;
			}
		}
		Map<String, Map<String, String>> configs = ConfigFiles.read(ConfigFiles.directory(), new StringBuilder()); // psi.remote: read by the launcher, no component
		return new Remote(configs.getOrDefault(Remote.PID, Map.of()), caller).run(split, image, parsed.options().get("--verify"),
			Access.READ_ONLY.contains(line.function()));
	}

	/** @return every psi command's methods, by the command as typed */
	Map<String, List<Method>> commandMethods() {
		Map<String, List<Method>> out = new TreeMap<>();
		try {
			ServiceReference<?>[] refs = context.getAllServiceReferences(null, "(" + CommandProcessor.COMMAND_SCOPE + "=" + SCOPE + ")");
			for (ServiceReference<?> ref : refs == null ? new ServiceReference<?>[0] : refs) {
				Object fs = ref.getProperty(CommandProcessor.COMMAND_FUNCTION);
				Object target = context.getService(ref);
				if (target == null) {
					continue;
				}
				for (String f : fs instanceof String[] a ? a : new String[] { String.valueOf(fs) }) {
					out.put(CommandLine.typed(f), methods(target, f));
				}
			}
		} catch (InvalidSyntaxException e) {
			throw new IllegalStateException(e);
		}
		return out;
	}

	/**
	 * @return what Tab in the interactive shell asks for: the commands' own
	 *         descriptions, Gogo's other commands, and the engine's images and
	 *         profiles of {@code root} ({@code null}: the host's); a lookup that fails offers nothing
	 */
	ShellCompleter.Source completions(CommandSession session, String root) {
		return new ShellCompleter.Source() {
			@Override
			public List<CommandReference.Command> commands() {
				return CommandReference.commands(commandMethods());
			}

			@Override
			public java.util.Collection<String> otherCommands() {
				Object c = session.get(".commands");
				List<String> out = new ArrayList<>();
				if (c instanceof java.util.Collection<?> all) {
					all.forEach(o -> out.add(String.valueOf(o)));
				}
				return out;
			}

			@Override
			public List<String> images() {
				return engine(p -> p.list(root).stream().map(i -> i.name).toList());
			}

			@Override
			public List<String> attached() {
				return engine(p -> p.list(root).stream().filter(i -> i.state != null && i.state != psi.api.dto.AttachState.DETACHED)
					.map(i -> i.name).toList());
			}

			@Override
			public List<String> profiles() {
				return engine(p -> p.profiles(root));
			}

			@Override
			public java.nio.file.Path cwd() {
				return session.currentDir() == null ? java.nio.file.Path.of("/") : session.currentDir();
			}
		};
	}

	private List<String> engine(java.util.function.Function<psi.api.Portables, List<String>> ask) {
		ServiceReference<psi.api.Portables> ref = context.getServiceReference(psi.api.Portables.class);
		psi.api.Portables p = ref == null ? null : context.getService(ref);
		if (p == null) {
			return List.of();
		}
		try {
			return ask.apply(p);
		} catch (RuntimeException e) {
			return List.of(); // Tab offers nothing rather than a stack trace
		} finally {
			context.ungetService(ref);
		}
	}

	/** The hidden global option that writes psi(1) and the shell completions into a directory (at build time). */
	static final String REFERENCE = "--reference";

	private String overview() {
		Map<String, String> commands = new TreeMap<>();
		commandMethods().forEach((c, ms) -> {
			String doc = "";
			for (Method m : ms) {
				Descriptor d = m.getAnnotation(Descriptor.class);
				if (d != null) {
					doc = d.value();
				}
			}
			commands.put(c, doc);
		});
		StringBuilder sb = new StringBuilder();
		sb.append("psi: portable system services\n\n");
		sb.append("Usage: psi [--root DIR] [--no-daemon] COMMAND [OPTIONS] [ARGS...]   run one command and exit with its status\n");
		sb.append("       psi -H [USER@]HOST[:PORT][,...] [--parallel N] COMMAND ...     run it on other hosts over ssh (-H @FILE: hosts from a file)\n");
		sb.append("       psi [--root DIR] [--no-daemon]                            open the interactive shell (Tab completes; Ctrl-D leaves)\n\n");
		sb.append("A psi daemon (psi daemon) runs the commands when one listens on /run/psi/psi.sock (DIR/run/psi/psi.sock with\n");
		sb.append("--root DIR, or $PSI_SOCKET); else, or with --no-daemon, this process runs them.\n");
		sb.append("-H runs the command on each host in turn through your ssh (strict known_hosts), stopping at the first that\n");
		sb.append("fails; a local image file (./app.psi) is copied there and pulled into its pool first.\n\n");
		sb.append("Commands:\n");
		commands.forEach((c, d) -> sb.append(String.format("  %-14s %s%n", c, d)));
		sb.append("\nSee psi COMMAND --help for a command's options.\n");
		return sb.toString();
	}
}
