package psi.launcher.internal;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a client of the daemon may do, by its peer credentials
 * ({@code SO_PEERCRED}), as portabled decides without polkit: root and the
 * members of the admin group may do everything; any other user may run the
 * read-only commands, on the daemon's own root, on images it could read
 * itself, and see log lines only if it may read the system journal (groups
 * {@code adm} and {@code systemd-journal}, as journalctl).
 */
final class Access implements Caller.Gate {

	/** The commands that change nothing, open to every user: portabled's without polkit, and psi's status and logs. */
	static final Set<String> READ_ONLY = Set.of("list", "inspect", "status", "isattached", "logs", "profiles", "versions", "plugins", "lint", "config");

	/** The groups whose members read the whole system journal. */
	static final List<String> JOURNAL_GROUPS = List.of("adm", "systemd-journal");

	private final UserPrincipal user;
	private final String adminGroup;
	private final boolean admin;
	private final boolean journal;
	private final Set<GroupPrincipal> groups;
	private final Path root;
	private final Path cwd;

	/**
	 * @param user the peer's user
	 * @param group the peer's primary group
	 * @param adminGroup the group whose members may do everything, or empty
	 * @param groupFile the group database ({@code /etc/group}) naming supplementary members
	 * @param root the root the daemon serves
	 * @param cwd the client's working directory
	 */
	Access(UserPrincipal user, GroupPrincipal group, String adminGroup, Path groupFile, Path root, Path cwd) throws IOException {
		this.user = user;
		this.adminGroup = adminGroup;
		this.root = root;
		this.cwd = cwd;
		UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
		this.groups = new HashSet<>();
		groups.add(group);
		Set<String> named = memberOf(groupFile, user.getName());
		for (String g : named) {
			try {
				groups.add(lookup.lookupPrincipalByGroupName(g));
			} catch (IOException e) {
				// a group without an id is no group
			}
		}
		this.admin = user.equals(lookup.lookupPrincipalByName("0")) || !adminGroup.isEmpty() && isIn(lookup, adminGroup);
		boolean j = admin;
		for (String g : JOURNAL_GROUPS) {
			j |= isIn(lookup, g);
		}
		this.journal = j;
	}

	private boolean isIn(UserPrincipalLookupService lookup, String group) {
		try {
			return groups.contains(lookup.lookupPrincipalByGroupName(group));
		} catch (IOException e) {
			return false;
		}
	}

	/** @return the groups {@code /etc/group} lists the user in (bounded: the file is read up to 4 MiB) */
	static Set<String> memberOf(Path groupFile, String user) throws IOException {
		Set<String> out = new HashSet<>();
		if (!Files.isRegularFile(groupFile) || Files.size(groupFile) > 4 << 20) {
			return out;
		}
		for (String line : Files.readAllLines(groupFile)) {
			String[] f = line.split(":", -1);
			if (f.length == 4 && List.of(f[3].split(",")).contains(user)) {
				out.add(f[0]);
			}
		}
		return out;
	}

	/** @return whether this peer may do everything */
	boolean admin() {
		return admin;
	}

	@Override
	public boolean mayReadJournal() {
		return journal;
	}

	/** @return the peer as logged: {@code alice} */
	String who() {
		return user.getName();
	}

	@Override
	public String refusal(String command, CommandLine.Parsed args) {
		String typed = CommandLine.typed(command);
		if (command.equals("daemon")) {
			return "psi daemon: a daemon already serves this socket; stop it first (systemctl stop psi.service psi.socket), or give another --root";
		}
		if (command.equals("build")) {
			// the tree is read and the image written with the caller's rights, never the daemon's (psi-client runs it in-process)
			return "psi build: runs as the user who builds, not in the daemon: run psi --no-daemon build ...";
		}
		if (admin) {
			return null;
		}
		if (!READ_ONLY.contains(command)) {
			return "psi " + typed + ": refused for user " + who() + ": changing the host needs root" + (adminGroup.isEmpty() ? "" : " or group " + adminGroup)
				+ "; other users may run list, inspect, lint, status, is-attached, logs, profiles, versions, plugins and config";
		}
		String r = args.options().get("--root");
		if (r != null && !r.isEmpty() && !Path.of(r).toAbsolutePath().normalize().equals(root)) {
			return "psi " + typed + ": refused for user " + who() + ": this daemon serves the root " + root + ", not " + r
				+ "; run psi --no-daemon --root " + r + " " + typed + " to read it as yourself";
		}
		if (command.equals("logs") && !journal) {
			return "psi logs: refused for user " + who() + ": reading the system journal needs group adm or systemd-journal (as journalctl)";
		}
		// every argument that names a path (the image; a prefix never does) must be one the peer could read
		List<String> named = new java.util.ArrayList<>(args.positional());
		args.lists().values().forEach(named::addAll);
		for (String image : named) {
			if (image.indexOf('/') >= 0 || image.equals(".") || image.equals("..")) {
				Path host = cwd.resolve(image).normalize();
				if (image.startsWith("/") && !root.toString().equals("/")) {
					host = Path.of(root.toString(), image).normalize();
				}
				if (!mayRead(host)) {
					return "psi " + typed + ": refused for user " + who() + ": " + image + " is not readable by " + who()
						+ " (every directory on its path searchable, the image readable)";
				}
			}
		}
		return null;
	}

	/**
	 * Whether the peer could read a path itself, judged by owner, group and
	 * mode bits along the real path (ACLs are not consulted: a path readable
	 * only through one is refused).
	 */
	boolean mayRead(Path p) {
		Path real;
		try {
			real = p.toRealPath();
		} catch (IOException e) {
			// as the peer would: a path that does not resolve is refused, not described
			return false;
		}
		Path at = real.getRoot();
		for (Path part : real) {
			if (!allows(at, PosixFilePermission.OWNER_EXECUTE)) {
				return false;
			}
			at = at.resolve(part);
		}
		return allows(real, PosixFilePermission.OWNER_READ) && (!Files.isDirectory(real) || allows(real, PosixFilePermission.OWNER_EXECUTE));
	}

	/** @return whether the peer has {@code what} (given as the owner's bit) on {@code p} */
	private boolean allows(Path p, PosixFilePermission what) {
		PosixFileAttributes a;
		try {
			a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
		} catch (IOException e) {
			return false;
		}
		Set<PosixFilePermission> m = a.permissions();
		boolean read = what == PosixFilePermission.OWNER_READ;
		if (a.owner().equals(user)) {
			return m.contains(what);
		}
		if (groups.contains(a.group())) {
			return m.contains(read ? PosixFilePermission.GROUP_READ : PosixFilePermission.GROUP_EXECUTE);
		}
		return m.contains(read ? PosixFilePermission.OTHERS_READ : PosixFilePermission.OTHERS_EXECUTE);
	}
}
