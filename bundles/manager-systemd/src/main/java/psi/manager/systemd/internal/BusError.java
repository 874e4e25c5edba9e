package psi.manager.systemd.internal;

import java.io.IOException;

/** A D-Bus error reply, e.g. {@code org.freedesktop.systemd1.NoSuchUnit: Unit x.service not loaded.} */
final class BusError extends IOException {
	private static final long serialVersionUID = 1L;

	private final String name;

	BusError(String name, String message) {
		super(message == null || message.isBlank() ? name : name + ": " + message);
		this.name = name;
	}

	/** @return the D-Bus error name */
	String name() {
		return name;
	}
}
