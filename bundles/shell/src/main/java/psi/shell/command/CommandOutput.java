package psi.shell.command;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What a psi command returns to the shell or the {@code psi} launcher: text
 * for standard output, notices for standard error, and the exit status.
 * Command front ends render it; they never print on their own.
 */
@ProviderType
public interface CommandOutput {

	/** @return the text for standard output, empty or ending in a newline */
	String text();

	/** @return lines for standard error (notices such as which prefixes are matched), empty or ending in a newline */
	default String notice() {
		return "";
	}

	/** @return the process exit status: 0 for success */
	default int exitStatus() {
		return 0;
	}
}
