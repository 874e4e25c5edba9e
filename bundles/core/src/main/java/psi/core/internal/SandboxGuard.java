package psi.core.internal;

import psi.spi.unit.SyscallGroups;
import psi.spi.unit.UnitFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;


/**
 * An image cannot widen its own sandbox. The profile reaches a service as
 * the drop-in {@code 10-profile.conf}, read after the unit file: a setting
 * with one value that the profile sets replaces the unit's, and an empty
 * assignment in the profile resets the unit's list. What the profile does
 * not override is what gets out, and is refused here, per unit, with the
 * line that says it:
 * <ul>
 * <li>exec prefixes {@code +} (no sandbox at all) and {@code !}/{@code !!}
 * (root instead of the profile's user), and {@code PermissionsStartOnly=yes};</li>
 * <li>{@code User=}/{@code Group=}/{@code SupplementaryGroups=} naming root,
 * a number, or a user or group that exists on the host, beside the profile's
 * {@code DynamicUser=yes}, which then runs the service as that user;</li>
 * <li>list settings systemd merges, where the unit's entries go beyond the
 * profile's: {@code CapabilityBoundingSet=}, {@code RestrictAddressFamilies=},
 * {@code SystemCallFilter=} (an allow-list is a union; a deny-list first turns
 * the whole filter into a deny-list), {@code SystemCallArchitectures=};
 * {@code IPAddressAllow=} beside the profile's {@code IPAddressDeny=};
 * {@code BindPaths=}/{@code BindReadOnlyPaths=} of host paths;</li>
 * <li>settings the profile does not mention that reach the host: other root
 * file systems and images ({@code RootDirectory=}, {@code RootImage=},
 * {@code MountImages=}, {@code ExtensionImages=},
 * {@code ExtensionDirectories=}), the host's namespaces
 * ({@code NetworkNamespacePath=}, {@code IPCNamespacePath=},
 * {@code JoinsNamespaceOf=}), {@code KeyringMode=shared}, {@code Delegate=},
 * {@code PAMName=}, host files opened by the service manager as root
 * ({@code LoadCredential=} of a path, {@code StandardInput/Output/Error=}
 * {@code file:}/{@code append:}/{@code truncate:}/{@code tty}, {@code TTYPath=});</li>
 * <li>in any unit: actions that reboot or power off the host
 * ({@code SuccessAction=}, {@code FailureAction=}, ...), dependencies on
 * such targets, {@code Conflicts=} with a host unit (which stops it),
 * {@code OnFailure=}/{@code OnSuccess=} starting a host unit, and a timer's,
 * path's or socket's {@code Unit=}/{@code Service=} naming a unit that is
 * not the image's own; {@code Alias=} of another name and {@code Also=} of
 * a host unit, which enabling would make;</li>
 * <li>units the profile does not reach at all (no profile and no root
 * directory is written for them, as by portabled): a socket's
 * {@code Exec*=} commands, which run on the host as root; its
 * {@code Symlinks=}, {@code ListenSpecial=} and socket or FIFO paths outside
 * {@code /run}.</li>
 * </ul>
 * A profile that confines nothing ({@code trusted}) allows all of it, as
 * portablectl does: a profile confines when it sets any of
 * {@link ProfileGuarantees#CONFINING}.
 */
final class SandboxGuard {

	private static final Set<String> EXEC = Set.of("ExecStart", "ExecStartPre", "ExecStartPost", "ExecCondition", "ExecReload",
		"ExecStop", "ExecStopPost", "ExecStopPre");
	private static final Set<String> ACTIONS = Set.of("SuccessAction", "FailureAction", "StartLimitAction", "JobTimeoutAction",
		"JobRunningTimeoutAction");
	private static final Set<String> STARTS = Set.of("Wants", "Requires", "Requisite", "BindsTo", "Upholds", "OnFailure",
		"OnSuccess", "PropagatesStopTo", "Conflicts");
	/** Targets that stop, reboot or suspend the host. */
	private static final Set<String> HOST_TARGETS = Set.of("poweroff.target", "reboot.target", "halt.target", "kexec.target",
		"soft-reboot.target", "ctrl-alt-del.target", "emergency.target", "rescue.target", "exit.target", "suspend.target",
		"hibernate.target", "hybrid-sleep.target", "suspend-then-hibernate.target", "sleep.target", "shutdown.target",
		"final.target", "umount.target");
	private static final Set<String> HOST_REACHING = Set.of("RootDirectory", "RootImage", "MountImages", "ExtensionImages",
		"ExtensionDirectories", "NetworkNamespacePath", "IPCNamespacePath", "PAMName", "TTYPath");

