package psi.launcher.internal;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * psi's configuration files: every {@code PID.cfg} (Java properties) in
 * {@code /etc/psi} ({@code PSI_CONFIG_DIR} in the environment, or the system
 * property {@code psi.config.dir}) becomes the configuration of that PID, as
 * Karaf's {@code etc/*.cfg}; e.g. {@code psi.transport.https.cfg} with
 * {@code allowHttp=true}.
 */
final class ConfigFiles {

	private static final long MAX = 64 * 1024;

	private ConfigFiles() {
	}

	/** @return the configuration directory */
	static Path directory() {
		String d = System.getenv("PSI_CONFIG_DIR");
		if (d == null || d.isEmpty()) {
			d = System.getProperty("psi.config.dir", "/etc/psi");
		}
		return Path.of(d);
	}

	/**
	 * Reads the {@code *.cfg} files of a directory.
	 *
	 * @return PID to properties; a file that cannot be read is one line in {@code problems}
	 */
	static Map<String, Map<String, String>> read(Path dir, StringBuilder problems) {
		Map<String, Map<String, String>> out = new LinkedHashMap<>();
		if (!Files.isDirectory(dir)) {
			return out;
		}
		try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.cfg")) {
			for (Path f : s) {
				String pid = f.getFileName().toString();
				pid = pid.substring(0, pid.length() - ".cfg".length());
				try {
					if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(f) || Files.size(f) > MAX) {
						problems.append("psi: ignoring ").append(f).append(": not a regular file of at most ").append(MAX).append(" bytes\n");
						continue;
					}
					Properties p = new Properties();
					p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
					Map<String, String> m = new LinkedHashMap<>();
					for (String k : p.stringPropertyNames()) {
						m.put(k, p.getProperty(k).strip());
					}
					out.put(pid, m);
				} catch (IOException | IllegalArgumentException e) {
					problems.append("psi: ignoring ").append(f).append(": ").append(e.getMessage()).append('\n');
				}
			}
		} catch (IOException e) {
			problems.append("psi: cannot read ").append(dir).append(": ").append(e.getMessage()).append('\n');
		}
		return out;
	}

	/** Hands the files' configurations to ConfigurationAdmin, where they differ from what it has. */
	static void apply(ConfigurationAdmin ca, Map<String, Map<String, String>> configs) throws IOException {
		for (Map.Entry<String, Map<String, String>> e : configs.entrySet()) {
			Configuration c = ca.getConfiguration(e.getKey(), "?");
			Dictionary<String, Object> now = c.getProperties();
			Hashtable<String, Object> next = new Hashtable<>(e.getValue());
			if (now == null || !same(now, next)) {
				c.update(next);
			}
		}
	}

	private static boolean same(Dictionary<String, Object> now, Map<String, Object> next) {
		for (java.util.Enumeration<String> k = now.keys(); k.hasMoreElements();) {
			String key = k.nextElement();
			if (!key.startsWith("service.") && !key.startsWith("felix.") && !next.containsKey(key)) {
				return false; // a key gone from the file: back to its default
			}
		}
		for (Map.Entry<String, Object> e : next.entrySet()) {
			if (!Objects.equals(String.valueOf(now.get(e.getKey())), e.getValue())) {
				return false;
			}
		}
		return true;
	}

	/**
	 * @return whether every component configured by one of these PIDs runs
	 *         with the files' values (ConfigurationAdmin and DS apply them
	 *         asynchronously)
	 */
	static boolean applied(ServiceComponentRuntime scr, Map<String, Map<String, String>> configs) {
		for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
			for (String pid : d.configurationPid) {
				Map<String, String> want = configs.get(pid);
				if (want == null) {
					continue;
				}
				for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
					for (Map.Entry<String, String> e : want.entrySet()) {
						if (!e.getValue().equals(String.valueOf(c.properties.get(e.getKey())))) {
							return false;
						}
					}
				}
			}
		}
		return true;
	}
}
