package psi.policy.profiles.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class SystemdProfilesTest {

	@Test
	void shipsEveryProfileByteForByteAsTheHost() throws Exception {
		SystemdProfiles p = new SystemdProfiles();
		for (String name : p.profiles()) {
			byte[] ours = p.serviceConf(name).orElseThrow();
			assertTrue(ours.length > 100 || name.equals("trusted"), name);
			Path host = Path.of("/usr/lib/systemd/portable/profile", name, "service.conf");
			// CI installs systemd-container, so the host's copy is there to compare with
			assertArrayEquals(Files.readAllBytes(host), ours, name + " differs from " + host);
		}
		assertTrue(p.serviceConf("nosuch").isEmpty());
	}
}
