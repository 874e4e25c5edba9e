package psi.manager.systemd.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.freedesktop.dbus.connections.IDisconnectCallback;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.matchrules.DBusMatchRule;
import org.freedesktop.dbus.matchrules.DBusMatchRuleBuilder;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;

/**
 * The system bus through dbus-java's low-level API (method calls built from
 * their signature, replies read as values): D-Bus error names are kept,
 * every call has its own timeout, and no proxy or struct class has to be
 * visible to dbus-java's class loader.
 * <p>
 * One connection, made on first use (dbus-java's start-up is paid only by
 * commands that talk to systemd), made anew when it died, closed by
 * {@link #close()}. Thread safe.
 */
final class SystemBus implements Bus {

	static final String SYSTEMD = "org.freedesktop.systemd1";
	static final String MANAGER_PATH = "/org/freedesktop/systemd1";
	static final String MANAGER = "org.freedesktop.systemd1.Manager";
	/** connecting includes the SASL handshake and Hello: bounded, a wedged bus must not hang a command */
	static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

	private final String address;
	private final JobTracker jobs;
	private final IDisconnectCallback disconnects = new IDisconnectCallback() {
		@Override
		public void disconnectOnError(IOException e) {
			jobs.connectionLost(message(e));
		}

		@Override
		public void exceptionOnTerminate(IOException e) {
			jobs.connectionLost(message(e));
		}
	};

	/** guarded by this */
	private DBusConnection connection;
	/** guarded by this: JobRemoved is routed to {@link #jobs} on the current connection */
	private boolean watching;
	/** guarded by this: the caller asked for JobRemoved signals (kept across reconnects) */
	private boolean wantJobs;
	/** guarded by this */
	private boolean closed;

	SystemBus(String address, JobTracker jobs) {
		this.address = address;
		this.jobs = jobs;
	}

	@Override
	public Object[] call(String path, String iface, String member, Duration timeout, String signature,
			Object... args) throws IOException {
		return call(SYSTEMD, path, iface, member, timeout, signature, args);
	}

	private Object[] call(String destination, String path, String iface, String member, Duration timeout,
			String signature, Object... args) throws IOException {
		DBusConnection c = connection();
		Message reply;
		try {
			MethodCall call = c.getMessageFactory().createMethodCall(destination, path, iface, member, (byte) 0,
					signature, args);
			c.sendMessage(call);
			reply = call.getReply(timeout.toMillis());
		} catch (DBusException | RuntimeException e) {
			dropIfDead(c);
			throw new IOException(member + ": " + message(e), e);
		}
		if (reply == null) {
			dropIfDead(c);
			throw new IOException("no reply to " + member + " within " + timeout.toMillis() + " ms");
		}
		try {
			Object[] values = reply.getParameters();
			if (reply instanceof org.freedesktop.dbus.messages.Error) {
				dropIfDead(c);
				throw new BusError(reply.getName(),
						values != null && values.length > 0 && values[0] instanceof String s ? s : "");
			}
			return values == null ? new Object[0] : values;
		} catch (DBusException e) {
			throw new IOException("unreadable reply to " + member + ": " + message(e), e);
		}
	}

	@Override
	public synchronized void watchJobs() throws IOException {
		wantJobs = true;
		DBusConnection c = connection();
		if (watching) {
			return;
		}
		// Only systemd's signals count, but dbus-java matches a rule's sender against the signal's
		// unique sender name itself: the rule names systemd's unique name, not org.freedesktop.systemd1.
		Object[] owner = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
				Duration.ofSeconds(25), "s", SYSTEMD);
		// match rule first, then Subscribe: systemd only emits job signals to subscribers
		DBusMatchRule rule = DBusMatchRuleBuilder.create().withType("signal").withSender(String.valueOf(owner[0]))
				.withPath(MANAGER_PATH).withInterface(MANAGER).withMember("JobRemoved").build();
		try {
			c.addGenericSigHandler(rule, signal -> {
				try {
					// JobRemoved(u id, o job, s unit, s result)
					Object[] v = signal.getParameters();
					jobs.jobRemoved(String.valueOf(v[1]), String.valueOf(v[3]));
				} catch (DBusException | RuntimeException e) {
					// a malformed signal: the waiter times out with a clear message
				}
			});
		} catch (DBusException e) {
			throw new IOException("cannot receive JobRemoved signals: " + message(e), e);
		}
		call(MANAGER_PATH, MANAGER, "Subscribe", Duration.ofSeconds(25), null);
		watching = true;
	}

	/** @return the live connection, connecting (again) when there is none */
	synchronized DBusConnection connection() throws IOException {
		if (closed) {
			throw new IOException("the systemd manager is closed");
		}
		if (connection != null && connection.isConnected()) {
			return connection;
		}
		if (connection != null) {
			closeQuietly(connection);
			connection = null;
		}
		watching = false;
		DBusConnection c = connect();
		connection = c;
		if (wantJobs) {
			watchJobs();
		}
		return c;
	}

	private DBusConnection connect() throws IOException {
		// one attempt: dbus-java retries a missing socket every 0.5 s for its transport timeout (10 s) otherwise
		FutureTask<DBusConnection> task = new FutureTask<>(() -> DBusConnectionBuilder.forAddress(address)
				.withShared(false).withDisconnectCallback(disconnects).transportConfig().withTimeout(0).back().build());
		Thread t = new Thread(task, "psi-systemd-connect");
		t.setDaemon(true);
		t.start();
		try {
			return task.get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
		} catch (TimeoutException e) {
			t.interrupt();
			throw new IOException("no answer within " + CONNECT_TIMEOUT.toSeconds() + " s");
		} catch (ExecutionException e) {
			throw new IOException(message(e.getCause()), e.getCause());
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException("interrupted while connecting");
		}
	}

	private synchronized void dropIfDead(DBusConnection c) {
		if (c == connection && !c.isConnected()) {
			closeQuietly(c);
			connection = null;
			watching = false;
		}
	}

	@Override
	public synchronized void close() {
		closed = true;
		if (connection != null) {
			closeQuietly(connection);
			connection = null;
		}
	}

	/** @return whether a connection is open (for tests: none before the first call) */
	synchronized boolean connected() {
		return connection != null && connection.isConnected();
	}

	private static void closeQuietly(DBusConnection c) {
		try {
			c.close();
		} catch (IOException | RuntimeException e) {
			// it is going anyway
		}
	}

	/** The most telling message of a failure and its causes, on one line. */
	static String message(Throwable t) {
		String best = null;
		for (Throwable c = t; c != null; c = c.getCause()) {
			if (c.getMessage() != null && !c.getMessage().isBlank()) {
				best = c.getMessage();
			}
			if (c.getCause() == c) {
				break;
			}
		}
		if (best == null) {
			best = t.getClass().getSimpleName();
		}
		return best.replaceAll("\\s*\\R\\s*", " ").strip();
	}
}