	/** One setting a unit may not have under a profile. */
	record Finding(String unit, int line, String directive, String why) {
		/**
		 * @return the admin's line: {@code esc.service:3: ExecStartPre= with '+' runs outside the sandbox (profile 'default';
		 *         --profile trusted allows it)}
		 */
		String message(String profile) {
			return unit + ":" + line + ": " + directive + "= " + why + " (profile '" + profile + "'; --profile trusted allows it)";
		}
	}

	/** The users and groups of the host, which {@code DynamicUser=yes} would use as they are. */
	record Accounts(Set<String> users, Set<String> groups) {
		static final Accounts NONE = new Accounts(Set.of("root"), Set.of("root"));

		/** Reads {@code /etc/passwd} and {@code /etc/group} under the root; what cannot be read counts as root alone. */
		static Accounts of(HostLayout layout) {
			return new Accounts(names(layout, "/etc/passwd"), names(layout, "/etc/group"));
		}

		private static Set<String> names(HostLayout layout, String path) {
			Set<String> out = new HashSet<>(Set.of("root"));
			try {
				java.nio.file.Path p = layout.real(path);
				if (java.nio.file.Files.isRegularFile(p) && java.nio.file.Files.size(p) < (16 << 20)) {
					for (String line : java.nio.file.Files.readAllLines(p, StandardCharsets.UTF_8)) {
						int colon = line.indexOf(':');
						if (colon > 0) {
							out.add(line.substring(0, colon));
						}
					}
				}
			} catch (IOException | java.io.UncheckedIOException e) {
				// a host whose accounts cannot be read: root still counts
			}
			return out;
		}
	}

	private SandboxGuard() {
	}

	/**
	 * Judges the units an image attaches together under a profile.
	 *
	 * @param conf the profile's {@code service.conf}
	 * @param units unit name → its file
	 * @return unit → the admin's lines of what it may not have (empty when it keeps inside), in the units' order; the
	 *         host's accounts are read only for a profile that confines
	 */
	static Map<String, List<String>> refusals(String profile, byte[] conf, Map<String, byte[]> units, HostLayout layout) {
		ProfileGuarantees g = ProfileGuarantees.of(profile, conf);
		Accounts accounts = g.confines() ? Accounts.of(layout) : Accounts.NONE;
		Map<String, List<String>> out = new LinkedHashMap<>();
		for (Map.Entry<String, byte[]> u : units.entrySet()) {
			List<String> lines = new ArrayList<>();
			for (Finding f : check(g, u.getKey(), u.getValue(), units.keySet(), accounts)) {
				lines.add(f.message(profile));
			}
			out.put(u.getKey(), lines);
		}
		return out;
	}

	/** @return every line of {@link #refusals}, one per line, or empty */
	static String joined(Map<String, List<String>> refusals) {
		return String.join("\n", refusals.values().stream().flatMap(List::stream).toList());
	}

	/**
	 * @param g what the profile guarantees
	 * @param unit the unit's file name
	 * @param content the unit file as the image has it
	 * @param own the image's units being attached with it
	 * @return what the unit may not have under the profile, in line order; empty under a profile that confines nothing
	 */
	static List<Finding> check(ProfileGuarantees g, String unit, byte[] content, Set<String> own, Accounts accounts) {
		List<Finding> out = new ArrayList<>();
		if (!g.confines()) {
			return out;
		}
		boolean service = unit.endsWith(".service");
		boolean socket = unit.endsWith(".socket");
		for (UnitFile.Assignment a : UnitFile.read(content)) {
			String k = a.key();
			String v = a.value();
			String why = null;
			if (a.section().equals("Unit")) {
				why = unitSection(k, v, own);
			} else if (a.section().equals("Install")) {
				why = install(unit, k, v, own);
			} else if (a.section().equals("Service") && service) {
				why = service(g, k, v, accounts);
			} else if (a.section().equals("Socket") && socket) {
				why = socket(k, v, own);
			} else if ((a.section().equals("Timer") || a.section().equals("Path")) && k.equals("Unit") && !own.contains(v)) {
				why = "activates '" + UnitValues.show(v) + "', not a unit of this image, outside the sandbox";
			}
			if (why != null) {
				out.add(new Finding(unit, a.line(), k, why));
			}
		}
		return out;
	}

