package psi.portable1.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.freedesktop.DBus.Error.PropertyReadOnly;
import org.freedesktop.DBus.Error.UnknownInterface;
import org.freedesktop.DBus.Error.UnknownProperty;
import org.freedesktop.dbus.types.Variant;

/**
 * {@code org.freedesktop.DBus.Properties} of one read-only interface, with
 * sd-bus's answers: unknown property, unknown interface, read-only.
 */
final class PropertyTable {

	/** the interfaces every object has, which have no properties */
	private static final List<String> STANDARD = List.of("org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer",
		"org.freedesktop.DBus.Properties");

	private final String iface;
	private final Map<String, Entry> entries = new LinkedHashMap<>();

	private record Entry(String signature, Supplier<Object> value) {
	}

	PropertyTable(String iface) {
		this.iface = iface;
	}

	PropertyTable add(String name, String signature, Supplier<Object> value) {
		entries.put(name, new Entry(signature, value));
		return this;
	}

	/** @return property name to signature, in order */
	Map<String, String> signatures() {
		Map<String, String> out = new LinkedHashMap<>();
		entries.forEach((k, e) -> out.put(k, e.signature()));
		return out;
	}

	Variant<?> get(String interfaceName, String property) {
		Entry e = interfaceName.equals(iface) || interfaceName.isEmpty() ? entries.get(property) : null;
		if (e == null) {
			throw new UnknownProperty("Unknown interface " + interfaceName + " or property " + property + ".");
		}
		return new Variant<>(e.value().get(), e.signature());
	}

	Map<String, Variant<?>> getAll(String interfaceName) {
		Map<String, Variant<?>> out = new LinkedHashMap<>();
		if (interfaceName.equals(iface) || interfaceName.isEmpty()) {
			entries.forEach((k, e) -> out.put(k, new Variant<>(e.value().get(), e.signature())));
		} else if (!STANDARD.contains(interfaceName)) {
			throw new UnknownInterface("Unknown interface '" + interfaceName + "'.");
		}
		return out;
	}

	void set(String interfaceName, String property) {
		get(interfaceName, property);
		throw new PropertyReadOnly("Property '" + property + "' is not writable.");
	}
}
