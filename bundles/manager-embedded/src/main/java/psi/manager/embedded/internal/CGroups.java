package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A control group per service, to track every process it starts, kill them
 * all, and limit and measure memory, tasks and CPU. On a unified (v2)
 * hierarchy, or the v2 half of a hybrid host, the service's group tracks its
 * processes; on a hybrid host the v1 controllers {@code memory},
 * {@code pids} and {@code cpu,cpuacct} carry the limits and figures. What
 * the host lacks is said, never pretended.
 */
final class CGroups {

	/** The host's hierarchies, found once. */
	record Layout(Path unified, Map<String, Path> v1, String problem) {
		static Layout detect() {
			Path fs = Path.of("/sys/fs/cgroup");
			Map<String, Path> v1 = new LinkedHashMap<>();
			Map<String, String> self = selfPaths();
			Path unified = null;
			if (Files.exists(fs.resolve("cgroup.controllers"))) {
				unified = fs.resolve(rel(self.get("")));
			} else if (Files.exists(fs.resolve("unified/cgroup.procs"))) {
				unified = fs.resolve("unified").resolve(rel(self.get("")));
			}
			for (String c : List.of("memory", "pids", "cpuacct", "cpu")) {
				Path m = fs.resolve(c);
				if (Files.exists(m.resolve("cgroup.procs")) && self.containsKey(c)) {
					v1.put(c, m.resolve(rel(self.get(c))));
				}
			}
			String problem = unified == null && !v1.containsKey("pids") ? "no cgroup hierarchy to track processes in (neither cgroup2 nor the v1 pids controller)" : "";
			return new Layout(unified, v1, problem);
		}

		private static String rel(String p) {
			return p == null ? "" : p.startsWith("/") ? p.substring(1) : p;
		}

		/** @return controller (or "" for v2) to this process's group path, from /proc/self/cgroup */
		private static Map<String, String> selfPaths() {
			Map<String, String> out = new LinkedHashMap<>();
			try {
				for (String l : Files.readAllLines(Path.of("/proc/self/cgroup"), StandardCharsets.UTF_8)) {
					String[] f = l.split(":", 3);
					if (f.length == 3) {
						for (String c : f[1].split(",")) {
							out.putIfAbsent(c, f[2]);
						}
					}
				}
			} catch (IOException e) {
				// no /proc: nothing found
			}
			return out;
		}
	}

	/** The group under which psi's services are, beside the daemon's own. */
	static final String BASE = "psi.embedded";

	private final Layout layout;
	private final String scope;
	private final String unit;
	private final List<Path> dirs = new ArrayList<>();
	private final List<String> warnings = new ArrayList<>();
	private final java.util.Set<Path> required = new java.util.HashSet<>();

	/**
	 * @param layout the host's hierarchies
	 * @param root the root whose service this is: daemons serving other roots keep their own groups
	 * @param unit the unit
	 */
	CGroups(Layout layout, java.nio.file.Path root, String unit) {
		this.layout = layout;
		this.scope = scope(root);
		this.unit = unit;
	}

