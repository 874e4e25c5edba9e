package psi.manager.systemd.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real dbus-java client (core and the native unix socket transport), against a bus that is not there. */
class SystemBusTest {

	@TempDir
	Path dir;

	@Test
	void nothingIsConnectedUntilTheFirstCallAndAMissingBusIsAnIOException() {
		String address = "unix:path=" + dir.resolve("no_bus_socket");
		try (SystemBus bus = new SystemBus(address, new JobTracker())) {
			assertFalse(bus.connected());
			long t0 = System.nanoTime();
			IOException e = assertThrows(IOException.class, () -> bus.call(SystemBus.MANAGER_PATH,
					"org.freedesktop.DBus.Peer", "Ping", Duration.ofSeconds(2), null));
			assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(4).toNanos(), "failed fast");
			assertFalse(e.getMessage().isBlank());
			assertFalse(bus.connected());
		}
	}

	@Test
	void theReasonNamesTheBusAndTheCause() {
		String address = "unix:path=" + dir.resolve("no_bus_socket");
		SystemdManager m = new SystemdManager(dir, address, new SystemBus(address, new JobTracker()), new JobTracker());
		assertFalse(m.available());
		String reason = m.unavailableReason();
		assertTrue(reason.startsWith("the system bus at " + address + " does not answer: "), reason);
		assertFalse(reason.contains("\n"), reason);
		System.out.println("[SystemBusTest] " + reason);
		m.close();
	}
}