	private static String unitSection(String k, String v, Set<String> own) {
		if (ACTIONS.contains(k) && !v.isEmpty() && !v.equals("none")) {
			return "'" + UnitValues.show(v) + "' acts on the host, outside the sandbox";
		}
		if (k.equals("JoinsNamespaceOf") && !v.isEmpty()) {
			return "joins the namespaces of '" + UnitValues.show(v) + "', outside the sandbox";
		}
		if (STARTS.contains(k)) {
			for (String u : ProfileGuarantees.words(v)) {
				if (own.contains(u)) {
					continue;
				}
				if (HOST_TARGETS.contains(u) && !(k.equals("Conflicts") && u.equals("shutdown.target"))) {
					return "'" + UnitValues.show(u) + "' stops, reboots or suspends the host, outside the sandbox";
				}
				if (!u.endsWith(".target") && (k.equals("Conflicts") || k.equals("OnFailure") || k.equals("OnSuccess")
					|| k.equals("PropagatesStopTo"))) {
					return (k.equals("Conflicts") || k.equals("PropagatesStopTo") ? "stops" : "starts") + " the host's '" + UnitValues.show(u)
						+ "', outside the sandbox";
				}
			}
		}
		return null;
	}

	/**
	 * {@code Alias=} outside the unit's own name takes over a host unit's name
	 * when enabled ({@code /etc/systemd/system} comes first); {@code Also=}
	 * enables a host unit.
	 */
	private static String install(String unit, String k, String v, Set<String> own) {
		for (String u : ProfileGuarantees.words(v)) {
			if (own.contains(u)) {
				continue;
			}
			if (k.equals("Alias") && !u.startsWith(stem(unit))) {
				return "'" + UnitValues.show(u) + "' takes the name of a host unit when enabled, outside the sandbox";
			}
			if (k.equals("Also")) {
				return "enables the host's '" + UnitValues.show(u) + "', outside the sandbox";
			}
		}
		return null;
	}

	/** @return a unit name up to its first {@code @} or {@code .}: {@code app} of {@code app@.service} */
	private static String stem(String unit) {
		int end = unit.length();
		for (char c : new char[] { '@', '.' }) {
			int i = unit.indexOf(c);
			if (i > 0 && i < end) {
				end = i;
			}
		}
		return unit.substring(0, end);
	}

	private static String service(ProfileGuarantees g, String k, String v, Accounts accounts) {
		if (EXEC.contains(k)) {
			String prefix = execPrefix(v);
			if (prefix.contains("+")) {
				return "with '+' runs outside the sandbox";
			}
			if (prefix.contains("!")) {
				return "with '" + (prefix.contains("!!") ? "!!" : "!") + "' runs as root, not as the user";
			}
			return null;
		}
		if (k.equals("PermissionsStartOnly") && ProfileGuarantees.isTrue(v)) {
			return "yes runs the start, stop and reload commands outside the sandbox";
		}
		if (HOST_REACHING.contains(k) && !v.isEmpty()) {
			return "'" + UnitValues.show(v) + "' reaches the host, outside the sandbox";
		}
		switch (k) {
			case "User", "Group" -> {
				if (g.dynamicUser() && v.contains("%")) {
					return "'" + UnitValues.show(v) + "' holds a specifier, which names the service manager's own user (root) on the host";
				}
				Set<String> existing = k.equals("User") ? accounts.users() : accounts.groups();
				if (g.dynamicUser() && !v.isEmpty() && (existing.contains(v) || v.chars().allMatch(Character::isDigit))) {
					return "'" + UnitValues.show(v) + "' exists on the host: with DynamicUser=yes the service runs as it, not as a dynamic user";
				}
			}
			case "SupplementaryGroups" -> {
				for (String grp : ProfileGuarantees.words(v)) {
					if (g.dynamicUser() && (accounts.groups().contains(grp) || grp.chars().allMatch(Character::isDigit) || grp.contains("%"))) {
						return "gives the host's group '" + UnitValues.show(grp) + "', outside the sandbox";
					}
				}
			}
			case "BindPaths", "BindReadOnlyPaths" -> {
				for (String w : ProfileGuarantees.words(v)) {
					if (!g.binds().contains(ProfileGuarantees.source(w))) {
						return "binds the host's " + UnitValues.show(ProfileGuarantees.source(w)) + " into the sandbox";
					}
				}
			}
			case "KeyringMode" -> {
				if (v.equals("shared")) {
					return "shared gives the service the host's keyring, outside the sandbox";
				}
			}
			case "Delegate" -> {
				if (!v.isEmpty() && !ProfileGuarantees.isFalse(v)) {
					return "'" + UnitValues.show(v) + "' hands the service part of the host's cgroup tree, outside the sandbox";
				}
			}
			case "LoadCredential", "LoadCredentialEncrypted" -> {
				int colon = v.indexOf(':');
				if (colon >= 0 && v.substring(colon + 1).startsWith("/")) {
					return "reads the host's " + UnitValues.show(v.substring(colon + 1)) + " as root, outside the sandbox";
				}
			}
			case "StandardInput", "StandardOutput", "StandardError" -> {
				if (v.startsWith("file:") || v.startsWith("append:") || v.startsWith("truncate:") || v.startsWith("tty")) {
					return "'" + UnitValues.show(v) + "' is opened on the host as root, outside the sandbox";
				}
			}
			case "IPAddressAllow" -> {
				if (g.ipDeny() && !v.isEmpty()) {
					return "'" + UnitValues.show(v) + "' lifts the IPAddressDeny=";
				}
			}
			case "CapabilityBoundingSet" -> {
				return beyond(g, k, v, "capabilities", w -> Set.of(w.toUpperCase(Locale.ROOT)));
			}
			case "RestrictAddressFamilies" -> {
				if (v.equals("none")) {
					return null;
				}
				return beyond(g, k, v, "address families", Set::of);
			}
			case "SystemCallArchitectures" -> {
				return beyond(g, k, v, "architectures", Set::of);
			}
			case "SystemCallFilter" -> {
				return beyond(g, k, v, "system calls", SyscallGroups::of);
			}
			default -> {
			}
		}
		return null;
	}

