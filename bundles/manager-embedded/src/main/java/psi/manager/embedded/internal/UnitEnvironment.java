package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import psi.spi.unit.Specifiers;
import psi.spi.unit.Values;
import psi.spi.unit.Words;

/**
 * What a service's commands see of their unit: the environment of a start
 * and the specifiers of its words, as systemd's system manager makes them.
 */
final class UnitEnvironment {

	private UnitEnvironment() {
	}

	/** @return a start's environment: the sandbox's, INVOCATION_ID, PassEnvironment=, Environment=, EnvironmentFile=, in systemd's order */
	static Map<String, String> of(String name, UnitConfig c, Sandbox.Prepared p, Service.Context ctx) throws IOException {
		Map<String, String> e = new LinkedHashMap<>(p.env);
		e.put("INVOCATION_ID", UUID.randomUUID().toString().replace("-", ""));
		for (UnitConfig.Setting s : c.all("Service", "PassEnvironment")) {
			for (String n : Words.split(s.value())) {
				String v = System.getenv(n);
				if (v != null) {
					e.put(n, v);
				}
			}
		}
		for (UnitConfig.Setting s : c.all("Service", "Environment")) {
			List<String> words;
			try {
				words = Words.split(specifiers(name, c, ctx, s.value()));
			} catch (IllegalArgumentException x) {
				throw new UnitConfig.UnitException(name + ": Environment= at " + s.where() + ": " + x.getMessage());
			}
			for (String w : words) {
				int eq = w.indexOf('=');
				if (eq <= 0 || !w.substring(0, eq).matches("[A-Za-z_][A-Za-z0-9_]*")) {
					throw new UnitConfig.UnitException(name + ": Environment= at " + s.where() + ": not an assignment: " + Values.show(w));
				}
				e.put(w.substring(0, eq), w.substring(eq + 1));
			}
		}
		for (UnitConfig.Setting s : c.all("Service", "EnvironmentFile")) {
			String v = s.value();
			boolean optional = v.startsWith("-");
			Path f = ctx.sandbox().host(optional ? v.substring(1) : v);
			if (!Files.isRegularFile(f)) {
				if (optional) {
					continue;
				}
				throw new UnitConfig.UnitException(name + ": EnvironmentFile= at " + s.where() + ": " + f + " does not exist");
			}
			if (Files.size(f) > UnitLoader.MAX_FILE) {
				throw new UnitConfig.UnitException(name + ": EnvironmentFile= at " + s.where() + ": " + f + " is too large");
			}
			for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
				String l = line.strip();
				if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
					continue;
				}
				if (l.startsWith("export ")) {
					l = l.substring(7).strip();
				}
				int eq = l.indexOf('=');
				if (eq <= 0) {
					continue;
				}
				String key = l.substring(0, eq).strip();
				String val = l.substring(eq + 1).strip();
				if ((val.startsWith("\"") && val.endsWith("\"") || val.startsWith("'") && val.endsWith("'")) && val.length() >= 2) {
					val = val.substring(1, val.length() - 1);
				}
				if (key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
					e.put(key, val);
				}
			}
		}
		return e;
	}

	/** Resolves the specifiers of a word as systemd's system manager resolves them for this unit. */
	static String specifiers(String name, UnitConfig config, Service.Context ctx, String s) {
		int dot = name.lastIndexOf('.');
		int at = name.indexOf('@');
		String prefix = at >= 0 ? name.substring(0, at) : name.substring(0, dot);
		String instance = at >= 0 ? name.substring(at + 1, dot) : "";
		return Specifiers.expand(s, ch -> switch (ch) {
			case 'n' -> name;
			case 'N' -> name.substring(0, dot);
			case 'p' -> prefix;
			case 'P' -> Specifiers.unescape(prefix);
			case 'i' -> instance;
			case 'I' -> Specifiers.unescape(instance);
			case 'j' -> prefix.substring(prefix.lastIndexOf('-') + 1);
			case 'J' -> Specifiers.unescape(prefix.substring(prefix.lastIndexOf('-') + 1));
			case 'f' -> "/" + Specifiers.unescape(at >= 0 ? instance : prefix);
			case 't' -> "/run";
			case 'S' -> "/var/lib";
			case 'C' -> "/var/cache";
			case 'L' -> "/var/log";
			case 'E' -> "/etc";
			case 'T' -> "/tmp";
			case 'V' -> "/var/tmp";
			case 'h' -> "/root";
			case 'u' -> "root";
			case 'U' -> "0";
			case 'g' -> "root";
			case 'G' -> "0";
			case 's' -> "/bin/sh";
			case 'H' -> ctx.hostname();
			case 'l' -> ctx.hostname().split("\\.")[0];
			case 'm' -> firstLine(ctx.root().resolve("etc/machine-id"));
			case 'b' -> firstLine(Path.of("/proc/sys/kernel/random/boot_id")).replace("-", "");
			case 'v' -> firstLine(Path.of("/proc/sys/kernel/osrelease"));
			case 'a' -> System.getProperty("os.arch").equals("amd64") ? "x86-64" : System.getProperty("os.arch").replace('_', '-');
			case 'd' -> "/run/credentials/" + name;
			case 'y' -> config == null ? "" : config.fragment().toString();
			case 'Y' -> config == null ? "" : config.fragment().getParent().toString();
			default -> null;
		});
	}

	private static String firstLine(Path p) {
		try (Stream<String> l = Files.lines(p)) {
			return l.findFirst().orElse("").trim();
		} catch (IOException | RuntimeException e) {
			return "";
		}
	}

}
