package psi.spi.format;

import java.io.IOException;

/**
 * An image that cannot be used: corrupt, hostile or incomplete. The message is
 * one line naming what is wrong and where, ready for the admin.
 */
public class ImageException extends IOException {
	private static final long serialVersionUID = 1L;

	/** @param message what is wrong and where */
	public ImageException(String message) {
		super(message);
	}
}
