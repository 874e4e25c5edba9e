package psi.spi.manager;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.dto.DTO;

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

	/**
	 * The root whose units this manager runs: {@code /} for systemd; for a
	 * manager that runs services itself, the root the resident psi serves
	 * ({@link ResidentFramework}). The engine asks a manager only about units
	 * attached under its root.
	 *
	 * @return the root, absolute and normalized
	 * @since 2.1
	 */
	default Path root() {
		return Path.of("/");
	}

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
	 * A unit's active state alone ({@code active}, {@code inactive},
	 * {@code failed}, ...), for the checks that ask often: a manager may
	 * answer it more cheaply than {@link #status(String)}.
	 *
	 * @param unit a unit name
	 * @return its active state; {@code inactive} for a unit the manager does not know
	 * @since 2.3
	 */
	default String activeState(String unit) throws IOException {
		return status(unit).activeState;
	}

	/**
	 * Starts a unit (job mode {@code replace}).
	 *
	 * @param unit a unit name
	 * @param wait whether to wait for the job to finish, at most {@link #JOB_TIMEOUT}
	 * @return the job's result ({@code done} when it succeeded); {@code queued} when not waiting
	 */
	JobResult start(String unit, boolean wait) throws IOException;

	/**
	 * Starts a unit, the admin having said whether it may run without sandbox
	 * directives this manager does not implement ({@code --allow-unsandboxed});
	 * a manager that implements them all (systemd) ignores the flag.
	 *
	 * @param unit a unit name
	 * @param wait whether to wait for the job to finish
	 * @param allowUnsandboxed whether the unit may run without the sandbox directives the manager lacks
	 * @return the job's result
	 * @since 2.1
	 */
	default JobResult start(String unit, boolean wait, boolean allowUnsandboxed) throws IOException {
		return start(unit, wait);
	}

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
	 * Reloads a unit ({@code ExecReload=}), as {@code systemctl reload}.
	 *
	 * @param unit the unit name
	 * @param wait whether to wait for the job to finish
	 * @return the job's result
	 * @throws IOException when the unit cannot reload (no {@code ExecReload=}: systemd's
	 *         "Job type reload is not applicable"), or the manager cannot reload units
	 * @since 2.2
	 */
	default JobResult reloadUnit(String unit, boolean wait) throws IOException {
		throw new IOException("Job type reload is not applicable for unit " + unit + ".");
	}

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
	 * The newest journal lines of an image's units: the entries whose field
	 * {@code PORTABLE=} is the image's file name, oldest first. The journal is
	 * read whether or not the manager is {@link #available()}.
	 *
	 * @param portable the image's file name, e.g. {@code foobar_1.raw}
	 * @param lines how many of the newest lines
	 * @return the lines, formatted as {@code journalctl -o short} does
	 * @throws IOException when there is no journal to read, or it cannot be read
	 * @since 2.0
	 */
	default List<String> journal(String portable, int lines) throws IOException {
		throw new IOException("service manager " + getClass().getName() + " keeps no journal");
	}

	/**
	 * Follows the journal lines of an image's units as they come, after the
	 * newest {@code lines} ones, until closed.
	 *
	 * @param portable the image's file name
	 * @param lines how many of the newest lines first
	 * @param sink told each line, from the manager's thread
	 * @return the follower; closing it stops the following
	 * @since 2.0
	 */
	default JournalFollower followJournal(String portable, int lines, Consumer<String> sink) throws IOException {
		throw new IOException("service manager " + getClass().getName() + " keeps no journal");
	}

	/** A journal being followed. */
	@ConsumerType
	interface JournalFollower extends AutoCloseable {
		/** Waits until the following ends (closed, or the journal's reader ended). */
		void await() throws InterruptedException;

		/** Stops the following. */
		@Override
		void close();
	}

	/**
	 * The state of a unit, as the manager reports it: a DTO whose fields grow
	 * in minor versions.
	 */
	final class UnitStatus extends DTO {
		/** The unit name. */
		public String name;
		/** Its Description=. */
		public String description = "";
		/** {@code loaded}, {@code not-found}, ... */
		public String loadState;
		/**
		 * {@code active}, {@code inactive}, {@code failed}, {@code activating}, ...:
		 * systemd's word as reported ({@link ActiveState#of(String)}), kept as a
		 * string so that a state a newer systemd adds passes through.
		 */
		public String activeState;
		/** {@code running}, {@code dead}, {@code exited}, {@code listening}, ... */
		public String subState;
		/** The main process, 0 if none. */
		public long mainPid;
		/** The main process's exit status. */
		public int execMainStatus;
		/** Bytes of memory, -1 when unknown. */
		public long memoryCurrent = -1;
		/** Tasks, -1 when unknown. */
		public long tasksCurrent = -1;
		/** When it last became active, µs since the epoch, 0 if never. */
		public long activeEnterTimestamp;
		/** The unit's result, e.g. {@code success}, {@code exit-code}. */
		public String result;
		/** For a timer: when it elapses next, µs since the epoch, 0 when not armed. @since 2.1 */
		public long nextElapse;
		/** CPU time used, nanoseconds, -1 when unknown. @since 2.1 */
		public long cpuUsageNSec = -1;
		/**
		 * What the admin should know about how the unit runs, one line each:
		 * directives the manager does not implement, a sandbox asked to be
		 * lowered ({@code --allow-unsandboxed}). @since 2.1
		 */
		public List<String> warnings = new java.util.ArrayList<>();
		/** What the service last said of itself ({@code STATUS=} of {@code sd_notify}), empty if nothing. @since 2.2 */
		public String statusText = "";
		/** IP bytes received ({@code IPAccounting=}), -1 when unknown. @since 2.4 */
		public long ipIngressBytes = -1;
		/** IP packets received, -1 when unknown. @since 2.4 */
		public long ipIngressPackets = -1;
		/** IP bytes sent, -1 when unknown. @since 2.4 */
		public long ipEgressBytes = -1;
		/** IP packets sent, -1 when unknown. @since 2.4 */
		public long ipEgressPackets = -1;

		/** @return whether the unit counts as running ({@link ActiveState#running()}) */
		public boolean isRunning() {
			ActiveState s = ActiveState.of(activeState);
			return s != null && s.running();
		}
	}

	/**
	 * A job's outcome: a value the manager makes. Final, so that it can gain
	 * properties (new accessors, new constructors) in minor versions.
	 */
	final class JobResult {
		private final String unit;
		private final String job;
		private final String result;

		/**
		 * @param unit the unit
		 * @param job the job's object path, or empty when there was no job
		 * @param result {@code done}, {@code canceled}, {@code timeout}, {@code failed},
		 *        {@code dependency}, {@code skipped}, or {@code queued} when not waited for
		 */
		public JobResult(String unit, String job, String result) {
			this.unit = unit;
			this.job = job;
			this.result = result;
		}

		/** @return the unit */
		public String unit() {
			return unit;
		}

		/** @return the job's object path, or empty */
		public String job() {
			return job;
		}

		/** @return the job's result */
		public String result() {
			return result;
		}

		/** @return whether the job succeeded (or was only queued) */
		public boolean ok() {
			return result.equals("done") || result.equals("queued") || result.equals("skipped");
		}

		@Override
		public boolean equals(Object o) {
			return o instanceof JobResult other && java.util.Objects.equals(unit, other.unit) && java.util.Objects.equals(job, other.job) && java.util.Objects.equals(result, other.result);
		}

		@Override
		public int hashCode() {
			return java.util.Objects.hash(unit, job, result);
		}

		@Override
		public String toString() {
			return unit + " " + job + " " + result;
		}
	}
}
