package psi.portable1.internal;

import java.util.Map;

import org.freedesktop.DBus.Error.AccessDenied;
import org.freedesktop.DBus.Error.InteractiveAuthorizationRequired;
import org.freedesktop.dbus.DBusCallInfo;
import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.Position;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * Who may change the host, as portabled decides it
 * ({@code bus_verify_polkit_async} of systemd 252): a caller with the
 * service's own user id (root) may; anyone else is asked about through
 * polkit's {@code CheckAuthorization} with portabled's action, interactive
 * when the call allows it; without polkit on the bus, nobody else may.
 */
interface Authorizer {

	/** portabled's polkit actions */
	String INSPECT = "org.freedesktop.portable1.inspect-images";
	/** attach, detach, reattach */
	String ATTACH = "org.freedesktop.portable1.attach-images";
	/** remove, read-only, limits */
	String MANAGE = "org.freedesktop.portable1.manage-images";

	/**
	 * Returns when the caller of the current method call may do {@code action}.
	 *
	 * @throws DBusExecutionException AccessDenied, InteractiveAuthorizationRequired, or polkit's own error
	 */
	void check(String action);

	/** Asks the bus and polkit, on the connection the calls come in on. */
	final class Polkit implements Authorizer {
		/** ALLOW_INTERACTIVE_AUTHORIZATION of the D-Bus message header */
		static final int ALLOW_INTERACTIVE = 0x4;
		private static final long BUS_TIMEOUT_MS = 25_000;
		/** an interactive check waits for the admin to type a password, as sd-bus waits: long */
		private static final long INTERACTIVE_TIMEOUT_MS = 25 * 60_000;

		private final DBusConnection connection;
		private final long ownUid;

		Polkit(DBusConnection connection, long ownUid) {
			this.connection = connection;
			this.ownUid = ownUid;
		}

		/** polkit's subject {@code (sa{sv})}: a bus name */
		public static final class Subject extends Struct {
			/** the kind */
			@Position(0)
			public final String kind;
			/** its details */
			@Position(1)
			public final Map<String, Variant<?>> details;

			Subject(String sender) {
				this.kind = "system-bus-name";
				this.details = Map.of("name", new Variant<>(sender));
			}
		}

		@Override
		public void check(String action) {
			DBusCallInfo info = DBusConnection.getCallInfo();
			String sender = info.getSource();
			boolean interactive = (info.getFlags() & ALLOW_INTERACTIVE) != 0;
			Object[] r;
			try {
				Object[] uid = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixUser",
					BUS_TIMEOUT_MS, "s", sender);
				if (uid.length > 0 && uid[0] instanceof UInt32 u && u.longValue() == ownUid) {
					return;
				}
				r = call("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority",
					"CheckAuthorization", interactive ? INTERACTIVE_TIMEOUT_MS : BUS_TIMEOUT_MS, "(sa{sv})sa{ss}us", new Subject(sender),
					action, Map.<String, String>of(), new UInt32(interactive ? 1 : 0), "");
			} catch (Unanswered e) {
				// as sd-bus: no polkit on the bus, or one that does not answer, allows no one
				throw new AccessDenied("Permission denied");
			}
			// (bba{ss}): is_authorized, is_challenge, details
			Object[] result = r.length > 0 && r[0] instanceof Struct s ? structValues(s) : r.length > 0 && r[0] instanceof Object[] o ? o : r;
			if (result.length > 0 && Boolean.TRUE.equals(result[0])) {
				return;
			}
			if (result.length > 1 && Boolean.TRUE.equals(result[1])) {
				throw new InteractiveAuthorizationRequired("Interactive authentication required.");
			}
			throw new AccessDenied("Permission denied");
		}

		private static Object[] structValues(Struct s) {
			try {
				return s.getParameters();
			} catch (RuntimeException e) {
				return new Object[0];
			}
		}

		/** A call that failed on the way, not with an answer of the callee's. */
		private static final class Unanswered extends RuntimeException {
			private static final long serialVersionUID = 1L;

			Unanswered(String message) {
				super(message);
			}
		}

		private Object[] call(String destination, String path, String iface, String member, long timeoutMs, String signature,
				Object... args) {
			Message reply;
			try {
				MethodCall call = connection.getMessageFactory().createMethodCall(destination, path, iface, member, (byte) 0, signature,
					args);
				connection.sendMessage(call);
				reply = call.getReply(timeoutMs);
			} catch (DBusException | RuntimeException e) {
				throw new Unanswered(member + ": " + e.getMessage());
			}
			if (reply == null) {
				throw new Unanswered("no reply to " + member);
			}
			try {
				Object[] values = reply.getParameters();
				if (reply instanceof org.freedesktop.dbus.messages.Error) {
					String name = reply.getName();
					if (name != null && (name.equals("org.freedesktop.DBus.Error.ServiceUnknown")
						|| name.equals("org.freedesktop.DBus.Error.NameHasNoOwner"))) {
						throw new Unanswered(name);
					}
					// polkit refused to answer (sd-bus passes its error on; dbus-java can only send its own names)
					throw new AccessDenied(values != null && values.length > 0 && values[0] instanceof String s ? s : "Permission denied");
				}
				return values == null ? new Object[0] : values;
			} catch (DBusException e) {
				throw new Unanswered("unreadable reply to " + member + ": " + e.getMessage());
			}
		}
	}
}
