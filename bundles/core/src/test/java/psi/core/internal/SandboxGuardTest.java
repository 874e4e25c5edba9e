package psi.core.internal;

import psi.spi.unit.SyscallGroups;
import psi.spi.unit.UnitFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The corpus of units that would step out of their profile, one per way out,
 * each refused (with its line and directive) under every profile it would
 * widen and allowed under {@code trusted}; and the corpus of units whose
 * settings the profile overrides or keeps within, each allowed. The profiles
 * are systemd 252's own, as the host has them.
 */
class SandboxGuardTest {

	private static final Path PROFILES = Path.of("/usr/lib/systemd/portable/profile");
	private static final List<String> CONFINING = List.of("default", "nonetwork", "strict");
	private static final Set<String> OWN = Set.of("app.service", "app.socket", "app.timer", "app-helper.service");
	private static final SandboxGuard.Accounts HOST = new SandboxGuard.Accounts(Set.of("root", "daemon", "www-data"),
		Set.of("root", "disk", "adm", "www-data"));

	static ProfileGuarantees profile(String name) throws IOException {
		Path conf = PROFILES.resolve(name).resolve("service.conf");
		assertTrue(Files.isRegularFile(conf), conf + " is missing: apt-get install systemd-container");
		return ProfileGuarantees.of(name, Files.readAllBytes(conf));
	}

