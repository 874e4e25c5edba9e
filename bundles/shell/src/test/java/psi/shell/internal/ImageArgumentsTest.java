package psi.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import psi.api.PsiException;

/** Relative image paths are the front end's to resolve: the engine has no working directory. */
class ImageArgumentsTest {

	final Path cwd = Path.of("/srv/work");

	@Test
	void namesAbsolutePathsAndUrlsPassAsGiven() {
		assertEquals("foobar", ImageArguments.resolve(null, cwd, "foobar"));
		assertEquals("foobar_1.raw", ImageArguments.resolve("/tmp/r", cwd, "foobar_1.raw"));
		assertEquals("/var/lib/portables/x", ImageArguments.resolve("/tmp/r", cwd, "/var/lib/portables/x"));
		assertEquals("https://h/x_1.raw", ImageArguments.resolve(null, cwd, "https://h/x_1.raw"));
		assertEquals("file:x_1.raw", ImageArguments.resolve(null, cwd, "file:x_1.raw"));
	}

	@Test
	void aRelativePathIsResolvedAgainstTheWorkingDirectory() {
		assertEquals("/srv/work/img", ImageArguments.resolve(null, cwd, "./img"));
		assertEquals("/srv/img", ImageArguments.resolve(null, cwd, "../img"));
		assertEquals("/srv/work", ImageArguments.resolve(null, cwd, "."));
		assertEquals("/srv/work/a/img", ImageArguments.resolve("/", cwd, "a/img"));
	}

	@Test
	void underARootItIsThePathSeenFromTheRoot() {
		assertEquals("/work/img", ImageArguments.resolve("/srv", cwd, "img/"));
		assertEquals("/work/img", ImageArguments.resolve("/srv", cwd, "./img"));
		PsiException e = assertThrows(PsiException.class, () -> ImageArguments.resolve("/other", cwd, "./img"));
		assertEquals("image path './img' (/srv/work/img) is outside the root /other; give it as an absolute path as seen from the root",
			e.getMessage());
	}
}
