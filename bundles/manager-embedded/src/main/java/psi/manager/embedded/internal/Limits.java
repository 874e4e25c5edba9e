package psi.manager.embedded.internal;

import java.util.Map;

import psi.spi.unit.Values;

/**
 * {@code Limit*=}: resource limits as systemd sets them ({@code setrlimit()}
 * before the exec), here by util-linux's {@code prlimit} on the shell that
 * then becomes bubblewrap, so the service inherits them. Values are
 * {@code SOFT:HARD} or one for both, {@code infinity}, sizes with base 1024
 * suffixes for the byte limits, time spans for {@code LimitCPU=} (seconds)
 * and {@code LimitRTTIME=} (microseconds), {@code LimitNICE=} raw (0..40) or
 * as a nice level with a sign ({@code -5}).
 */
final class Limits {

	/** Directive to prlimit's option. */
	static final Map<String, String> OPTIONS = Map.ofEntries(Map.entry("LimitCPU", "cpu"), Map.entry("LimitFSIZE", "fsize"),
		Map.entry("LimitDATA", "data"), Map.entry("LimitSTACK", "stack"), Map.entry("LimitCORE", "core"), Map.entry("LimitRSS", "rss"),
		Map.entry("LimitNOFILE", "nofile"), Map.entry("LimitAS", "as"), Map.entry("LimitNPROC", "nproc"), Map.entry("LimitMEMLOCK", "memlock"),
		Map.entry("LimitLOCKS", "locks"), Map.entry("LimitSIGPENDING", "sigpending"), Map.entry("LimitMSGQUEUE", "msgqueue"),
		Map.entry("LimitNICE", "nice"), Map.entry("LimitRTPRIO", "rtprio"), Map.entry("LimitRTTIME", "rttime"));

	private static final java.util.Set<String> BYTES = java.util.Set.of("LimitFSIZE", "LimitDATA", "LimitSTACK", "LimitCORE", "LimitRSS", "LimitAS",
		"LimitMEMLOCK", "LimitMSGQUEUE");

	private Limits() {
	}

	/** @return shell commands setting the unit's limits on the shell itself ({@code $$}); only validated numbers in them */
	static String prlimit(UnitConfig c) {
		StringBuilder b = new StringBuilder();
		for (Map.Entry<String, String> e : new java.util.TreeMap<>(OPTIONS).entrySet()) {
			String v = c.get("Service", e.getKey());
			if (v == null) {
				continue;
			}
			String[] parts = v.split(":", -1);
			if (parts.length > 2) {
				throw c.bad("Service", e.getKey(), new IllegalArgumentException("not SOFT:HARD"));
			}
			String soft;
			String hard;
			try {
				soft = value(e.getKey(), parts[0]);
				hard = parts.length == 2 ? value(e.getKey(), parts[1]) : soft;
			} catch (IllegalArgumentException x) {
				throw c.bad("Service", e.getKey(), x);
			}
			b.append("prlimit --pid $$ --").append(e.getValue()).append('=').append(soft).append(':').append(hard)
				.append(" || { echo \"psi: cannot set ").append(e.getKey()).append("=\" >&2; exit 205; }; ");
		}
		return b.toString();
	}

	/** @return a limit as prlimit takes it: digits, or {@code unlimited} */
	static String value(String key, String v) {
		String s = v.trim();
		if (s.equals("infinity")) {
			return "unlimited";
		}
		long n;
		if (BYTES.contains(key)) {
			n = Values.bytes(s);
		} else if (key.equals("LimitCPU")) {
			long us = Values.timespan(s, 1_000_000);
			n = us == Values.INFINITY ? -1 : (us + 999_999) / 1_000_000;
		} else if (key.equals("LimitRTTIME")) {
			n = Values.timespan(s, 1);
		} else if (key.equals("LimitNICE") && (s.startsWith("+") || s.startsWith("-"))) {
			int nice = Integer.parseInt(s);
			if (nice < -20 || nice > 19) {
				throw new IllegalArgumentException("not a nice level from -20 to 19");
			}
			n = 20 - nice;
		} else {
			if (!s.matches("[0-9]{1,19}")) {
				throw new IllegalArgumentException("not a number: " + Values.show(s));
			}
			n = Long.parseLong(s);
		}
		return n < 0 || n == Values.INFINITY ? "unlimited" : Long.toString(n);
	}
}
