package psi.manager.embedded.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Units and drop-ins found and merged in systemd's order; capability sets merged as systemd merges them; unimplemented sandbox directives named. */
class UnitLoaderTest {

	@TempDir
	Path root;

	private Path write(String path, String content) throws Exception {
		Path p = root.resolve(path);
		Files.createDirectories(p.getParent());
		Files.writeString(p, content);
		return p;
	}

	@Test
	void fragmentThenDropInsByNameAcrossDirectories() throws Exception {
		write("etc/systemd/system.attached/web.service", "[Service]\nExecStart=/bin/a\nEnvironment=A=1\nBindPaths=/x\n");
		write("etc/systemd/system.attached/web.service.d/20-portable.conf", "[Service]\nEnvironment=B=2\n");
		write("etc/systemd/system.attached/web.service.d/10-profile.conf", "[Service]\nBindPaths=\nBindPaths=/y\n");
		// a drop-in of the same name in a directory searched earlier hides the later one
		write("etc/systemd/system/web.service.d/20-portable.conf", "[Service]\nEnvironment=C=3\n");
		write("etc/systemd/system.attached/service.d/30-all.conf", "[Service]\nEnvironment=D=4\n");
		UnitConfig c = new UnitLoader(root).load("web.service");
		assertEquals(List.of("A=1", "D=4", "C=3").stream().sorted().toList(),
			c.all("Service", "Environment").stream().map(UnitConfig.Setting::value).sorted().toList());
		assertEquals(List.of("/y"), c.all("Service", "BindPaths").stream().map(UnitConfig.Setting::value).toList(), "an empty assignment resets the list");
		assertEquals(3, c.dropIns().size());
		assertTrue(c.dropIns().get(0).endsWith("10-profile.conf"), c.dropIns().toString());
	}

	@Test
	void instancesUseTheirTemplateAndPrefixDropIns() throws Exception {
		write("run/systemd/system.attached/app-web@.service", "[Service]\nExecStart=/bin/a %i\n");
		write("run/systemd/system.attached/app-.service.d/x.conf", "[Service]\nUser=nobody\n");
		UnitConfig c = new UnitLoader(root).load("app-web@one.service");
		assertEquals("nobody", c.get("Service", "User"));
		assertEquals(List.of("app-web@one.service.d", "app-web@.service.d", "app-.service.d", "service.d"), UnitLoader.dropInDirs("app-web@one.service"));
		assertNull(new UnitLoader(root).load("other.service"));
		assertThrows(UnitConfig.UnitException.class, () -> new UnitLoader(root).load("../etc/passwd"));
	}

	@Test
	void linksStayInsideTheRoot() throws Exception {
		Path target = write("var/lib/portables/img/usr/lib/systemd/system/web.service", "[Service]\nExecStart=/bin/a\n");
		Files.createDirectories(root.resolve("etc/systemd/system.attached"));
		Files.createSymbolicLink(root.resolve("etc/systemd/system.attached/web.service"), Path.of("/var/lib/portables/img/usr/lib/systemd/system/web.service"));
		assertEquals(target, new UnitLoader(root).load("web.service").fragment());
		Files.createSymbolicLink(root.resolve("etc/systemd/system.attached/up.service"), Path.of("../../../../../../../../etc/passwd"));
		assertNull(new UnitLoader(root).load("up.service"), "a link out of the root is not followed");
	}

	@Test
	void capabilitySetsMergeAsSystemdMergesThem() throws Exception {
		write("etc/systemd/system/a.service", "[Service]\nCapabilityBoundingSet=CAP_CHOWN CAP_KILL\nCapabilityBoundingSet=CAP_NET_RAW\n");
		write("etc/systemd/system/b.service", "[Service]\nCapabilityBoundingSet=~CAP_SYS_ADMIN\n");
		write("etc/systemd/system/c.service", "[Service]\nCapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=\n");
		write("etc/systemd/system/d.service", "[Service]\nCapabilityBoundingSet=CAP_BOGUS\n");
		UnitLoader l = new UnitLoader(root);
		long all = (1L << Sandbox.CAPABILITIES.size()) - 1;
		assertEquals(1L << 0 | 1L << 5 | 1L << 13, Sandbox.capabilities(l.load("a.service"), "CapabilityBoundingSet", all));
		assertEquals(all & ~(1L << 21), Sandbox.capabilities(l.load("b.service"), "CapabilityBoundingSet", all));
		assertEquals(0L, Sandbox.capabilities(l.load("c.service"), "CapabilityBoundingSet", all), "an empty assignment is the empty set");
		assertThrows(UnitConfig.UnitException.class, () -> Sandbox.capabilities(l.load("d.service"), "CapabilityBoundingSet", all));
	}

	@Test
	void unimplementedSandboxDirectivesAreNamedOthersWarned() throws Exception {
		write("etc/systemd/system/a.service", "[Service]\nExecStart=/bin/a\nDeviceAllow=/dev/null rw\nIPAddressDeny=any\nOOMPolicy=stop\nX-Mine=1\n"
			+ "[Frobnicate]\nX=1\n");
		Directives.Report r = Directives.check(new UnitLoader(root).load("a.service"));
		assertEquals(2, r.unsandboxed().size(), r.toString());
		assertTrue(r.unsandboxed().get(0).startsWith("DeviceAllow="), r.toString());
		assertTrue(r.warnings().stream().anyMatch(w -> w.startsWith("OOMPolicy=")), r.toString());
		assertTrue(r.warnings().stream().anyMatch(w -> w.contains("[Frobnicate]")), r.toString());
		write("etc/systemd/system/b.service", "[Service]\nExecStart=/bin/a\nPrivateNetwork=yes\nIPAddressDeny=any\n");
		assertEquals(List.of(), Directives.check(new UnitLoader(root).load("b.service")).unsandboxed(), "IPAddressDeny=any holds in a private network");
	}

	@Test
	void limitsAsPrlimitSetsThem() throws Exception {
		write("etc/systemd/system/l.service", "[Service]\nLimitNOFILE=1024:4096\nLimitCORE=infinity\nLimitAS=1G\nLimitCPU=1min 30s\nLimitNICE=-5\n");
		String p = Limits.prlimit(new UnitLoader(root).load("l.service"));
		assertTrue(p.contains("--nofile=1024:4096 "), p);
		assertTrue(p.contains("--core=unlimited:unlimited "), p);
		assertTrue(p.contains("--as=1073741824:1073741824 "), p);
		assertTrue(p.contains("--cpu=90:90 "), p);
		assertTrue(p.contains("--nice=25:25 "), p);
		write("etc/systemd/system/bad.service", "[Service]\nLimitNOFILE=$(reboot)\n");
		assertThrows(UnitConfig.UnitException.class, () -> Limits.prlimit(new UnitLoader(root).load("bad.service")), "nothing but numbers reach the shell");
	}
}
