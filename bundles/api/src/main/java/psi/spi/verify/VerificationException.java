package psi.spi.verify;

import java.io.IOException;

/** A failed check: the message says which check failed and why. */
public class VerificationException extends IOException {
	private static final long serialVersionUID = 1L;

	/** @param message which check failed and why */
	public VerificationException(String message) {
		super(message);
	}
}
