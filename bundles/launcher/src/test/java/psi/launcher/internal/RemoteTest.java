package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** psi -H: what is taken out of a command line, which hosts are accepted, and how arguments reach the remote shell. */
class RemoteTest {

	@TempDir
	Path dir;

	@Test
	void hostOptionsAreTakenOutAnywhereBeforeTheEndOfOptions() throws Exception {
		Remote.Split s = Remote.split(List.of("-H", "a", "--root", "/r", "start", "--host=root@b:2222", "-Hc", "--parallel", "3", "./x.psi", "--", "-H"),
			dir);
		assertEquals(List.of("a", "root@b:2222", "c"), s.hosts().stream().map(Remote.Target::toString).toList());
		assertEquals("root@b", s.hosts().get(1).destination());
		assertEquals("2222", s.hosts().get(1).port());
		assertEquals(3, s.parallel());
		assertEquals(List.of("--root", "/r", "start", "./x.psi", "--", "-H"), s.rest());
		assertEquals(List.of(), Remote.split(List.of("list"), dir).hosts());
	}

	@Test
	void aFileOfHostsAndLists() throws Exception {
		Files.writeString(dir.resolve("hosts"), "# web\nweb1\n\n  web2:22 \n");
		assertEquals(List.of("web1", "web2:22", "db"),
			Remote.split(List.of("-H", "@hosts", "-H", "db", "list"), dir).hosts().stream().map(Remote.Target::toString).toList());
		assertEquals(List.of("x", "y", "[::1]:22"), Remote.split(List.of("-H", "x,y,[::1]:22", "list"), dir).hosts().stream().map(Remote.Target::toString).toList());
	}

	@Test
	void whatSshWouldReadAsMoreIsRefused() {
		for (String bad : List.of("-oProxyCommand=x", "a b", "a;b", "", "a,", "h:0", "h:99999", "h:x", "$(id)", "a@b@c")) {
			assertThrows(CommandLine.UsageException.class, () -> Remote.split(List.of("-H", bad, "list"), dir), bad);
		}
		assertThrows(CommandLine.UsageException.class, () -> Remote.split(List.of("-H"), dir));
		assertThrows(CommandLine.UsageException.class, () -> Remote.split(List.of("--parallel", "2", "list"), dir), "--parallel without hosts");
		assertThrows(CommandLine.UsageException.class, () -> Remote.split(List.of("-H", "a", "--parallel", "0", "list"), dir));
		assertThrows(CommandLine.UsageException.class, () -> Remote.split(List.of("-H", "@missing", "list"), dir));
	}

	@Test
	void argumentsReachTheRemoteShellAsTheyAre() {
		Remote r = new Remote(Map.of("command", "/opt/psi/psi"), null);
		assertEquals("/opt/psi/psi start 'a b' 'it'\\''s' '$(id)' '' --verify=no /var/lib/portables/x.raw",
			r.remoteLine(List.of("start", "a b", "it's", "$(id)", "", "--verify=no", "/var/lib/portables/x.raw")));
		assertEquals(List.of("ssh", "-F", "/c", "-o", "StrictHostKeyChecking=yes", "-T", "-p", "22", "--", "u@h"),
			new Remote(Map.of("configFile", "/c"), null).ssh(new Remote.Target("u@h", "22"), false));
	}
}
