package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may do what through the daemon, with real users ({@code root},
 * {@code nobody}) and real file modes; the end-to-end checks with a real
 * client are in the itest's DaemonIT.
 */
class AccessTest {

	@TempDir
	Path dir;

	private static final UserPrincipalLookupService LOOKUP = FileSystems.getDefault().getUserPrincipalLookupService();

	private Access access(String user, String group, String adminGroup, Path groupFile) throws IOException {
		UserPrincipal u = LOOKUP.lookupPrincipalByName(user);
		GroupPrincipal g = LOOKUP.lookupPrincipalByGroupName(group);
		return new Access(u, g, adminGroup, groupFile, Path.of("/"), dir);
	}

	private static CommandLine.Parsed args(Map<String, String> options, String... positional) {
		return new CommandLine.Parsed(List.of(), options, List.of(positional));
	}

	private static String nogroup() {
		try {
			LOOKUP.lookupPrincipalByGroupName("nogroup");
			return "nogroup";
		} catch (IOException e) {
			return "nobody";
		}
	}

	@Test
	void rootMayDoEverythingButStartASecondDaemon() throws IOException {
		Access root = access("root", "root", "", dir.resolve("group"));
		assertTrue(root.admin());
		assertTrue(root.mayReadJournal());
		for (String c : List.of("attach", "detach", "pull", "remove", "start", "stop", "list", "inspect")) {
			assertNull(root.refusal(c, args(Map.of("--root", "/elsewhere"), "/root/x")), c);
		}
		assertNotNull(root.refusal("daemon", args(Map.of())));
	}

	@Test
	void otherUsersMayOnlyRead() throws IOException {
		Access nobody = access("nobody", nogroup(), "", dir.resolve("group"));
		assertFalse(nobody.admin());
		for (String c : List.of("attach", "detach", "reattach", "pull", "verify", "remove", "start", "stop", "readonly")) {
			String r = nobody.refusal(c, args(Map.of(), "foo"));
			assertNotNull(r, c);
			assertTrue(r.startsWith("psi " + CommandLine.typed(c) + ": refused for user nobody: changing the host needs root"), r);
			assertFalse(r.contains("\n"), r);
		}
		for (String c : Access.READ_ONLY) {
			if (!c.equals("logs")) {
				assertNull(nobody.refusal(c, args(Map.of(), "foo")), c);
			}
		}
	}

	@Test
	void anotherRootIsRefusedToOtherUsers() throws IOException {
		Access nobody = access("nobody", nogroup(), "", dir.resolve("group"));
		String r = nobody.refusal("list", args(Map.of("--root", "/srv/other")));
		assertNotNull(r);
		assertTrue(r.contains("serves the root /"), r);
		assertNull(nobody.refusal("list", args(Map.of("--root", "/"))));
	}

	@Test
	void theJournalIsReadByItsGroupsOnly() throws IOException {
		Access nobody = access("nobody", nogroup(), "", dir.resolve("group"));
		assertFalse(nobody.mayReadJournal());
		assertTrue(nobody.refusal("logs", args(Map.of(), "foo")).contains("adm or systemd-journal"));
		// nobody listed as a member of adm in the group file reads it
		assertTrue(exists("adm"), "Debian's base-passwd makes group adm; this machine has none");
		Path groups = dir.resolve("group");
		Files.writeString(groups, "root:x:0:\nadm:x:4:syslog,nobody\n");
		Access member = access("nobody", nogroup(), "", groups);
		assertTrue(member.mayReadJournal());
		assertNull(member.refusal("logs", args(Map.of(), "foo")));
		assertFalse(member.admin(), "reading the journal is not administering");
	}

	@Test
	void theAdminGroupMayDoEverything() throws IOException {
		assertTrue(exists("adm"), "Debian's base-passwd makes group adm; this machine has none");
		Path groups = dir.resolve("group");
		Files.writeString(groups, "adm:x:4:nobody\n");
		Access admin = access("nobody", nogroup(), "adm", groups);
		assertTrue(admin.admin());
		assertNull(admin.refusal("attach", args(Map.of(), "foo")));
		Access notListed = access("nobody", nogroup(), "adm", dir.resolve("none"));
		assertFalse(notListed.admin());
		assertTrue(notListed.refusal("attach", args(Map.of(), "foo")).contains("needs root or group adm"));
	}

	@Test
	void anImagePathMustBeReadableByTheCallerItself() throws IOException {
		Access nobody = access("nobody", nogroup(), "", dir.resolve("group"));
		Path open = Files.createDirectories(dir.resolve("open"));
		Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
		Path pub = Files.writeString(open.resolve("pub.raw"), "x");
		Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-r--r--"));
		Path secret = Files.writeString(open.resolve("secret.raw"), "x");
		Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
		Path closed = Files.createDirectories(dir.resolve("closed"));
		Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
		Path inClosed = Files.writeString(closed.resolve("pub.raw"), "x");
		Files.setPosixFilePermissions(inClosed, PosixFilePermissions.fromString("rw-r--r--"));
		assertTrue(nobody.mayRead(Path.of("/")), "the root directory is searchable");
		boolean parentsOpen = true;
		for (Path p = dir; p != null; p = p.getParent()) {
			parentsOpen &= Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
		}
		assertTrue(parentsOpen, "the temporary directory's parents (" + dir + ") are searchable by others");

		assertNull(nobody.refusal("inspect", args(Map.of(), pub.toString())));
		assertNull(nobody.refusal("inspect", args(Map.of(), "open/pub.raw")), "relative to the caller's directory");
		assertTrue(nobody.refusal("inspect", args(Map.of(), secret.toString())).contains("is not readable by nobody"));
		assertNotNull(nobody.refusal("status", args(Map.of(), inClosed.toString())));
		assertNotNull(nobody.refusal("inspect", args(Map.of(), dir.resolve("missing").toString())));
		// a link to what the caller cannot read is judged by its target
		Path link = Files.createSymbolicLink(open.resolve("link.raw"), secret);
		assertNotNull(nobody.refusal("isattached", args(Map.of(), link.toString())));
		// names are searched in the image directories, which the daemon reads for everyone, as portabled
		assertNull(nobody.refusal("inspect", args(Map.of(), "foo_1")));
	}

	@Test
	void theGroupFileIsReadForSupplementaryMembers() throws IOException {
		Path groups = dir.resolve("group");
		Files.writeString(groups, "a:x:1:alice,bob\nb:x:2:bob\nc:x:3:\nbroken line\nd:x:4:alice\n");
		assertEquals(Set.of("a", "d"), Access.memberOf(groups, "alice"));
		assertEquals(Set.of(), Access.memberOf(dir.resolve("none"), "alice"));
	}

	private static boolean exists(String group) {
		try {
			LOOKUP.lookupPrincipalByGroupName(group);
			return true;
		} catch (IOException e) {
			return false;
		}
	}
}
