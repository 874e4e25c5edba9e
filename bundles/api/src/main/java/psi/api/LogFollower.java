package psi.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The journal lines of an image's units being followed
 * ({@link Portables#followLogs}); closing it stops the following.
 */
@ProviderType
public interface LogFollower extends AutoCloseable {

	/** Waits until the following ends: closed, or the journal's reader ended. */
	void await() throws InterruptedException;

	/** Stops the following; idempotent. */
	@Override
	void close();
}