	/** @return a root as a group name, escaped as systemd escapes paths: {@code /} is {@code -}, {@code /tmp/a} {@code tmp-a} */
	static String scope(java.nio.file.Path root) {
		String p = root.toString();
		if (p.equals("/")) {
			return "-";
		}
		StringBuilder b = new StringBuilder();
		byte[] bytes = p.substring(1).getBytes(StandardCharsets.UTF_8);
		for (int i = 0; i < bytes.length; i++) {
			int c = bytes[i] & 0xff;
			if (c == '/') {
				b.append('-');
			} else if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '.' && i > 0) {
				b.append((char) c);
			} else {
				b.append(String.format("\\x%02x", c));
			}
		}
		return b.toString();
	}

	/**
	 * Makes the service's groups (empty) and applies its limits.
	 *
	 * @return the {@code cgroup.procs} files to join: the tracking group's and
	 *         those carrying a limit must be joined; the others, for figures
	 *         only, are marked with a leading {@code ?}: a v1 hierarchy another
	 *         systemd on the host re-binds (the throwaway box does) may be gone
	 */
	List<String> create(UnitConfig c) throws IOException {
		dirs.clear();
		warnings.clear();
		required.clear();
		if (layout.unified() != null) {
			dirs.add(mk(layout.unified().resolve(BASE).resolve(scope).resolve(unit)));
		}
		for (Map.Entry<String, Path> e : layout.v1().entrySet()) {
			dirs.add(mk(e.getValue().resolve(BASE).resolve(scope).resolve(unit)));
		}
		String mem = c.get("Service", "MemoryMax");
		if (mem != null) {
			long v = parse(c, "MemoryMax", mem);
			apply("MemoryMax", "memory.max", v == Long.MAX_VALUE ? "max" : Long.toString(v), "memory", "memory.limit_in_bytes", v == Long.MAX_VALUE ? "-1" : Long.toString(v));
		}
		String tasks = c.get("Service", "TasksMax");
		if (tasks != null) {
			// + 1: bubblewrap's own process, which stays in the group beside the service's while it runs
			String t = tasks.equals("infinity") ? "max" : tasks.matches("[0-9]{1,9}") ? Long.toString(Long.parseLong(tasks) + 1)
				: tasks.matches("[0-9]{1,3}%") ? Long.toString(systemTasks() * Long.parseLong(tasks.substring(0, tasks.length() - 1)) / 100 + 1) : null;
			if (t == null) {
				throw c.bad("Service", "TasksMax", new IllegalArgumentException("not a number, a percentage or infinity: " + psi.spi.unit.Values.show(tasks)));
			}
			apply("TasksMax", "pids.max", t, "pids", "pids.max", t);
		}
		String quota = c.get("Service", "CPUQuota");
		if (quota != null) {
			if (!quota.matches("[0-9]+%")) {
				throw c.bad("Service", "CPUQuota", new IllegalArgumentException("not a percentage"));
			}
			long us = Long.parseLong(quota.substring(0, quota.length() - 1)) * 1000;
			apply("CPUQuota", "cpu.max", us + " 100000", "cpu", "cpu.cfs_quota_us", Long.toString(us));
		}
		String weight = c.get("Service", "CPUWeight");
		if (weight != null) {
			if (!weight.matches("[0-9]{1,5}") || Integer.parseInt(weight) < 1 || Integer.parseInt(weight) > 10000) {
				throw c.bad("Service", "CPUWeight", new IllegalArgumentException("not a weight from 1 to 10000"));
			}
			int w = Integer.parseInt(weight);
			apply("CPUWeight", "cpu.weight", weight, "cpu", "cpu.shares", Integer.toString(Math.max(2, w * 1024 / 100)));
		}
		if (c.get("Service", "IOWeight") != null) {
			warnings.add("IOWeight= is not applied: psi's own service manager does not drive the io controller");
		}
		List<String> procs = new ArrayList<>();
		for (int i = 0; i < dirs.size(); i++) {
			Path d = dirs.get(i);
			procs.add((i == 0 || required.contains(d) ? "" : "?") + d.resolve("cgroup.procs"));
		}
		return procs;
	}

	/** @return the tasks the kernel allows at most, what a TasksMax= percentage is of (as systemd: pid_max and threads-max, the lower) */
	private static long systemTasks() {
		long max = Long.MAX_VALUE;
		for (String f : List.of("/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max")) {
			try {
				max = Math.min(max, Long.parseLong(Files.readString(Path.of(f)).trim()));
			} catch (IOException | NumberFormatException e) {
				// not readable: the other one
			}
		}
		return max == Long.MAX_VALUE ? 4194304 : max;
	}

	private static long parse(UnitConfig c, String key, String v) {
		try {
			if (v.endsWith("%")) {
				long total = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
					.map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024).findFirst().orElseThrow();
				return total * Long.parseLong(v.substring(0, v.length() - 1)) / 100;
			}
			return psi.spi.unit.Values.bytes(v);
		} catch (IOException | RuntimeException e) {
			throw c.bad("Service", key, e instanceof IllegalArgumentException ? e : new IllegalArgumentException("not a size"));
		}
	}

	/** Writes a limit in the v2 group if it has the file, else in the v1 controller's. */
	private void apply(String directive, String v2file, String v2value, String v1controller, String v1file, String v1value) {
		if (layout.unified() != null) {
			Path f = layout.unified().resolve(BASE).resolve(scope).resolve(unit).resolve(v2file);
			if (Files.exists(f) && write(f, v2value)) {
				return;
			}
		}
		Path v1 = layout.v1().get(v1controller);
		if (v1 != null) {
			Path f = v1.resolve(BASE).resolve(scope).resolve(unit).resolve(v1file);
			if (Files.exists(f) && write(f, v1value)) {
				required.add(f.getParent());
				return;
			}
		}
		warnings.add(directive + "= is not applied: this host has no " + v1controller + " controller psi can use");
	}

	private static boolean write(Path f, String v) {
		try {
			Files.writeString(f, v);
			return true;
		} catch (IOException e) {
			return false;
		}
	}

	private static Path mk(Path d) throws IOException {
		Files.createDirectories(d);
		return d;
	}

	List<String> warnings() {
		return List.copyOf(warnings);
	}

	/** @return the pids in the service's groups (the tracking one first) */
	List<Long> pids() {
		List<Long> out = new ArrayList<>();
		for (Path d : groupDirs()) {
			try {
				for (String l : Files.readAllLines(d.resolve("cgroup.procs"))) {
					if (!l.isBlank() && !out.contains(Long.parseLong(l.trim()))) {
						out.add(Long.parseLong(l.trim()));
					}
				}
			} catch (IOException | NumberFormatException e) {
				// gone
			}
			if (!out.isEmpty()) {
				break;
			}
		}
		return out;
	}

	private List<Path> groupDirs() {
		List<Path> out = new ArrayList<>();
		if (layout.unified() != null) {
			out.add(layout.unified().resolve(BASE).resolve(scope).resolve(unit));
		}
		Path pids = layout.v1().get("pids");
		if (pids != null) {
			out.add(pids.resolve(BASE).resolve(scope).resolve(unit));
		}
		return out;
	}

	/** @return bytes of memory the service uses, -1 when unknown */
	long memory() {
		return read(List.of("memory.current"), "memory", "memory.usage_in_bytes");
	}

	/** @return the service's tasks, bubblewrap's own processes not counted (systemd has none); -1 when unknown */
	long tasks() {
		long t = allTasks();
		if (t <= 0) {
			return t;
		}
		long bwrap = pids().stream().filter(p -> {
			try {
				return Files.readString(Path.of("/proc", Long.toString(p), "comm")).trim().equals("bwrap");
			} catch (IOException e) {
				return false;
			}
		}).count();
		return Math.max(0, t - bwrap);
	}

	private long allTasks() {
		long t = read(List.of("pids.current"), "pids", "pids.current");
		if (t >= 0 || layout.unified() == null) {
			return t;
		}
		try {
			return Files.readAllLines(layout.unified().resolve(BASE).resolve(scope).resolve(unit).resolve("cgroup.threads")).size();
		} catch (IOException e) {
			return -1;
		}
	}

	/** @return CPU time in nanoseconds, -1 when unknown */
	long cpuNanos() {
		if (layout.unified() != null) {
			try {
				for (String l : Files.readAllLines(layout.unified().resolve(BASE).resolve(scope).resolve(unit).resolve("cpu.stat"))) {
					if (l.startsWith("usage_usec ")) {
						return Long.parseLong(l.substring(11).trim()) * 1000;
					}
				}
			} catch (IOException | NumberFormatException e) {
				// fall back to v1
			}
		}
		return read(List.of(), "cpuacct", "cpuacct.usage");
	}

	private long read(List<String> v2files, String v1controller, String v1file) {
		if (layout.unified() != null) {
			for (String f : v2files) {
				try {
					return Long.parseLong(Files.readString(layout.unified().resolve(BASE).resolve(scope).resolve(unit).resolve(f)).trim());
				} catch (IOException | NumberFormatException e) {
					// not there: v1
				}
			}
		}
		Path v1 = layout.v1().get(v1controller);
		if (v1 != null) {
			try {
				return Long.parseLong(Files.readString(v1.resolve(BASE).resolve(scope).resolve(unit).resolve(v1file)).trim());
			} catch (IOException | NumberFormatException e) {
				return -1;
			}
		}
		return -1;
	}

	/** Sends a signal to every process of the service; @return how many were signalled */
	int signal(String signal) {
		List<Long> pids = pids();
		if (pids.isEmpty()) {
			return 0;
		}
		if (signal.equals("KILL") && layout.unified() != null) {
			Path kill = layout.unified().resolve(BASE).resolve(scope).resolve(unit).resolve("cgroup.kill");
			if (Files.exists(kill) && write(kill, "1")) {
				return pids.size();
			}
		}
		Signals.send(signal, pids);
		return pids.size();
	}

	/** Removes the service's groups once empty; @return whether all are gone */
	boolean remove() {
		boolean all = true;
		for (Path d : dirs.isEmpty() ? allDirs() : dirs) {
			try {
				Files.deleteIfExists(d);
			} catch (IOException e) {
				all = false;
			}
			try {
				Files.deleteIfExists(d.getParent()); // the root's group, when its last service went
			} catch (IOException e) {
				// others still run
			}
		}
		return all;
	}

	private List<Path> allDirs() {
		List<Path> out = new ArrayList<>();
		if (layout.unified() != null) {
			out.add(layout.unified().resolve(BASE).resolve(scope).resolve(unit));
		}
		for (Path p : layout.v1().values()) {
			out.add(p.resolve(BASE).resolve(scope).resolve(unit));
		}
		return out;
	}

	/** @return the services of a root that have groups now (left by a daemon that was killed) */
	static List<String> leftovers(Layout layout, java.nio.file.Path root) {
		List<String> out = new ArrayList<>();
		List<Path> bases = new ArrayList<>();
		if (layout.unified() != null) {
			bases.add(layout.unified().resolve(BASE).resolve(scope(root)));
		}
		for (Path p : layout.v1().values()) {
			bases.add(p.resolve(BASE).resolve(scope(root)));
		}
		for (Path b : bases) {
			if (Files.isDirectory(b)) {
				try (var s = Files.list(b)) {
					s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !out.contains(n)).forEach(out::add);
				} catch (IOException e) {
					// unreadable: nothing to adopt
				}
			}
		}
		return out;
	}
}
