package psi.spi.unit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * systemd 252's system call groups ({@code syscall-groups.txt}, as
 * {@code systemd-analyze syscall-filter} lists them), to compare a unit's
 * {@code SystemCallFilter=} with a profile's, or to compile a filter.
 */
public final class SyscallGroups {

	private static final Map<String, Set<String>> SYSCALL_GROUPS = load();


	private SyscallGroups() {
	}

	/** @return the system calls of a name or {@code @group}, groups expanded */
	public static Set<String> of(String name) {
		Set<String> out = new TreeSet<>();
		expand(name, out, new HashSet<>());
		return out;
	}

	private static void expand(String name, Set<String> out, Set<String> seen) {
		if (!name.startsWith("@")) {
			out.add(name);
			return;
		}
		if (!seen.add(name)) {
			return;
		}
		Set<String> members = SYSCALL_GROUPS.get(name);
		if (members == null) {
			out.add(name); // a group this systemd does not know: kept as a name, so it is beyond any profile
			return;
		}
		for (String m : members) {
			expand(m, out, seen);
		}
	}

	private static Map<String, Set<String>> load() {
		Map<String, Set<String>> out = new HashMap<>();
		try (InputStream in = SyscallGroups.class.getResourceAsStream("syscall-groups.txt")) {
			if (in == null) {
				throw new IllegalStateException("syscall-groups.txt is missing from psi.api");
			}
			for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
				int colon = line.indexOf(':');
				if (line.startsWith("@") && colon > 0) {
					out.put(line.substring(0, colon), new LinkedHashSet<>(List.of(line.substring(colon + 1).trim().split("\\s+"))));
				}
			}
		} catch (IOException e) {
			throw new IllegalStateException("cannot read syscall-groups.txt", e);
		}
		return out;
	}
}
