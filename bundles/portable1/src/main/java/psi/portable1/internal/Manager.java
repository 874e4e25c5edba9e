package psi.portable1.internal;

import java.util.List;
import java.util.Map;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.TypeRef;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusProperty;
import org.freedesktop.dbus.annotations.PropertiesEmitsChangedSignal.EmitChangeSignal;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt64;

/**
 * {@code org.freedesktop.portable1.Manager} of systemd 252, member for member
 * and signature for signature ({@code org.freedesktop.portable1(5)}). The
 * properties are answered by the object's {@code Properties} methods; the
 * annotations only describe them for introspection. No method declares the
 * errors it sends: dbus-java would add annotations portabled does not have.
 */
@DBusInterfaceName("org.freedesktop.portable1.Manager")
@DBusProperty(name = "PoolPath", type = String.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "PoolUsage", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "PoolLimit", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "Profiles", type = Manager.StringList.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
public interface Manager extends DBusInterface {

	/** The D-Bus type {@code as}, for a property's annotation. */
	interface StringList extends TypeRef<List<String>> {
	}

	DBusPath GetImage(String image);

	List<ImageEntry> ListImages();

	Map<String, String> GetImageOSRelease(String image);

	Tuples.Three<String, byte[], Map<String, byte[]>> GetImageMetadata(String image, List<String> matches);

	Tuples.Four<String, byte[], Map<String, byte[]>, Map<String, byte[]>> GetImageMetadataWithExtensions(String image,
		List<String> extensions, List<String> matches, UInt64 flags);

	String GetImageState(String image);

	String GetImageStateWithExtensions(String image, List<String> extensions, UInt64 flags);

	List<Change> AttachImage(String image, List<String> matches, String profile, boolean runtime, String copyMode);

	List<Change> AttachImageWithExtensions(String image, List<String> extensions, List<String> matches, String profile,
		String copyMode, UInt64 flags);

	List<Change> DetachImage(String image, boolean runtime);

	List<Change> DetachImageWithExtensions(String image, List<String> extensions, UInt64 flags);

	Tuples.Two<List<Change>, List<Change>> ReattachImage(String image, List<String> matches, String profile, boolean runtime,
		String copyMode);

	Tuples.Two<List<Change>, List<Change>> ReattachImageWithExtensions(String image, List<String> extensions,
		List<String> matches, String profile, String copyMode, UInt64 flags);

	void RemoveImage(String image);

	void MarkImageReadOnly(String image, boolean readOnly);

	void SetImageLimit(String image, UInt64 limit);

	void SetPoolLimit(UInt64 limit);
}
