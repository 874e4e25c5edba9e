package psi.portable1.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

import psi.api.Portables;
import psi.spi.manager.ResidentFramework;

/**
 * psi as a drop-in {@code systemd-portabled}: the daemon serving the host's
 * root ({@code psi daemon} for {@code /}) owns {@code org.freedesktop.portable1}
 * on the system bus and answers portabled 252's Manager and Image interfaces
 * over {@link Portables}, so that {@code portablectl}, Cockpit and every other
 * client of portabled work with psi. A one-shot psi command never takes the
 * name: the component needs the {@link ResidentFramework}.
 */
@Component(immediate = true, configurationPid = Portable1Service.PID)
@Designate(ocd = Portable1Service.Config.class)
public final class Portable1Service {

	/** The configuration PID ({@code /etc/psi/psi.portable1.cfg}). */
	static final String PID = "psi.portable1";
	static final String NAME = "org.freedesktop.portable1";
	static final String DEFAULT_BUS = "unix:path=/run/dbus/system_bus_socket";

	/** The service's configuration. */
	@ObjectClassDefinition(name = "psi's org.freedesktop.portable1 D-Bus service")
	public @interface Config {
		/** @return when to serve */
		@AttributeDefinition(description = "Own org.freedesktop.portable1 on the system bus: auto (when systemd-portabled is not installed, "
			+ "is masked, or its bus alias dbus-org.freedesktop.portable1.service points at psi.service), yes, or no", options = {
				@Option(value = "auto"), @Option(value = "yes"), @Option(value = "no")})
		String serve() default "auto";

		/** @return the bus */
		@AttributeDefinition(description = "The system bus address; empty: $DBUS_SYSTEM_BUS_ADDRESS, else " + DEFAULT_BUS)
		String busAddress() default "";

		/** @return threads serving calls */
		@AttributeDefinition(description = "Method calls served at once (an attach waiting for polkit holds one)")
		int methodCallThreads() default 8;
	}

	private final Portables portables;
	private final Config config;
	private final Path root;
	/** guarded by this */
	private DBusConnection connection;
	/** guarded by this */
	private boolean closed;
	private final Thread starter;

	/**
	 * @param portables the engine
	 * @param resident the daemon this runs in
	 * @param config the configuration
	 */
	@Activate
	public Portable1Service(@Reference Portables portables, @Reference ResidentFramework resident, Config config) {
		this.portables = portables;
		this.config = config;
		this.root = resident.root();
		// off the framework's start: the bus may be slow, and the daemon serves its socket meanwhile
		this.starter = new Thread(this::start, "psi-portable1-start");
		this.starter.setDaemon(true);
		this.starter.start();
	}

	@Deactivate
	void deactivate() {
		DBusConnection c;
		synchronized (this) {
			closed = true;
			c = connection;
			connection = null;
		}
		starter.interrupt();
		if (c != null) {
			try {
				c.releaseBusName(NAME);
			} catch (DBusException | RuntimeException e) {
				// closing releases it anyway
			}
			closeQuietly(c);
		}
	}

	private void start() {
		if (!root.toString().equals("/")) {
			return; // a daemon for another root serves no host's portabled clients
		}
		String mode = config.serve();
		if (mode.equals("no")) {
			return;
		}
		String address = address();
		if (mode.equals("auto")) {
			if (address.startsWith("unix:path=") && !Files.exists(Path.of(address.substring("unix:path=".length()).split(",")[0]))) {
				return; // no system bus here
			}
			String portabled = portabledServes();
			if (portabled != null) {
				log("not serving " + NAME + ": " + portabled
					+ " (systemctl mask systemd-portabled.service, or serve=yes in psi.portable1.cfg, hands it to psi)");
				return;
			}
		}
		DBusConnection c = null;
		try {
			c = DBusConnectionBuilder.forAddress(address).withShared(false).receivingThreadConfig()
				.withMethodCallThreadCount(Math.max(1, config.methodCallThreads())).connectionConfig().build();
			Authorizer authorizer = new Authorizer.Polkit(c, ownUid());
			Exports.export(c, new Calls(portables, authorizer), new PsiObject(portables, authorizer));
			synchronized (this) {
				if (closed) {
					closeQuietly(c);
					return;
				}
				connection = c;
			}
			try {
				c.requestBusName(NAME);
			} catch (DBusException e) {
				String owner = owner(c);
				log(NAME + " is owned by " + (owner == null ? "another connection" : owner) + " (systemd-portabled?); psi goes on without it");
				synchronized (this) {
					connection = null;
				}
				closeQuietly(c);
				return;
			}
			log("serving " + NAME + " on " + address);
		} catch (DBusException | RuntimeException e) {
			log("cannot serve " + NAME + " on " + address + ": " + e.getMessage());
			if (c != null) {
				synchronized (this) {
					connection = null;
				}
				closeQuietly(c);
			}
		}
	}

	private String address() {
		if (!config.busAddress().isEmpty()) {
			return config.busAddress();
		}
		String env = System.getenv("DBUS_SYSTEM_BUS_ADDRESS");
		return env != null && !env.isEmpty() ? env : DEFAULT_BUS;
	}

	/** @return why systemd-portabled serves the name on this host, or {@code null} when it does not */
	static String portabledServes() {
		return portabledServes(Path.of("/"));
	}

	static String portabledServes(Path root) {
		boolean installed = false;
		for (String p : List.of("usr/lib/systemd/systemd-portabled", "lib/systemd/systemd-portabled")) {
			installed |= Files.exists(root.resolve(p));
		}
		if (!installed) {
			return null;
		}
		for (String dir : List.of("etc/systemd/system", "run/systemd/system")) {
			Path unit = root.resolve(dir).resolve("systemd-portabled.service");
			Path alias = root.resolve(dir).resolve("dbus-org.freedesktop.portable1.service");
			if (linksTo(unit, "/dev/null") || linksTo(alias, "psi.service")) {
				return null;
			}
		}
		return "systemd-portabled is installed and not masked";
	}

	private static boolean linksTo(Path link, String target) {
		try {
			if (!Files.isSymbolicLink(link)) {
				return target.equals("/dev/null") && Files.exists(link, LinkOption.NOFOLLOW_LINKS) && Files.size(link) == 0;
			}
			String t = Files.readSymbolicLink(link).toString();
			return t.equals(target) || t.endsWith("/" + target);
		} catch (IOException e) {
			return false;
		}
	}

	private static long ownUid() {
		try {
			return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
		} catch (IOException | RuntimeException e) {
			return 0;
		}
	}

	private static String owner(DBusConnection c) {
		try {
			MethodCall call = c.getMessageFactory().createMethodCall("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
				"GetNameOwner", (byte) 0, "s", NAME);
			c.sendMessage(call);
			Message r = call.getReply(5_000);
			Object[] v = r == null || r instanceof org.freedesktop.dbus.messages.Error ? null : r.getParameters();
			return v != null && v.length > 0 ? String.valueOf(v[0]) : null;
		} catch (DBusException | RuntimeException e) {
			return null;
		}
	}

	private static void closeQuietly(DBusConnection c) {
		try {
			c.close();
		} catch (IOException | RuntimeException e) {
			// going anyway
		}
	}

	private static void log(String line) {
		System.err.println("psi: " + line);
	}
}
