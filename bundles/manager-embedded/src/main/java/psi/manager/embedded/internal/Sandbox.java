package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import psi.manager.embedded.internal.seccomp.SeccompFilter;
import psi.spi.unit.ExecCommand;
import psi.spi.unit.Values;
import psi.spi.unit.Words;

/**
 * Translates a service's sandbox directives (its unit, drop-ins and
 * profile) into a bubblewrap command line that builds the file system view
 * and namespaces, and a {@code psi-exec} command line that does the
 * credentials inside it (private users, capabilities, user switch, no new
 * privileges, the seccomp filter psi compiles, umask) before the service's
 * command runs. Every directive of the sandbox is either translated here or
 * reported by {@link Directives} as not implemented.
 */
final class Sandbox {

	/** Where psi-exec and the filter appear inside a sandbox whose /run is a tmpfs. */
	static final String EXEC_IN_SANDBOX = "/run/.psi-exec";
	static final String SECCOMP_IN_SANDBOX = "/run/.psi-seccomp";

	/**
	 * Host endpoints the profiles bind that only a host running systemd and
	 * D-Bus has; where they are missing they are left out, with a warning.
	 */
	static final Set<String> HOST_ENDPOINTS = Set.of("/dev/log", "/run/systemd/journal/socket", "/run/systemd/journal/stdout",
		"/run/dbus/system_bus_socket", "/etc/resolv.conf", "/etc/machine-id", "/usr/lib/os-release", "/etc/os-release");

