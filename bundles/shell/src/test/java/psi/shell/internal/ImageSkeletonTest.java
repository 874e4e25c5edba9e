package psi.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;

/** psi build --init: the skeleton of an image, all or nothing. */
class ImageSkeletonTest {

	@TempDir
	Path tmp;

	@Test
	void theSkeletonHasWhatAPortableImageNeeds() throws IOException {
		Path dir = tmp.resolve("hello_1");
		List<String> written = ImageSkeleton.write(dir, "hello");
		assertTrue(written.containsAll(List.of("proc/", "sys/", "dev/", "run/", "tmp/", "var/tmp/", "usr/lib/os-release", "etc/machine-id",
			"etc/resolv.conf", "usr/lib/systemd/system/hello.service")), written.toString());
		String release = Files.readString(dir.resolve("usr/lib/os-release"));
		assertTrue(release.contains("\nID=hello\n") && release.contains("\nPORTABLE_PREFIXES=hello\n"), release);
		assertEquals("", Files.readString(dir.resolve("etc/machine-id")));
		assertTrue(Files.readString(dir.resolve("usr/lib/systemd/system/hello.service")).contains("\nExecStart=/usr/bin/hello\n"));
		assertEquals(01777, (Integer) Files.getAttribute(dir.resolve("var/tmp"), "unix:mode") & 07777);
		try (var s = Files.list(tmp)) {
			assertEquals(List.of(dir), s.toList(), "no temporary directory left");
		}
	}

	@Test
	void aDirectoryThatIsNotEmptyOrABadNameChangesNothing() throws IOException {
		Path dir = Files.createDirectories(tmp.resolve("full"));
		Files.writeString(dir.resolve("mine"), "x");
		PsiException e = assertThrows(PsiException.class, () -> ImageSkeleton.write(dir, "full"));
		assertTrue(e.getMessage().endsWith("is not empty: psi build --init writes only into a new or empty directory; nothing written"), e.getMessage());
		try (var s = Files.list(dir)) {
			assertEquals(1, s.count());
		}
		assertThrows(PsiException.class, () -> ImageSkeleton.write(tmp.resolve("x"), "../evil"));
		assertFalse(Files.exists(tmp.resolve("x")));
	}
}
