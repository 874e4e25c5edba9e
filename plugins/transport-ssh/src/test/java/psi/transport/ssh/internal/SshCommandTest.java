package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.util.List;

import org.junit.jupiter.api.Test;

class SshCommandTest {

	static final List<String> FORCED = List.of("-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=30",
		"-T", "-x", "-a", "-e", "none", "-o", "ClearAllForwardings=yes", "-o", "Tunnel=no", "-o", "RemoteCommand=none", "-o",
		"PermitLocalCommand=no", "-o", "ForkAfterAuthentication=no", "-o", "StdinNull=no");

	static List<String> concat(List<String> a, List<String> b, List<String> c) {
		return java.util.stream.Stream.of(a, b, c).flatMap(List::stream).toList();
	}

	@Test
	void leavesUserPortAndEverythingElseToTheConfiguration() throws Exception {
		SshUrl url = SshUrl.parse(URI.create("ssh://repo.example.org/x.raw"));
		assertEquals(concat(List.of("ssh"), FORCED, List.of("-s", "--", "repo.example.org", "sftp")),
			new SshCommand("ssh", "", 30).sftp(url));
	}

	@Test
	void passesTheUrlsUserAndPortAndTheConfigFile() throws Exception {
		SshUrl url = SshUrl.parse(URI.create("ssh://me@[::1]:2222/x.raw"));
		assertEquals(concat(List.of("/usr/bin/ssh", "-F", "/etc/psi/ssh_config"), FORCED,
			List.of("-p", "2222", "-l", "me", "-s", "--", "::1", "sftp")), new SshCommand("/usr/bin/ssh", "/etc/psi/ssh_config", 30).sftp(url));
	}
}
