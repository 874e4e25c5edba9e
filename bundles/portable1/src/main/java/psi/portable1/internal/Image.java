package psi.portable1.internal;

import java.util.List;
import java.util.Map;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusProperty;
import org.freedesktop.dbus.annotations.PropertiesEmitsChangedSignal.EmitChangeSignal;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt64;

/**
 * {@code org.freedesktop.portable1.Image} of systemd 252, on every object
 * below {@code /org/freedesktop/portable1/image}, the image named by the
 * object path's last label. {@code ReattacheWithExtensions} carries 252's
 * typo in its name.
 */
@DBusInterfaceName("org.freedesktop.portable1.Image")
@DBusProperty(name = "Name", type = String.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "Path", type = String.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "Type", type = String.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "ReadOnly", type = Boolean.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "CreationTimestamp", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "ModificationTimestamp", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "Usage", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "Limit", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "UsageExclusive", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
@DBusProperty(name = "LimitExclusive", type = UInt64.class, access = DBusProperty.Access.READ, emitChangeSignal = EmitChangeSignal.FALSE)
public interface Image extends DBusInterface {

	Map<String, String> GetOSRelease();

	Tuples.Three<String, byte[], Map<String, byte[]>> GetMetadata(List<String> matches);

	Tuples.Four<String, byte[], Map<String, byte[]>, Map<String, byte[]>> GetMetadataWithExtensions(List<String> extensions,
		List<String> matches, UInt64 flags);

	String GetState();

	String GetStateWithExtensions(List<String> extensions, UInt64 flags);

	List<Change> Attach(List<String> matches, String profile, boolean runtime, String copyMode);

	List<Change> AttachWithExtensions(List<String> extensions, List<String> matches, String profile, String copyMode, UInt64 flags);

	List<Change> Detach(boolean runtime);

	List<Change> DetachWithExtensions(List<String> extensions, UInt64 flags);

	Tuples.Two<List<Change>, List<Change>> Reattach(List<String> matches, String profile, boolean runtime, String copyMode);

	Tuples.Two<List<Change>, List<Change>> ReattacheWithExtensions(List<String> extensions, List<String> matches, String profile,
		String copyMode, UInt64 flags);

	void Remove();

	void MarkReadOnly(boolean readOnly);

	void SetLimit(UInt64 limit);
}
