package psi.manager.systemd.internal;

import java.math.BigInteger;
import java.util.Locale;
import java.util.Map;

import org.freedesktop.dbus.types.UInt64;
import org.freedesktop.dbus.types.Variant;

import psi.spi.manager.ServiceManager.UnitStatus;

/** A unit's status from its D-Bus properties ({@code org.freedesktop.DBus.Properties.GetAll}). */
final class UnitProperties {

	static final String UNIT = "org.freedesktop.systemd1.Unit";
	/** systemd's "unset" for a uint64 property, e.g. MemoryCurrent without accounting */
	static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

	private UnitProperties() {
	}

	/**
	 * @param unit a unit name
	 * @return the interface of the unit's type, which holds Result, MainPID, MemoryCurrent, ...
	 *         ({@code org.freedesktop.systemd1.Service} for {@code x.service}), or null
	 */
	static String typeInterface(String unit) {
		int dot = unit.lastIndexOf('.');
		if (dot < 0 || dot == unit.length() - 1) {
			return null;
		}
		String type = unit.substring(dot + 1);
		return "org.freedesktop.systemd1." + type.substring(0, 1).toUpperCase(Locale.ROOT) + type.substring(1);
	}

	/**
	 * @param name the unit name
	 * @param unit the properties of {@value #UNIT}
	 * @param type the properties of the type's interface (empty when it has none)
	 * @return the status
	 */
	static UnitStatus status(String name, Map<String, Variant<?>> unit, Map<String, Variant<?>> type) {
		UnitStatus s = new UnitStatus();
		s.name = name;
		s.description = string(unit, "Description");
		s.loadState = string(unit, "LoadState");
		s.activeState = string(unit, "ActiveState");
		s.subState = string(unit, "SubState");
		s.mainPid = number(type, "MainPID", 0);
		s.execMainStatus = (int) number(type, "ExecMainStatus", 0);
		s.memoryCurrent = number(type, "MemoryCurrent", -1);
		s.tasksCurrent = number(type, "TasksCurrent", -1);
		s.activeEnterTimestamp = number(unit, "ActiveEnterTimestamp", 0);
		s.result = string(type, "Result");
		s.statusText = string(type, "StatusText");
		s.cpuUsageNSec = number(type, "CPUUsageNSec", -1);
		s.ipIngressBytes = number(type, "IPIngressBytes", -1);
		s.ipIngressPackets = number(type, "IPIngressPackets", -1);
		s.ipEgressBytes = number(type, "IPEgressBytes", -1);
		s.ipEgressPackets = number(type, "IPEgressPackets", -1);
		return s;
	}

	static String string(Map<String, Variant<?>> props, String key) {
		Variant<?> v = props.get(key);
		return v == null || v.getValue() == null ? "" : v.getValue().toString();
	}

	/** @return the value, -1 for an unset uint64 (all bits set), {@code absent} when there is none */
	static long number(Map<String, Variant<?>> props, String key, long absent) {
		Variant<?> v = props.get(key);
		if (v == null) {
			return absent;
		}
		Object o = v.getValue();
		if (o instanceof UInt64 u) {
			return u.value().equals(UINT64_MAX) ? -1 : u.longValue();
		}
		return o instanceof Number n ? n.longValue() : absent;
	}
}
