package psi.api.dto;

import java.util.Locale;

/** How an image is attached to a host, as {@code portablectl is-attached} says it. */
public enum AttachState {
	/** nothing of it is attached */
	DETACHED,
	/** attached, persistently */
	ATTACHED,
	/** attached until the next boot */
	ATTACHED_RUNTIME,
	/** attached and enabled, persistently */
	ENABLED,
	/** attached and enabled until the next boot */
	ENABLED_RUNTIME,
	/** attached, and a unit of it runs */
	RUNNING,
	/** attached until the next boot, and a unit of it runs */
	RUNNING_RUNTIME;

	/** @return as portablectl prints it: {@code attached-runtime} */
	public String label() {
		return name().toLowerCase(Locale.ROOT).replace('_', '-');
	}

	/** @return whether it is attached until the next boot only */
	public boolean runtime() {
		return name().endsWith("_RUNTIME");
	}

	/** @return the running state of this attachment: {@link #RUNNING} or {@link #RUNNING_RUNTIME} */
	public AttachState asRunning() {
		return runtime() ? RUNNING_RUNTIME : RUNNING;
	}

	/** @return whether a unit of it runs */
	public boolean running() {
		return this == RUNNING || this == RUNNING_RUNTIME;
	}
}