	/** unit, its [Section] body line, the directive refused, the profiles it widens (the others keep it in). */
	static List<Arguments> hostile() {
		return List.of(
			Arguments.of("app.service", "[Service]\nExecStartPre=+/usr/bin/busybox sh -c \"id > /var/tmp/esc-plus.txt\"", "ExecStartPre", CONFINING),
			Arguments.of("app.service", "[Service]\nExecStart=!/usr/bin/id", "ExecStart", CONFINING),
			Arguments.of("app.service", "[Service]\nExecStart=-!!/usr/bin/id", "ExecStart", CONFINING),
			Arguments.of("app.service", "[Service]\nExecStopPost=@+/bin/sh sh -c true", "ExecStopPost", CONFINING),
			Arguments.of("app.service", "[Service]\nPermissionsStartOnly=yes", "PermissionsStartOnly", CONFINING),
			Arguments.of("app.service", "[Service]\nUser=root", "User", CONFINING),
			Arguments.of("app.service", "[Service]\nUser=0", "User", CONFINING),
			Arguments.of("app.service", "[Service]\nUser=%u", "User", CONFINING),
			Arguments.of("app.service", "[Service]\nGroup=%G", "Group", CONFINING),
			Arguments.of("app.service", "[Service]\nUser=www-data", "User", CONFINING),
			Arguments.of("app.service", "[Service]\nGroup=disk", "Group", CONFINING),
			Arguments.of("app.service", "[Service]\nSupplementaryGroups=adm disk", "SupplementaryGroups", CONFINING),
			Arguments.of("app.service", "[Service]\nBindPaths=/:/host", "BindPaths", CONFINING),
			Arguments.of("app.service", "[Service]\nBindReadOnlyPaths=-/etc/shadow", "BindReadOnlyPaths", CONFINING),
			// strict resets the capability bounding set with an empty assignment: the unit's list is gone there
			Arguments.of("app.service", "[Service]\nCapabilityBoundingSet=CAP_SYS_MODULE", "CapabilityBoundingSet", List.of("default", "nonetwork")),
			Arguments.of("app.service", "[Service]\nCapabilityBoundingSet=~CAP_SYS_TIME", "CapabilityBoundingSet", List.of("default", "nonetwork")),
			Arguments.of("app.service", "[Service]\nRestrictAddressFamilies=AF_PACKET", "RestrictAddressFamilies", CONFINING),
			Arguments.of("app.service", "[Service]\nRestrictAddressFamilies=~AF_UNIX", "RestrictAddressFamilies", CONFINING),
			Arguments.of("app.service", "[Service]\nSystemCallFilter=@mount", "SystemCallFilter", CONFINING),
			Arguments.of("app.service", "[Service]\nSystemCallFilter=~@clock", "SystemCallFilter", CONFINING),
			Arguments.of("app.service", "[Service]\nSystemCallFilter=init_module", "SystemCallFilter", CONFINING),
			Arguments.of("app.service", "[Service]\nSystemCallArchitectures=x86", "SystemCallArchitectures", CONFINING),
			Arguments.of("app.service", "[Service]\nIPAddressAllow=any", "IPAddressAllow", List.of("nonetwork", "strict")),
			Arguments.of("app.service", "[Service]\nRootImage=/var/lib/machines/host.raw", "RootImage", CONFINING),
			Arguments.of("app.service", "[Service]\nRootDirectory=/", "RootDirectory", CONFINING),
			Arguments.of("app.service", "[Service]\nMountImages=/srv/x.raw:/mnt", "MountImages", CONFINING),
			Arguments.of("app.service", "[Service]\nExtensionImages=/srv/ext.raw", "ExtensionImages", CONFINING),
			Arguments.of("app.service", "[Service]\nExtensionDirectories=/srv/ext", "ExtensionDirectories", CONFINING),
			Arguments.of("app.service", "[Service]\nNetworkNamespacePath=/proc/1/ns/net", "NetworkNamespacePath", CONFINING),
			Arguments.of("app.service", "[Service]\nIPCNamespacePath=/proc/1/ns/ipc", "IPCNamespacePath", CONFINING),
			Arguments.of("app.service", "[Unit]\nJoinsNamespaceOf=sshd.service", "JoinsNamespaceOf", CONFINING),
			Arguments.of("app.service", "[Service]\nKeyringMode=shared", "KeyringMode", CONFINING),
			Arguments.of("app.service", "[Service]\nDelegate=yes", "Delegate", CONFINING),
			Arguments.of("app.service", "[Service]\nPAMName=login", "PAMName", CONFINING),
			Arguments.of("app.service", "[Service]\nLoadCredential=shadow:/etc/shadow", "LoadCredential", CONFINING),
			Arguments.of("app.service", "[Service]\nStandardOutput=file:/etc/cron.d/evil", "StandardOutput", CONFINING),
			Arguments.of("app.service", "[Service]\nStandardInput=tty", "StandardInput", CONFINING),
			Arguments.of("app.service", "[Service]\nTTYPath=/dev/tty1", "TTYPath", CONFINING),
			Arguments.of("app.service", "[Unit]\nFailureAction=reboot-force", "FailureAction", CONFINING),
			Arguments.of("app.service", "[Unit]\nWants=poweroff.target", "Wants", CONFINING),
			Arguments.of("app.service", "[Unit]\nConflicts=sshd.service", "Conflicts", CONFINING),
			Arguments.of("app.service", "[Unit]\nOnFailure=rescue.target", "OnFailure", CONFINING),
			Arguments.of("app.service", "[Unit]\nOnSuccess=other.service", "OnSuccess", CONFINING),
			Arguments.of("app.socket", "[Socket]\nListenStream=/run/app.sock\nExecStartPre=/bin/sh -c id", "ExecStartPre", CONFINING),
			Arguments.of("app.socket", "[Socket]\nListenStream=/run/../etc/app.sock", "ListenStream", CONFINING),
			Arguments.of("app.socket", "[Socket]\nListenFIFO=/run/./x/../../etc/app.fifo", "ListenFIFO", CONFINING),
			Arguments.of("app.socket", "[Socket]\nListenStream=/etc/app.sock", "ListenStream", CONFINING),
			Arguments.of("app.socket", "[Socket]\nListenSpecial=/dev/sda", "ListenSpecial", CONFINING),
			Arguments.of("app.socket", "[Socket]\nSymlinks=/etc/cron.d/app", "Symlinks", CONFINING),
			Arguments.of("app.socket", "[Socket]\nService=ssh.service", "Service", CONFINING),
			Arguments.of("app.timer", "[Timer]\nOnCalendar=daily\nUnit=systemd-poweroff.service", "Unit", CONFINING),
			Arguments.of("app.service", "[Install]\nAlias=dbus.service", "Alias", CONFINING),
			Arguments.of("app.service", "[Install]\nAlso=ssh.service", "Also", CONFINING),
			// a continued line is one assignment, found where it starts
			Arguments.of("app.service", "[Service]\nExecStart=\\\n  +/bin/sh -c id", "ExecStart", CONFINING));
	}

