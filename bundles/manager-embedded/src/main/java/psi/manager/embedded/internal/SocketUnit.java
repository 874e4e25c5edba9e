package psi.manager.embedded.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import psi.spi.manager.ActiveState;
import psi.spi.manager.ServiceManager;
import psi.spi.unit.Values;

/**
 * A {@code .socket} unit under psi's own service manager: psi binds what it
 * lists ({@code ListenStream=}, {@code ListenDatagram=},
 * {@code ListenSequentialPacket=}: a port, an IPv4 or [IPv6] address with
 * port, a UNIX path or an {@code @}abstract name; {@code ListenFIFO=}),
 * watches them in the manager's {@link Poller} and starts the service on the
 * first traffic. With {@code Accept=no} the service gets all the sockets
 * ({@code LISTEN_FDS}, {@code LISTEN_FDNAMES} from {@code FileDescriptorName=})
 * and psi stops watching until it goes down; with {@code Accept=yes} psi
 * accepts each connection and starts an instance of the template
 * {@code NAME@.service} with that connection alone, named as systemd names
 * it ({@code NAME@N-LOCAL-REMOTE.service}), at most {@code MaxConnections=}
 * at a time.
 */
final class SocketUnit {

	/** What a socket needs of its manager. */
	interface Starter {
		/** Starts a service with the given sockets (without waiting). */
		void start(String service, List<Fd> fds) throws IOException;

		Service service(String unit) throws IOException;
	}

	/** A socket passed to a service: the descriptor, its name, and whether the service owns it (a connection). */
	record Fd(int fd, String name, boolean owned) {
	}

	private record Listen(String kind, String address, int fd, Path path) {
	}

	private static final int SOMAXCONN = 4096;
	private static final int SO_PEERCRED = 17;

	final String name;
	private final Service.Context ctx;
	private final Starter starter;
	private final Poller poller;

	private volatile UnitConfig config;
	private volatile ActiveState state = ActiveState.INACTIVE;
	private volatile String sub = "dead";
	private volatile String result = "success";
	private volatile long activeEnter;
	private volatile List<String> warnings = List.of();
	private final List<Listen> listens = new ArrayList<>();
	private final AtomicInteger accepted = new AtomicInteger();
	private final AtomicInteger connections = new AtomicInteger();
	private final RateLimit triggers = new RateLimit();
	private boolean accept;
	private boolean watching;
	private boolean downListener;

	SocketUnit(String name, Service.Context ctx, Starter starter, Poller poller) {
		this.name = name;
		this.ctx = ctx;
		this.starter = starter;
		this.poller = poller;
	}

	/** The service it activates ({@code Service=}, else its own name's; the template for {@code Accept=yes}). */
	String service() {
		UnitConfig c = config;
		String s = c == null ? null : c.get("Socket", "Service");
		if (s != null) {
			return s;
		}
		String stem = name.substring(0, name.lastIndexOf('.'));
		return c != null && c.bool("Socket", "Accept", false) ? stem + "@.service" : stem + ".service";
	}

	/** @return whether it listens for its service ({@code Accept=no}) now */
	synchronized boolean serves(String service) {
		return !accept && !listens.isEmpty() && service().equals(service);
	}

	/** @return its sockets, for the service it activates */
	synchronized List<Fd> fds() {
		String fdName = config.get("Socket", "FileDescriptorName", name);
		List<Fd> out = new ArrayList<>();
		for (Listen l : listens) {
			out.add(new Fd(l.fd, fdName, false));
		}
		return out;
	}

