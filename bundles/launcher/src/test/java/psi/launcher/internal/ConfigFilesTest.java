package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /etc/psi/PID.cfg files read as configurations; bad ones named and skipped. */
class ConfigFilesTest {

	@TempDir
	Path dir;

	@Test
	void eachCfgFileIsTheConfigurationOfItsPid() throws IOException {
		Files.writeString(dir.resolve("psi.transport.https.cfg"), "# comment\nallowHttp = true \nidleTimeout=10\n");
		Files.writeString(dir.resolve("psi.transport.ssh.cfg"), "configFile=/etc/psi/ssh_config\n");
		Files.writeString(dir.resolve("README"), "not a configuration\n");
		StringBuilder problems = new StringBuilder();
		Map<String, Map<String, String>> c = ConfigFiles.read(dir, problems);
		assertEquals(Map.of("allowHttp", "true", "idleTimeout", "10"), c.get("psi.transport.https"));
		assertEquals(Map.of("configFile", "/etc/psi/ssh_config"), c.get("psi.transport.ssh"));
		assertEquals(2, c.size());
		assertEquals("", problems.toString());
	}

	@Test
	void anOversizedOrOddFileIsNamedAndSkipped() throws IOException {
		Files.writeString(dir.resolve("big.cfg"), "x=" + "y".repeat(70_000));
		Files.createDirectory(dir.resolve("dir.cfg"));
		StringBuilder problems = new StringBuilder();
		assertTrue(ConfigFiles.read(dir, problems).isEmpty());
		assertTrue(problems.toString().contains("psi: ignoring " + dir.resolve("big.cfg")), problems.toString());
		assertTrue(problems.toString().contains("psi: ignoring " + dir.resolve("dir.cfg")), problems.toString());
	}

	@Test
	void noDirectoryNoConfiguration() {
		StringBuilder problems = new StringBuilder();
		assertTrue(ConfigFiles.read(dir.resolve("missing"), problems).isEmpty());
		assertEquals("", problems.toString());
	}
}
