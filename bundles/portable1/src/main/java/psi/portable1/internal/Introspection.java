package psi.portable1.internal;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.freedesktop.dbus.Marshalling;
import org.freedesktop.dbus.Tuple;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.ExportedObject;

/**
 * The introspection data of the objects, written here rather than by
 * dbus-java: dbus-java 5.2 lists a multi-value reply's out arguments twice
 * and sends a fallback object's data without its {@code <node>}, which
 * {@code busctl} refuses. Each image that psi lists is also a node of the
 * object tree, so that {@code busctl tree} shows the images as under
 * portabled.
 */
final class Introspection {

	private static final String STANDARD = """
		 <interface name="org.freedesktop.DBus.Peer">
		  <method name="Ping"/>
		  <method name="GetMachineId">
		   <arg type="s" name="machine_uuid" direction="out"/>
		  </method>
		 </interface>
		 <interface name="org.freedesktop.DBus.Introspectable">
		  <method name="Introspect">
		   <arg name="xml_data" type="s" direction="out"/>
		  </method>
		 </interface>
		""";

	private static final String PROPERTIES = """
		 <interface name="org.freedesktop.DBus.Properties">
		  <method name="Get">
		   <arg name="interface_name" direction="in" type="s"/>
		   <arg name="property_name" direction="in" type="s"/>
		   <arg name="value" direction="out" type="v"/>
		  </method>
		  <method name="GetAll">
		   <arg name="interface_name" direction="in" type="s"/>
		   <arg name="props" direction="out" type="a{sv}"/>
		  </method>
		  <method name="Set">
		   <arg name="interface_name" direction="in" type="s"/>
		   <arg name="property_name" direction="in" type="s"/>
		   <arg name="value" direction="in" type="v"/>
		  </method>
		  <signal name="PropertiesChanged">
		   <arg type="s" name="interface_name"/>
		   <arg type="a{sv}" name="changed_properties"/>
		   <arg type="as" name="invalidated_properties"/>
		  </signal>
		 </interface>
		""";

	private Introspection() {
	}

	/**
	 * @param iface the D-Bus interface's Java interface
	 * @param properties its properties: name to signature; {@code null} for an object without {@code Properties}
	 * @return the interfaces of an object with {@code iface}, standard ones first
	 */
	static String interfaces(String name, Class<?> iface, Map<String, String> properties) {
		StringBuilder sb = new StringBuilder(STANDARD);
		if (properties != null) {
			sb.append(PROPERTIES);
		}
		sb.append(" <interface name=\"").append(name).append("\">\n");
		Method[] methods = iface.getDeclaredMethods();
		Arrays.sort(methods, Comparator.comparing(Method::getName));
		for (Method m : methods) {
			if (Modifier.isStatic(m.getModifiers()) || m.isDefault()) {
				continue;
			}
			sb.append("  <method name=\"").append(m.getName()).append("\">\n");
			for (Type t : m.getGenericParameterTypes()) {
				for (String s : signature(t)) {
					sb.append("   <arg type=\"").append(s).append("\" direction=\"in\"/>\n");
				}
			}
			Type r = m.getGenericReturnType();
			if (r != void.class) {
				Type[] outs = r instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c && Tuple.class.isAssignableFrom(c)
					? p.getActualTypeArguments() : new Type[] { r };
				for (Type t : outs) {
					for (String s : signature(t)) {
						sb.append("   <arg type=\"").append(s).append("\" direction=\"out\"/>\n");
					}
				}
			}
			sb.append("  </method>\n");
		}
		(properties == null ? Map.<String, String>of() : properties).forEach((p, sig) -> sb.append("  <property name=\"").append(p).append("\" type=\"").append(sig)
			.append("\" access=\"read\">\n   <annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\" value=\"false\"/>\n  </property>\n"));
		sb.append(" </interface>\n");
		return sb.toString();
	}

	private static String[] signature(Type t) {
		try {
			return Marshalling.getDBusType(t);
		} catch (DBusException e) {
			throw new IllegalStateException("no D-Bus type for " + t, e);
		}
	}

	/** Keeps one node of the object tree per image, each with the Image interface. */
	static final class Nodes {
		private final DBusConnection connection;
		private final String data;
		private final Set<String> paths = new HashSet<>();

		Nodes(DBusConnection connection, String data) {
			this.connection = connection;
			this.data = data;
		}

		/** @param current the object paths of every image there is now */
		synchronized void set(Set<String> current) {
			for (String p : paths) {
				if (!current.contains(p)) {
					connection.getObjectTree().remove(p);
				}
			}
			for (String p : current) {
				add(p);
			}
			paths.retainAll(current);
		}

		synchronized void add(String path) {
			if (paths.add(path)) {
				connection.getObjectTree().add(path, null, data);
			}
		}

		synchronized void remove(String path) {
			if (paths.remove(path)) {
				connection.getObjectTree().remove(path);
			}
		}
	}

	/**
	 * Sets the introspection data dbus-java answers with for the fallback
	 * object at {@code prefix} (a path below it that is no node of the tree):
	 * dbus-java keeps it in a private final field and offers no setter.
	 *
	 * @return whether it could
	 */
	static boolean replaceFallback(DBusConnection connection, String prefix, String data) {
		try {
			Method m = org.freedesktop.dbus.connections.base.AbstractConnectionBase.class.getDeclaredMethod("getFallbackContainer");
			m.setAccessible(true);
			Object container = m.invoke(connection);
			Method get = container.getClass().getDeclaredMethod("get", String.class);
			get.setAccessible(true);
			ExportedObject fallback = (ExportedObject) get.invoke(container, prefix + "/x");
			Field f = ExportedObject.class.getDeclaredField("introspectionData");
			f.setAccessible(true);
			f.set(fallback, data);
			return true;
		} catch (ReflectiveOperationException | RuntimeException e) {
			// introspecting an image psi has not listed yet then shows dbus-java's own data; calls work
			return false;
		}
	}
}