	synchronized ServiceManager.JobResult start() throws IOException {
		if (state == ActiveState.ACTIVE) {
			return new ServiceManager.JobResult(name, "", "done");
		}
		UnitConfig c = ctx.loader().load(name);
		if (c == null) {
			throw new IOException("Unit " + name + " not found.");
		}
		config = c;
		// the profile's [Service] drop-in is the service's business, not the socket's
		warnings = Directives.check(c).warnings().stream().filter(w -> !w.startsWith("[Service]")).toList();
		accept = c.bool("Socket", "Accept", false);
		result = "success";
		try {
			open(c);
		} catch (IOException | UnitConfig.UnitException e) {
			closeAll();
			state = ActiveState.FAILED;
			sub = "failed";
			result = "resources";
			log("Failed to listen on sockets: " + e.getMessage());
			throw new IOException(name + ": " + e.getMessage(), e);
		}
		if (!downListener && !accept) {
			starter.service(service()).onDown(this::serviceDown);
			downListener = true;
		}
		state = ActiveState.ACTIVE;
		sub = "listening";
		activeEnter = java.time.Instant.now().toEpochMilli() * 1000;
		watch();
		return new ServiceManager.JobResult(name, "", "done");
	}

	synchronized void stop() {
		closeAll();
		if (state != ActiveState.FAILED) {
			state = ActiveState.INACTIVE;
			sub = "dead";
		}
	}

	ServiceManager.UnitStatus status(boolean loaded) {
		ServiceManager.UnitStatus s = new ServiceManager.UnitStatus();
		s.name = name;
		UnitConfig c = config;
		s.description = c == null ? "" : c.get("Unit", "Description", "");
		s.loadState = loaded ? "loaded" : "not-found";
		s.activeState = state.label();
		s.subState = sub;
		s.activeEnterTimestamp = activeEnter;
		s.result = result;
		s.warnings = new ArrayList<>(warnings);
		return s;
	}

	// ---- sockets

	private void open(UnitConfig c) throws IOException {
		if (accept && (!c.all("Socket", "ListenDatagram").isEmpty() || !c.all("Socket", "ListenFIFO").isEmpty())) {
			throw c.bad("Socket", "Accept", new IllegalArgumentException("Accept=yes is for stream and sequential-packet sockets only"));
		}
		int backlog = number(c, "Backlog", SOMAXCONN);
		for (String kind : List.of("ListenStream", "ListenDatagram", "ListenSequentialPacket", "ListenFIFO")) {
			for (UnitConfig.Setting s : c.all("Socket", kind)) {
				for (String address : s.value().isEmpty() ? List.<String>of() : List.of(s.value().strip())) {
					listens.add(kind.equals("ListenFIFO") ? fifo(c, address) : socket(c, kind, address, backlog));
				}
			}
		}
		if (listens.isEmpty()) {
			throw c.bad("Socket", "ListenStream", new IllegalArgumentException("the socket unit lists nothing to listen on"));
		}
	}

