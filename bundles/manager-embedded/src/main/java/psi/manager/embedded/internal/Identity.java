package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import psi.spi.unit.Words;

/**
 * Who a service runs as: {@code User=}/{@code Group=}/{@code SupplementaryGroups=}
 * looked up in the host's {@code /etc/passwd} and {@code /etc/group}, or a
 * dynamic user ({@code DynamicUser=yes}) with a uid from systemd's range
 * 61184–65519, the same for the same name as long as the root's
 * {@code /run} lasts (systemd keeps them in {@code /run/systemd/dynamic-uid},
 * psi in {@code /run/psi/embedded/dynamic-uid}).
 */
final class Identity {

	static final int DYNAMIC_MIN = 61184;
	static final int DYNAMIC_MAX = 65519;

	/** A resolved user. */
	record User(String name, int uid, int gid, String home, String shell, List<Integer> groups, boolean dynamic) {
		boolean root() {
			return uid == 0;
		}
	}

	private Identity() {
	}

	static User resolve(Path root, UnitConfig c) throws IOException {
		String user = c.get("Service", "User");
		String group = c.get("Service", "Group");
		List<Integer> groups = new ArrayList<>();
		for (UnitConfig.Setting s : c.all("Service", "SupplementaryGroups")) {
			for (String g : Words.split(s.value())) {
				groups.add(gid(root, g, c));
			}
		}
		if (c.bool("Service", "DynamicUser", false)) {
			String name = user != null ? user : c.name().substring(0, c.name().lastIndexOf('.')).replace('@', '-');
			if (name.equals("root") || name.equals("0")) {
				throw c.bad("Service", "User", new IllegalArgumentException("a dynamic user cannot be root"));
			}
			int uid = dynamicUid(root, name);
			return new User(name, uid, group == null ? uid : gid(root, group, c), "/", "/usr/sbin/nologin", groups, true);
		}
		if (user == null || user.equals("root") || user.equals("0")) {
			return new User("root", 0, group == null ? 0 : gid(root, group, c), "/root", "/bin/sh", groups, false);
		}
		for (String[] f : entries(root.resolve("etc/passwd"), 7)) {
			if (f[0].equals(user) || f[2].equals(user)) {
				int gid = group == null ? Integer.parseInt(f[3]) : gid(root, group, c);
				return new User(f[0], Integer.parseInt(f[2]), gid, f[5], f[6], groups, false);
			}
		}
		throw c.bad("Service", "User", new IllegalArgumentException("no user " + user + " on the host (" + root.resolve("etc/passwd") + ")"));
	}

	private static int gid(Path root, String group, UnitConfig c) throws IOException {
		for (String[] f : entries(root.resolve("etc/group"), 4)) {
			if (f[0].equals(group) || f[2].equals(group)) {
				return Integer.parseInt(f[2]);
			}
		}
		if (group.matches("[0-9]{1,9}")) {
			return Integer.parseInt(group);
		}
		throw c.bad("Service", "Group", new IllegalArgumentException("no group " + group + " on the host (" + root.resolve("etc/group") + ")"));
	}

	/** @return the well-formed lines of a passwd-style file, each with at least {@code fields} fields */
	private static List<String[]> entries(Path file, int fields) throws IOException {
		List<String[]> out = new ArrayList<>();
		if (!Files.isRegularFile(file)) {
			return out;
		}
		for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
			String[] f = l.split(":", -1);
			if (f.length >= fields && f[2].matches("[0-9]{1,9}") && (fields < 4 || f[3].matches("[0-9]{1,9}"))) {
				out.add(f);
			}
		}
		return out;
	}

	/**
	 * The uid of a dynamic user: the one it had, else the first free one from
	 * a hash of its name, taken atomically (a file named for the uid).
	 */
	static synchronized int dynamicUid(Path root, String name) throws IOException {
		Path dir = root.resolve("run/psi/embedded/dynamic-uid");
		Files.createDirectories(dir);
		Set<Integer> used = new HashSet<>();
		try (var s = Files.list(dir)) {
			for (Path p : (Iterable<Path>) s::iterator) {
				String f = p.getFileName().toString();
				if (f.matches("[0-9]+")) {
					if (Files.readString(p, StandardCharsets.UTF_8).equals(name)) {
						return Integer.parseInt(f);
					}
					used.add(Integer.parseInt(f));
				}
			}
		}
		for (String[] f : entries(root.resolve("etc/passwd"), 3)) {
			used.add(Integer.parseInt(f[2]));
		}
		for (String[] f : entries(root.resolve("etc/group"), 3)) {
			used.add(Integer.parseInt(f[2]));
		}
		int span = DYNAMIC_MAX - DYNAMIC_MIN + 1;
		int start = Math.floorMod(name.hashCode() * 0x9E3779B1, span);
		for (int i = 0; i < span; i++) {
			int uid = DYNAMIC_MIN + (start + i) % span;
			if (used.contains(uid)) {
				continue;
			}
			try {
				Files.writeString(dir.resolve(Integer.toString(uid)), name, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW,
					java.nio.file.StandardOpenOption.WRITE);
				return uid;
			} catch (FileAlreadyExistsException taken) {
				// another name took it meanwhile
			}
		}
		throw new IOException("no free dynamic uid left for " + name);
	}
}
