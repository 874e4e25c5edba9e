package psi.launcher.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.metatype.AttributeDefinition;
import org.osgi.service.metatype.MetaTypeInformation;
import org.osgi.service.metatype.MetaTypeService;
import org.osgi.service.metatype.ObjectClassDefinition;

/**
 * psi's settings, live: the {@code PID.cfg} files of {@code /etc/psi}
 * ({@link ConfigFiles}) are read again before each command, checked against
 * the components' metatype descriptions, and handed to ConfigurationAdmin
 * where they changed, so that a running daemon takes a change at its next
 * command, without a restart. A value that is not what its setting takes is
 * one line naming the file, the key and what is expected, and the value in
 * force before stays; a key no component knows is one line too. Thread safe.
 */
@Component(service = Settings.class)
public class Settings {

	/** One setting as {@code psi config} shows it. */
	record Row(String pid, String key, String value, String source, String description) {
	}

	private final BundleContext context;
	private final ConfigurationAdmin configAdmin;
	private final ServiceComponentRuntime scr;

	@Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
	volatile MetaTypeService metaType;

	private String seen;
	private Map<String, Map<String, String>> applied = Map.of();
	private List<String> problems = List.of();
	private volatile Consumer<String> log;
	private final StringBuilder pending = new StringBuilder(); // guarded by reports
	private final Map<String, String> reports = new TreeMap<>(); // guarded by reports

	/**
	 * @param context this bundle's context: the bundles whose metatype describes the settings
	 * @param configAdmin where the settings go
	 * @param scr Declarative Services' runtime, to wait until the components have them
	 */
	@Activate
	public Settings(BundleContext context, @Reference ConfigurationAdmin configAdmin, @Reference ServiceComponentRuntime scr) {
		this.context = context;
		this.configAdmin = configAdmin;
		this.scr = scr;
	}

	/** @param sink where problems also go (the daemon's log), or {@code null} */
	void logTo(Consumer<String> sink) {
		this.log = sink;
	}

	/**
	 * Reads the configuration directory again when a file in it changed,
	 * and applies what changed.
	 *
	 * @return the problems found in this change, one line each ending in a
	 *         newline; empty when nothing changed or all is well
	 */
	synchronized String refresh() {
		Path dir = ConfigFiles.directory();
		String now = fingerprint(dir);
		if (now.equals(seen)) {
			return drainPending();
		}
		seen = now;
		StringBuilder unreadable = new StringBuilder();
		Map<String, Map<String, String>> files = ConfigFiles.read(dir, unreadable);
		List<String> found = new ArrayList<>(unreadable.toString().lines().toList());
		Map<String, Map<String, String>> valid = new LinkedHashMap<>();
		for (Map.Entry<String, Map<String, String>> f : files.entrySet()) {
			Map<String, AttributeDefinition> ads = definitions(f.getKey());
			Map<String, String> keep = new LinkedHashMap<>();
			for (Map.Entry<String, String> kv : f.getValue().entrySet()) {
				String where = dir.resolve(f.getKey() + ".cfg") + ": " + kv.getKey() + "=" + CommandRunner.oneLine(kv.getValue());
				AttributeDefinition ad = ads == null ? null : ads.get(kv.getKey());
				String wrong = ads == null ? null : ad == null ? "no such setting (" + String.join(", ", ads.keySet()) + ")" : check(ad, kv.getValue());
				if (wrong == null && f.getKey().equals(PluginFolderSetting.PID) && kv.getKey().equals("folder") && !kv.getValue().isBlank()) {
					// its jars would run with psi's rights: refused here, so that the folder watched before stays
					wrong = folderProblem(kv.getValue().strip());
				}
				if (wrong == null) {
					keep.put(kv.getKey(), kv.getValue());
					continue;
				}
				Object before = current(f.getKey(), kv.getKey());
				found.add("psi: " + where + ": " + wrong + "; " + (before == null ? "the default stays in force" : "still " + before));
				if (before != null) {
					keep.put(kv.getKey(), String.valueOf(before));
				}
			}
			valid.put(f.getKey(), keep);
		}
		try {
			// a file gone: its settings go back to their defaults
			for (String pid : applied.keySet()) {
				if (!valid.containsKey(pid)) {
					Configuration c = configAdmin.getConfiguration(pid, "?");
					if (c.getProperties() != null) {
						c.delete();
					}
				}
			}
			ConfigFiles.apply(configAdmin, valid);
		} catch (IOException e) {
			found.add("psi: cannot apply the configuration in " + dir + ": " + e.getMessage());
		}
		applied = valid;
		long deadline = System.nanoTime() + 5_000_000_000L;
		while (!ConfigFiles.applied(scr, valid) && System.nanoTime() < deadline) {
			try {
				Thread.sleep(2);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				break;
			}
		}
		problems = List.copyOf(found);
		Consumer<String> l = log;
		if (l != null) {
			problems.forEach(l);
		}
		// and what components said of their new settings meanwhile (they took them while this waited)
		return (found.isEmpty() ? "" : String.join("\n", found) + "\n") + drainPending();
	}

	/**
	 * A problem a component found in its setting (one line), or none
	 * ({@code null}): shown by {@code psi config} while it lasts, logged, and
	 * said by the next command. Not under the lock of {@link #refresh()}: a
	 * component reports while taking the setting refresh waits for.
	 *
	 * @param pid the component's configuration PID
	 */
	void report(String pid, String line) {
		synchronized (reports) {
			if (java.util.Objects.equals(reports.get(pid), line)) {
				return; // said already
			}
			if (line == null) {
				reports.remove(pid);
				return;
			}
			reports.put(pid, line);
			pending.append(line).append('\n');
		}
		Consumer<String> l = log;
		if (l != null) {
			l.accept(line);
		}
	}

