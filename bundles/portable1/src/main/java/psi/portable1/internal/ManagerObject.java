package psi.portable1.internal;

import java.util.List;
import java.util.Map;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.UInt64;
import org.freedesktop.dbus.types.Variant;

import psi.portable1.internal.Calls.Acquire;

/** {@code /org/freedesktop/portable1}: the Manager interface. */
final class ManagerObject implements Manager, Properties {

	static final String PATH = "/org/freedesktop/portable1";
	static final String INTERFACE = "org.freedesktop.portable1.Manager";

	private final Calls calls;
	private final PropertyTable properties;

	ManagerObject(Calls calls) {
		this.calls = calls;
		// psi sets no btrfs quota: usage and limit are unknown (UINT64_MAX), as portabled's off btrfs
		this.properties = new PropertyTable(INTERFACE).add("PoolPath", "s", () -> Calls.POOL)
			.add("PoolUsage", "t", () -> Calls.INFINITY).add("PoolLimit", "t", () -> Calls.INFINITY)
			.add("Profiles", "as", calls::profiles);
	}

	@Override
	public String getObjectPath() {
		return PATH;
	}

	Map<String, String> propertySignatures() {
		return properties.signatures();
	}

	@Override
	public DBusPath GetImage(String image) {
		return calls.getImage(image);
	}

	@Override
	public List<ImageEntry> ListImages() {
		return calls.listImages();
	}

	@Override
	public Map<String, String> GetImageOSRelease(String image) {
		return calls.osRelease(image, Acquire.AUTHENTICATE_BY_PATH);
	}

	@Override
	public Tuples.Three<String, byte[], Map<String, byte[]>> GetImageMetadata(String image, List<String> matches) {
		return calls.metadata(image, matches, Acquire.AUTHENTICATE_BY_PATH);
	}

	@Override
	public Tuples.Four<String, byte[], Map<String, byte[]>, Map<String, byte[]>> GetImageMetadataWithExtensions(String image,
			List<String> extensions, List<String> matches, UInt64 flags) {
		return calls.metadata(image, extensions, matches, flags.longValue(), Acquire.AUTHENTICATE_BY_PATH);
	}

	@Override
	public String GetImageState(String image) {
		return calls.state(image);
	}

	@Override
	public String GetImageStateWithExtensions(String image, List<String> extensions, UInt64 flags) {
		return calls.state(image, extensions, flags.longValue());
	}

	@Override
	public List<Change> AttachImage(String image, List<String> matches, String profile, boolean runtime, String copyMode) {
		return calls.attach(image, List.of(), matches, profile, copyMode, runtime ? Calls.RUNTIME : 0, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public List<Change> AttachImageWithExtensions(String image, List<String> extensions, List<String> matches, String profile,
			String copyMode, UInt64 flags) {
		return calls.attach(image, extensions, matches, profile, copyMode, flags.longValue(), Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public List<Change> DetachImage(String image, boolean runtime) {
		return calls.detach(image, List.of(), runtime ? Calls.RUNTIME : 0, false);
	}

	@Override
	public List<Change> DetachImageWithExtensions(String image, List<String> extensions, UInt64 flags) {
		return calls.detach(image, extensions, flags.longValue(), false);
	}

	@Override
	public Tuples.Two<List<Change>, List<Change>> ReattachImage(String image, List<String> matches, String profile, boolean runtime,
			String copyMode) {
		return calls.reattach(image, List.of(), matches, profile, copyMode, runtime ? Calls.RUNTIME : 0, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public Tuples.Two<List<Change>, List<Change>> ReattachImageWithExtensions(String image, List<String> extensions,
			List<String> matches, String profile, String copyMode, UInt64 flags) {
		return calls.reattach(image, extensions, matches, profile, copyMode, flags.longValue(), Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public void RemoveImage(String image) {
		calls.remove(image, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public void MarkImageReadOnly(String image, boolean readOnly) {
		calls.markReadOnly(image, readOnly, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public void SetImageLimit(String image, UInt64 limit) {
		calls.setLimit(image, limit, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public void SetPoolLimit(UInt64 limit) {
		calls.setPoolLimit(limit);
	}

	@SuppressWarnings("unchecked")
	@Override
	public <A> A Get(String interfaceName, String propertyName) {
		return (A) properties.get(interfaceName, propertyName);
	}

	@Override
	public <A> void Set(String interfaceName, String propertyName, A value) {
		properties.set(interfaceName, propertyName);
	}

	@Override
	public Map<String, Variant<?>> GetAll(String interfaceName) {
		return properties.getAll(interfaceName);
	}
}
