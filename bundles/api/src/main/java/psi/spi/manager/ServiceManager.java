package psi.spi.manager;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A service manager: reloads, starts, stops and reports units (systemd over
 * D-Bus, or psi's embedded engine where systemd is not PID 1).
 * <p>
 * Registered with {@value #NAME}; the engine uses the highest ranked manager
 * that is {@link #available()}. Must be thread safe. Every failure is an
 * {@link IOException} whose message is one line naming the unit and the cause
 * (for a failed job: its result, e.g. {@code failed}, {@code timeout}).
 */
@ConsumerType
public interface ServiceManager {

	/** Service property: the manager's name, e.g. {@code systemd}. */
	String NAME = "psi.manager.name";

	/** How long {@link #start}, {@link #stop} and {@link #restart} wait for their job by default. */
	Duration JOB_TIMEOUT = Duration.ofSeconds(90);

	/** @return whether this manager can act on this host now (for systemd: PID 1 and its bus answers) */
	boolean available();

	/** @return why it is not available, one line, for the admin; empty when it is */
	default String unavailableReason() {
		return "";
	}

	/** Makes the manager re-read unit files ({@code daemon-reload}); returns when it has. */
	void reload() throws IOException;

	/**
	 * The state of a unit; a unit the manager does not know is reported with
	 * load state {@code not-found} and active state {@code inactive}.
	 *
	 * @param unit a unit name
	 * @return its status
	 */
	UnitStatus status(String unit) throws IOException;

	/**
	 * Starts a unit (job mode {@code replace}).
	 *
	 * @param unit a unit name
	 * @param wait whether to wait for the job to finish, at most {@link #JOB_TIMEOUT}
	 * @return the job's result ({@code done} when it succeeded); {@code queued} when not waiting
	 */
	JobResult start(String unit, boolean wait) throws IOException;

	/**
	 * Stops a unit (job mode {@code replace}).
	 *
	 * @param unit a unit name
	 * @param wait whether to wait for the job to finish
	 * @return the job's result
	 */
	JobResult stop(String unit, boolean wait) throws IOException;

	/**
	 * Restarts a unit (job mode {@code replace}).
	 *
	 * @param unit a unit name
	 * @param wait whether to wait for the job to finish
	 * @return the job's result
	 */
	JobResult restart(String unit, boolean wait) throws IOException;

	/**
	 * Enables attached unit files as portable units ({@code EnableUnitFilesWithFlags}
	 * with the PORTABLE flag, and RUNTIME where asked).
	 *
	 * @param unitFiles host paths of the unit files
	 * @param runtime whether for this boot only
	 * @return the changes made, as {@code type path source} lines (e.g. {@code symlink /etc/... /etc/...})
	 */
	List<String> enable(List<Path> unitFiles, boolean runtime) throws IOException;

	/**
	 * Disables units ({@code DisableUnitFilesWithFlags}, PORTABLE and RUNTIME where asked).
	 *
	 * @param units unit names
	 * @param runtime whether the enablement was for this boot only
	 * @return the changes made, as {@link #enable}
	 */
	List<String> disable(List<String> units, boolean runtime) throws IOException;

	/**
	 * The loaded units whose names match glob patterns ({@code ListUnitsByPatterns}),
	 * e.g. the instances of a template {@code foo@*.service}.
	 *
	 * @param patterns glob patterns
	 * @return the unit names
	 */
	List<String> listUnits(List<String> patterns) throws IOException;

	/**
	 * Resets a unit's failed state.
	 *
	 * @param unit a unit name
	 */
	void resetFailed(String unit) throws IOException;

	/**
	 * @param name the unit name
	 * @param description its Description=
	 * @param loadState {@code loaded}, {@code not-found}, ...
	 * @param activeState {@code active}, {@code inactive}, {@code failed}, {@code activating}, ...
	 * @param subState {@code running}, {@code dead}, {@code exited}, {@code listening}, ...
	 * @param mainPid the main process, 0 if none
	 * @param execMainStatus the main process's exit status
	 * @param memoryCurrent bytes of memory, -1 when unknown
	 * @param tasksCurrent tasks, -1 when unknown
	 * @param activeEnterTimestamp when it last became active, µs since the epoch, 0 if never
	 * @param result the unit's result, e.g. {@code success}, {@code exit-code}
	 */
	record UnitStatus(String name, String description, String loadState, String activeState, String subState,
		long mainPid, int execMainStatus, long memoryCurrent, long tasksCurrent, long activeEnterTimestamp,
		String result) {

		/** @return whether the unit is active, reloading, activating or deactivating (portabled's "running") */
		public boolean isRunning() {
			return List.of("active", "reloading", "activating", "deactivating").contains(activeState);
		}
	}

	/**
	 * @param unit the unit
	 * @param job the job's object path, or empty when there was no job
	 * @param result {@code done}, {@code canceled}, {@code timeout}, {@code failed},
	 *        {@code dependency}, {@code skipped}, or {@code queued} when not waited for
	 */
	record JobResult(String unit, String job, String result) {
		/** @return whether the job succeeded (or was only queued) */
		public boolean ok() {
			return result.equals("done") || result.equals("queued") || result.equals("skipped");
		}
	}
}
