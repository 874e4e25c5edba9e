package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import psi.spi.manager.ActiveState;
import psi.spi.manager.ServiceManager;
import psi.spi.unit.Values;

/**
 * A {@code .timer} unit under psi's own service manager: it starts its unit
 * ({@code Unit=}, by default the service of the same name) when one of its
 * triggers elapses: {@code OnCalendar=} (systemd's calendar events),
 * {@code OnActiveSec=}, {@code OnBootSec=}, {@code OnStartupSec=} (from the
 * daemon's start), {@code OnUnitActiveSec=}, {@code OnUnitInactiveSec=};
 * with {@code RandomizedDelaySec=} and {@code Persistent=} (the last trigger
 * kept in {@code /var/lib/psi/timers/stamp-NAME}, a calendar event missed
 * while no daemon ran fires at once). {@code AccuracySec=} is accepted: psi
 * fires on time, which it allows.
 */
final class Timer {

	/** What a timer needs of its manager. */
	interface Starter {
		void start(String unit) throws IOException;

		/** @return the service, to read when it was last up and down, and be told when it goes down */
		Service service(String unit) throws IOException;
	}

	final String name;
	private final Service.Context ctx;
	private final Starter starter;
	private final long daemonStart;

	private volatile UnitConfig config;
	private volatile ActiveState state = ActiveState.INACTIVE;
	private volatile String sub = "dead";
	private volatile long nextElapse;
	private volatile long activated;
	private volatile long lastTrigger;
	private final List<String> firedOnce = new ArrayList<>();
	private ScheduledFuture<?> pending;
	private boolean listening;

	Timer(String name, Service.Context ctx, Starter starter, long daemonStart) {
		this.name = name;
		this.ctx = ctx;
		this.starter = starter;
		this.daemonStart = daemonStart;
	}

