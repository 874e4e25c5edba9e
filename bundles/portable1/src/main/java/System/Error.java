package System;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * The errors sd-bus sends for an errno it has no D-Bus name for
 * ({@code System.Error.E…}), with glibc's texts, named as dbus-java names
 * errors (see {@link org.freedesktop.DBus.Error}).
 */
public final class Error {

	private Error() {
	}

	/** {@code System.Error.EBUSY} */
	public static final class EBUSY extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public EBUSY(String message) {
			super(message);
		}
	}

	/** {@code System.Error.EROFS} */
	public static final class EROFS extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public EROFS(String message) {
			super(message);
		}
	}

	/** {@code System.Error.ESTALE} */
	public static final class ESTALE extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public ESTALE(String message) {
			super(message);
		}
	}

	/** {@code System.Error.ENXIO} */
	public static final class ENXIO extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public ENXIO(String message) {
			super(message);
		}
	}
}
