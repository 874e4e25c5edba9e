package psi.manager.embedded.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What psi's own service manager does with each directive: implemented,
 * or not; and which directives are part of the sandbox, so that a sandbox
 * directive it does not implement refuses the start (unless the admin
 * says {@code --allow-unsandboxed}) instead of running the service with
 * less protection than its unit asks for.
 */
final class Directives {

	static final Set<String> UNIT = Set.of("Description", "Documentation", "Requires", "Wants", "BindsTo", "After", "Before", "Conflicts",
		"PartOf", "DefaultDependencies", "StartLimitIntervalSec", "StartLimitBurst", "StartLimitInterval");

	static final Set<String> SERVICE = Set.of("Type", "RemainAfterExit", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop",
		"ExecStopPost", "Restart", "RestartSec", "TimeoutStartSec", "TimeoutStopSec", "TimeoutSec", "KillMode", "KillSignal", "SendSIGKILL",
		"PIDFile", "SuccessExitStatus", "Environment", "EnvironmentFile", "PassEnvironment", "WorkingDirectory", "StandardInput",
		"StandardOutput", "StandardError", "Nice", "OOMScoreAdjust", "MemoryMax", "TasksMax", "CPUQuota", "CPUWeight", "IOWeight", "User",
		"Group", "SupplementaryGroups", "DynamicUser", "UMask", "RootDirectory", "RootImage", "MountAPIVFS", "BindPaths", "BindReadOnlyPaths",
		"TemporaryFileSystem", "PrivateTmp", "PrivateDevices", "PrivateNetwork", "PrivateUsers", "PrivateIPC", "ProtectSystem", "ProtectHome",
		"ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectHostname", "ProtectClock",
		"ReadOnlyPaths", "InaccessiblePaths", "CapabilityBoundingSet", "AmbientCapabilities", "NoNewPrivileges", "SystemCallFilter",
		"SystemCallErrorNumber", "SystemCallArchitectures", "RestrictAddressFamilies", "RestrictNamespaces", "LockPersonality",
		"RestrictRealtime", "RestrictSUIDSGID", "MemoryDenyWriteExecute", "StateDirectory", "CacheDirectory", "LogsDirectory",
		"RuntimeDirectory", "ConfigurationDirectory", "StateDirectoryMode", "CacheDirectoryMode", "LogsDirectoryMode",
		"RuntimeDirectoryMode", "ConfigurationDirectoryMode", "LogExtraFields", "SyslogIdentifier", "NotifyAccess", "Slice", "WatchdogSec", "WatchdogSignal");

	static final Set<String> INSTALL = Set.of("WantedBy", "RequiredBy", "Alias", "Also", "DefaultInstance");

	static final Set<String> TIMER = Set.of("OnCalendar", "OnActiveSec", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec",
		"Persistent", "RandomizedDelaySec", "AccuracySec", "Unit", "RemainAfterElapse");

	static final Set<String> SOCKET = Set.of("ListenStream", "ListenDatagram", "ListenSequentialPacket", "ListenFIFO", "Accept", "Service",
		"FileDescriptorName", "SocketUser", "SocketGroup", "SocketMode", "Backlog", "ReusePort", "BindIPv6Only", "MaxConnections",
		"TriggerLimitIntervalSec", "TriggerLimitBurst", "RemoveOnStop");

	/**
	 * Directives that restrict what a service may do: left out, the service
	 * would run with less protection than its unit asks for.
	 */
	static final Set<String> SANDBOXING = Set.of("IPAddressDeny", "IPAddressAllow", "DeviceAllow", "DevicePolicy", "ProtectProc", "ProcSubset",
		"PrivateMounts", "RootHash", "RootHashSignature", "RootVerity", "MountImages", "ExtensionImages", "ExtensionDirectories",
		"NoExecPaths", "ExecPaths", "SELinuxContext", "AppArmorProfile", "SmackProcessLabel", "SecureBits", "RestrictFileSystems",
		"SocketBindAllow", "SocketBindDeny", "RestrictNetworkInterfaces", "IPIngressFilterPath", "IPEgressFilterPath", "PrivatePIDs",
		"ProtectHostnameMode", "SystemCallLog", "MemoryDenyWriteExecute", "KeyringMode", "NoNewPrivileges", "UnsetEnvironment");

	/**
	 * Directives without which the service cannot run at all: the files of
	 * an extension image layered over its root. Refused even with
	 * {@code --allow-unsandboxed}.
	 */
	static final Set<String> REQUIRED = Set.of("ExtensionImages", "ExtensionDirectories", "MountImages");

	/** What a start must know: warnings, sandbox directives missing, and directives missing it cannot run without. */
	record Report(List<String> warnings, List<String> unsandboxed, List<String> missing) {
	}

	private Directives() {
	}

	static Report check(UnitConfig c) {
		List<String> warnings = new ArrayList<>();
		List<String> unsandboxed = new ArrayList<>();
		List<String> missing = new ArrayList<>();
		for (Map.Entry<String, Map<String, List<UnitConfig.Setting>>> s : c.sections().entrySet()) {
			Set<String> known = switch (s.getKey()) {
				case "Unit" -> UNIT;
				case "Service" -> SERVICE;
				case "Install" -> INSTALL;
				case "Timer" -> TIMER;
				case "Socket" -> SOCKET;
				default -> null;
			};
			if (known == null) {
				if (!s.getKey().startsWith("X-")) {
					warnings.add("[" + s.getKey() + "] is not read by psi's own service manager");
				}
				continue;
			}
			for (Map.Entry<String, List<UnitConfig.Setting>> d : s.getValue().entrySet()) {
				String key = d.getKey();
				if (known.contains(key) || key.startsWith("X-") || d.getValue().isEmpty()) {
					continue;
				}
				UnitConfig.Setting last = d.getValue().get(d.getValue().size() - 1);
				if (key.equals("IPAddressDeny") && last.value().equals("any") && c.bool("Service", "PrivateNetwork", false)) {
					continue; // a private network namespace has nothing but its own loopback
				}
				if (key.equals("RemoveIPC")) {
					continue;
				}
				if (Limits.OPTIONS.containsKey(key)) {
					continue;
				}
				if (key.startsWith("Limit") || key.startsWith("Condition") || key.startsWith("Assert")) {
					warnings.add(key + "= (" + last.where() + ") is not implemented by psi's own service manager: ignored");
					continue;
				}
				if (REQUIRED.contains(key) && s.getKey().equals("Service")) {
					missing.add(key + "= (" + last.where() + ")");
				} else if (SANDBOXING.contains(key) || isSandboxing(key)) {
					unsandboxed.add(key + "= (" + last.where() + ")");
				} else {
					warnings.add(key + "= (" + last.where() + ") is not implemented by psi's own service manager: ignored");
				}
			}
		}
		return new Report(warnings, unsandboxed, missing);
	}

	private static boolean isSandboxing(String key) {
		return key.startsWith("Protect") || key.startsWith("Private") || key.startsWith("Restrict") || key.startsWith("SystemCall")
			|| key.startsWith("Capability") || key.endsWith("Paths") || key.startsWith("IPAddress") || key.startsWith("Device");
	}
}
