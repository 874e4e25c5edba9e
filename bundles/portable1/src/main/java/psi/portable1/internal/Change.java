package psi.portable1.internal;

import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.Position;

/** One change portabled reports ({@code (sss)}): its type, the path, and the source or {@code ""}. */
public final class Change extends Struct {
	/** copy, symlink, write, mkdir or unlink */
	@Position(0)
	public final String type;
	/** the path changed */
	@Position(1)
	public final String path;
	/** the link's target or the copy's source, else {@code ""} */
	@Position(2)
	public final String source;

	/**
	 * @param type the type
	 * @param path the path
	 * @param source the source
	 */
	public Change(String type, String path, String source) {
		this.type = type;
		this.path = path;
		this.source = source;
	}
}
