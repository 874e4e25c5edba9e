package psi.spi.manager;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A service manager: reloads, starts, stops and reports units (systemd over
 * D-Bus, or psi's embedded engine where systemd is not PID 1).
 * <p>
 * Registered with {@value #NAME}; the engine uses the highest ranked manager
 * that is {@link #available()}. Must be thread safe.
 */
@ConsumerType
public interface ServiceManager {

	/** Service property: the manager's name, e.g. {@code systemd}. */
	String NAME = "psi.manager.name";

	/** @return whether this manager can act on this host now */
	boolean available();

	/** Makes the manager re-read unit files ({@code daemon-reload}). */
	void reload() throws IOException;

	/**
	 * The active state of a unit, as systemd names it.
	 *
	 * @param unit a unit name
	 * @return {@code active}, {@code inactive}, {@code failed}, {@code activating}, ...
	 */
	String activeState(String unit) throws IOException;

	/**
	 * Starts a unit, waiting for its job unless {@code wait} is false.
	 *
	 * @param unit a unit name
	 * @param wait whether to wait for the job to finish
	 */
	void start(String unit, boolean wait) throws IOException;

	/**
	 * Stops a unit, waiting for its job unless {@code wait} is false.
	 *
	 * @param unit a unit name
	 * @param wait whether to wait for the job to finish
	 */
	void stop(String unit, boolean wait) throws IOException;

	/**
	 * Enables attached unit files as portable units.
	 *
	 * @param unitFiles host paths of the unit files
	 * @param runtime whether to enable for this boot only
	 */
	default void enable(List<Path> unitFiles, boolean runtime) throws IOException {
		throw new UnsupportedOperationException("enable");
	}

	/**
	 * Disables units.
	 *
	 * @param units unit names
	 * @param runtime whether the enablement was for this boot only
	 */
	default void disable(List<String> units, boolean runtime) throws IOException {
		throw new UnsupportedOperationException("disable");
	}
}
