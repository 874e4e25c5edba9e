package org.freedesktop;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * The errors of systemd's that portabled sends about units, named as dbus-java
 * names errors (see {@link portable1}).
 */
@SuppressWarnings("checkstyle:TypeName")
public final class systemd1 {

	private systemd1() {
	}

	/** {@code org.freedesktop.systemd1.UnitExists} */
	public static final class UnitExists extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public UnitExists(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.systemd1.NoSuchUnit} */
	public static final class NoSuchUnit extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public NoSuchUnit(String message) {
			super(message);
		}
	}
}
