package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pull's staging files go, also when a sidecar fetch given up on still writes for a while. */
class StagingAreaTest {

	@TempDir
	Path root;

	@Test
	void aLateSidecarDoesNotFailTheCleanUp() throws Exception {
		StagingArea.Staging st = new StagingArea(new HostLayout(root)).staging(URI.create("https://127.0.0.1/foo_1.psi"), "pull");
		Files.createDirectories(st.sidecars());
		AtomicBoolean stop = new AtomicBoolean();
		// a transport thread that keeps finishing its file for 300 ms after the pull gave up on it
		Thread late = new Thread(() -> {
			long until = System.nanoTime() + 300_000_000L;
			while (System.nanoTime() < until && !stop.get()) {
				try {
					Files.writeString(st.sidecars().resolve("SHA256SUMS"), "late\n");
				} catch (java.io.IOException gone) {
					// the directory went in between
				}
			}
		});
		late.start();
		try {
			Thread.sleep(20);
			st.clean(false);
		} finally {
			stop.set(true);
			late.join();
		}
		st.clean(false);
		assertFalse(Files.exists(st.sidecars()), "the sidecars' directory is gone once nothing writes into it");
	}
}
