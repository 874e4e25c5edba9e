package psi.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;

/** psi build --sums: a SHA256SUMS that coreutils' sha256sum accepts, all or nothing. */
class RepositorySumsTest {

	@TempDir
	Path dir;

	@Test
	void sha256sumAcceptsWhatItWrites() throws Exception {
		Files.writeString(dir.resolve("app_2.raw"), "two\n");
		Files.writeString(dir.resolve("app_1.raw"), "one\n");
		Files.writeString(dir.resolve(".hidden"), "x");
		Files.writeString(dir.resolve("SHA256SUMS.gpg"), "old signature");
		Files.createDirectories(dir.resolve("sub"));
		List<String> lines = RepositorySums.write(dir);
		assertEquals(List.of("app_1.raw", "app_2.raw"), lines.stream().map(l -> l.substring(66)).toList(), lines.toString());
		Process p = new ProcessBuilder("sha256sum", "--check", "--strict", "SHA256SUMS").directory(dir.toFile()).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes());
		assertEquals(0, p.waitFor(), out);
		assertEquals("app_1.raw: OK\napp_2.raw: OK\n", out);
		try (var s = Files.list(dir)) {
			assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
		}
	}

	@Test
	void aNameSha256sumsCannotCarryChangesNothing() throws IOException {
		Files.writeString(dir.resolve("bad\\name.raw"), "x");
		assertThrows(PsiException.class, () -> RepositorySums.write(dir));
		assertTrue(Files.notExists(dir.resolve("SHA256SUMS")));
	}

	/** --gpg-key: gpg signs SHA256SUMS with the admin's key, and gpg --verify accepts it; a key gpg lacks is one line, nothing signed. */
	@Test
	void gpgSignsWhatItWrites() throws Exception {
		Path home = Files.createDirectories(dir.resolve(".gnupg"));
		Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
		java.util.Map<String, String> env = java.util.Map.of("GNUPGHOME", home.toString());
		run(env, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", "psi test <psi-test@localhost>", "ed25519", "sign", "never");
		Files.writeString(dir.resolve("app_1.raw"), "one\n");
		RepositorySums.write(dir);
		Path sig = RepositorySums.sign(dir, "psi-test@localhost", env);
		assertEquals(dir.resolve("SHA256SUMS.gpg"), sig);
		String verified = run(env, "gpg", "--batch", "--verify", sig.toString(), dir.resolve("SHA256SUMS").toString());
		assertTrue(verified.contains("Good signature from \"psi test <psi-test@localhost>\""), verified);

		Files.delete(sig);
		PsiException e = assertThrows(PsiException.class, () -> RepositorySums.sign(dir, "nobody@localhost", env));
		assertTrue(e.getMessage().startsWith("gpg could not sign " + dir.resolve("SHA256SUMS") + " with key nobody@localhost: "), e.getMessage());
		assertTrue(e.getMessage().endsWith("; SHA256SUMS is written, unsigned"), e.getMessage());
		assertTrue(Files.notExists(sig));
		try (var s = Files.list(dir)) {
			assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
		}
	}

	private static String run(java.util.Map<String, String> env, String... cmd) throws Exception {
		ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
		pb.environment().putAll(env);
		Process p = pb.start();
		String out = new String(p.getInputStream().readAllBytes());
		assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
		return out;
	}
}
