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
}
