package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;
import psi.spi.format.ImageFormat;

/** An I/O failure reaching the admin says what psi was doing, on what, and why: never a bare path. */
class EngineMessagesTest {

	@TempDir
	Path root;

	@Test
	void aFileSystemFailureNamesTheOperationTheFileAndTheReason() throws IOException {
		Files.createDirectories(root.resolve("var/lib/portables/x"));
		PortablesEngine engine = HostLockWorker.engine(root);
		engine.formats = List.of((ImageFormat) path -> {
			throw new AccessDeniedException(path.toString());
		});
		PsiException e = assertThrows(PsiException.class, () -> engine.inspect(null, "x", List.of()));
		assertEquals("inspect: " + root.resolve("var/lib/portables/x") + ": permission denied", e.getMessage());
	}

	@Test
	void anotherIOExceptionNamesTheOperation() throws IOException {
		Files.createDirectories(root.resolve("var/lib/portables/x"));
		PortablesEngine engine = HostLockWorker.engine(root);
		engine.formats = List.of((ImageFormat) path -> {
			throw new IOException("the disk said no");
		});
		assertEquals("unreadable (the disk said no)", engine.list(null).get(0).type, "list shows it and goes on");
		PsiException e = assertThrows(PsiException.class, () -> engine.inspect(null, "x", List.of()));
		assertEquals("inspect: the disk said no", e.getMessage());
	}
}