	private String drainPending() {
		synchronized (reports) {
			String p = pending.toString();
			pending.setLength(0);
			return p;
		}
	}

	/** @return the problems of the files as last read, and those components report now */
	synchronized List<String> problems() {
		List<String> all = new ArrayList<>(problems);
		synchronized (reports) {
			all.addAll(reports.values());
		}
		return all;
	}

	private static String folderProblem(String folder) {
		try {
			String why = PluginFolderSetting.unsafe(Path.of(folder));
			return why == null ? null : "not a folder psi may watch: " + why;
		} catch (IOException | RuntimeException e) {
			return "not a folder psi may watch: " + e.getMessage();
		}
	}

	/** @return what is wrong with a value for a setting, or {@code null} when it is fine */
	static String check(AttributeDefinition ad, String value) {
		String v = value.strip();
		String[] options = ad.getOptionValues();
		if (options != null && options.length > 0 && !List.of(options).contains(v)) {
			return "not one of " + String.join(", ", List.of(options).stream().map(o -> o.isEmpty() ? "(empty)" : o).toList());
		}
		try {
			switch (ad.getType()) {
				case AttributeDefinition.INTEGER -> Integer.parseInt(v);
				case AttributeDefinition.LONG -> Long.parseLong(v);
				case AttributeDefinition.SHORT -> Short.parseShort(v);
				case AttributeDefinition.DOUBLE, AttributeDefinition.FLOAT -> Double.parseDouble(v);
				case AttributeDefinition.BOOLEAN -> {
					if (!v.equals("true") && !v.equals("false")) {
						return "not true or false (" + ad.getDescription() + ")";
					}
				}
				default -> {
					// a string
				}
			}
		} catch (NumberFormatException e) {
			return "not " + (ad.getType() == AttributeDefinition.DOUBLE || ad.getType() == AttributeDefinition.FLOAT ? "a number" : "a whole number")
				+ " (" + ad.getDescription() + ")";
		}
		return null;
	}

	/** @return the settings one PID takes, by key, or {@code null} when no metatype describes it */
	Map<String, AttributeDefinition> definitions(String pid) {
		ObjectClassDefinition ocd = ocds().get(pid);
		if (ocd == null) {
			return null;
		}
		Map<String, AttributeDefinition> out = new LinkedHashMap<>();
		AttributeDefinition[] ads = ocd.getAttributeDefinitions(ObjectClassDefinition.ALL);
		for (AttributeDefinition ad : ads == null ? new AttributeDefinition[0] : ads) {
			out.put(ad.getID(), ad);
		}
		return out;
	}

	/** @return every described PID of psi's bundles (named psi.*), sorted */
	Map<String, ObjectClassDefinition> ocds() {
		MetaTypeService mts = metaType;
		Map<String, ObjectClassDefinition> out = new TreeMap<>();
		if (mts == null) {
			return out;
		}
		for (Bundle b : context.getBundles()) {
			MetaTypeInformation info = mts.getMetaTypeInformation(b);
			if (info == null || info.getPids() == null) {
				continue;
			}
			for (String pid : info.getPids()) {
				if (pid.startsWith("psi.")) {
					out.put(pid, info.getObjectClassDefinition(pid, null));
				}
			}
		}
		return out;
	}

	private Object current(String pid, String key) {
		try {
			Configuration c = configAdmin.getConfiguration(pid, "?");
			Dictionary<String, Object> p = c.getProperties();
			return p == null ? null : p.get(key);
		} catch (IOException e) {
			return null;
		}
	}

	/**
	 * @return every setting of psi's components with the value in force and
	 *         where it comes from: the file, or the default; then the keys of
	 *         files no component describes
	 */
	synchronized List<Row> rows() {
		refresh();
		Path dir = ConfigFiles.directory();
		List<Row> out = new ArrayList<>();
		Map<String, ObjectClassDefinition> ocds = ocds();
		for (Map.Entry<String, ObjectClassDefinition> o : ocds.entrySet()) {
			Map<String, String> file = applied.getOrDefault(o.getKey(), Map.of());
			for (AttributeDefinition ad : definitions(o.getKey()).values()) {
				String[] d = ad.getDefaultValue();
				String def = d == null ? "" : String.join(",", d);
				boolean set = file.containsKey(ad.getID());
				String source = set ? dir.resolve(o.getKey() + ".cfg").toString() : "default";
				if (set && problems.stream().anyMatch(p -> p.startsWith("psi: " + dir.resolve(o.getKey() + ".cfg") + ": " + ad.getID() + "="))) {
					source += " (as before: its new value is refused)";
				}
				Object now = current(o.getKey(), ad.getID());
				out.add(new Row(o.getKey(), ad.getID(), now != null ? String.valueOf(now) : def, source, ad.getDescription()));
			}
		}
		for (Map.Entry<String, Map<String, String>> f : applied.entrySet()) {
			if (!ocds.containsKey(f.getKey())) {
				f.getValue().forEach((k, v) -> out.add(new Row(f.getKey(), k, v, dir.resolve(f.getKey() + ".cfg").toString(), "")));
			}
		}
		return out;
	}

	/** @return a change of any file in the directory changes this: names, sizes, modification times */
	private static String fingerprint(Path dir) {
		StringBuilder sb = new StringBuilder(dir.toString());
		try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.cfg")) {
			List<String> parts = new ArrayList<>();
			for (Path f : s) {
				BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
				parts.add(f.getFileName() + ":" + a.size() + ":" + a.lastModifiedTime().toMillis() + ":" + a.fileKey());
			}
			parts.sort(null);
			parts.forEach(p -> sb.append('|').append(p));
		} catch (IOException e) {
			sb.append("|none");
		}
		return sb.toString();
	}
}
