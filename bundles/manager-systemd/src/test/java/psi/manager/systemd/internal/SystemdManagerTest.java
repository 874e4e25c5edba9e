package psi.manager.systemd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.UInt64;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.manager.ServiceManager.JobResult;
import psi.spi.manager.ServiceManager.UnitStatus;

class SystemdManagerTest {

	static final String JOB = "/org/freedesktop/systemd1/job/7";

	@TempDir
	Path runtimeDir;

	FakeBus bus = new FakeBus();
	JobTracker jobs = new JobTracker();

	SystemdManager manager() {
		return new SystemdManager(runtimeDir, SystemdManager.SYSTEM_BUS, bus, jobs);
	}

	@Test
	void withoutSystemdAsPid1ItIsUnavailableAndDoesNotTouchTheBus() {
		SystemdManager m = new SystemdManager(runtimeDir.resolve("system"), SystemdManager.SYSTEM_BUS, bus, jobs);
		assertFalse(m.available());
		assertEquals("systemd is not running as PID 1 here (" + runtimeDir.resolve("system") + " is missing)",
				m.unavailableReason());
		assertEquals(List.of(), bus.calls);
	}

	@Test
	void availableWhenSystemdAnswersAPing() {
		bus.on("Ping", a -> new Object[0]);
		SystemdManager m = manager();
		assertTrue(m.available());
		assertEquals("", m.unavailableReason());
		// the second question within a second takes the first answer: one ping
		assertEquals(List.of("Ping"), bus.calls);
	}

	@Test
	void unavailableWhenTheBusDoesNotAnswer() {
		bus.on("Ping", a -> {
			throw new IOException("no reply to Ping within 2000 ms");
		});
		assertEquals("the system bus at unix:path=/run/dbus/system_bus_socket does not answer: "
				+ "no reply to Ping within 2000 ms", manager().unavailableReason());
	}

	@Test
	void startAndWaitSubscribesFirstAndTakesTheResultEvenWhenTheSignalIsEarly() throws IOException {
		// systemd may emit JobRemoved before dbus-java hands the StartUnit reply to the caller
		bus.on("StartUnit", a -> {
			jobs.jobRemoved(JOB, "done");
			return new Object[] { new DBusPath(JOB) };
		});
		assertEquals(new JobResult("s.service", JOB, "done"), manager().start("s.service", true));
		assertEquals(List.of("watchJobs", "StartUnit s.service replace"), bus.calls);
	}

	@Test
	void aFailedJobIsAResultNotAnError() throws IOException {
		bus.on("RestartUnit", a -> {
			jobs.jobRemoved(JOB, "failed");
			return new Object[] { new DBusPath(JOB) };
		});
		JobResult r = manager().restart("f.service", true);
		assertEquals("failed", r.result());
		assertFalse(r.ok());
	}

	@Test
	void withoutWaitingTheJobIsQueued() throws IOException {
		bus.on("StopUnit", a -> new Object[] { new DBusPath(JOB) });
		assertEquals(new JobResult("s.service", JOB, "queued"), manager().stop("s.service", false));
		assertEquals(List.of("StopUnit s.service replace"), bus.calls);
	}

	@Test
	void aDBusErrorNamesTheUnitTheOperationAndTheError() {
		bus.on("StartUnit", a -> {
			throw new BusError("org.freedesktop.systemd1.NoSuchUnit", "Unit nosuch.service not found.");
		});
		IOException e = assertThrows(IOException.class, () -> manager().start("nosuch.service", true));
		assertEquals("nosuch.service: start: org.freedesktop.systemd1.NoSuchUnit: Unit nosuch.service not found.",
				e.getMessage());
		assertEquals(0, jobs.openCount(), "the wait is closed");
	}

	@Test
	void statusReadsTheUnitAndItsTypeInterface() throws IOException {
		String path = "/org/freedesktop/systemd1/unit/s_2eservice";
		bus.on("LoadUnit", a -> new Object[] { new DBusPath(path) });
		bus.on("GetAll", a -> new Object[] { a[0].equals(UnitProperties.UNIT)
				? Map.of("ActiveState", new Variant<>("active"), "SubState", new Variant<>("running"), "LoadState",
						new Variant<>("loaded"), "Description", new Variant<>("S"))
				: Map.of("MainPID", new Variant<>(new UInt32(9)), "Result", new Variant<>("success"),
						"MemoryCurrent", new Variant<>(new UInt64(4096)), "TasksCurrent", new Variant<>(new UInt64(2))) });
		UnitStatus s = manager().status("s.service");
		assertEquals(UnitPropertiesTest.unitStatus("s.service", "S", "loaded", "active", "running", 9, 0, 4096, 2, 0, "success").toString(),
			s.toString());
		assertTrue(s.isRunning());
		assertEquals(List.of("LoadUnit s.service", "GetAll org.freedesktop.systemd1.Unit",
				"GetAll org.freedesktop.systemd1.Service"), bus.calls);
	}

	@Test
	void enableIsPortableAndRuntimeWhenAsked() throws IOException {
		bus.on("EnableUnitFilesWithFlags", a -> new Object[] { true, List.<Object[]>of(new Object[] { "symlink",
				"/run/systemd/system.attached/multi-user.target.wants/a.service",
				"/run/systemd/system.attached/a.service" }) });
		bus.on("DisableUnitFilesWithFlags", a -> new Object[] { List.<Object[]>of(new Object[] { "unlink",
				"/etc/systemd/system.attached/multi-user.target.wants/a.service", "" }) });
		SystemdManager m = manager();
		assertEquals(List.of("symlink /run/systemd/system.attached/multi-user.target.wants/a.service "
				+ "/run/systemd/system.attached/a.service"),
				m.enable(List.of(Path.of("/run/systemd/system.attached/a.service")), true));
		assertEquals(List.of("unlink /etc/systemd/system.attached/multi-user.target.wants/a.service "),
				m.disable(List.of("a.service"), false));
		assertEquals(List.of("EnableUnitFilesWithFlags [/run/systemd/system.attached/a.service] 5",
				"DisableUnitFilesWithFlags [a.service] 4"), bus.calls);
	}

	@Test
	void listUnitsGivesTheNames() throws IOException {
		bus.on("ListUnitsByPatterns", a -> new Object[] { List.<Object[]>of(
				new Object[] { "foo@b.service", "", "loaded", "active", "running", "", new DBusPath("/b"), new UInt32(0), "", new DBusPath("/") },
				new Object[] { "foo@a.service", "", "loaded", "active", "running", "", new DBusPath("/a"), new UInt32(0), "", new DBusPath("/") }) });
		assertEquals(List.of("foo@a.service", "foo@b.service"), manager().listUnits(List.of("foo@*.service")));
		assertEquals(List.of("ListUnitsByPatterns [] [foo@*.service]"), bus.calls);
	}

	@Test
	void resetFailedAndReload() throws IOException {
		bus.on("ResetFailedUnit", a -> new Object[0]).on("Reload", a -> new Object[0]);
		SystemdManager m = manager();
		m.resetFailed("f.service");
		m.reload();
		m.close();
		assertEquals(List.of("ResetFailedUnit f.service", "Reload"), bus.calls);
		assertTrue(bus.closed);
	}
}