	@ParameterizedTest
	@MethodSource("hostile")
	void aWayOutIsRefusedWhereItWidensTheProfileAndAllowedUnderTrusted(String unit, String body, String directive, List<String> widened)
		throws IOException {
		byte[] content = ("[Unit]\nDescription=x\n\n" + body + "\n").getBytes(StandardCharsets.UTF_8);
		int line = 4; // the body's first line after the [Unit] header, description and blank line
		for (String p : CONFINING) {
			List<SandboxGuard.Finding> f = SandboxGuard.check(profile(p), unit, content, OWN, HOST);
			if (widened.contains(p)) {
				assertEquals(1, f.size(), p + ": " + body + " → " + f);
				assertEquals(directive, f.get(0).directive());
				String m = f.get(0).message(p);
				assertTrue(m.startsWith(unit + ":") && m.contains(": " + directive + "= ") && m.endsWith("(profile '" + p
					+ "'; --profile trusted allows it)") && !m.contains("\n"), m);
				assertTrue(f.get(0).line() > line, m);
			} else {
				assertEquals(List.of(), f, p + " keeps it in: " + body);
			}
		}
		assertEquals(List.of(), SandboxGuard.check(profile("trusted"), unit, content, OWN, HOST), "trusted allows it");
	}

	/** Settings the profile overrides or keeps within: refusing them would only teach admins to use trusted. */
	@Test
	void whatTheProfileOverridesOrKeepsWithinIsAllowed() throws IOException {
		String unit = """
			[Unit]
			Description=well-behaved
			Wants=network-online.target
			After=network-online.target
			Conflicts=shutdown.target
			Before=shutdown.target
			OnFailure=app-helper.service

			[Service]
			Type=notify
			DynamicUser=no
			User=app-runtime
			PrivateDevices=no
			PrivateTmp=no
			ProtectSystem=no
			NoNewPrivileges=no
			SystemCallFilter=@system-service
			SystemCallFilter=@basic-io @file-system
			SystemCallFilter=~
			SystemCallArchitectures=native
			RestrictAddressFamilies=AF_UNIX
			CapabilityBoundingSet=
			BindReadOnlyPaths=/etc/machine-id
			ReadWritePaths=/var/lib/app
			StateDirectory=app
			ExecStartPre=-/usr/bin/app --check
			ExecStart=@/usr/bin/app app --serve
			ExecReload=:/bin/kill -HUP $MAINPID
			StandardOutput=journal
			Environment=A=1
			EnvironmentFile=-/etc/default/app

			[Install]
			WantedBy=multi-user.target
			Alias=app-main.service
			Also=app.socket
			""";
		// "SystemCallFilter=~" alone is not a deny-list of anything: drop it, it is not systemd syntax anyone writes
		unit = unit.replace("SystemCallFilter=~\n", "");
		for (String p : CONFINING) {
			assertEquals(List.of(), SandboxGuard.check(profile(p), "app.service", unit.getBytes(StandardCharsets.UTF_8), OWN, HOST), p);
		}
		String socket = "[Socket]\nListenStream=/run/app.sock\nListenStream=8080\nListenStream=@abstract\nService=app.service\n";
		String timer = "[Timer]\nOnCalendar=daily\nUnit=app-helper.service\n";
		for (String p : CONFINING) {
			assertEquals(List.of(), SandboxGuard.check(profile(p), "app.socket", socket.getBytes(StandardCharsets.UTF_8), OWN, HOST), p);
			assertEquals(List.of(), SandboxGuard.check(profile(p), "app.timer", timer.getBytes(StandardCharsets.UTF_8), OWN, HOST), p);
		}
	}

	/** A root with systemd's default and trusted profiles and an image esc_1 whose esc.service is {@code unit}. */
	private static void escapingImage(Path root, String unit) throws IOException {
		for (String p : List.of("default", "trusted")) {
			Path conf = root.resolve("usr/lib/systemd/portable/profile/" + p + "/service.conf");
			Files.createDirectories(conf.getParent());
			Files.copy(PROFILES.resolve(p).resolve("service.conf"), conf);
		}
		Path img = root.resolve("var/lib/portables/esc_1");
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/esc.service"), unit);
	}

