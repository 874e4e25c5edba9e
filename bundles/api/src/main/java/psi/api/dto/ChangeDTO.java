package psi.api.dto;

import org.osgi.dto.DTO;

/** One change made to the host, as portabled reports it. */
public class ChangeDTO extends DTO {
	/** What kind of change. */
	public enum Type {
		/** a file copied (a unit, a profile) */
		COPY,
		/** a symbolic link created or replaced */
		SYMLINK,
		/** a file written */
		WRITE,
		/** a directory created */
		MKDIR,
		/** a file, link or directory removed */
		UNLINK,
		/** a job on a unit: {@link ChangeDTO#job} */
		JOB,
		/** a unit that ran already */
		RUNNING,
		/** a unit whose job did not succeed, or that failed at once: {@link ChangeDTO#source} says why */
		FAILED,
		/**
		 * what psi did or decided, for the admin to read: {@link ChangeDTO#source}
		 * is the line ({@link ChangeDTO#path} the image it is about); changes nothing by itself
		 *
		 * @since 2.6
		 */
		NOTICE
	}

	/** What kind of change. */
	public Type type;
	/** The host path changed, as the host sees it (not including the root). */
	public String path;
	/**
	 * For {@code copy} and {@code symlink}: the source; for {@code failed}:
	 * why, one line; for {@code notice}: the line; else {@code null}.
	 */
	public String source;
	/** For {@code job}: the job; else {@code null}. */
	public JobDTO job;

	/**
	 * @param type the change type
	 * @param path the path changed
	 * @param source the source, or {@code null}
	 * @return a new change
	 */
	public static ChangeDTO of(Type type, String path, String source) {
		ChangeDTO c = new ChangeDTO();
		c.type = type;
		c.path = path;
		c.source = source;
		return c;
	}
}
