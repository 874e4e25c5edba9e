package psi.manager.systemd.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import org.freedesktop.dbus.types.UInt64;
import org.freedesktop.dbus.types.Variant;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import psi.spi.manager.ServiceManager;
import psi.spi.manager.ServiceManagerName;

/**
 * systemd as psi's service manager: a client of {@code org.freedesktop.systemd1}
 * on the system bus. Available where systemd is PID 1 and answers. The bus
 * is reached on first use, not at activation. Thread safe.
 */
@Component(property = "service.ranking:Integer=100")
@ServiceManagerName(name = SystemdManager.NAME)
@Designate(ocd = SystemdManager.Config.class)
public class SystemdManager implements ServiceManager {

	static final String NAME = "systemd";
	static final String SYSTEM_BUS = "unix:path=/run/dbus/system_bus_socket";
	/** exists iff systemd is PID 1 (sd_booted(3)) */
	static final Path RUNTIME_DIR = Path.of("/run/systemd/system");
	static final Duration PING_TIMEOUT = Duration.ofSeconds(2);
	/** systemd's own default for D-Bus calls */
	static final Duration CALL_TIMEOUT = Duration.ofSeconds(25);
	/** EnableUnitFilesWithFlags / DisableUnitFilesWithFlags flags (sd-bus unit file flags) */
	static final long RUNTIME = 1L << 0, PORTABLE = 1L << 2;

	private static final String PEER = "org.freedesktop.DBus.Peer";
	private static final String PROPERTIES = "org.freedesktop.DBus.Properties";
	private static final String MANAGER = SystemBus.MANAGER;
	private static final String ROOT = SystemBus.MANAGER_PATH;

	@ObjectClassDefinition(name = "psi: systemd service manager")
	public @interface Config {
		@AttributeDefinition(description = "D-Bus address of the system bus")
		String bus_address() default SYSTEM_BUS;
	}

	private final Path runtimeDir;
	private final String busAddress;
	private final Bus bus;
	private final JobTracker jobs;

	@Activate
	public SystemdManager(Config config) {
		this(RUNTIME_DIR, config.bus_address(), new JobTracker());
	}

	private SystemdManager(Path runtimeDir, String busAddress, JobTracker jobs) {
		this(runtimeDir, busAddress, new SystemBus(busAddress, jobs), jobs);
	}

	/** For tests and for use without a framework: nothing is connected until the first call. */
	SystemdManager(Path runtimeDir, String busAddress, Bus bus, JobTracker jobs) {
		this.runtimeDir = runtimeDir;
		this.busAddress = busAddress;
		this.bus = bus;
		this.jobs = jobs;
	}

	/** A manager on this host's system bus, without a framework (the in-box system test uses it). */
	public static SystemdManager onSystemBus() {
		return new SystemdManager(RUNTIME_DIR, SYSTEM_BUS, new JobTracker());
	}

	@Deactivate
	public void close() {
		bus.close();
	}

	@Override
	public boolean available() {
		return problem().isEmpty();
	}

	@Override
	public String unavailableReason() {
		return problem().orElse("");
	}

	/** how long a successful ping stands */
	static final long PING_VALID_NANOS = 1_000_000_000L;
	/** when systemd last answered a ping (System.nanoTime()) */
	private volatile long lastPing = System.nanoTime() - 2 * PING_VALID_NANOS;

	private Optional<String> problem() {
		if (!Files.isDirectory(runtimeDir)) {
			return Optional.of("systemd is not running as PID 1 here (" + runtimeDir + " is missing)");
		}
		try {
			// a resident psi asks often: systemd's answer within the last second stands (a failure never does)
			long now = System.nanoTime();
			if (now - lastPing < PING_VALID_NANOS) {
				return Optional.empty();
			}
			bus.call(ROOT, PEER, "Ping", PING_TIMEOUT, null);
			lastPing = System.nanoTime();
			return Optional.empty();
		} catch (IOException e) {
			return Optional.of("the system bus at " + busAddress + " does not answer: " + SystemBus.message(e));
		}
	}

	@Override
	public void reload() throws IOException {
		try {
			// systemd replies once the reload is done
			bus.call(ROOT, MANAGER, "Reload", JOB_TIMEOUT, null);
		} catch (IOException e) {
			throw failure("daemon-reload", e);
		}
	}

	@Override
	public UnitStatus status(String unit) throws IOException {
		try {
			// LoadUnit, not GetUnit: a unit that is not loaded yet (or does not exist) is reported too
			String path = first("LoadUnit", "s", unit).toString();
			Map<String, Variant<?>> props = properties(path, UnitProperties.UNIT);
			String type = UnitProperties.typeInterface(unit);
			Map<String, Variant<?>> typeProps = type == null ? Map.of() : properties(path, type);
			return UnitProperties.status(unit, props, typeProps);
		} catch (IOException e) {
			throw failure(unit + ": status", e);
		}
	}

