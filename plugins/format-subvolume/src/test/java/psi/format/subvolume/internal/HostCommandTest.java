package psi.format.subvolume.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import psi.spi.format.ImageException;

class HostCommandTest {

	@Test
	void returnsOutput() throws ImageException {
		assertEquals("a\n", HostCommand.run("echoing", Duration.ofSeconds(10), List.of("echo", "a")));
	}

	@Test
	void failureIsOneLineWithOutput() {
		ImageException e = assertThrows(ImageException.class,
			() -> HostCommand.run("doing x", Duration.ofSeconds(10), List.of("sh", "-c", "echo one; echo two >&2; exit 3")));
		assertEquals("doing x failed: sh exited with status 3: one; two", e.getMessage());
	}

	@Test
	void hangingToolIsStoppedAtTimeout() {
		long start = System.nanoTime();
		ImageException e = assertThrows(ImageException.class,
			() -> HostCommand.run("waiting", Duration.ofSeconds(1), List.of("sleep", "30")));
		assertTrue(System.nanoTime() - start < 5_000_000_000L, "waited for the tool");
		assertEquals("waiting failed: 'sleep 30' did not finish in 1 s", e.getMessage());
	}

	@Test
	void missingToolNamed() {
		ImageException e = assertThrows(ImageException.class,
			() -> HostCommand.run("doing y", Duration.ofSeconds(10), List.of("btrfs-no-such-tool")));
		assertTrue(e.getMessage().startsWith("doing y failed: cannot run 'btrfs-no-such-tool'"), e.getMessage());
	}
}
