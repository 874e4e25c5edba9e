package psi.launcher.internal;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.Callable;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;


/**
 * The {@code psi COMMAND ARGS...} entry point: when the framework was started
 * by bnd's launcher with arguments, runs that one Gogo command and hands its
 * exit status to the launcher (a {@code main.thread} Callable), which then
 * stops the framework and exits with it. Without arguments it runs psi's
 * interactive shell ({@link Console}) on the process's terminal, or the
 * lines of its standard input when that is no terminal.
 */
@Component(immediate = true)
public class Launcher {

	private final BundleContext context;
	private final CommandRunner runner;
	private final Settings settings;
	private final String[] args;
	private ServiceRegistration<?> mainThread;

	/**
	 * @param context this bundle's context
	 * @param runner runs the command
	 * @param bndLauncher bnd's launcher service, which carries the command line
	 * @param settings psi's settings, read before the command
	 */
	@Activate
	public Launcher(BundleContext context, @Reference CommandRunner runner,
		@Reference(service = Object.class, target = "(launcher.arguments=*)") ServiceReference<Object> bndLauncher,
		@Reference Settings settings) {
		this.context = context;
		this.settings = settings;
		this.runner = runner;
		Object a = bndLauncher.getProperty("launcher.arguments");
		this.args = a instanceof String[] s ? s : new String[0];
		Hashtable<String, Object> props = new Hashtable<>();
		props.put("main.thread", Boolean.TRUE);
		mainThread = context.registerService(Callable.class, new Run(), props);
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
			String[] root = shellRoot(args);
			if (root != null) {
				// psi, psi --root DIR, psi --no-daemon: the shell (for that root)
				return console(new java.io.FileInputStream(FileDescriptor.in), out, err, root[0]);
			}
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
				if (b.getBundleId() == 0 || b.getHeaders("").get("Fragment-Host") != null || PluginFolder.from(context, b)) {
					continue;
				}
				highest = Math.max(highest, b.adapt(BundleStartLevel.class).getStartLevel());
				allActive &= b.getState() == Bundle.ACTIVE;
			}
			return allActive && fsl.getStartLevel() >= highest;
		});
	}

	/**
	 * Waits (at most 2 s) until Gogo's shell has run its start job
	 * ({@code gosh --nointeractive}) on its thread "Gogo shell": a command that
	 * ends at once would otherwise stop the framework under that job, which
	 * then prints "Command not found: gosh" after the command's own answer.
	 */
	private static void awaitGogoShell() {
		pollUntil(2_000_000_000L, () -> {
			for (java.util.Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
				if (!e.getKey().getName().equals("Gogo shell")) {
					continue;
				}
				// idle: back in its executor, waiting for a next job
				for (StackTraceElement f : e.getValue()) {
					if (f.getMethodName().equals("getTask") && f.getClassName().endsWith("ThreadPoolExecutor")) {
						return true;
					}
				}
				return false;
			}
			return true; // no shell thread (yet or any more): nothing to wait for
		});
	}

	/**
	 * Waits (at most 10 s) until FileInstall installed the jars of the plugin
	 * folder (the launcher script names it), then starts what it has not
	 * started yet: a command run in a JVM of its own sees the plugins there
	 * as the daemon does. A bundle that does not resolve stays installed
	 * ({@code psi plugins} says why).
	 */
	static void awaitPluginFolder(BundleContext context) {
		List<java.io.File> jarList = new java.util.ArrayList<>();
		for (java.io.File dir : PluginFolder.all(context)) {
			java.io.File[] in = dir.listFiles(f -> f.isFile() && f.getName().endsWith(".jar"));
			jarList.addAll(Arrays.asList(in == null ? new java.io.File[0] : in));
		}
		java.io.File[] jars = jarList.toArray(java.io.File[]::new);
		if (jars.length == 0) {
			return;
		}
		pollUntil(10_000_000_000L, () -> Arrays.stream(jars).allMatch(j -> PluginFolder.bundleOf(context, j) != null));
		List<Bundle> started = new java.util.ArrayList<>();
		for (java.io.File j : jars) {
			Bundle b = PluginFolder.bundleOf(context, j);
			if (b != null && b.getState() != Bundle.ACTIVE && b.getHeaders("").get("Fragment-Host") == null) {
				try {
					b.start(Bundle.START_TRANSIENT);
				} catch (org.osgi.framework.BundleException | RuntimeException e) {
					// it does not resolve: psi plugins says why
				}
			}
			if (b != null && b.getState() == Bundle.ACTIVE && b.getHeaders("").get("Service-Component") != null) {
				started.add(b);
			}
		}
		// Declarative Services takes a started bundle's components on a thread of its own: wait (at most 5 s) until
		// each has a configuration, so that the command finds their services
		org.osgi.framework.ServiceReference<org.osgi.service.component.runtime.ServiceComponentRuntime> ref = context
			.getServiceReference(org.osgi.service.component.runtime.ServiceComponentRuntime.class);
		org.osgi.service.component.runtime.ServiceComponentRuntime scr = ref == null ? null : context.getService(ref);
		if (scr != null) {
			pollUntil(5_000_000_000L, () -> started.stream().allMatch(b -> {
				var ds = scr.getComponentDescriptionDTOs(b);
				return !ds.isEmpty() && ds.stream().allMatch(d -> !scr.isComponentEnabled(d) || !scr.getComponentConfigurationDTOs(d).isEmpty()
					|| "require".equals(d.configurationPolicy));
			}));
			context.ungetService(ref);
		}
	}

	/**
	 * @return when the arguments ask for the interactive shell (none but
	 *         {@code --root DIR} and {@code --no-daemon}): its root, {@code null}
	 *         inside for the host's; else {@code null}
	 */
	static String[] shellRoot(String[] args) {
		String root = null;
		for (int i = 0; i < args.length; i++) {
			if (args[i].equals("--root") && i + 1 < args.length) {
				root = args[++i];
			} else if (args[i].startsWith("--root=")) {
				root = args[i].substring("--root=".length());
			} else if (!args[i].equals(CommandLine.NO_DAEMON)) {
				return null;
			}
		}
		return new String[] { root };
	}

	/**
	 * @return the history file, made readable by its owner alone if new (as
	 *         bash's: a line may hold a URL with a password), or {@code null}
	 *         when it cannot be made
	 */
	static java.nio.file.Path history(java.nio.file.Path file) {
		try {
			java.nio.file.Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
				java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
		} catch (java.nio.file.FileAlreadyExistsException e) {
			// kept as the user has it
		} catch (IOException | UnsupportedOperationException e) {
			return null;
		}
		return file;
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
		ready(err);
		return runner.run(argv, Caller.self(System.in, out, err));
	}

	private void ready(PrintStream err) {
		awaitBundles();
		// the settings first: one of them may name another plugin folder
		err.print(settings.refresh());
		awaitPluginFolder(context);
		awaitGogoShell();
	}

	/**
	 * The interactive shell on this process's terminal (history in
	 * {@code ~/.psi_history}), or, when standard input is no terminal, its
	 * lines run one after the other.
	 *
	 * @param root the root its psi commands operate on ({@code psi --root DIR}), or {@code null}
	 */
	int console(java.io.InputStream in, PrintStream out, PrintStream err, String root) {
		ready(err);
		if (System.console() == null) {
			return new Console(runner, Caller.self(in, out, err), root).run();
		}
		try (org.jline.terminal.Terminal t = Console.terminal(org.jline.terminal.TerminalBuilder.builder().name("psi").system(true).nativeSignals(true)
			.provider("exec").dumb(false))) {
			Console c = new Console(runner, Caller.self(t.input(), out, err), root);
			// history in the home directory, when there is one to write to (nobody's is /nonexistent)
			String home = System.getProperty("user.home");
			java.nio.file.Path h = home == null || home.isEmpty() ? null : java.nio.file.Path.of(home);
			return c.run(t, h != null && java.nio.file.Files.isDirectory(h) && java.nio.file.Files.isWritable(h) ? history(h.resolve(".psi_history")) : null);
		} catch (java.io.IOException e) {
			err.println("psi: cannot open the terminal: " + CommandRunner.oneLine(e.getMessage()));
			return 1;
		}
	}

}
