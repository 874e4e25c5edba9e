package psi.portable1.internal;

import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.Position;

/** One unit of {@code io.psi.Portables1.Status} ({@code (sssss)}). */
public final class UnitEntry extends Struct {
	/** the unit */
	@Position(0)
	public final String name;
	/** loaded, not-found, ... */
	@Position(1)
	public final String loadState;
	/** active, inactive, failed, ... */
	@Position(2)
	public final String activeState;
	/** running, dead, exited, ... */
	@Position(3)
	public final String subState;
	/** its last STATUS= */
	@Position(4)
	public final String statusText;

	UnitEntry(String name, String loadState, String activeState, String subState, String statusText) {
		this.name = name;
		this.loadState = loadState;
		this.activeState = activeState;
		this.subState = subState;
		this.statusText = statusText;
	}
}
