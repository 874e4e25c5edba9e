package psi.api.dto;

import org.osgi.dto.DTO;

/** A job the service manager ran (or queued) on a unit. */
public class JobDTO extends DTO {
	/** What was asked of the unit. */
	public enum Kind {
		/** start the unit */
		START,
		/** stop the unit */
		STOP,
		/** restart the unit */
		RESTART,
		/** reload the unit ({@code ExecReload=}) @since 2.3 */
		RELOAD
	}

	/** What was asked. */
	public Kind kind;
	/** The unit. */
	public String unit;
	/** The job's identifier (systemd: its object path), or empty when there was none. */
	public String job;
	/**
	 * The job's result: {@code done}, {@code canceled}, {@code timeout},
	 * {@code failed}, {@code dependency}, {@code skipped}, or {@code queued}
	 * when not waited for.
	 */
	public String result;
}
