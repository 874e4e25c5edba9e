package psi.spi.manager;

import java.util.Locale;

/**
 * A unit's active state, as systemd names it ({@code ActiveState=}); the one
 * place that says which states count as running.
 */
public enum ActiveState {
	/** started, bound, plugged in */
	ACTIVE,
	/** active and reloading its configuration */
	RELOADING,
	/** stopped */
	INACTIVE,
	/** stopped after a failure */
	FAILED,
	/** being started */
	ACTIVATING,
	/** being stopped */
	DEACTIVATING,
	/** being cleaned up ({@code systemctl clean}) */
	MAINTENANCE,
	/** refreshing its mounts (systemd 256) */
	REFRESHING;

	/** @return as systemd writes it: {@code active} */
	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

	/** @return whether a unit in this state counts as running, as portabled counts it */
	public boolean running() {
		return this == ACTIVE || this == RELOADING || this == ACTIVATING || this == DEACTIVATING || this == REFRESHING;
	}

	/**
	 * @param label a state as systemd writes it
	 * @return the state, or {@code null} for one this version does not know
	 */
	public static ActiveState of(String label) {
		for (ActiveState s : values()) {
			if (s.label().equals(label)) {
				return s;
			}
		}
		return null;
	}
}
