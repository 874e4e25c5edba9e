package psi.transport.ssh.internal;

import java.io.IOException;

/**
 * An SFTP request the server refused with a status code
 * (draft-ietf-secsh-filexfer-02, section 7), or a reply that breaks the
 * protocol ({@link #status()} {@code -1}). The message is one line, without
 * the URL.
 */
final class SftpException extends IOException {
	private static final long serialVersionUID = 1L;

	private final int status;

	/** A reply that breaks the protocol. */
	SftpException(String message) {
		this(-1, message);
	}

	SftpException(int status, String message) {
		super(message);
		this.status = status;
	}

	/** @return the SFTP status code, or -1 for a protocol violation */
	int status() {
		return status;
	}

	/**
	 * @param status an SFTP status code
	 * @param serverMessage the server's text for it, possibly empty
	 * @return the exception, named by the server's text, or by the code when it sent none
	 */
	static SftpException of(int status, String serverMessage) {
		String text = Printable.line(serverMessage, 200);
		return new SftpException(status, text.isEmpty() ? name(status) : text);
	}

	/** @return what draft-ietf-secsh-filexfer-02 calls a status code, in lower case */
	static String name(int status) {
		return switch (status) {
			case SftpPacket.OK -> "ok";
			case SftpPacket.EOF -> "end of file";
			case SftpPacket.NO_SUCH_FILE -> "no such file";
			case SftpPacket.PERMISSION_DENIED -> "permission denied";
			case SftpPacket.FAILURE -> "failure";
			case SftpPacket.BAD_MESSAGE -> "bad message";
			case SftpPacket.NO_CONNECTION -> "no connection";
			case SftpPacket.CONNECTION_LOST -> "connection lost";
			case SftpPacket.OP_UNSUPPORTED -> "operation unsupported";
			default -> "SFTP status " + Integer.toUnsignedString(status);
		};
	}
}