	/** The unit this timer starts. */
	String unit() {
		UnitConfig c = config;
		String u = c == null ? null : c.get("Timer", "Unit");
		return u != null ? u : name.substring(0, name.lastIndexOf('.')) + ".service";
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
		// checked now: a bad trigger fails the start, not the first elapse
		for (UnitConfig.Setting s : c.all("Timer", "OnCalendar")) {
			try {
				CalendarSpec.parse(s.value());
			} catch (IllegalArgumentException e) {
				throw new IOException(name + ": OnCalendar= at " + s.where() + ": " + e.getMessage());
			}
		}
		for (String k : List.of("OnActiveSec", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec", "RandomizedDelaySec", "AccuracySec")) {
			c.timespan("Timer", k, 0);
		}
		UnitLoader.checkName(unit());
		if (ctx.loader().load(unit()) == null) {
			throw new IOException(name + ": the unit it starts, " + unit() + ", is not found");
		}
		activated = now();
		firedOnce.clear();
		lastTrigger = readStamp();
		state = ActiveState.ACTIVE;
		sub = "waiting";
		if (!listening) {
			starter.service(unit()).onDown(this::schedule);
			listening = true;
		}
		// Persistent=: a calendar event missed while it was not running fires now
		if (c.bool("Timer", "Persistent", false) && lastTrigger > 0) {
			ZonedDateTime after = at(lastTrigger);
			for (UnitConfig.Setting s : c.all("Timer", "OnCalendar")) {
				ZonedDateTime n = CalendarSpec.parse(s.value()).next(after);
				if (n != null && micros(n) <= now()) {
					fireLater(0);
					return new ServiceManager.JobResult(name, "", "done");
				}
			}
		}
		schedule();
		return new ServiceManager.JobResult(name, "", "done");
	}

	synchronized void stop() {
		if (pending != null) {
			pending.cancel(false);
			pending = null;
		}
		state = ActiveState.INACTIVE;
		sub = "dead";
		nextElapse = 0;
	}

	/** Works out the next elapse and waits for it. */
	synchronized void schedule() {
		if (state != ActiveState.ACTIVE) {
			return;
		}
		if (pending != null) {
			pending.cancel(false);
			pending = null;
		}
		UnitConfig c = config;
		long now = now();
		long next = Long.MAX_VALUE;
		Service s;
		try {
			s = starter.service(unit());
		} catch (IOException e) {
			return;
		}
		next = min(next, once("OnActiveSec", activated, c));
		next = min(next, once("OnBootSec", bootTime(), c));
		next = min(next, once("OnStartupSec", daemonStart, c));
		// counted from the unit's last start; a start this timer made counts from the trigger,
		// before the start job has run
		long active = Math.max(s.lastActivation(), lastTrigger);
		if (active > 0) {
			next = min(next, relative(c, "OnUnitActiveSec", active));
		}
		long inactive = s.inactiveEnter();
		if (inactive > 0 && inactive >= lastTrigger) {
			next = min(next, relative(c, "OnUnitInactiveSec", inactive));
		}
		ZonedDateTime from = at(Math.max(now, lastTrigger));
		for (UnitConfig.Setting cal : c.all("Timer", "OnCalendar")) {
			ZonedDateTime n = CalendarSpec.parse(cal.value()).next(from);
			if (n != null) {
				next = Math.min(next, micros(n));
			}
		}
		if (next == Long.MAX_VALUE) {
			// nothing left to wait for: elapsed, as systemd's RemainAfterElapse=yes leaves it
			sub = "elapsed";
			nextElapse = 0;
			return;
		}
		long delay = c.timespan("Timer", "RandomizedDelaySec", 0);
		if (delay > 0) {
			next += ThreadLocalRandom.current().nextLong(delay);
		}
		nextElapse = next;
		sub = "waiting";
		fireLater(Math.max(0, next - now));
	}

	private long once(String key, long base, UnitConfig c) {
		if (firedOnce.contains(key) || base <= 0) {
			return Long.MAX_VALUE;
		}
		long v = relative(c, key, base);
		return v;
	}

	private static long relative(UnitConfig c, String key, long base) {
		long span = c.timespan("Timer", key, -1);
		return span < 0 || span == Values.INFINITY ? Long.MAX_VALUE : base + span;
	}

	private static long min(long a, long b) {
		return Math.min(a, b);
	}

	private void fireLater(long delayMicros) {
		pending = ctx.timers().schedule(this::fire, delayMicros, TimeUnit.MICROSECONDS);
	}

	private void fire() {
		synchronized (this) {
			if (state != ActiveState.ACTIVE) {
				return;
			}
			long now = now();
			for (String k : List.of("OnActiveSec", "OnBootSec", "OnStartupSec")) {
				long base = k.equals("OnActiveSec") ? activated : k.equals("OnBootSec") ? bootTime() : daemonStart;
				if (!firedOnce.contains(k) && relative(config, k, base) <= now) {
					firedOnce.add(k);
				}
			}
			lastTrigger = now;
			writeStamp(now);
			sub = "running";
			nextElapse = 0;
		}
		try {
			starter.start(unit());
		} catch (IOException | RuntimeException e) {
			ctx.logs().append(name, 0, "psi", Service.portable(config), "psi", "Failed to start " + unit() + ": " + e.getMessage());
		}
		// the next elapse: now for calendar and monotonic triggers; a service's own end reschedules too
		schedule();
	}

	ServiceManager.UnitStatus status(boolean loaded) {
		ServiceManager.UnitStatus s = new ServiceManager.UnitStatus();
		s.name = name;
		UnitConfig c = config;
		s.description = c == null ? "" : c.get("Unit", "Description", "");
		s.loadState = loaded ? "loaded" : "not-found";
		s.activeState = state.label();
		s.subState = sub;
		s.result = "success";
		s.activeEnterTimestamp = state == ActiveState.ACTIVE ? activated : 0;
		s.nextElapse = nextElapse;
		return s;
	}

	ActiveState state() {
		return state;
	}

	private Path stamp() {
		return ctx.root().resolve("var/lib/psi/timers").resolve("stamp-" + name);
	}

	private long readStamp() {
		try {
			return Long.parseLong(Files.readString(stamp(), StandardCharsets.US_ASCII).trim());
		} catch (IOException | NumberFormatException e) {
			return 0;
		}
	}

	private void writeStamp(long when) {
		if (config == null || !config.bool("Timer", "Persistent", false)) {
			return;
		}
		try {
			Path f = stamp();
			Files.createDirectories(f.getParent());
			Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
			Files.writeString(tmp, Long.toString(when), StandardCharsets.US_ASCII);
			Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
		} catch (IOException e) {
			ctx.logs().append(name, 0, "psi", Service.portable(config), "psi", "cannot keep the last trigger: " + e.getMessage());
		}
	}

	private static long bootTime() {
		try {
			String up = Files.readString(Path.of("/proc/uptime")).split(" ")[0];
			return now() - (long) (Double.parseDouble(up) * 1_000_000);
		} catch (IOException | RuntimeException e) {
			return 0;
		}
	}

	private static long now() {
		Instant i = Instant.now();
		return i.getEpochSecond() * 1_000_000 + i.getNano() / 1000;
	}

	private static ZonedDateTime at(long micros) {
		return Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000).atZone(ZoneId.systemDefault());
	}

	private static long micros(ZonedDateTime t) {
		Instant i = t.toInstant();
		return i.getEpochSecond() * 1_000_000 + i.getNano() / 1000;
	}
}
