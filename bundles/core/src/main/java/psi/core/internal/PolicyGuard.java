package psi.core.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import psi.spi.unit.UnitFile;

/**
 * Whether a sandbox policy's drop-in ({@code 15-policy-NAME.conf}) only
 * tightens the sandbox. It is read after the profile and the unit, so a
 * setting with one value replaces theirs and an empty assignment resets
 * their lists: psi cannot tell in general whether that loosens a unit, so a
 * drop-in is taken as tightening only when each of its lines is of a form
 * that can only take away: a protection switched on, a deny-list entry
 * ({@code SystemCallFilter=~...}, {@code IPAddressDeny=}, ...), a path made
 * read-only or inaccessible, a resource limit. Anything else (an allow-list,
 * an empty assignment, a switch turned off, a setting psi does not know,
 * another section) widens, and the admin must name the policy for attach
 * to apply it.
 */
final class PolicyGuard {

	/** Switches that confine when on, and their strictest values besides the booleans' true. */
	private static final Set<String> ON = Set.of("ProtectClock", "ProtectKernelLogs", "ProtectKernelModules", "ProtectKernelTunables",
		"ProtectControlGroups", "ProtectHostname", "RestrictSUIDSGID", "LockPersonality", "RestrictRealtime", "MemoryDenyWriteExecute",
		"NoNewPrivileges", "PrivateTmp", "PrivateDevices", "PrivateNetwork", "PrivateUsers", "PrivateMounts", "PrivateIPC",
		"DynamicUser", "RemoveIPC", "RestrictNamespaces", "MountAPIVFS");
	/** Settings whose entries can only take away, whatever their value (but an empty reset). */
	private static final Set<String> TAKING = Set.of("IPAddressDeny", "InaccessiblePaths", "ReadOnlyPaths", "NoExecPaths",
		"TemporaryFileSystem", "SystemCallErrorNumber");
	/** Lists where a {@code ~} entry takes away (and a plain one adds). */
	private static final Set<String> DENY_LISTS = Set.of("SystemCallFilter", "CapabilityBoundingSet", "RestrictAddressFamilies",
		"RestrictFileSystems");
	/** Resource limits and accounting: they bound the service, never open the sandbox. */
	private static final Set<String> LIMITS = Set.of("MemoryMax", "MemoryHigh", "MemorySwapMax", "CPUQuota", "CPUWeight", "IOWeight",
		"TasksMax", "MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting", "IPAccounting", "LimitNOFILE", "LimitNPROC",
		"LimitCORE", "LimitFSIZE", "LimitAS", "LimitMEMLOCK", "OOMScoreAdjust", "Nice");

	private PolicyGuard() {
	}

	/**
	 * @param dropIn the policy's drop-in
	 * @return a line per setting that may widen the sandbox, in file order; empty when it only tightens
	 */
	static List<String> widening(byte[] dropIn) {
		List<String> out = new ArrayList<>();
		for (UnitFile.Assignment a : UnitFile.read(dropIn)) {
			String why = why(a);
			if (why != null) {
				out.add(a.key() + "=" + a.value() + " (line " + a.line() + "): " + why);
			}
		}
		return out;
	}

	private static String why(UnitFile.Assignment a) {
		if (!a.section().equals("Service")) {
			return "outside [Service]";
		}
		String k = a.key();
		String v = a.value().strip();
		if (v.isEmpty()) {
			return "an empty assignment resets what the profile and the unit set";
		}
		if (ON.contains(k)) {
			return ProfileGuarantees.isTrue(v) ? null : "does not switch the protection on";
		}
		switch (k) {
			case "ProtectSystem":
				return v.equals("strict") ? null : "only ProtectSystem=strict cannot loosen a profile";
			case "ProtectHome":
				return ProfileGuarantees.isTrue(v) ? null : "only ProtectHome=yes cannot loosen a profile";
			case "ProtectProc":
				return v.equals("noaccess") || v.equals("invisible") ? null : "only invisible or noaccess";
			case "ProcSubset":
				return v.equals("pid") ? null : "only pid";
			case "SystemCallArchitectures":
				return v.equals("native") ? null : "an architecture beside native adds to what the unit allows";
			case "DevicePolicy":
				return v.equals("closed") || v.equals("strict") ? null : "only closed or strict";
			default:
				break;
		}
		if (TAKING.contains(k) || LIMITS.contains(k)) {
			return null;
		}
		if (DENY_LISTS.contains(k)) {
			return v.startsWith("~") && v.length() > 1 || k.equals("RestrictAddressFamilies") && v.equals("none") ? null
				: "an allow-list entry adds to what the profile allows";
		}
		return "psi cannot tell that " + k + "= only tightens";
	}
}
