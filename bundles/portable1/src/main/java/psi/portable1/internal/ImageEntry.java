package psi.portable1.internal;

import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.Position;
import org.freedesktop.dbus.types.UInt64;

/** One entry of ListImages ({@code (ssbtttso)}). */
public final class ImageEntry extends Struct {
	/** the name */
	@Position(0)
	public final String name;
	/** directory, subvolume, raw or block */
	@Position(1)
	public final String type;
	/** whether it is read-only */
	@Position(2)
	public final boolean readOnly;
	/** created, µs since the epoch, 0 unknown */
	@Position(3)
	public final UInt64 crtime;
	/** modified, µs since the epoch, 0 unknown */
	@Position(4)
	public final UInt64 mtime;
	/** bytes used, UINT64_MAX unknown */
	@Position(5)
	public final UInt64 usage;
	/** the attach state */
	@Position(6)
	public final String state;
	/** the image's object */
	@Position(7)
	public final DBusPath object;

	/**
	 * @param name the name
	 * @param type the type
	 * @param readOnly read-only
	 * @param crtime created
	 * @param mtime modified
	 * @param usage bytes used
	 * @param state the attach state
	 * @param object the object path
	 */
	public ImageEntry(String name, String type, boolean readOnly, UInt64 crtime, UInt64 mtime, UInt64 usage, String state, DBusPath object) {
		this.name = name;
		this.type = type;
		this.readOnly = readOnly;
		this.crtime = crtime;
		this.mtime = mtime;
		this.usage = usage;
		this.state = state;
		this.object = object;
	}
}
