package psi.api;

/**
 * A failed psi operation. The message is one line for the admin naming what
 * is wrong and where; {@link #exitStatus()} is the process status a command
 * line front end exits with.
 */
public class PsiException extends RuntimeException {
	private static final long serialVersionUID = 1L;

	private final int exitStatus;

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
		super(message, cause);
		this.exitStatus = exitStatus;
	}

	/** @return the process status a command line front end exits with */
	public int exitStatus() {
		return exitStatus;
	}
}
