package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.dto.ChangeDTO;

/** What detach --clean removes: the service's own directories, read from the attached files, never more. */
class ServiceDirectoriesTest {

	@TempDir
	Path root;

	Path dir(String p) throws Exception {
		return Files.createDirectories(root.resolve(p.substring(1)));
	}

	@Test
	void theDirectoriesTheUnitNamesGoAndNothingElse() throws Exception {
		Path attached = dir("/etc/systemd/system.attached");
		Files.writeString(attached.resolve("app.service"), "[Service]\nExecStart=/bin/app\nStateDirectory=app app/sub:alias\n"
			+ "CacheDirectory=gone\nCacheDirectory=\nCacheDirectory=app\nLogsDirectory=../escape /abs %n\nConfigurationDirectory=systemd\n");
		Files.createDirectories(attached.resolve("app.service.d"));
		Files.writeString(attached.resolve("app.service.d/20-portable.conf"), "[Service]\nRuntimeDirectory=app\n");
		Files.writeString(attached.resolve("app.socket"), "[Socket]\nListenStream=/run/app.sock\n");
		dir("/var/lib/private/app/data");
		Files.createSymbolicLink(root.resolve("var/lib/app"), Path.of("private/app"));
		Files.writeString(dir("/var/cache/app").resolve("c"), "x");
		dir("/var/cache/gone");
		dir("/run/app");
		dir("/etc/systemd/system");
		dir("/var/log/escape");
		HostLayout layout = new HostLayout(root);

		List<String> found = ServiceDirectories.of(layout, "/etc/systemd/system.attached", List.of("app.service", "app.socket"));
		assertEquals(List.of("/var/lib/app", "/var/lib/private/app", "/var/cache/app", "/run/app", "/etc/systemd"), found);

		List<String> kept = new ArrayList<>();
		List<ChangeDTO> removed = ServiceDirectories.remove(layout, found, "/var/lib/portables/app", kept);
		assertTrue(removed.stream().allMatch(c -> c.type == ChangeDTO.Type.UNLINK));
		assertFalse(Files.exists(root.resolve("var/lib/app"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
		assertFalse(Files.exists(root.resolve("var/lib/private/app")));
		assertFalse(Files.exists(root.resolve("var/cache/app")));
		assertFalse(Files.exists(root.resolve("run/app")));
		// what the unit reset, what escapes, and what systemd keeps stay
		assertTrue(Files.isDirectory(root.resolve("var/cache/gone")));
		assertTrue(Files.isDirectory(root.resolve("var/log/escape")));
		assertTrue(Files.isDirectory(root.resolve("etc/systemd/system")));
		assertEquals(List.of("kept /etc/systemd: it is or holds /etc/systemd"), kept);
		assertTrue(Files.isDirectory(root.resolve("var/lib/private")), "the private base stays");
	}
}
