package psi.portable1.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.UInt64;
import org.freedesktop.dbus.types.Variant;

import psi.api.dto.ImageDTO;
import psi.portable1.internal.Calls.Acquire;

/**
 * Every {@code /org/freedesktop/portable1/image/LABEL}: one fallback object
 * that reads which image a call is for from the called path. A path whose
 * label names no image is an unknown object, as in sd-bus.
 */
final class ImageObject implements Image, Properties {

	static final String INTERFACE = "org.freedesktop.portable1.Image";
	/** the properties and their signatures, in portabled's order */
	static final Map<String, String> PROPERTIES = orderedProperties();

	private final Calls calls;

	ImageObject(Calls calls) {
		this.calls = calls;
	}

	@Override
	public String getObjectPath() {
		return Calls.IMAGE_PREFIX;
	}

	/** the image of the call being served */
	private ImageDTO image() {
		return calls.imageOf(DBusConnection.getCallInfo().getObjectPath());
	}

	@Override
	public Map<String, String> GetOSRelease() {
		return calls.osRelease(image().name, Acquire.REFUSE_BY_PATH);
	}

	@Override
	public Tuples.Three<String, byte[], Map<String, byte[]>> GetMetadata(List<String> matches) {
		return calls.metadata(image().name, matches, Acquire.REFUSE_BY_PATH);
	}

	@Override
	public Tuples.Four<String, byte[], Map<String, byte[]>, Map<String, byte[]>> GetMetadataWithExtensions(List<String> extensions,
			List<String> matches, UInt64 flags) {
		return calls.metadata(image().name, extensions, matches, flags.longValue(), Acquire.REFUSE_BY_PATH);
	}

	@Override
	public String GetState() {
		return calls.state(image().name);
	}

	@Override
	public String GetStateWithExtensions(List<String> extensions, UInt64 flags) {
		return calls.state(image().name, extensions, flags.longValue());
	}

	@Override
	public List<Change> Attach(List<String> matches, String profile, boolean runtime, String copyMode) {
		return calls.attach(image().name, List.of(), matches, profile, copyMode, runtime ? Calls.RUNTIME : 0, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public List<Change> AttachWithExtensions(List<String> extensions, List<String> matches, String profile, String copyMode,
			UInt64 flags) {
		return calls.attach(image().name, extensions, matches, profile, copyMode, flags.longValue(), Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public List<Change> Detach(boolean runtime) {
		return calls.detach(image().name, List.of(), runtime ? Calls.RUNTIME : 0, false);
	}

	@Override
	public List<Change> DetachWithExtensions(List<String> extensions, UInt64 flags) {
		return calls.detach(image().name, extensions, flags.longValue(), false);
	}

	@Override
	public Tuples.Two<List<Change>, List<Change>> Reattach(List<String> matches, String profile, boolean runtime, String copyMode) {
		return calls.reattach(image().name, List.of(), matches, profile, copyMode, runtime ? Calls.RUNTIME : 0, Acquire.AUTHENTICATE_ALL);
	}

	/** 252's name, typo included; served as ReattachWithExtensions would be (252 itself always fails it with ENXIO) */
	@Override
	public Tuples.Two<List<Change>, List<Change>> ReattacheWithExtensions(List<String> extensions, List<String> matches,
			String profile, String copyMode, UInt64 flags) {
		return calls.reattach(image().name, extensions, matches, profile, copyMode, flags.longValue(), Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public void Remove() {
		calls.remove(image().name, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public void MarkReadOnly(boolean readOnly) {
		calls.markReadOnly(image().name, readOnly, Acquire.AUTHENTICATE_ALL);
	}

	@Override
	public void SetLimit(UInt64 limit) {
		calls.setLimit(image().name, limit, Acquire.AUTHENTICATE_ALL);
	}

	private static Map<String, String> orderedProperties() {
		Map<String, String> m = new java.util.LinkedHashMap<>();
		for (String p : new String[] { "Name:s", "Path:s", "Type:s", "ReadOnly:b", "CreationTimestamp:t", "ModificationTimestamp:t", "Usage:t",
			"Limit:t", "UsageExclusive:t", "LimitExclusive:t" }) {
			m.put(p.substring(0, p.indexOf(':')), p.substring(p.indexOf(':') + 1));
		}
		return java.util.Collections.unmodifiableMap(m);
	}

	private PropertyTable properties() {
		ImageDTO i = image();
		// a raw image's limit is its size, as portabled's (st_size); elsewhere unknown without btrfs quota
		Function<ImageDTO, UInt64> limit = d -> {
			if ("raw".equals(d.type)) {
				try {
					return new UInt64(Files.size(Path.of(d.path)));
				} catch (java.io.IOException | RuntimeException e) {
					return Calls.INFINITY;
				}
			}
			return Calls.INFINITY;
		};
		return new PropertyTable(INTERFACE).add("Name", "s", () -> i.name).add("Path", "s", () -> i.path).add("Type", "s", () -> i.type)
			.add("ReadOnly", "b", () -> i.readOnly).add("CreationTimestamp", "t", () -> Calls.micros(i.crtime))
			.add("ModificationTimestamp", "t", () -> Calls.micros(i.mtime)).add("Usage", "t", () -> Calls.bytes(i.usage))
			.add("Limit", "t", () -> limit.apply(i)).add("UsageExclusive", "t", () -> Calls.bytes(i.usage))
			.add("LimitExclusive", "t", () -> limit.apply(i));
	}

	@SuppressWarnings("unchecked")
	@Override
	public <A> A Get(String interfaceName, String propertyName) {
		return (A) properties().get(interfaceName, propertyName);
	}

	@Override
	public <A> void Set(String interfaceName, String propertyName, A value) {
		properties().set(interfaceName, propertyName);
	}

	@Override
	public Map<String, Variant<?>> GetAll(String interfaceName) {
		return properties().getAll(interfaceName);
	}
}