	private static String socket(String k, String v, Set<String> own) {
		if (EXEC.contains(k)) {
			return "runs on the host as root: a socket unit gets no profile and no image root";
		}
		switch (k) {
			case "Symlinks" -> {
				return "creates '" + UnitValues.show(v) + "' on the host as root, outside the sandbox";
			}
			case "ListenSpecial" -> {
				return "opens the host's " + UnitValues.show(v) + " as root, outside the sandbox";
			}
			case "ListenStream", "ListenDatagram", "ListenSequentialPacket", "ListenFIFO", "ListenUSBFunction", "ListenMessageQueue" -> {
				// "/run/../etc/x" is outside /run too: the path as the kernel resolves it
				if (v.startsWith("/") && (!v.startsWith("/run/") || !java.nio.file.Path.of(v).normalize().toString().equals(v.replaceAll("/+$", ""))
					|| v.contains("/./") || v.endsWith("/."))) {
					return "creates " + UnitValues.show(v) + " on the host as root, outside /run";
				}
			}
			case "Service" -> {
				if (!own.contains(v)) {
					return "activates '" + UnitValues.show(v) + "', not a unit of this image";
				}
			}
			default -> {
			}
		}
		return null;
	}

	/**
	 * A list setting systemd merges: refused when the profile sets it (without
	 * resetting it) and the unit's entries go beyond the profile's, or invert it.
	 */
	private static String beyond(ProfileGuarantees g, String k, String v, String what, java.util.function.Function<String, Set<String>> expand) {
		ProfileGuarantees.ListSetting p = g.list(k);
		if (p == null || v.isEmpty()) {
			return null;
		}
		if (v.startsWith("~")) {
			return "'" + UnitValues.show(v) + "' is a deny-list: merged into the profile's allow-list it allows what the profile does not";
		}
		Set<String> allowed = new HashSet<>();
		for (String w : p.values()) {
			allowed.addAll(expand.apply(strip(w)));
		}
		Set<String> extra = new TreeSet<>();
		for (String w : ProfileGuarantees.words(v)) {
			for (String e : expand.apply(strip(w))) {
				if (!allowed.contains(e) && !(k.equals("SystemCallArchitectures") && e.equals("native"))) {
					extra.add(e);
				}
			}
		}
		if (extra.isEmpty()) {
			return null;
		}
		List<String> shown = new ArrayList<>(extra).subList(0, Math.min(extra.size(), 5));
		return "adds " + what + " the profile does not allow (" + UnitValues.show(String.join(" ", shown)) + (extra.size() > 5 ? " …" : "")
			+ "): systemd merges the unit's list with the profile's";
	}

	/** A system call filter entry without its {@code :errno}. */
	private static String strip(String w) {
		int colon = w.indexOf(':');
		return colon > 0 ? w.substring(0, colon) : w;
	}

	/** @return the prefix characters of a command line: {@code @-:+!} */
	static String execPrefix(String v) {
		int i = 0;
		while (i < v.length() && "@-:+!|".indexOf(v.charAt(i)) >= 0) {
			i++;
		}
		return v.substring(0, i);
	}


}