	/** Through the engine: refused with one line per setting and nothing written; attached under trusted. */
	@Test
	void attachRefusesAnEscapingImageAndWritesNothing(@org.junit.jupiter.api.io.TempDir Path root) throws IOException {
		escapingImage(root, """
			[Service]
			Type=oneshot
			ExecStartPre=+/usr/bin/busybox sh -c "id > /var/tmp/esc-plus.txt"
			ExecStart=/usr/bin/busybox true
			User=root
			""");
		Map<String, String> before = FaultInjectionTest.snapshot(root);
		PortablesEngine engine = HostLockWorker.engine(root);
		engine.policies = List.of();
		psi.api.dto.AttachRequestDTO r = new psi.api.dto.AttachRequestDTO();
		r.image = "esc_1";
		r.prefixes = List.of();
		psi.api.PsiException e = org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class, () -> engine.attach(r));
		assertEquals("""
			esc.service:3: ExecStartPre= with '+' runs outside the sandbox (profile 'default'; --profile trusted allows it)
			esc.service:5: User= 'root' exists on the host: with DynamicUser=yes the service runs as it, not as a dynamic user \
			(profile 'default'; --profile trusted allows it)""", e.getMessage());
		assertEquals(before, FaultInjectionTest.snapshot(root), "nothing written");
		// inspect shows the same, under the profile asked for
		assertEquals(List.of(e.getMessage().split("\n")), engine.inspect(null, "esc_1", List.of(), false, null).units.get(0).refused);
		assertEquals(List.of(), engine.inspect(null, "esc_1", List.of(), false, "trusted").units.get(0).refused);
		org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class, () -> engine.inspect(null, "esc_1", List.of(), false, "nosuch"));
		r.profile = "trusted";
		engine.attach(r);
		assertTrue(Files.isRegularFile(root.resolve("etc/systemd/system.attached/esc.service")));
	}

	/** Attached by portablectl (or a psi before this guard) under default: psi start does not start it. */
	@Test
	void startRefusesAnEscapingUnitAttachedBefore(@org.junit.jupiter.api.io.TempDir Path root) throws IOException {
		escapingImage(root, "[Service]\nExecStartPre=+/bin/id\nExecStart=/bin/true\n");
		UnitControlTest.FakeManager manager = new UnitControlTest.FakeManager();
		PortablesEngine engine = new PortablesEngine(HostLockWorker.config(root)) {
			@Override
			UnitControl control(String rootArg) {
				return new UnitControl(manager, "", calls);
			}
		};
		engine.formats = HostLockWorker.engine(root).formats;
		psi.api.dto.AttachRequestDTO r = new psi.api.dto.AttachRequestDTO();
		r.image = "esc_1";
		r.prefixes = List.of();
		r.profile = "trusted";
		engine.attach(r);
		// as portablectl attach --profile default would have left it
		Path link = root.resolve("etc/systemd/system.attached/esc.service.d/10-profile.conf");
		Files.delete(link);
		Files.createSymbolicLink(link, Path.of("/usr/lib/systemd/portable/profile/default/service.conf"));
		manager.calls.clear();
		r.profile = null;
		psi.api.PsiException e = org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class, () -> engine.start(r, null));
		assertTrue(e.getMessage().startsWith("esc.service:2: ExecStartPre= with '+' runs outside the sandbox (profile 'default';"), e.getMessage());
		assertTrue(manager.calls.stream().noneMatch(c -> c.startsWith("start")), "nothing started: " + manager.calls);
	}

	@Test
	void systemdsOwnProfilesConfineButTrusted() throws IOException {
		for (String p : CONFINING) {
			assertTrue(profile(p).confines(), p);
		}
		assertEquals(false, profile("trusted").confines());
	}

	@Test
	void everyFindingOfAUnitIsReportedWithItsLine() throws IOException {
		String unit = "[Service]\nExecStartPre=+/bin/true\nUser=root\nExecStart=/bin/app\nBindPaths=/srv\n";
		List<SandboxGuard.Finding> f = SandboxGuard.check(profile("default"), "app.service", unit.getBytes(StandardCharsets.UTF_8), OWN, HOST);
		assertEquals(List.of(2, 3, 5), f.stream().map(SandboxGuard.Finding::line).toList());
		assertEquals("app.service:2: ExecStartPre= with '+' runs outside the sandbox (profile 'default'; --profile trusted allows it)",
			f.get(0).message("default"));
	}

	@Test
	void systemCallGroupsExpandAsSystemdLists() {
		Set<String> service = SyscallGroups.of("@system-service");
		assertTrue(service.contains("read") && service.contains("openat") && !service.contains("mount") && !service.contains("init_module"),
			"@system-service");
		assertTrue(service.containsAll(SyscallGroups.of("@basic-io")));
		assertTrue(!service.containsAll(SyscallGroups.of("@mount")));
	}
}
