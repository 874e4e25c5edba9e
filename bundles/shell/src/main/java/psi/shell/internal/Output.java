package psi.shell.internal;

import psi.shell.command.CommandOutput;

/**
 * A command's rendered output.
 *
 * @param text for standard output
 * @param notice for standard error
 * @param exitStatus the exit status
 */
record Output(String text, String notice, int exitStatus) implements CommandOutput {

	static Output of(String text) {
		return new Output(text, "", 0);
	}

	@Override
	public String toString() {
		return notice + text;
	}
}
