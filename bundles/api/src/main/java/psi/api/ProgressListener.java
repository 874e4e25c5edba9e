package psi.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told what a long operation (pull, verify, start) is doing, so that a front
 * end can show it: one line per step, and the bytes of a transfer.
 */
@ConsumerType
public interface ProgressListener {

	/** Ignores everything. */
	ProgressListener NONE = line -> {
	};

	/** @param line one finished or starting step, e.g. {@code Verified: checksum (…)} */
	void step(String line);

	/**
	 * Called often during a transfer, from the transport's thread.
	 *
	 * @param what what is being transferred (a file name)
	 * @param bytes bytes so far
	 * @param total bytes in all, or -1 when unknown
	 */
	default void transfer(String what, long bytes, long total) {
	}

	/**
	 * Called once when an operation has waited a moment for another one
	 * changing the same host, and goes on waiting. By default a step.
	 *
	 * @param line what it waits for, one line
	 * @since 1.2
	 */
	default void waiting(String line) {
		step(line);
	}

	/** Called when a transfer ended, whichever way. */
	default void transferDone() {
	}
}
