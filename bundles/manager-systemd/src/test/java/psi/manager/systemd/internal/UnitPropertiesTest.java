package psi.manager.systemd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;

import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.UInt64;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.Test;

import psi.spi.manager.ServiceManager.UnitStatus;

class UnitPropertiesTest {

	@Test
	void theTypeInterfaceComesFromTheSuffix() {
		assertEquals("org.freedesktop.systemd1.Service", UnitProperties.typeInterface("foo@a.service"));
		assertEquals("org.freedesktop.systemd1.Socket", UnitProperties.typeInterface("foo.socket"));
		assertNull(UnitProperties.typeInterface("foo"));
	}

	@Test
	void aRunningService() {
		Map<String, Variant<?>> unit = Map.of("Description", new Variant<>("Sleeps"), "LoadState", new Variant<>("loaded"),
				"ActiveState", new Variant<>("active"), "SubState", new Variant<>("running"), "ActiveEnterTimestamp",
				new Variant<>(new UInt64(1_700_000_000_000_000L)));
		Map<String, Variant<?>> service = Map.of("MainPID", new Variant<>(new UInt32(4242)), "ExecMainStatus",
				new Variant<>(0), "MemoryCurrent", new Variant<>(new UInt64(1_994_752)), "TasksCurrent",
				new Variant<>(new UInt64(1)), "Result", new Variant<>("success"));
		assertEquals(unitStatus("s.service", "Sleeps", "loaded", "active", "running", 4242, 0, 1_994_752, 1,
				1_700_000_000_000_000L, "success").toString(), UnitProperties.status("s.service", unit, service).toString());
	}

	@Test
	void unsetCountersAreMinusOne() {
		Map<String, Variant<?>> service = Map.of("MemoryCurrent",
				new Variant<>(new UInt64(UnitProperties.UINT64_MAX)), "TasksCurrent",
				new Variant<>(new UInt64(UnitProperties.UINT64_MAX)), "ExecMainStatus", new Variant<>(1));
		UnitStatus s = UnitProperties.status("f.service", Map.of("ActiveState", new Variant<>("failed")), service);
		assertEquals(-1, s.memoryCurrent);
		assertEquals(-1, s.tasksCurrent);
		assertEquals(1, s.execMainStatus);
		assertEquals(0, s.mainPid);
		assertEquals("", s.result);
	}

	@Test
	void aUnitWithoutATypeInterfaceHasNoCounters() {
		UnitStatus s = UnitProperties.status("x.target", Map.of(), Map.of());
		assertEquals(-1, s.memoryCurrent);
		assertEquals(0, s.activeEnterTimestamp);
	}

	/** @return a unit status with these fields, to compare by {@code toString()} */
	static UnitStatus unitStatus(String name, String description, String loadState, String activeState, String subState, long mainPid,
		int execMainStatus, long memory, long tasks, long since, String result) {
		UnitStatus s = new UnitStatus();
		s.name = name;
		s.description = description;
		s.loadState = loadState;
		s.activeState = activeState;
		s.subState = subState;
		s.mainPid = mainPid;
		s.execMainStatus = execMainStatus;
		s.memoryCurrent = memory;
		s.tasksCurrent = tasks;
		s.activeEnterTimestamp = since;
		s.result = result;
		return s;
	}
}
