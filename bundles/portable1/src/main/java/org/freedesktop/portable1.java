package org.freedesktop;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * systemd-portabled's own errors ({@code bus-common-errors.h}), named as
 * dbus-java names errors: after the class of the exception, {@code $} read as
 * {@code .}. The class is lower case because its name is half of a D-Bus
 * error name.
 */
@SuppressWarnings("checkstyle:TypeName")
public final class portable1 {

	private portable1() {
	}

	/** {@code org.freedesktop.portable1.NoSuchImage} */
	public static final class NoSuchImage extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public NoSuchImage(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.portable1.BadImageType} */
	public static final class BadImageType extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public BadImageType(String message) {
			super(message);
		}
	}
}
