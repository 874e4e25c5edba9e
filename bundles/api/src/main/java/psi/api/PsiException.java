package psi.api;

/**
 * A failed psi operation. The message is one line for the admin naming what
 * is wrong and where; {@link #exitStatus()} is the process status a command
 * line front end exits with. The failures systemd's portabled also knows
 * carry a {@link #reason()} and portabled's own text ({@link #summary()}),
 * so that a front end speaking portabled's protocol answers as it does.
 */
public class PsiException extends RuntimeException {
	private static final long serialVersionUID = 1L;

	/**
	 * What kind of failure, in the terms of systemd's portabled.
	 *
	 * @since 2.3
	 */
	public enum Reason {
		/** none of the below */
		OTHER,
		/** no image of that name in the search paths */
		NO_SUCH_IMAGE,
		/** a path that is no image of a type psi reads */
		BAD_IMAGE_TYPE,
		/** a path that does not exist */
		NOT_FOUND,
		/** an argument or an image's content is not valid: no os-release, no matching unit, a prefix the image refuses */
		INVALID,
		/** the image's os-release lacks {@code ID=} */
		NO_OS_RELEASE_ID,
		/** a unit of the image exists on the host already, or is active */
		UNIT_EXISTS,
		/** nothing of the image is attached */
		NOT_ATTACHED,
		/** the image is attached and cannot be removed */
		NOT_DETACHED,
		/** the image cannot be changed (a vendor image, a read-only file system) */
		READ_ONLY,
		/** the operation is not supported where it was asked */
		NOT_SUPPORTED,
		/**
		 * an extension image does not fit its base: its extension-release
		 * names another {@code ID=}, level or version, scope or architecture
		 *
		 * @since 2.4
		 */
		EXTENSION_MISMATCH,
		/**
		 * two images of one attachment have the same image name (an extension
		 * given twice, or two of the same name from different places)
		 *
		 * @since 2.4
		 */
		DUPLICATE_IMAGE,
		/**
		 * a version older than the one attached (or pulled) was asked for
		 * without allowing a downgrade
		 *
		 * @since 2.5
		 */
		DOWNGRADE
	}

	private final int exitStatus;
	private final Reason reason;
	private final String summary;

	/** @param message one line naming what is wrong and where */
	public PsiException(String message) {
		this(message, 1, null);
	}

	/**
	 * @param message one line naming what is wrong and where
	 * @param cause the underlying failure
	 */
	public PsiException(String message, Throwable cause) {
		this(message, 1, cause);
	}

	/**
	 * @param message one line naming what is wrong and where, or {@code null}
	 *        when the front end has already said everything (a state query)
	 * @param exitStatus the process status, not 0
	 * @param cause the underlying failure, or {@code null}
	 */
	public PsiException(String message, int exitStatus, Throwable cause) {
		this(Reason.OTHER, message, null, exitStatus, cause);
	}

	/**
	 * @param reason what kind of failure
	 * @param summary one line naming what is wrong and where, as portabled says it
	 * @param hint what psi adds for the admin (shown in parentheses after the
	 *        summary), or {@code null}
	 * @param exitStatus the process status, not 0
	 * @param cause the underlying failure, or {@code null}
	 * @since 2.3
	 */
	public PsiException(Reason reason, String summary, String hint, int exitStatus, Throwable cause) {
		super(hint == null ? summary : summary + " (" + hint + ")", cause);
		this.exitStatus = exitStatus;
		this.reason = reason;
		this.summary = summary;
	}

	/**
	 * @param reason what kind of failure
	 * @param summary one line naming what is wrong and where, as portabled says it
	 * @param hint what psi adds for the admin, or {@code null}
	 * @since 2.3
	 */
	public PsiException(Reason reason, String summary, String hint) {
		this(reason, summary, hint, 1, null);
	}

	/**
	 * @return what kind of failure
	 * @since 2.3
	 */
	public Reason reason() {
		return reason;
	}

	/**
	 * @return the message without psi's hint: for the failures of a
	 *         {@link #reason()} other than {@code OTHER}, portabled's own text
	 * @since 2.3
	 */
	public String summary() {
		return summary;
	}

	/** @return the process status a command line front end exits with */
	public int exitStatus() {
		return exitStatus;
	}
}
