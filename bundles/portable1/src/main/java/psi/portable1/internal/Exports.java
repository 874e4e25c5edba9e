package psi.portable1.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.exceptions.DBusException;

/** Puts the Manager object and the image objects on a connection. */
final class Exports {

	private Exports() {
	}

	static void export(DBusConnection c, Calls calls, PsiObject psi) throws DBusException {
		export(c, calls);
		c.exportObject(PsiObject.PATH, psi);
		c.getObjectTree().add(PsiObject.PATH, null, Introspection.interfaces(PsiObject.INTERFACE, Portables1.class, null));
	}

	static void export(DBusConnection c, Calls calls) throws DBusException {
		ManagerObject manager = new ManagerObject(calls);
		c.exportObject(ManagerObject.PATH, manager);
		c.addFallback(Calls.IMAGE_PREFIX, new ImageObject(calls));
		c.getObjectTree().add(ManagerObject.PATH, null,
			Introspection.interfaces(ManagerObject.INTERFACE, Manager.class, manager.propertySignatures()));
		Map<String, String> imageProperties = new LinkedHashMap<>();
		ImageObject.PROPERTIES.forEach(imageProperties::put);
		String image = Introspection.interfaces(ImageObject.INTERFACE, Image.class, imageProperties);
		Introspection.replaceFallback(c, Calls.IMAGE_PREFIX, "<node>\n" + image + "</node>");
		calls.nodes(new Introspection.Nodes(c, image));
	}
}
