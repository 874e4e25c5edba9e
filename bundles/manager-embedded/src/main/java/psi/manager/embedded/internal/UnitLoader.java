package psi.manager.embedded.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds a unit and its drop-ins under a root as systemd's system manager
 * does: the fragment in the first directory of the search path that has it
 * (a template's {@code foo@.service} for an instance {@code foo@bar.service}),
 * then every {@code .conf} of the drop-in directories {@code NAME.d/}, the
 * template's {@code foo@.service.d/}, the dash-prefix ones
 * ({@code foo-.service.d/}) and the type's {@code service.d/}, ordered by
 * file name across directories, a name in an earlier search directory hiding
 * the same name in a later one. Links are followed inside the root.
 */
final class UnitLoader {

	/** systemd's system unit search path, highest priority first. */
	static final List<String> SEARCH_PATH = List.of("etc/systemd/system.control", "run/systemd/system.control", "run/systemd/transient",
		"etc/systemd/system", "etc/systemd/system.attached", "run/systemd/system", "run/systemd/system.attached",
		"usr/local/lib/systemd/system", "usr/lib/systemd/system");

	/** The largest unit file or drop-in read. */
	static final int MAX_FILE = 1 << 20;

	private final Path root;

	UnitLoader(Path root) {
		this.root = root;
	}

	/**
	 * @param name a unit name
	 * @return the unit, or {@code null} when no fragment exists
	 * @throws UnitConfig.UnitException for a name that is no unit name, or a file too large
	 */
	UnitConfig load(String name) throws IOException {
		checkName(name);
		Path fragment = null;
		String template = template(name);
		for (String candidate : template == null ? List.of(name) : List.of(name, template)) {
			for (String dir : SEARCH_PATH) {
				Path p = root.resolve(dir).resolve(candidate);
				if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
					Path real = inRoot(p);
					if (real != null && Files.isRegularFile(real)) {
						fragment = real;
						break;
					}
				}
			}
			if (fragment != null) {
				break;
			}
		}
		if (fragment == null) {
			return null;
		}
		// drop-ins: by file name; the first search directory that has a name wins
		Map<String, Path> confs = new TreeMap<>();
		for (String dir : SEARCH_PATH) {
			for (String d : dropInDirs(name)) {
				Path p = root.resolve(dir).resolve(d);
				if (!Files.isDirectory(p)) {
					continue;
				}
				try (DirectoryStream<Path> s = Files.newDirectoryStream(p, "*.conf")) {
					for (Path f : s) {
						confs.putIfAbsent(f.getFileName().toString(), f);
					}
				}
			}
		}
		List<Path> dropIns = new ArrayList<>();
		for (Path f : confs.values()) {
			Path real = inRoot(f);
			if (real != null && Files.isRegularFile(real)) {
				dropIns.add(real);
			}
		}
		UnitConfig c = new UnitConfig(name, fragment, dropIns);
		c.add(fragment, read(fragment));
		for (Path f : dropIns) {
			c.add(f, read(f));
		}
		return c;
	}

	private static byte[] read(Path f) throws IOException {
		try (InputStream in = Files.newInputStream(f)) {
			byte[] b = in.readNBytes(MAX_FILE + 1);
			if (b.length > MAX_FILE) {
				throw new UnitConfig.UnitException(f + " is larger than " + MAX_FILE + " bytes");
			}
			return b;
		}
	}

	/**
	 * Follows links the way they would resolve on the host whose root this is:
	 * an absolute target is taken under the root, never above it.
	 *
	 * @return the real file under the root, or {@code null} for a dangling link or a loop
	 */
	Path inRoot(Path p) throws IOException {
		Path cur = p;
		for (int i = 0; i < 32; i++) {
			if (!Files.isSymbolicLink(cur)) {
				return Files.exists(cur) ? cur : null;
			}
			Path target = Files.readSymbolicLink(cur);
			cur = target.isAbsolute() ? root.resolve(root.getRoot().relativize(target)).normalize() : cur.resolveSibling(target).normalize();
			if (!cur.startsWith(root)) {
				return null;
			}
		}
		return null;
	}

	/** @return the template of an instance name ({@code foo@.service}), or {@code null} */
	static String template(String name) {
		int at = name.indexOf('@');
		int dot = name.lastIndexOf('.');
		if (at < 0 || at + 1 == dot) {
			return null;
		}
		return name.substring(0, at + 1) + name.substring(dot);
	}

	/** The drop-in directory names of a unit, most specific first. */
	static List<String> dropInDirs(String name) {
		List<String> out = new ArrayList<>();
		out.add(name + ".d");
		String template = template(name);
		if (template != null) {
			out.add(template + ".d");
		}
		int dot = name.lastIndexOf('.');
		String type = name.substring(dot + 1);
		String prefix = name.substring(0, template != null ? name.indexOf('@') : dot);
		// foo-bar-baz.service: foo-bar-.service.d, foo-.service.d
		for (int i = prefix.lastIndexOf('-'); i > 0; i = prefix.lastIndexOf('-', i - 1)) {
			out.add(prefix.substring(0, i + 1) + "." + type + ".d");
		}
		out.add(type + ".d");
		return out;
	}

	/** @throws UnitConfig.UnitException unless a valid unit name of a type psi runs */
	static void checkName(String name) {
		if (name.isEmpty() || name.length() > 255 || !name.matches("[A-Za-z0-9:_.\\\\@-]+\\.(service|socket|timer|target)")
			|| name.startsWith(".") || name.startsWith("@") || name.indexOf('@') != name.lastIndexOf('@')) {
			throw new UnitConfig.UnitException("not a unit name psi's own service manager runs: " + psi.spi.unit.Values.show(name));
		}
	}
}
