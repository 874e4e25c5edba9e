package psi.launcher.internal;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Set;

import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The setting {@code folder} of {@code psi.plugins}: another folder of plugin
 * bundles, watched beside the root's {@code var/lib/psi/plugins} (which the
 * launcher script hands FileInstall at start). Set in
 * {@code /etc/psi/psi.plugins.cfg}, it takes effect at the next command, as
 * every setting: this component gives FileInstall a watcher for it (a
 * factory configuration of {@code org.apache.felix.fileinstall}), and takes
 * it back when the setting goes. A folder that is not a directory owned by
 * root (or psi's user) and writable by no one else is not watched: its jars
 * would run with psi's rights; {@code psi config} and the daemon's log say so.
 * Registered with the folder as its property {@value #FOLDER}, for
 * {@code psi plugins}.
 */
@Component(service = PluginFolderSetting.class, configurationPid = PluginFolderSetting.PID, immediate = true)
@Designate(ocd = PluginFolderSetting.Config.class)
public class PluginFolderSetting {

	/** The configuration PID ({@code /etc/psi/psi.plugins.cfg}). */
	static final String PID = "psi.plugins";
	/** The service property naming the folder watched, when one is. */
	static final String FOLDER = "folder";
	private static final String FACTORY = "org.apache.felix.fileinstall";
	private static final String MARK = "psi.plugins.setting";

	/** The settings. */
	@ObjectClassDefinition(name = "psi plugin folder", description = "Another folder of plugin bundles, watched while psi runs")
	public @interface Config {
		/** @return the folder */
		@AttributeDefinition(description = "Another folder of plugin bundle jars (installed, updated and uninstalled while psi runs), beside the root's /var/lib/psi/plugins: an absolute path to a directory owned by root, writable by no one else; empty for none")
		String folder() default "";
	}

	private static volatile File watched;

	private final ConfigurationAdmin configAdmin;
	private final Settings settings;
	private final org.osgi.framework.BundleContext context;

	/**
	 * @param context this bundle's context: the bundles of a folder no longer watched are uninstalled
	 * @param configAdmin where FileInstall's watcher is configured
	 * @param settings where a folder refused is reported
	 * @param config the setting
	 */
	@Activate
	public PluginFolderSetting(org.osgi.framework.BundleContext context, @Reference ConfigurationAdmin configAdmin, @Reference Settings settings,
		Config config) {
		this.context = context;
		this.configAdmin = configAdmin;
		this.settings = settings;
		modified(config);
	}

	/** @return the folder this setting has FileInstall watch, or {@code null} */
	static File watched() {
		return watched;
	}

	@Modified
	void modified(Config config) {
		String f = config.folder() == null ? "" : config.folder().strip();
		try {
			String wrong = f.isEmpty() ? null : unsafe(Path.of(f));
			settings.report(PID, wrong == null ? null
				: "psi: " + ConfigFiles.directory().resolve(PID + ".cfg") + ": folder=" + CommandRunner.oneLine(f) + ": not watched: " + wrong);
			if (f.isEmpty() || wrong != null) {
				remove();
				return;
			}
			Configuration c = ours();
			Hashtable<String, Object> p = new Hashtable<>();
			p.put("felix.fileinstall.dir", f);
			p.put("felix.fileinstall.filter", ".*\\.jar");
			p.put("felix.fileinstall.poll", "1000");
			p.put("felix.fileinstall.noInitialDelay", "true");
			p.put("felix.fileinstall.enableConfigSave", "false");
			p.put("felix.fileinstall.bundles.startTransient", "true");
			p.put("felix.fileinstall.active.level", "0");
			p.put(MARK, "true");
			if (c != null) {
				Dictionary<String, Object> now = c.getProperties();
				if (now != null && f.equals(now.get("felix.fileinstall.dir"))) {
					watched = new File(f);
					return;
				}
				remove(); // another folder: the old one's plugins leave with it
			}
			c = configAdmin.createFactoryConfiguration(FACTORY, "?");
			c.update(p);
			watched = new File(f);
		} catch (IOException e) {
			settings.report(PID, "psi: cannot have FileInstall watch " + f + ": " + e.getMessage());
		}
	}

	@Deactivate
	void deactivate() {
		try {
			remove();
		} catch (IOException | IllegalStateException e) {
			// the framework is stopping: nothing is kept across runs
		}
	}

	/** Takes FileInstall's watcher back, and the plugins of its folder leave with it (FileInstall leaves them installed). */
	private void remove() throws IOException {
		File was = watched;
		watched = null;
		Configuration c = ours();
		if (c != null) {
			Object dir = c.getProperties() == null ? null : c.getProperties().get("felix.fileinstall.dir");
			c.delete();
			was = was != null ? was : dir == null ? null : new File(String.valueOf(dir));
		}
		if (was == null) {
			return;
		}
		String prefix = was.toURI().toString();
		String script = context.getProperty("felix.fileinstall.dir");
		if (script != null && new File(script).equals(was)) {
			return; // the launcher script's folder: still watched
		}
		for (org.osgi.framework.Bundle b : context.getBundles()) {
			if (b.getLocation() != null && b.getLocation().startsWith(prefix)) {
				try {
					b.uninstall();
				} catch (org.osgi.framework.BundleException | IllegalStateException e) {
					settings.report(PID, "psi: cannot uninstall " + b.getLocation() + " (its folder is not watched any more): " + e.getMessage());
				}
			}
		}
	}

	private Configuration ours() throws IOException {
		try {
			Configuration[] cs = configAdmin.listConfigurations("(&(service.factoryPid=" + FACTORY + ")(" + MARK + "=true))");
			return cs == null || cs.length == 0 ? null : cs[0];
		} catch (InvalidSyntaxException e) {
			throw new IllegalStateException(e);
		}
	}

	/** @return why a folder must not be watched, or {@code null} when it may */
	static String unsafe(Path dir) throws IOException {
		if (!dir.isAbsolute()) {
			return "not an absolute path";
		}
		if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
			return "not a directory";
		}
		int uid = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
		int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
		if (uid != 0 && uid != self) {
			return "owned by uid " + uid + ", not by root";
		}
		Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
		if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
			return "writable by others than its owner (chmod go-w)";
		}
		return null;
	}
}
