package psi.manager.embedded.internal.seccomp;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import psi.spi.unit.SyscallGroups;

/**
 * The name tables the compiler needs, read from this package's resources (generated once from the Linux and glibc
 * headers by {@code generate-tables.sh}, next to the tests): system call numbers of x86_64 and aarch64, errno names,
 * address family names. Each file holds {@code name number} lines; {@code #} starts a comment.
 */
final class SyscallTables {

	private static final Map<String, Map<String, Integer>> TABLES = new HashMap<>();
	private static Set<String> known;

	private SyscallTables() {
	}

	/** @return system call name to number on this architecture ("x86_64" or "aarch64") */
	static Map<String, Integer> syscalls(String arch) {
		return table("syscalls-" + arch + ".txt");
	}

	/** @return errno name to number (x86_64 and aarch64 share them) */
	static Map<String, Integer> errnos() {
		return table("errno.txt");
	}

	/** @return address family name ({@code AF_UNIX}, ...) to number */
	static Map<String, Integer> addressFamilies() {
		return table("address-families.txt");
	}

	/** systemd 252's system call groups */
	private static final List<String> GROUPS = List.of("@aio", "@basic-io", "@chown", "@clock", "@cpu-emulation",
			"@debug", "@default", "@file-system", "@io-event", "@ipc", "@keyring", "@known", "@memlock", "@module",
			"@mount", "@network-io", "@obsolete", "@pkey", "@privileged", "@process", "@raw-io", "@reboot",
			"@resources", "@sandbox", "@setuid", "@signal", "@swap", "@sync", "@system-service", "@timer");

	/**
	 * @return every system call name psi knows: those of systemd's groups (its {@code @known}, and a few
	 *         architecture-private ones like {@code set_tls}) and of both tables
	 */
	static synchronized Set<String> known() {
		if (known == null) {
			Set<String> all = new HashSet<>();
			for (String group : GROUPS) {
				for (String name : SyscallGroups.of(group)) {
					if (!name.startsWith("@")) {
						all.add(name);
					}
				}
			}
			all.addAll(syscalls("x86_64").keySet());
			all.addAll(syscalls("aarch64").keySet());
			known = Collections.unmodifiableSet(all);
		}
		return known;
	}

	/** @return the first name of a number in a table, or null */
	static String nameOf(Map<String, Integer> table, int number) {
		for (Map.Entry<String, Integer> e : table.entrySet()) {
			if (e.getValue() == number) {
				return e.getKey();
			}
		}
		return null;
	}

	private static synchronized Map<String, Integer> table(String resource) {
		Map<String, Integer> t = TABLES.get(resource);
		if (t == null) {
			t = Collections.unmodifiableMap(load(resource));
			TABLES.put(resource, t);
		}
		return t;
	}

	private static Map<String, Integer> load(String resource) {
		Map<String, Integer> out = new LinkedHashMap<>();
		try (InputStream in = SyscallTables.class.getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException(resource + " is missing from psi.manager.embedded");
			}
			for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
				line = line.strip();
				if (line.isEmpty() || line.startsWith("#")) {
					continue;
				}
				String[] f = line.split("\\s+");
				if (f.length != 2) {
					throw new IllegalStateException(resource + ": bad line: " + line);
				}
				out.putIfAbsent(f[0], Integer.parseInt(f[1]));
			}
		} catch (IOException e) {
			throw new UncheckedIOException("cannot read " + resource, e);
		}
		return out;
	}
}