	private Listen socket(UnitConfig c, String kind, String address, int backlog) throws IOException {
		int type = switch (kind) {
			case "ListenStream" -> Native.SOCK_STREAM;
			case "ListenDatagram" -> Native.SOCK_DGRAM;
			default -> Native.SOCK_SEQPACKET;
		};
		int flags = accept ? Native.SOCK_CLOEXEC | Native.SOCK_NONBLOCK : Native.SOCK_CLOEXEC;
		Native.LibC libc = Native.libc();
		if (address.startsWith("/") || address.startsWith("@")) {
			Path path = address.startsWith("/") ? hostPath(c, kind, address) : null;
			if (path != null) {
				// an old socket is replaced, as systemd replaces it; anything else is left alone and refused
				if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
					if (!"s".equals(kind(path))) {
						throw c.bad("Socket", kind, new IllegalArgumentException(path + " exists and is no socket: not replaced"));
					}
					Files.delete(path);
				}
			}
			int fd = Native.check(libc.socket(Native.AF_UNIX, type | flags, 0), kind + "=" + address);
			try {
				try (Native.SocketPath sp = path != null ? Native.socketPath(path) : new Native.SocketPath(address, -1)) {
					byte[] sa = Native.unixAddress(sp.path());
					Native.check(libc.bind(fd, sa, sa.length), "binding " + address);
				}
				if (path != null) {
					owner(c, path, "SocketMode", "0666");
				}
				if (type != Native.SOCK_DGRAM) {
					Native.check(libc.listen(fd, backlog), "listening on " + address);
				}
				return new Listen(kind, address, fd, path);
			} catch (IOException | RuntimeException e) {
				Native.close(fd);
				throw e;
			}
		}
		if (type == Native.SOCK_SEQPACKET) {
			throw c.bad("Socket", kind, new IllegalArgumentException("sequential packets are for UNIX sockets: " + Values.show(address)));
		}
		InetAddress host;
		int port;
		boolean any = address.matches("[0-9]{1,5}");
		if (any) {
			host = InetAddress.getByName("::");
			port = Integer.parseInt(address);
		} else {
			int colon = address.lastIndexOf(':');
			String h = colon > 0 ? address.substring(0, colon) : "";
			String p = colon > 0 ? address.substring(colon + 1) : "";
			boolean v6 = h.startsWith("[") && h.endsWith("]");
			if (!p.matches("[0-9]{1,5}") || !(v6 ? h.substring(1, h.length() - 1).matches("[0-9a-fA-F:.%a-z]+") : h.matches("[0-9.]+"))) {
				throw c.bad("Socket", kind, new IllegalArgumentException("not an address psi understands: " + Values.show(address)
					+ " (a port, ADDRESS:PORT, [IPv6]:PORT, a /path or an @name)"));
			}
			host = InetAddress.getByName(v6 ? h.substring(1, h.length() - 1) : h);
			port = Integer.parseInt(p);
		}
		if (port < 1 || port > 65535) {
			throw c.bad("Socket", kind, new IllegalArgumentException("no port: " + Values.show(address)));
		}
		byte[] sa = Native.inetAddress(host, port);
		int family = sa.length == 16 ? Native.AF_INET : Native.AF_INET6;
		int fd = libc.socket(family, type | flags, 0);
		if (fd < 0 && any) {
			// no IPv6 on this host: the port on every IPv4 address, as systemd falls back
			sa = Native.inetAddress(InetAddress.getByName("0.0.0.0"), port);
			family = Native.AF_INET;
			fd = libc.socket(family, type | flags, 0);
		}
		Native.check(fd, kind + "=" + address);
		try {
			libc.setsockopt(fd, Native.SOL_SOCKET, Native.SO_REUSEADDR, new int[] {1}, 4);
			if (c.bool("Socket", "ReusePort", false)) {
				Native.check(libc.setsockopt(fd, Native.SOL_SOCKET, Native.SO_REUSEPORT, new int[] {1}, 4), "ReusePort=");
			}
			if (family == Native.AF_INET6) {
				String only = c.get("Socket", "BindIPv6Only", "default");
				int v6only = only.equals("ipv6-only") ? 1 : 0;
				Native.check(libc.setsockopt(fd, Native.IPPROTO_IPV6, Native.IPV6_V6ONLY, new int[] {v6only}, 4), "BindIPv6Only=");
			}
			Native.check(libc.bind(fd, sa, sa.length), "binding " + address);
			if (type == Native.SOCK_STREAM) {
				Native.check(libc.listen(fd, backlog), "listening on " + address);
			}
			return new Listen(kind, address, fd, null);
		} catch (IOException | RuntimeException e) {
			Native.close(fd);
			throw e;
		}
	}

	private Listen fifo(UnitConfig c, String address) throws IOException {
		if (!address.startsWith("/")) {
			throw c.bad("Socket", "ListenFIFO", new IllegalArgumentException("not an absolute path: " + Values.show(address)));
		}
		Path path = hostPath(c, "ListenFIFO", address);
		if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !"p".equals(kind(path))) {
			throw c.bad("Socket", "ListenFIFO", new IllegalArgumentException(path + " exists and is no FIFO"));
		}
		if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
			Native.check(Native.libc().mkfifo(path.toString(), 0600), "making the FIFO " + path);
		}
		owner(c, path, "SocketMode", "0666");
		int fd = Native.check(Native.libc().open(path.toString(), Native.O_RDWR | Native.O_CLOEXEC | Native.O_NONBLOCK | 0400000 /* O_NOFOLLOW */, 0),
			"opening the FIFO " + path);
		return new Listen("ListenFIFO", address, fd, path);
	}

	/**
	 * @return a socket's or FIFO's path on the host, its directory made; the
	 *         path must stay under the root, also through symbolic links
	 *         ({@code /var/run} is {@code /run})
	 */
	private Path hostPath(UnitConfig c, String key, String address) throws IOException {
		Path path = ctx.sandbox().host(address);
		Path root = ctx.root().toRealPath();
		Path existing = path.getParent();
		while (existing != null && !Files.exists(existing)) {
			existing = existing.getParent();
		}
		if (existing == null || !existing.toRealPath().startsWith(root) || path.getFileName() == null) {
			throw c.bad("Socket", key, new IllegalArgumentException("outside the root: " + Values.show(address)));
		}
		Files.createDirectories(path.getParent());
		Path real = path.getParent().toRealPath().resolve(path.getFileName());
		if (!real.startsWith(root)) {
			throw c.bad("Socket", key, new IllegalArgumentException("outside the root: " + Values.show(address)));
		}
		return real;
	}

	private static String kind(Path p) {
		try {
			Object mode = Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
			int type = (Integer) mode & 0170000;
			return type == 0010000 ? "p" : type == 0140000 ? "s" : "-";
		} catch (IOException | RuntimeException e) {
			return "?";
		}
	}

	/** Sets mode ({@code SocketMode=}) and owner ({@code SocketUser=}, {@code SocketGroup=}, host users) of a socket file. */
	private static void owner(UnitConfig c, Path path, String modeKey, String defaultMode) throws IOException {
		String mode = c.get("Socket", modeKey, defaultMode);
		if (!mode.matches("0?[0-7]{1,4}")) {
			throw c.bad("Socket", modeKey, new IllegalArgumentException("not an octal mode: " + Values.show(mode)));
		}
		int m = Integer.parseInt(mode, 8);
		Set<PosixFilePermission> perms = java.util.EnumSet.noneOf(PosixFilePermission.class);
		PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
			PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
			PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
		for (int i = 0; i < order.length; i++) {
			if ((m & 1 << i) != 0) {
				perms.add(order[i]);
			}
		}
		Files.setPosixFilePermissions(path, perms);
		String user = c.get("Socket", "SocketUser");
		String group = c.get("Socket", "SocketGroup");
		if (user == null && group == null) {
			return;
		}
		UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
		PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
		try {
			if (user != null) {
				view.setOwner(users.lookupPrincipalByName(user));
			}
			if (group != null) {
				GroupPrincipal g = users.lookupPrincipalByGroupName(group);
				view.setGroup(g);
			}
		} catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
			throw c.bad("Socket", user != null ? "SocketUser" : "SocketGroup", new IllegalArgumentException("no such user or group on the host: " + e.getName()));
		}
	}

	private static int number(UnitConfig c, String key, int dflt) {
		String v = c.get("Socket", key);
		if (v == null) {
			return dflt;
		}
		try {
			int n = Integer.parseInt(v.strip());
			if (n < 0) {
				throw new NumberFormatException("negative");
			}
			return n;
		} catch (NumberFormatException e) {
			throw c.bad("Socket", key, new IllegalArgumentException("not a number: " + Values.show(v)));
		}
	}

	private void closeAll() {
		unwatch();
		for (Listen l : listens) {
			Native.close(l.fd);
			if (l.path != null && config != null && config.bool("Socket", "RemoveOnStop", false)) {
				try {
					Files.deleteIfExists(l.path);
				} catch (IOException e) {
					// left, as systemd leaves it without RemoveOnStop=
				}
			}
		}
		listens.clear();
	}

	// ---- activation

	private synchronized void watch() {
		if (watching || listens.isEmpty()) {
			return;
		}
		watching = true;
		for (Listen l : listens) {
			poller.add(l.fd, this::readable);
		}
	}

	private synchronized void unwatch() {
		if (!watching) {
			return;
		}
		watching = false;
		for (Listen l : listens) {
			poller.remove(l.fd);
		}
	}

	/** On the poller's thread: traffic on a socket. */
	private void readable(int fd) {
		if (accept) {
			acceptOne(fd);
			return;
		}
		String svc;
		synchronized (this) {
			if (!watching) {
				return;
			}
			unwatch();
			if (!triggerAllowed()) {
				return;
			}
			sub = "running";
			svc = service();
		}
		try {
			starter.start(svc, fds());
		} catch (IOException e) {
			fail("resources", "Failed to queue service startup job: " + e.getMessage());
		}
	}

	/** Told on a timer thread each time the activated service goes down: listen again, unless it cannot start at all. */
	private void serviceDown() {
		synchronized (this) {
			if (state != ActiveState.ACTIVE || accept) {
				return;
			}
		}
		try {
			Service s = starter.service(service());
			if (s.state() == ActiveState.FAILED && "start-limit-hit".equals(s.status(true).result)) {
				fail("service-start-limit-hit", "Failed with result 'service-start-limit-hit'.");
				return;
			}
		} catch (IOException e) {
			// listen again
		}
		synchronized (this) {
			sub = "listening";
			watch();
		}
	}

	private void acceptOne(int listenFd) {
		byte[] local = new byte[128];
		byte[] remote = new byte[128];
		int[] len = {remote.length};
		int cfd = Native.libc().accept4(listenFd, remote, len, Native.SOCK_CLOEXEC);
		if (cfd < 0) {
			return; // gone before we took it, or nothing: the next poll tells
		}
		int max;
		synchronized (this) {
			if (!triggerAllowed()) {
				Native.close(cfd);
				return;
			}
			max = number(config, "MaxConnections", 64);
		}
		if (connections.get() >= max) {
			log("Too many incoming connections (" + connections.get() + "), dropping connection.");
			Native.close(cfd);
			return;
		}
		int n = accepted.getAndIncrement();
		String instance;
		int family = (remote[0] & 0xff) | (remote[1] & 0xff) << 8;
		if (family == Native.AF_UNIX) {
			int[] cred = new int[3];
			int[] clen = {12};
			instance = Native.libc().getsockopt(cfd, Native.SOL_SOCKET, SO_PEERCRED, cred, clen) == 0
				? n + "-" + cred[0] + "-" + Integer.toUnsignedString(cred[1]) : n + "-unknown";
		} else {
			int[] llen = {local.length};
			Native.libc().getsockname(cfd, local, llen);
			instance = n + "-" + Native.show(local, llen[0]) + "-" + Native.show(remote, len[0]);
		}
		String template = service();
		String unit = template.replace("@.", "@" + instance + ".");
		connections.incrementAndGet();
		try {
			Service s = starter.service(unit);
			s.onDown(connections::decrementAndGet);
			starter.start(unit, List.of(new Fd(cfd, config.get("Socket", "FileDescriptorName", "connection"), true)));
		} catch (IOException | RuntimeException e) {
			connections.decrementAndGet();
			Native.close(cfd);
			log("Failed to start " + unit + ": " + e.getMessage());
		}
	}

	/** {@code TriggerLimitIntervalSec=}/{@code TriggerLimitBurst=} (2 s, 20 by default; 200 with Accept=yes), as systemd: beyond, the socket fails. */
	private boolean triggerAllowed() {
		long interval = config.timespan("Socket", "TriggerLimitIntervalSec", 2_000_000L);
		int burst = number(config, "TriggerLimitBurst", accept ? 200 : 20);
		if (!triggers.allow(interval, burst)) {
			ctx.timers().execute(() -> fail("trigger-limit-hit", "Trigger limit hit, refusing further activation."));
			return false;
		}
		return true;
	}

	private synchronized void fail(String why, String message) {
		log(message);
		closeAll();
		state = ActiveState.FAILED;
		sub = "failed";
		result = why;
	}

	/** Logs under its image's name: a socket unit's drop-in carries no LogExtraFields=, its service's does. */
	private void log(String message) {
		String portable = Service.portable(config);
		if (portable.isEmpty()) {
			try {
				portable = Service.portable(ctx.loader().load(service()));
			} catch (IOException | RuntimeException e) {
				// logged without it
			}
		}
		ctx.logs().append(name, 0, "psi", portable, "psi", message);
	}

	ActiveState state() {
		return state;
	}
}