	/** Capability names, numbered as the kernel numbers them. */
	static final List<String> CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
		"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
		"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
		"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
		"CAP_CHECKPOINT_RESTORE");

	private static final long ALL_CAPS = (1L << CAPABILITIES.size()) - 1;

	/** The sandbox of one start of a service, shared by its commands. */
	static final class Prepared {
		final List<String> bwrap = new ArrayList<>();
		final List<String> exec = new ArrayList<>();
		final Map<String, String> env = new LinkedHashMap<>();
		final List<String> warnings = new ArrayList<>();
		final List<Path> cleanup = new ArrayList<>();
		/** Host endpoints the profile binds that this host lacks. */
		final List<String> missing = new ArrayList<>();
		Path imageMount;
		Identity.User user;
		boolean hostRoot;
		/** Whether /run in the sandbox is a tmpfs of its own. */
		boolean runTmpfs;
	}

	private final Path root;
	private final Path bwrap;
	private final Path helper;
	private final String imageMount;

	/**
	 * @param root the root whose services these are (host paths in units are under it)
	 * @param bwrap bubblewrap
	 * @param helper psi-exec
	 */
	Sandbox(Path root, Path bwrap, Path helper) {
		this(root, bwrap, helper, "auto");
	}

	/**
	 * @param imageMount how a RootImage= is mounted: {@code auto}, {@code loop}, {@code squashfuse}
	 */
	Sandbox(Path root, Path bwrap, Path helper, String imageMount) {
		this.imageMount = imageMount;
		this.root = root;
		this.bwrap = bwrap;
		this.helper = helper;
	}

	/** @return a host path of a unit (absolute, as the unit says it) under the root */
	Path host(String path) {
		return root.resolve(path.startsWith("/") ? path.substring(1) : path).normalize();
	}

	/**
	 * Prepares the sandbox of a start: mounts the image, makes the
	 * directories, compiles the filter.
	 *
	 * @param c the unit
	 * @param runDir the service's own runtime directory on the host (psi's)
	 * @param user who the service runs as
	 */
	Prepared prepare(UnitConfig c, Path runDir, Identity.User user) throws IOException {
		Prepared p = new Prepared();
		p.user = user;
		List<String> b = p.bwrap;
		b.add(bwrap.toString());
		b.add("--die-with-parent");
		b.add("--new-session");
		b.add("--clearenv");

		String rootDir = c.get("Service", "RootDirectory");
		String rootImage = c.get("Service", "RootImage");
		String protectSystem = c.get("Service", "ProtectSystem", "no");
		boolean strict = protectSystem.equals("strict");
		Path rootSource;
		if (rootImage != null) {
			Path image = host(rootImage);
			if (!Files.isRegularFile(image) && !Files.isDirectory(image)) {
				throw c.bad("Service", "RootImage", new IllegalArgumentException(image + " does not exist"));
			}
			boolean fuse = imageMount.equals("squashfuse") || imageMount.equals("auto") && !ImageMount.loopDevices();
			p.imageMount = ImageMount.mount(image, runDir.resolve("root"), imageMount);
			if (fuse) {
				p.warnings.add("RootImage= read through squashfuse (" + (imageMount.equals("squashfuse") ? "as configured" : "this host has no loop devices") + ")");
			}
			rootSource = p.imageMount;
		} else if (rootDir != null) {
			rootSource = host(rootDir);
			if (!Files.isDirectory(rootSource)) {
				throw c.bad("Service", "RootDirectory", new IllegalArgumentException(rootSource + " is not a directory"));
			}
		} else {
			rootSource = Path.of("/");
			p.hostRoot = true;
		}
		boolean readOnlyRoot = strict || rootImage != null;
		b.add(readOnlyRoot ? "--ro-bind" : "--bind");
		b.add(rootSource.toString());
		b.add("/");
		if (!readOnlyRoot && (protectSystem.equals("yes") || protectSystem.equals("full") || Values.bool(bool(protectSystem)))) {
			for (String d : protectSystem.equals("full") ? List.of("/usr", "/boot", "/efi", "/etc") : List.of("/usr", "/boot", "/efi")) {
				if (Files.isDirectory(rootSource.resolve(d.substring(1)))) {
					b.add("--remount-ro");
					b.add(d);
				}
			}
		}

		boolean apiVfs = c.bool("Service", "MountAPIVFS", rootDir != null || rootImage != null);
		boolean privateDevices = c.bool("Service", "PrivateDevices", false);
		boolean tunables = c.bool("Service", "ProtectKernelTunables", false);
		boolean cgroups = c.bool("Service", "ProtectControlGroups", false);
		boolean runTmpfs = false;
		if (apiVfs) {
			b.add("--proc");
			b.add("/proc");
			if (privateDevices) {
				b.add("--dev");
				b.add("/dev");
			} else {
				b.add("--dev-bind");
				b.add("/dev");
				b.add("/dev");
			}
			b.add(tunables || cgroups ? "--ro-bind" : "--bind");
			b.add("/sys");
			b.add("/sys");
			b.add("--tmpfs");
			b.add("/run");
			runTmpfs = true;
		} else if (privateDevices) {
			b.add("--dev");
			b.add("/dev");
		}
		if (tunables && apiVfs) {
			b.add("--ro-bind");
			b.add("/proc/sys");
			b.add("/proc/sys");
		}
		if (c.bool("Service", "ProtectKernelLogs", false)) {
			if (apiVfs) {
				b.add("--ro-bind");
				b.add("/dev/null");
				b.add("/proc/kmsg");
			}
			if (!privateDevices && (apiVfs || p.hostRoot)) {
				b.add("--ro-bind-try");
				b.add("/dev/null");
				b.add("/dev/kmsg");
			}
		}

		for (UnitConfig.Setting s : c.all("Service", "TemporaryFileSystem")) {
			for (String w : words(c, "TemporaryFileSystem", s)) {
				String[] f = w.split(":", 2);
				b.add("--tmpfs");
				b.add(f[0]);
				if (f[0].equals("/run")) {
					runTmpfs = true;
				}
				if (f.length > 1 && List.of(f[1].split(",")).contains("ro")) {
					b.add("--remount-ro");
					b.add(f[0]);
				}
			}
		}

		if (c.bool("Service", "PrivateTmp", false)) {
			Path base = Files.createDirectories(runDir.resolve("private-tmp"));
			Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx------"));
			for (String d : List.of("tmp", "var/tmp")) {
				if (!Files.isDirectory(rootSource.resolve(d))) {
					continue;
				}
				Path t = base.resolve(d.replace('/', '-'));
				Files.createDirectories(t);
				Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxrwxrwx"));
				b.add("--bind");
				b.add(t.toString());
				b.add("/" + d);
			}
			// a sticky bit the JDK cannot set: chmod does
			run(List.of("chmod", "1777", base.resolve("tmp").toString()), true);
			run(List.of("chmod", "1777", base.resolve("var-tmp").toString()), true);
		}

		bindPaths(c, p, "BindPaths", "--bind", rootSource, readOnlyRoot);
		bindPaths(c, p, "BindReadOnlyPaths", "--ro-bind", rootSource, readOnlyRoot);
		if (!p.missing.isEmpty()) {
			p.warnings.add("not bound, this host has none: " + String.join(", ", p.missing));
		}

		String home = c.get("Service", "ProtectHome", "no");
		if (!home.equals("no") && !home.equals("false") && !home.equals("0") && !home.equals("off")) {
			for (String d : List.of("/home", "/root", "/run/user")) {
				if (!Files.isDirectory(rootSource.resolve(d.substring(1))) || d.equals("/run/user") && runTmpfs) {
					continue;
				}
				if (home.equals("read-only")) {
					b.add("--remount-ro");
					b.add(d);
				} else {
					// yes: inaccessible (an empty directory of mode 0000, as systemd's); tmpfs: empty and read-only
					if (!home.equals("tmpfs")) {
						b.add("--perms");
						b.add("0000");
					}
					b.add("--tmpfs");
					b.add(d);
					b.add("--remount-ro");
					b.add(d);
				}
			}
		}
		for (UnitConfig.Setting s : c.all("Service", "ReadOnlyPaths")) {
			for (String w : words(c, "ReadOnlyPaths", s)) {
				boolean optional = w.startsWith("-");
				String path = optional ? w.substring(1) : w;
				if (!optional || Files.exists(rootSource.resolve(path.substring(1)))) {
					b.add("--remount-ro");
					b.add(path);
				}
			}
		}
		for (UnitConfig.Setting s : c.all("Service", "InaccessiblePaths")) {
			for (String w : words(c, "InaccessiblePaths", s)) {
				boolean optional = w.startsWith("-");
				String path = optional ? w.substring(1) : w;
				Path inRoot = rootSource.resolve(path.substring(1));
				if (Files.isDirectory(inRoot)) {
					b.add("--perms");
					b.add("0000");
					b.add("--tmpfs");
					b.add(path);
					b.add("--remount-ro");
					b.add(path);
				} else if (Files.exists(inRoot)) {
					b.add("--ro-bind");
					b.add("/dev/null");
					b.add(path);
				} else if (!optional) {
					throw c.bad("Service", "InaccessiblePaths", new IllegalArgumentException(path + " does not exist in the service's root"));
				}
			}
		}

		if (c.bool("Service", "PrivateNetwork", false)) {
			b.add("--unshare-net");
		}
		if (c.bool("Service", "PrivateIPC", false)) {
			b.add("--unshare-ipc");
		}
		if (c.bool("Service", "ProtectHostname", false)) {
			b.add("--unshare-uts");
		}

		directories(c, p, user, rootSource);

		// the service's environment
		Map<String, String> env = p.env;
		env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
		if (!user.root() || c.get("Service", "User") != null || user.dynamic()) {
			env.put("USER", user.name());
			env.put("LOGNAME", user.name());
			env.put("HOME", user.home());
			env.put("SHELL", user.shell());
		}

		String wd = c.get("Service", "WorkingDirectory");
		if (wd != null) {
			boolean optional = wd.startsWith("-");
			String d = optional ? wd.substring(1) : wd;
			if (d.equals("~")) {
				d = user.home();
			}
			if (!optional || Files.isDirectory(rootSource.resolve(d.substring(1)))) {
				b.add("--chdir");
				b.add(d);
			}
		} else {
			b.add("--chdir");
			b.add("/");
		}

		// credentials, inside
		List<String> e = p.exec;
		p.runTmpfs = runTmpfs;
		if (!runTmpfs && !p.hostRoot) {
			throw c.bad("Service", "MountAPIVFS", new IllegalArgumentException(
				"psi's own service manager needs /run in an image's sandbox to be a tmpfs (MountAPIVFS=yes or TemporaryFileSystem=/run)"));
		}
		Path execPath = p.hostRoot ? runDir.getParent().getParent().resolve("exec/psi-exec") : null;
		if (p.hostRoot) {
			Files.createDirectories(execPath.getParent());
			if (!Files.exists(execPath) || Files.size(execPath) != Files.size(helper)) {
				Path tmp = execPath.resolveSibling("psi-exec.tmp");
				Files.copy(helper, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
				Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
				Files.move(tmp, execPath, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
			}
			e.add(execPath.toString());
		} else {
			b.add("--ro-bind");
			b.add(helper.toString());
			b.add(EXEC_IN_SANDBOX);
			e.add(EXEC_IN_SANDBOX);
		}
		if (c.bool("Service", "PrivateUsers", false)) {
			e.add("--private-users");
		}
		long bounding = capabilities(c, "CapabilityBoundingSet", ALL_CAPS);
		if (c.bool("Service", "ProtectClock", false)) {
			bounding &= ~(1L << CAPABILITIES.indexOf("CAP_SYS_TIME") | 1L << CAPABILITIES.indexOf("CAP_WAKE_ALARM"));
		}
		if (c.bool("Service", "ProtectKernelModules", false)) {
			bounding &= ~(1L << CAPABILITIES.indexOf("CAP_SYS_MODULE"));
		}
		if (c.bool("Service", "ProtectKernelLogs", false)) {
			bounding &= ~(1L << CAPABILITIES.indexOf("CAP_SYSLOG"));
		}
		if (bounding != ALL_CAPS) {
			e.add("--bounding");
			e.add(Long.toHexString(bounding));
		}
		long ambient = capabilities(c, "AmbientCapabilities", 0);
		if (ambient != 0) {
			e.add("--ambient");
			e.add(Long.toHexString(ambient));
		}
		if (c.bool("Service", "NoNewPrivileges", false)) {
			e.add("--no-new-privileges");
		}
		String umask = c.get("Service", "UMask", "0022");
		if (!umask.matches("0?[0-7]{1,3}")) {
			throw c.bad("Service", "UMask", new IllegalArgumentException("not an octal mode"));
		}
		e.add("--umask");
		e.add(umask);
		byte[] filter = seccomp(c);
		if (filter != null) {
			Path f = runDir.resolve("seccomp.bpf");
			Files.write(f, filter);
			if (p.hostRoot) {
				e.add("--seccomp");
				e.add(f.toString());
			} else {
				b.add("--ro-bind");
				b.add(f.toString());
				b.add(SECCOMP_IN_SANDBOX);
				e.add("--seccomp");
				e.add(SECCOMP_IN_SANDBOX);
			}
		}
		return p;
	}

	/** The user part of psi-exec's options: who, unless the command is {@code !}. */
	static List<String> credentials(Identity.User user, boolean noSetuid) {
		List<String> out = new ArrayList<>();
		if (noSetuid || user.root() && user.gid() == 0 && user.groups().isEmpty()) {
			return out;
		}
		out.add("--uid");
		out.add(Integer.toString(user.uid()));
		out.add("--gid");
		out.add(Integer.toString(user.gid()));
		if (!user.groups().isEmpty()) {
			out.add("--groups");
			out.add(String.join(",", user.groups().stream().map(String::valueOf).toList()));
		}
		return out;
	}

	/**
	 * The command line of one command: bubblewrap, psi-exec, the command;
	 * a {@code +} command runs as it is, outside the sandbox, as systemd runs it.
	 */
	List<String> command(Prepared p, ExecCommand cmd, Map<String, String> env) {
		return command(p, cmd, env, List.of());
	}

	/**
	 * The command line of one command, with more options for psi-exec
	 * ({@code --pid-env}, {@code --stdin-fd3}, ...).
	 */
	List<String> command(Prepared p, ExecCommand cmd, Map<String, String> env, List<String> execOptions) {
		List<String> argv = cmd.argv(env);
		String path = cmd.path();
		List<String> out = new ArrayList<>();
		if (cmd.has(ExecCommand.Prefix.FULL_PRIVILEGES)) {
			out.add(path.startsWith("/") ? path : "/usr/bin/" + path);
			out.addAll(argv.subList(1, argv.size()));
			return out;
		}
		out.addAll(p.bwrap);
		for (Map.Entry<String, String> e : env.entrySet()) {
			out.add("--setenv");
			out.add(e.getKey());
			out.add(e.getValue());
		}
		out.add("--");
		out.addAll(p.exec);
		out.addAll(execOptions);
		out.addAll(credentials(p.user, cmd.has(ExecCommand.Prefix.NO_SETUID) || cmd.has(ExecCommand.Prefix.AMBIENT_FALLBACK)));
		if (cmd.has(ExecCommand.Prefix.ARGV0)) {
			out.add("--argv0");
			out.add(argv.get(0));
		}
		out.add("--");
		out.add(path);
		out.addAll(argv.subList(1, argv.size()));
		return out;
	}

	/**
	 * The first step of a command that gets sockets: psi-exec on the host
	 * fetches them from a hand-off socket and runs the rest.
	 */
	List<String> receiveFds(Path handoff, int count) {
		return List.of(helper.toString(), "--recv-fds", handoff.toString(), Integer.toString(count), "--");
	}

	/**
	 * Makes a socket of the host reachable in the sandbox: where the sandbox
	 * sees the host's own path, that; else bound at {@code inside}.
	 *
	 * @return its path in the sandbox
	 */
	String reach(Prepared p, Path host, String inside) {
		if (p.hostRoot && !(p.runTmpfs && host.startsWith("/run"))) {
			return host.toString();
		}
		// the directories bubblewrap makes on the way are root's alone: the service's user must pass
		String parent = inside.substring(0, inside.lastIndexOf('/'));
		if (!parent.isEmpty()) {
			p.bwrap.addAll(List.of("--perms", "0755", "--dir", parent));
		}
		p.bwrap.add("--bind");
		p.bwrap.add(host.toString());
		p.bwrap.add(inside);
		return inside;
	}

	private void bindPaths(UnitConfig c, Prepared p, String key, String option, Path rootSource, boolean readOnlyRoot) {
		for (UnitConfig.Setting s : c.all("Service", key)) {
			for (String w : words(c, key, s)) {
				boolean optional = w.startsWith("-");
				String[] f = (optional ? w.substring(1) : w).split(":", 3);
				String src = f[0];
				String dst = f.length > 1 && !f[1].isEmpty() ? f[1] : src;
				if (!src.startsWith("/") || !dst.startsWith("/")) {
					throw c.bad("Service", key, new IllegalArgumentException("not an absolute path: " + Values.show(w)));
				}
				Path source = host(src);
				if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
					if (optional) {
						continue;
					}
					if (HOST_ENDPOINTS.contains(src)) {
						p.missing.add(src);
						continue;
					}
					throw c.bad("Service", key, new IllegalArgumentException(source + " does not exist"));
				}
				if (readOnlyRoot && !Files.exists(rootSource.resolve(dst.substring(1)), LinkOption.NOFOLLOW_LINKS) && !underTmpfs(p, dst)) {
					if (optional || HOST_ENDPOINTS.contains(src)) {
						p.warnings.add(key + "=" + src + " left out: the image has no " + dst + " to bind it onto");
						continue;
					}
					throw c.bad("Service", key, new IllegalArgumentException("the image has no " + dst + " to bind onto, and it is read-only"));
				}
				p.bwrap.add(option);
				p.bwrap.add(source.toString());
				p.bwrap.add(dst);
			}
		}
	}

	private static boolean underTmpfs(Prepared p, String dst) {
		for (int i = 0; i + 1 < p.bwrap.size(); i++) {
			if (p.bwrap.get(i).equals("--tmpfs") && (dst.startsWith(p.bwrap.get(i + 1) + "/"))) {
				return true;
			}
		}
		return false;
	}

	/**
	 * StateDirectory= and friends: made on the host with the service's
	 * owner (under {@code /var/lib/private} for a dynamic user, with the
	 * {@code /var/lib/NAME} link), bound into the sandbox, named in the
	 * environment.
	 */
	private void directories(UnitConfig c, Prepared p, Identity.User user, Path rootSource) throws IOException {
		record Kind(String key, String base, String env) {
		}
		for (Kind k : List.of(new Kind("StateDirectory", "/var/lib", "STATE_DIRECTORY"), new Kind("CacheDirectory", "/var/cache", "CACHE_DIRECTORY"),
			new Kind("LogsDirectory", "/var/log", "LOGS_DIRECTORY"), new Kind("RuntimeDirectory", "/run", "RUNTIME_DIRECTORY"),
			new Kind("ConfigurationDirectory", "/etc", "CONFIGURATION_DIRECTORY"))) {
			List<String> inside = new ArrayList<>();
			String mode = c.get("Service", k.key() + "Mode", k.key().equals("ConfigurationDirectory") ? "0755" : "0755");
			for (UnitConfig.Setting s : c.all("Service", k.key())) {
				for (String w : words(c, k.key(), s)) {
					String name = w.split(":", 2)[0];
					if (name.startsWith("/") || name.contains("..") || name.isEmpty()) {
						throw c.bad("Service", k.key(), new IllegalArgumentException("not a relative path: " + Values.show(name)));
					}
					boolean priv = user.dynamic() && !k.key().equals("RuntimeDirectory") && !k.key().equals("ConfigurationDirectory");
					Path hostDir;
					if (priv) {
						Path privateBase = host(k.base() + "/private");
						if (!Files.isDirectory(privateBase)) {
							Files.createDirectories(privateBase);
							Files.setPosixFilePermissions(privateBase, PosixFilePermissions.fromString("rwx------"));
						}
						hostDir = privateBase.resolve(name);
						Path link = host(k.base() + "/" + name);
						if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
							Files.createDirectories(link.getParent());
							Files.createSymbolicLink(link, Path.of("private").resolve(name));
						}
					} else {
						hostDir = host(k.base() + "/" + name);
					}
					Files.createDirectories(hostDir);
					if (!k.key().equals("ConfigurationDirectory")) {
						run(List.of("chown", "-R", user.uid() + ":" + user.gid(), hostDir.toString()), false);
					}
					run(List.of("chmod", mode, hostDir.toString()), false);
					String dst = k.base() + "/" + name;
					if (k.key().equals("RuntimeDirectory")) {
						p.cleanup.add(hostDir);
					}
					boolean readOnly = k.key().equals("ConfigurationDirectory");
					p.bwrap.add(readOnly ? "--ro-bind" : "--bind");
					p.bwrap.add(hostDir.toString());
					p.bwrap.add(dst);
					inside.add(dst);
				}
			}
			if (!inside.isEmpty()) {
				p.env.put(k.env(), String.join(":", inside));
			}
		}
	}

	private static void run(List<String> cmd, boolean quiet) throws IOException {
		try {
			Process pr = new ProcessBuilder(cmd).redirectErrorStream(true).start();
			String out = new String(pr.getInputStream().readAllBytes()).trim();
			if (pr.waitFor() != 0 && !quiet) {
				throw new IOException(String.join(" ", cmd) + ": " + out);
			}
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException("interrupted");
		}
	}

	private static String bool(String v) {
		try {
			Values.bool(v);
			return v;
		} catch (IllegalArgumentException e) {
			return "no";
		}
	}

	private static List<String> words(UnitConfig c, String key, UnitConfig.Setting s) {
		try {
			return Words.split(s.value());
		} catch (IllegalArgumentException e) {
			throw new UnitConfig.UnitException(c.name() + ": " + key + "= at " + s.where() + ": " + e.getMessage());
		}
	}

	/**
	 * A capability set directive as systemd merges it: an empty assignment is
	 * the empty set; a list adds; a {@code ~} list removes from what was
	 * there (all, when it comes first).
	 */
	static long capabilities(UnitConfig c, String key, long dflt) {
		long set = dflt;
		boolean first = true;
		for (UnitConfig.Setting s : c.raw("Service", key)) {
			if (s.value().isEmpty()) {
				set = 0;
				first = false;
				continue;
			}
			boolean invert = s.value().startsWith("~");
			long mask = 0;
			for (String w : words(c, key, new UnitConfig.Setting(invert ? s.value().substring(1) : s.value(), s.file(), s.line()))) {
				int bit = CAPABILITIES.indexOf(w.toUpperCase(java.util.Locale.ROOT));
				if (bit < 0) {
					throw new UnitConfig.UnitException(c.name() + ": " + key + "= at " + s.where() + ": unknown capability " + Values.show(w));
				}
				mask |= 1L << bit;
			}
			if (invert) {
				set = (first ? ALL_CAPS : set) & ~mask;
			} else {
				set = first && key.equals("CapabilityBoundingSet") ? mask : set | mask;
			}
			first = false;
		}
		return set;
	}

	/** @return the seccomp program of the unit's filters, or {@code null} when it asks for none */
	static byte[] seccomp(UnitConfig c) {
		SeccompFilter.Builder f = SeccompFilter.forHost();
		try {
			for (UnitConfig.Setting s : c.raw("Service", "SystemCallFilter")) {
				f.systemCallFilter(s.value());
			}
			String errno = c.get("Service", "SystemCallErrorNumber");
			if (errno != null) {
				f.systemCallErrorNumber(errno);
			}
			for (UnitConfig.Setting s : c.raw("Service", "SystemCallArchitectures")) {
				f.systemCallArchitectures(s.value());
			}
			for (UnitConfig.Setting s : c.raw("Service", "RestrictAddressFamilies")) {
				f.restrictAddressFamilies(s.value());
			}
			String ns = c.get("Service", "RestrictNamespaces");
			if (ns != null) {
				f.restrictNamespaces(ns);
			}
			f.lockPersonality(c.bool("Service", "LockPersonality", false));
			f.restrictRealtime(c.bool("Service", "RestrictRealtime", false));
			f.memoryDenyWriteExecute(c.bool("Service", "MemoryDenyWriteExecute", false));
			f.restrictSuidSgid(c.bool("Service", "RestrictSUIDSGID", false));
			f.protectClock(c.bool("Service", "ProtectClock", false));
			f.protectKernelModules(c.bool("Service", "ProtectKernelModules", false));
			f.protectKernelLogs(c.bool("Service", "ProtectKernelLogs", false));
			f.protectKernelTunables(c.bool("Service", "ProtectKernelTunables", false));
			f.protectHostname(c.bool("Service", "ProtectHostname", false));
			f.privateDevices(c.bool("Service", "PrivateDevices", false));
		} catch (IllegalArgumentException e) {
			throw new UnitConfig.UnitException(c.name() + ": " + e.getMessage());
		}
		return f.any() ? f.build() : null;
	}
}
