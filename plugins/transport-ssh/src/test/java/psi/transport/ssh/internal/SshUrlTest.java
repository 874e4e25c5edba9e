package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class SshUrlTest {

	static SshUrl parse(String url) throws IOException {
		return SshUrl.parse(URI.create(url));
	}

	static String path(SshUrl u) {
		return new String(u.sftpPath(), StandardCharsets.ISO_8859_1);
	}

	static void refused(String url, String problem) {
		IOException e = assertThrows(IOException.class, () -> parse(url));
		assertEquals(url + ": " + problem, e.getMessage());
	}

	@Test
	void takesUserHostPortAndAbsolutePath() throws IOException {
		SshUrl u = parse("ssh://admin@repo.example.org:2222/srv/images/foo_1.raw");
		assertEquals("admin", u.user());
		assertEquals("repo.example.org", u.host());
		assertEquals(2222, u.port());
		assertEquals("/srv/images/foo_1.raw", path(u));
	}

	@Test
	void leavesUserAndPortToTheConfiguration() throws IOException {
		SshUrl u = parse("sftp://my_box/x.raw");
		assertNull(u.user());
		assertEquals("my_box", u.host());
		assertEquals(-1, u.port());
		assertEquals(-1, parse("ssh://host:/x").port());
	}

	@Test
	void homeRelativePaths() throws IOException {
		assertEquals("images/x.raw", path(parse("ssh://h/~/images/x.raw")));
		assertEquals("/~user/x.raw", path(parse("ssh://h/~user/x.raw")));
		assertEquals("/a/~/x.raw", path(parse("ssh://h/a/~/x.raw")));
	}

	@Test
	void percentDecodesIntoBytes() throws IOException {
		assertEquals("/a b/\u00c3\u00a9/%", path(parse("ssh://h/a%20b/%C3%A9/%25")));
		assertEquals("/\u00ff", path(parse("ssh://h/%FF")), "not UTF-8: kept as the byte");
		assertEquals("\u00c3\u00a9", path(parse("ssh://h/~/\u00e9")), "a raw non-ASCII character as its UTF-8 bytes");
		assertEquals("we ird", parse("ssh://we%20ird@h/x").user());
	}

	@Test
	void ipv6Hosts() throws IOException {
		SshUrl u = parse("ssh://[::1]:22/x");
		assertEquals("::1", u.host());
		assertEquals(22, u.port());
		assertEquals("fe80::1%eth0", parse("ssh://[fe80::1%25eth0]/x").host());
	}

	@Test
	void refusals() {
		refused("https://h/x", "not an ssh: or sftp: URL");
		refused("ssh:h:/x", "not of the form ssh://[user@]host[:port]/path");
		refused("ssh:///x", "not of the form ssh://[user@]host[:port]/path");
		refused("ssh://h/x?y=1", "a query or fragment in an ssh: URL is not supported");
		refused("ssh://u:secret@h/x", "a password in the URL is not supported; use keys or an agent");
		refused("ssh://-oProxyCommand=x/x", "the host '-oProxyCommand=x' is not one ssh can take");
		refused("ssh://-l@h/x", "the user name '-l' is not one ssh can take");
		refused("ssh://h:99999/x", "the port '99999' is not one from 1 to 65535");
		refused("ssh://h:0/x", "the port '0' is not one from 1 to 65535");
		refused("ssh://h", "no file path");
		refused("ssh://h/", "no file path");
		refused("ssh://h/~", "names the home directory, not a file");
		refused("ssh://h/dir/", "names a directory, not a file");
		refused("ssh://h/~/", "names a directory, not a file");
		refused("ssh://h/a%00b", "the path holds a NUL byte");
		refused("ssh://h/" + "a".repeat(4096), "a path of 4097 bytes, the most is 4096");
	}
}
