package psi.manager.systemd.internal;

import java.io.IOException;
import java.time.Duration;

/**
 * What {@link SystemdManager} needs from the system bus: method calls on
 * systemd ({@code org.freedesktop.systemd1}) and its JobRemoved signals.
 * {@link SystemBus} is the real one; tests give fakes. Thread safe.
 */
interface Bus extends AutoCloseable {

	/**
	 * Calls a method of systemd and waits for the reply.
	 *
	 * @param path the object path
	 * @param iface the interface
	 * @param member the method
	 * @param timeout how long to wait for the reply
	 * @param signature the D-Bus signature of {@code args}, null for none
	 * @return the reply's values (D-Bus arrays as lists, structs as {@code Object[]})
	 * @throws BusError the reply was a D-Bus error
	 * @throws IOException the bus failed or did not answer in time
	 */
	Object[] call(String path, String iface, String member, Duration timeout, String signature, Object... args)
			throws IOException;

	/**
	 * Makes sure that systemd's JobRemoved signals reach the job tracker from
	 * now on, on this connection and on any it is replaced with.
	 */
	void watchJobs() throws IOException;

	/** Closes the connection, if there is one. */
	@Override
	void close();
}
