package psi.launcher.internal;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import psi.shell.command.CommandOutput;
import psi.api.PsiException;

/**
 * The {@code psi COMMAND ARGS...} entry point: when the framework was started
 * by bnd's launcher with arguments, runs that one Gogo command and hands its
 * exit status to the launcher (a {@code main.thread} Callable), which then
 * stops the framework and exits with it. Without arguments it does nothing
 * and the interactive Gogo shell runs.
 */
@Component(immediate = true)
public class Launcher {

	/** The scope of psi's Gogo commands. */
	static final String SCOPE = "psi";

	private final BundleContext context;
	private final CommandProcessor processor;
	private final String[] args;
	private ServiceRegistration<?> mainThread;
	private final Map<String, Map<String, String>> configs;
	private final StringBuilder configProblems = new StringBuilder();

	/**
	 * @param context this bundle's context
	 * @param processor Gogo
	 * @param bndLauncher bnd's launcher service, which carries the command line
	 */
	@Activate
	public Launcher(BundleContext context, @Reference CommandProcessor processor,
		@Reference(service = Object.class, target = "(launcher.arguments=*)") ServiceReference<Object> bndLauncher,
		@Reference ConfigurationAdmin configAdmin) {
		this.context = context;
		this.processor = processor;
		this.configs = ConfigFiles.read(ConfigFiles.directory(), configProblems);
		try {
			ConfigFiles.apply(configAdmin, configs);
		} catch (java.io.IOException e) {
			configProblems.append("psi: cannot apply the configuration files: ").append(e.getMessage()).append('\n');
		}
		Object a = bndLauncher.getProperty("launcher.arguments");
		this.args = a instanceof String[] s ? s : new String[0];
		if (args.length > 0) {
			Hashtable<String, Object> props = new Hashtable<>();
			props.put("main.thread", Boolean.TRUE);
			mainThread = context.registerService(Callable.class, new Run(), props);
		}
	}

	@Deactivate
	void deactivate() {
		if (mainThread != null) {
			try {
				mainThread.unregister();
			} catch (IllegalStateException gone) {
				// the framework is stopping
			}
		}
	}

	/** The command run on the launcher's main thread; a named class because bnd checks {@code call()} returns Integer. */
	final class Run implements Callable<Integer> {
		@Override
		public Integer call() {
			// the real descriptors: Gogo's ThreadIO has replaced System.out/err by streams that
			// route to the current session, and a session writing to them would loop
			PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
			PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
			return run(Arrays.asList(args), out, err);
		}
	}

	/**
	 * Waits until every bundle has started: bnd's launcher raises the start
	 * level in the background and may call the main thread before the
	 * bundles of the higher levels (the shell's commands) are up.
	 */
	private void awaitBundles() {
		FrameworkStartLevel fsl = context.getBundle(0).adapt(FrameworkStartLevel.class);
		pollUntil(30_000_000_000L, () -> {
			int highest = 0;
			boolean allActive = true;
			for (Bundle b : context.getBundles()) {
				if (b.getBundleId() == 0 || b.getHeaders("").get("Fragment-Host") != null) {
					continue;
				}
				highest = Math.max(highest, b.adapt(BundleStartLevel.class).getStartLevel());
				allActive &= b.getState() == Bundle.ACTIVE;
			}
			return allActive && fsl.getStartLevel() >= highest;
		});
	}

