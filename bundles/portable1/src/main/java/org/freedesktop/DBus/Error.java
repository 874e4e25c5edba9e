package org.freedesktop.DBus;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * D-Bus's standard errors as psi's portable1 service sends them. dbus-java
 * names an error after the class of the exception a method throws ({@code $}
 * read as {@code .}), so {@code org.freedesktop.DBus.Error$InvalidArgs} goes
 * out as {@code org.freedesktop.DBus.Error.InvalidArgs}.
 */
public final class Error {

	private Error() {
	}

	/** {@code org.freedesktop.DBus.Error.InvalidArgs} */
	public static final class InvalidArgs extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public InvalidArgs(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.AccessDenied} */
	public static final class AccessDenied extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public AccessDenied(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.InteractiveAuthorizationRequired} */
	public static final class InteractiveAuthorizationRequired extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public InteractiveAuthorizationRequired(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.NotSupported} */
	public static final class NotSupported extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public NotSupported(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.FileNotFound} */
	public static final class FileNotFound extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public FileNotFound(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.FileExists} */
	public static final class FileExists extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public FileExists(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.Failed} */
	public static final class Failed extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public Failed(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.UnknownObject} */
	public static final class UnknownObject extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public UnknownObject(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.UnknownInterface} */
	public static final class UnknownInterface extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public UnknownInterface(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.UnknownProperty} */
	public static final class UnknownProperty extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public UnknownProperty(String message) {
			super(message);
		}
	}

	/** {@code org.freedesktop.DBus.Error.PropertyReadOnly} */
	public static final class PropertyReadOnly extends DBusExecutionException {
		private static final long serialVersionUID = 1L;

		/** @param message the text */
		public PropertyReadOnly(String message) {
			super(message);
		}
	}
}
