package psi.launcher.internal;

import java.io.File;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.BundleListener;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * The plugin folder Apache Felix FileInstall watches
 * ({@code felix.fileinstall.dir}, set by the launcher script for the root
 * served): which bundle came from which jar there.
 */
final class PluginFolder {

	private PluginFolder() {
	}

	/** @return the plugin folder the launcher script named, or {@code null} when none is watched */
	static File of(BundleContext context) {
		String dir = context.getProperty("felix.fileinstall.dir");
		String level = context.getProperty("felix.fileinstall.active.level");
		return dir == null || level != null && !level.equals("0") ? null : new File(dir);
	}

	/** @return every folder watched: the launcher script's, and the one of the setting {@code folder} of {@code psi.plugins} */
	static java.util.List<File> all(BundleContext context) {
		java.util.List<File> out = new java.util.ArrayList<>();
		File script = of(context);
		if (script != null) {
			out.add(script);
		}
		File setting = PluginFolderSetting.watched();
		if (setting != null && !setting.equals(script)) {
			out.add(setting);
		}
		return out;
	}

	/** @return whether a bundle was installed from a plugin folder */
	static boolean from(BundleContext context, Bundle b) {
		String l = b.getLocation();
		return l != null && all(context).stream().anyMatch(d -> l.startsWith(d.toURI().toString()));
	}

	/** @return the bundle FileInstall installed from a jar, or {@code null} */
	static Bundle bundleOf(BundleContext context, File jar) {
		String uri = jar.toURI().toString();
		String path = jar.getAbsolutePath();
		for (Bundle b : context.getBundles()) {
			String l = b.getLocation();
			if (l != null && (l.equals(uri) || l.equals(path) || l.endsWith(":" + path))) {
				return b;
			}
		}
		return null;
	}

	/**
	 * Tells the daemon's log what happens in the plugin folder: a bundle
	 * installed, updated, started or uninstalled; one that does not resolve
	 * (and why) or whose component fails, a few seconds after it came.
	 *
	 * @param log the daemon's log
	 * @param timers where the later checks run
	 */
	static BundleListener logging(BundleContext context, Consumer<String> log, ScheduledExecutorService timers) {
		return e -> {
			Bundle b = e.getBundle();
			if (!from(context, b)) {
				return;
			}
			String name = b.getLocation().substring(b.getLocation().lastIndexOf('/') + 1) + " (" + b.getSymbolicName() + " " + b.getVersion() + ")";
			String what = switch (e.getType()) {
				case BundleEvent.INSTALLED -> "installed";
				case BundleEvent.UPDATED -> "updated";
				case BundleEvent.STARTED -> "started";
				case BundleEvent.UNINSTALLED -> "uninstalled";
				default -> null;
			};
			if (what == null) {
				return;
			}
			log.accept("psi daemon: plugin folder: " + name + " " + what);
			if (e.getType() == BundleEvent.INSTALLED || e.getType() == BundleEvent.UPDATED || e.getType() == BundleEvent.STARTED) {
				timers.schedule(() -> check(context, b, name, log), 3, TimeUnit.SECONDS);
			}
		};
	}

	private static void check(BundleContext context, Bundle b, String name, Consumer<String> log) {
		if (b.getState() == Bundle.INSTALLED) {
			try {
				// FileInstall tries this on every scan: the framework's exception is the only place it says why
				b.start(Bundle.START_TRANSIENT);
			} catch (BundleException | RuntimeException e) {
				String m = String.valueOf(e.getMessage());
				int cut = m.indexOf(" Unresolved requirements:");
				log.accept("psi daemon: plugin folder: " + name + " does not resolve: " + (cut > 0 ? m.substring(0, cut) : m));
			}
			return;
		}
		ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
		ServiceComponentRuntime scr = ref == null ? null : context.getService(ref);
		if (scr == null || b.getState() != Bundle.ACTIVE) {
			return;
		}
		try {
			for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
				for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
					if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
						log.accept("psi daemon: plugin folder: " + name + ": component " + d.name + " failed: "
							+ (c.failure == null ? "its activation threw" : c.failure.lines().findFirst().orElse("")));
					} else if (c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE) {
						log.accept("psi daemon: plugin folder: " + name + ": component " + d.name + " is unsatisfied (psi plugins says what it lacks)");
					}
				}
			}
		} finally {
			context.ungetService(ref);
		}
	}
}
