package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.DetachRequestDTO;
import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.unit.UnitFile;

/** The admin's firewall and limits: checked values, psi's drop-in beside each service, kept by reattach, removed by detach. */
class ResourceLimitsTest {

	@TempDir
	Path root;

	static AttachRequestDTO request() {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = "app";
		return r;
	}

	@Test
	void nothingAskedWritesNothing() {
		assertNull(ResourceLimits.dropIn(request()));
	}

	@Test
	void theDropInResetsTheAddressListsAndSystemdReadsBackEachValue() {
		AttachRequestDTO r = request();
		r.denyIp = List.of("any");
		r.allowIp = List.of("127.0.0.1/32", "::1/128 10.0.0.0/8", "localhost");
		r.memoryMax = "512M";
		r.cpuQuota = "50";
		r.tasksMax = "64";
		String conf = new String(ResourceLimits.dropIn(r), StandardCharsets.UTF_8);
		List<String> lines = UnitFile.read(conf.getBytes(StandardCharsets.UTF_8)).stream().map(a -> a.key() + "=" + a.value()).toList();
		assertEquals(List.of("IPAccounting=yes", "MemoryAccounting=yes", "CPUAccounting=yes", "TasksAccounting=yes", "IPAddressAllow=",
			"IPAddressAllow=127.0.0.1/32", "IPAddressAllow=::1/128", "IPAddressAllow=10.0.0.0/8", "IPAddressAllow=localhost", "IPAddressDeny=",
			"IPAddressDeny=any", "MemoryMax=512M", "CPUQuota=50%", "TasksMax=64"), lines);
	}

	@Test
	void badValuesAreRefusedNamingTheOption() {
		for (String[] bad : new String[][] { { "allow", "example.com" }, { "allow", "10.0.0.256" }, { "allow", "10.0.0.0/33" },
			{ "deny", "::1::2" }, { "deny", "fe80::1/129" }, { "deny", "1.2.3.4\nExecStart=/bin/sh" }, { "memory", "lots" },
			{ "memory", "101%" }, { "cpu", "0%" }, { "cpu", "fast" }, { "tasks", "-1" } }) {
			AttachRequestDTO r = request();
			switch (bad[0]) {
				case "allow" -> r.allowIp = List.of(bad[1]);
				case "deny" -> r.denyIp = List.of(bad[1]);
				case "memory" -> r.memoryMax = bad[1];
				case "cpu" -> r.cpuQuota = bad[1];
				default -> r.tasksMax = bad[1];
			}
			PsiException e = assertThrows(PsiException.class, () -> ResourceLimits.dropIn(r), String.join(" ", bad));
			assertTrue(e.getMessage().startsWith("--"), e.getMessage());
			assertFalse(e.getMessage().contains("\n"), e.getMessage());
		}
	}

	@Test
	void attachWritesItReattachKeepsItDetachRemovesIt() throws IOException {
		ImageFormat dirs = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? Optional.<ImageTree>of(new DirectoryTree(path, "directory"))
			: Optional.empty();
		TestHost host = new TestHost(new HostLayout(root), List.of(dirs), List.of(PolicyTest.profiles()));
		Path img = root.resolve("var/lib/portables/app");
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/app.service"), "[Service]\nExecStart=/bin/true\n");
		AttachRequestDTO r = request();
		r.memoryMax = "1G";
		host.attach(r, false);
		Path conf = root.resolve("etc/systemd/system.attached/app.service.d/" + ResourceLimits.FILE);
		assertTrue(Files.readString(conf).contains("\nMemoryMax=1G\n"));
		host.attach(request(), true);
		assertTrue(Files.readString(conf).contains("\nMemoryMax=1G\n"), "kept by reattach");
		DetachRequestDTO d = new DetachRequestDTO();
		d.image = "app";
		host.detach(d);
		assertFalse(Files.exists(conf.getParent()));
		assertFalse(Files.exists(root.resolve("etc/systemd/system.attached")), "nothing of it left");
	}
}