	/** One call ({@code ListUnitsByNames}), not status()'s three with every property. */
	@Override
	public String activeState(String unit) throws IOException {
		try {
			Object[] reply = manager("ListUnitsByNames", "as", List.of(unit));
			// a(ssssssouso): name, description, load state, active state, ...
			if (reply.length > 0 && reply[0] instanceof List<?> units && !units.isEmpty()) {
				Object u = units.get(0);
				Object[] fields = u instanceof Object[] o ? o : u instanceof org.freedesktop.dbus.Struct s ? s.getParameters() : null;
				if (fields != null && fields.length > 3) {
					return String.valueOf(fields[3]);
				}
			}
			return "inactive";
		} catch (IOException e) {
			throw failure(unit + ": state", e);
		}
	}

	@Override
	public JobResult start(String unit, boolean wait) throws IOException {
		return job("start", "StartUnit", unit, wait);
	}

	@Override
	public JobResult stop(String unit, boolean wait) throws IOException {
		return job("stop", "StopUnit", unit, wait);
	}

	@Override
	public JobResult restart(String unit, boolean wait) throws IOException {
		return job("restart", "RestartUnit", unit, wait);
	}

	@Override
	public JobResult reloadUnit(String unit, boolean wait) throws IOException {
		return job("reload", "ReloadUnit", unit, wait);
	}

	private JobResult job(String verb, String member, String unit, boolean wait) throws IOException {
		try {
			if (!wait) {
				return new JobResult(unit, first(member, "ss", unit, "replace").toString(), "queued");
			}
			bus.watchJobs();
			try (JobTracker.Expectation removed = jobs.expect()) {
				String job = first(member, "ss", unit, "replace").toString();
				return new JobResult(unit, job, removed.await(job, JOB_TIMEOUT));
			}
		} catch (IOException e) {
			throw failure(unit + ": " + verb, e);
		}
	}

	@Override
	public List<String> enable(List<Path> unitFiles, boolean runtime) throws IOException {
		String[] files = unitFiles.stream().map(Path::toString).toArray(String[]::new);
		try {
			// (b carries_install_info, a(sss) changes)
			Object[] reply = manager("EnableUnitFilesWithFlags", "ast", files, flags(runtime));
			return changes(reply.length > 1 ? reply[1] : null);
		} catch (IOException e) {
			throw failure(String.join(" ", files) + ": enable", e);
		}
	}

	@Override
	public List<String> disable(List<String> units, boolean runtime) throws IOException {
		try {
			return changes(first("DisableUnitFilesWithFlags", "ast", units.toArray(String[]::new), flags(runtime)));
		} catch (IOException e) {
			throw failure(String.join(" ", units) + ": disable", e);
		}
	}

	@Override
	public List<String> listUnits(List<String> patterns) throws IOException {
		try {
			// a(ssssssouso): the name comes first
			Object units = first("ListUnitsByPatterns", "asas", new String[0], patterns.toArray(String[]::new));
			return structs(units).stream().map(u -> u[0].toString()).sorted().toList();
		} catch (IOException e) {
			throw failure(String.join(" ", patterns) + ": list-units", e);
		}
	}

	@Override
	public void resetFailed(String unit) throws IOException {
		try {
			manager("ResetFailedUnit", "s", unit);
		} catch (IOException e) {
			throw failure(unit + ": reset-failed", e);
		}
	}

	@Override
	public List<String> journal(String portable, int lines) throws IOException {
		return Journal.lines(portable, lines);
	}

	@Override
	public JournalFollower followJournal(String portable, int lines, java.util.function.Consumer<String> sink) throws IOException {
		return Journal.follow(portable, lines, sink);
	}

	private Object[] manager(String member, String signature, Object... args) throws IOException {
		return bus.call(ROOT, MANAGER, member, CALL_TIMEOUT, signature, args);
	}

	/** @return the reply's first value (a job's or unit's object path, ...) */
	private Object first(String member, String signature, Object... args) throws IOException {
		Object[] reply = manager(member, signature, args);
		if (reply.length == 0 || reply[0] == null) {
			throw new IOException("empty reply to " + member);
		}
		return reply[0];
	}

	@SuppressWarnings("unchecked")
	private Map<String, Variant<?>> properties(String path, String iface) throws IOException {
		Object[] reply = bus.call(path, PROPERTIES, "GetAll", CALL_TIMEOUT, "s", iface);
		if (reply.length == 0 || !(reply[0] instanceof Map<?, ?> m)) {
			throw new IOException("GetAll " + iface + ": no properties");
		}
		return (Map<String, Variant<?>>) m;
	}

	private static UInt64 flags(boolean runtime) {
		return new UInt64(PORTABLE | (runtime ? RUNTIME : 0));
	}

	/** a(sss) (type, path, source) as "type path source" lines */
	static List<String> changes(Object value) throws IOException {
		return structs(value).stream()
				.map(c -> Arrays.stream(c).map(String::valueOf).collect(Collectors.joining(" ")))
				.toList();
	}

	private static List<Object[]> structs(Object value) throws IOException {
		if (!(value instanceof List<?> list)) {
			throw new IOException("unexpected reply: " + value);
		}
		List<Object[]> out = new ArrayList<>(list.size());
		for (Object o : list) {
			if (!(o instanceof Object[] s)) {
				throw new IOException("unexpected reply element: " + o);
			}
			out.add(s);
		}
		return out;
	}

	/** One line: what failed (unit and operation) and why (the D-Bus error name and message). */
	private static IOException failure(String what, IOException e) {
		return new IOException(what + ": " + SystemBus.message(e), e);
	}
}