	/** @return whether {@code done} became true, asked every 2 ms, within {@code nanos} */
	private static boolean pollUntil(long nanos, java.util.function.BooleanSupplier done) {
		long deadline = System.nanoTime() + nanos;
		while (!done.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				return false;
			}
			try {
				Thread.sleep(2);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				return false;
			}
		}
		return true;
	}

	int run(List<String> argv, PrintStream out, PrintStream err) {
		awaitBundles();
		awaitConfiguration();
		err.print(configProblems);
		List<String> global = new ArrayList<>();
		int i = 0;
		while (i < argv.size() && argv.get(i).startsWith("-")) {
			String a = argv.get(i);
			if (a.equals("-h") || a.equals("--help")) {
				out.print(overview());
				return 0;
			}
			if (CommandLine.GLOBAL_VALUE_OPTIONS.contains(a) && i + 1 < argv.size()) {
				global.add(a);
				global.add(argv.get(i + 1));
				i += 2;
			} else if (a.startsWith("--") && CommandLine.GLOBAL_VALUE_OPTIONS.contains(a.split("=", 2)[0])) {
				global.add(a);
				i++;
			} else {
				err.println("psi: unknown option '" + a + "'; see psi --help");
				return 1;
			}
		}
		if (i >= argv.size()) {
			err.println("psi: no command given; see psi --help");
			return 1;
		}
		String command = argv.get(i);
		String function = CommandLine.function(command);
		List<String> rest = new ArrayList<>(global);
		rest.addAll(argv.subList(i + 1, argv.size()));
		Object target = command(function);
		if (target == null) {
			if (System.getenv("PSI_DEBUG") != null) {
				for (org.osgi.framework.Bundle b : context.getBundles()) {
					err.println("  bundle " + b.getSymbolicName() + " state " + b.getState() + " level "
						+ b.adapt(org.osgi.framework.startlevel.BundleStartLevel.class).getStartLevel());
				}
				err.println("  framework level " + context.getBundle(0).adapt(FrameworkStartLevel.class).getStartLevel());
				try {
					ServiceReference<?>[] all = context.getAllServiceReferences(null, "(" + CommandProcessor.COMMAND_SCOPE + "=" + SCOPE + ")");
					err.println("  all psi command services: " + (all == null ? 0 : all.length));
					ServiceReference<ServiceComponentRuntime> r = context.getServiceReference(ServiceComponentRuntime.class);
					ServiceComponentRuntime scr = context.getService(r);
					for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
						for (var c : scr.getComponentConfigurationDTOs(d)) {
							err.println("  component " + d.name + " state " + c.state);
						}
					}
				} catch (Exception e) {
					err.println("  " + e);
				}
			}
			err.println("psi: unknown command '" + command + "'; see psi --help");
			return 1;
		}
		List<Method> methods = methods(target, function);
		if (rest.contains("--help") || rest.contains("-h")) {
			out.print(CommandLine.help(command, methods));
			return 0;
		}
		CommandSession session = processor.createSession(System.in, out, err);
		try {
			List<String> gogoArgs = CommandLine.normalize(command, rest, CommandLine.options(methods));
			Object result = session.execute(CommandLine.gogo(SCOPE, function, gogoArgs));
			if (result instanceof CommandOutput o) {
				err.print(o.notice());
				out.print(o.text());
				return o.exitStatus();
			}
			if (result != null) {
				out.println(session.format(result, Converter.INSPECT));
			}
			return 0;
		} catch (CommandLine.UsageException e) {
			err.println(e.getMessage());
			return 1;
		} catch (PsiException e) {
			if (e.getMessage() != null) {
				err.println(oneLine(e.getMessage()));
			}
			for (Throwable s : e.getSuppressed()) {
				err.println("psi: also: " + oneLine(s.getMessage()));
				for (Throwable t : s.getSuppressed()) {
					err.println("psi:   " + oneLine(t.toString()));
				}
			}
			return e.exitStatus();
		} catch (IllegalArgumentException e) {
			if (String.valueOf(e.getMessage()).startsWith("Cannot coerce")) {
				err.println("psi " + command + ": wrong number or kind of arguments; see psi " + command + " --help");
				return 1;
			}
			return internal(command, e, err);
		} catch (Exception e) {
			return internal(command, e, err);
		} finally {
			session.close();
		}
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

	private static int internal(String command, Exception e, PrintStream err) {
		err.println("psi " + command + ": " + oneLine(e.toString()));
		if (System.getenv("PSI_DEBUG") != null) {
			e.printStackTrace(err);
		}
		return 1;
	}

	/** Waits (at most 5 s) until DS runs the components with the configuration files' values. */
	private void awaitConfiguration() {
		if (configs.isEmpty()) {
			return;
		}
		boolean applied = pollUntil(5_000_000_000L, () -> {
			ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
			ServiceComponentRuntime scr = ref == null ? null : context.getService(ref);
			return scr != null && ConfigFiles.applied(scr, configs);
		});
		if (!applied && !Thread.currentThread().isInterrupted()) {
			configProblems.append("psi: the configuration in ").append(ConfigFiles.directory()).append(" was not applied within 5 s\n");
		}
	}

	/**
	 * @return the service providing {@code psi:function}, or {@code null} once
	 *         DS has processed every component and there is none
	 */
	private Object command(String function) {
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

	private static List<Method> methods(Object target, String function) {
		List<Method> out = new ArrayList<>();
		for (Method m : target.getClass().getMethods()) {
			if (m.getName().toLowerCase(Locale.ROOT).equals(function)) {
				out.add(m);
			}
		}
		return out;
	}

	private String overview() {
		Map<String, String> commands = new TreeMap<>();
		try {
			ServiceReference<?>[] refs = context.getAllServiceReferences(null, "(" + CommandProcessor.COMMAND_SCOPE + "=" + SCOPE + ")");
			for (ServiceReference<?> ref : refs == null ? new ServiceReference<?>[0] : refs) {
				Object fs = ref.getProperty(CommandProcessor.COMMAND_FUNCTION);
				Object target = context.getService(ref);
				if (target == null) {
					continue;
				}
				for (String f : fs instanceof String[] a ? a : new String[] { String.valueOf(fs) }) {
					String doc = "";
					for (Method m : methods(target, f)) {
						Descriptor d = m.getAnnotation(Descriptor.class);
						if (d != null) {
							doc = d.value();
						}
					}
					commands.put(CommandLine.typed(f), doc);
				}
			}
		} catch (InvalidSyntaxException e) {
			throw new IllegalStateException(e);
		}
		StringBuilder sb = new StringBuilder();
		sb.append("psi: portable system services\n\n");
		sb.append("Usage: psi [--root DIR] COMMAND [OPTIONS] [ARGS...]   run one command and exit with its status\n");
		sb.append("       psi                                           open the interactive Gogo shell (commands psi:NAME)\n\n");
		sb.append("Commands:\n");
		commands.forEach((c, d) -> sb.append(String.format("  %-14s %s%n", c, d)));
		sb.append("\nSee psi COMMAND --help for a command's options.\n");
		return sb.toString();
	}
}
