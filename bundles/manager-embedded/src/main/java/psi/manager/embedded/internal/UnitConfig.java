package psi.manager.embedded.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import psi.spi.unit.UnitFile;
import psi.spi.unit.Values;

/**
 * A unit as systemd loads it: its fragment file, then its drop-ins in order,
 * each assignment appended to its directive's list, an empty assignment
 * resetting it. A directive with one value is its last assignment.
 */
final class UnitConfig {

	/** One assignment with where it was written. */
	record Setting(String value, Path file, int line) {
		String where() {
			return file + ":" + line;
		}
	}

	private final String name;
	private final Path fragment;
	private final List<Path> dropIns;
	private final Map<String, Map<String, List<Setting>>> sections = new LinkedHashMap<>();

	UnitConfig(String name, Path fragment, List<Path> dropIns) {
		this.name = name;
		this.fragment = fragment;
		this.dropIns = List.copyOf(dropIns);
	}

	/** Adds a file's assignments, in order. */
	void add(Path file, byte[] content) {
		for (UnitFile.Assignment a : UnitFile.read(content)) {
			List<Setting> l = sections.computeIfAbsent(a.section(), s -> new LinkedHashMap<>()).computeIfAbsent(a.key(), k -> new ArrayList<>());
			if (a.isEmpty()) {
				l.clear();
				l.add(new Setting("", file, a.line()));
			} else {
				l.add(new Setting(a.value(), file, a.line()));
			}
		}
	}

	String name() {
		return name;
	}

	Path fragment() {
		return fragment;
	}

	List<Path> dropIns() {
		return dropIns;
	}

	/** @return the sections and their directives, as assigned */
	Map<String, Map<String, List<Setting>>> sections() {
		return sections;
	}

	/** @return every value of a list directive after the last reset, in order */
	List<Setting> all(String section, String key) {
		List<Setting> l = sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
		List<Setting> out = new ArrayList<>();
		for (Setting s : l) {
			if (s.value().isEmpty()) {
				out.clear();
			} else {
				out.add(s);
			}
		}
		return out;
	}

	/** @return every raw assignment of a directive, resets included (for directives with their own reset rules) */
	List<Setting> raw(String section, String key) {
		return sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
	}

	/** @return the last value, or {@code null} when unset or reset */
	String get(String section, String key) {
		List<Setting> l = sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
		if (l.isEmpty()) {
			return null;
		}
		String v = l.get(l.size() - 1).value();
		return v.isEmpty() ? null : v;
	}

	String get(String section, String key, String dflt) {
		String v = get(section, key);
		return v == null ? dflt : v;
	}

	/** @throws UnitException naming the file and line of a value that is no boolean */
	boolean bool(String section, String key, boolean dflt) {
		String v = get(section, key);
		if (v == null) {
			return dflt;
		}
		try {
			return Values.bool(v);
		} catch (IllegalArgumentException e) {
			throw bad(section, key, e);
		}
	}

	/** @return a time span in microseconds */
	long timespan(String section, String key, long dflt) {
		String v = get(section, key);
		if (v == null) {
			return dflt;
		}
		try {
			return Values.timespan(v, 1_000_000);
		} catch (IllegalArgumentException e) {
			throw bad(section, key, e);
		}
	}

	/** @return a failure naming the directive's last assignment */
	UnitException bad(String section, String key, Exception e) {
		List<Setting> l = sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
		String where = l.isEmpty() ? fragment.toString() : l.get(l.size() - 1).where();
		return new UnitException(name + ": " + key + "= at " + where + ": " + e.getMessage());
	}

	/** A unit that cannot be loaded or run as written: one line, naming where. */
	static final class UnitException extends RuntimeException {
		private static final long serialVersionUID = 1L;

		UnitException(String message) {
			super(message);
		}
	}
}
