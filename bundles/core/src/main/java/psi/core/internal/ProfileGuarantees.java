package psi.core.internal;

import psi.spi.unit.SyscallGroups;
import psi.spi.unit.UnitFile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a portable profile guarantees, read from its own {@code service.conf}
 * as systemd reads it after a unit: whether it confines at all, the single
 * values it fixes ({@code DynamicUser=}, {@code IPAddressDeny=}), the host
 * paths it binds, and the lists it sets, with whether it resets the unit's
 * first (an empty assignment). {@link SandboxGuard} judges units against it.
 *
 * @param profile the profile's name
 * @param confines whether it sets any of {@link #CONFINING}
 * @param dynamicUser its {@code DynamicUser=}
 * @param lists the list settings it sets, by directive
 * @param binds the host paths it binds
 * @param ipDeny whether it sets {@code IPAddressDeny=}
 */
record ProfileGuarantees(String profile, boolean confines, boolean dynamicUser, Map<String, ProfileGuarantees.ListSetting> lists,
	Set<String> binds, boolean ipDeny) {

	/** The settings that make a profile a sandbox: a profile setting none of them (trusted) is not guarded. */
	static final Set<String> CONFINING = Set.of("DynamicUser", "User", "CapabilityBoundingSet", "NoNewPrivileges", "PrivateUsers",
		"ProtectSystem", "PrivateNetwork", "SystemCallFilter", "RestrictAddressFamilies");

	/** A list setting of the profile: its entries, and whether it resets what the unit set. */
	record ListSetting(boolean resets, Set<String> values) {
	}

	/** @param conf the profile's {@code service.conf} */
	static ProfileGuarantees of(String profile, byte[] conf) {
		boolean confines = false;
		boolean dynamicUser = false;
		boolean ipDeny = false;
		Map<String, ListSetting> lists = new HashMap<>();
		Set<String> binds = new HashSet<>();
		for (UnitFile.Assignment a : UnitFile.read(conf)) {
			if (!a.section().equals("Service")) {
				continue;
			}
			String k = a.key();
			if (CONFINING.contains(k) && !a.isEmpty() && !isFalse(a.value())) {
				confines = true;
			}
			switch (k) {
				case "DynamicUser" -> dynamicUser = isTrue(a.value());
				case "IPAddressDeny" -> ipDeny = !a.isEmpty();
				case "BindPaths", "BindReadOnlyPaths" -> words(a.value()).forEach(w -> binds.add(source(w)));
				case "CapabilityBoundingSet", "RestrictAddressFamilies", "SystemCallFilter", "SystemCallArchitectures" -> {
					ListSetting before = lists.get(k);
					if (a.isEmpty()) {
						lists.put(k, new ListSetting(true, Set.of()));
					} else {
						Set<String> v = new LinkedHashSet<>(before == null ? Set.of() : before.values());
						v.addAll(words(a.value()));
						lists.put(k, new ListSetting(before != null && before.resets(), v));
					}
				}
				default -> {
				}
			}
		}
		return new ProfileGuarantees(profile, confines, dynamicUser, lists, binds, ipDeny);
	}

	/** @return whether the unit's list is replaced by the profile's, or merged into it */
	ListSetting list(String key) {
		ListSetting l = lists.get(key);
		return l == null || l.resets() ? null : l;
	}

	/** @return the source of a {@code BindPaths=} entry: {@code -/a:/b:rbind} gives {@code /a} */
	static String source(String w) {
		String s = w.startsWith("-") ? w.substring(1) : w;
		int colon = s.indexOf(':');
		return colon >= 0 ? s.substring(0, colon) : s;
	}

	static List<String> words(String v) {
		List<String> out = new ArrayList<>();
		for (String w : v.trim().split("\\s+")) {
			if (!w.isEmpty()) {
				out.add(w.length() >= 2 && (w.startsWith("\"") && w.endsWith("\"") || w.startsWith("'") && w.endsWith("'"))
					? w.substring(1, w.length() - 1)
					: w);
			}
		}
		return out;
	}

	static boolean isTrue(String v) {
		return Set.of("1", "yes", "y", "true", "t", "on").contains(v.toLowerCase(Locale.ROOT));
	}

	static boolean isFalse(String v) {
		return Set.of("0", "no", "n", "false", "f", "off").contains(v.toLowerCase(Locale.ROOT));
	}
}
