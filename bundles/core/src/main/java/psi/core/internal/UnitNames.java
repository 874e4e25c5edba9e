package psi.core.internal;

import java.util.Collection;
import java.util.Set;

/** Unit name rules of systemd ({@code unit_name_is_valid()}) and portabled's prefix matching. */
public final class UnitNames {

	/** systemd's UNIT_NAME_MAX. */
	static final int MAX_LENGTH = 256;

	/** The unit types portabled attaches. */
	static final Set<String> PORTABLE_SUFFIXES = Set.of(".service", ".socket", ".target", ".timer", ".path");

	private static final Set<String> UNIT_SUFFIXES = Set.of(".service", ".socket", ".target", ".timer", ".path",
		".device", ".mount", ".automount", ".swap", ".slice", ".scope");

	private UnitNames() {
	}

	/**
	 * @param name a file name
	 * @return whether it is a valid unit name: plain ({@code foo.service}),
	 *         template ({@code foo@.service}) or instance ({@code foo@bar.service})
	 */
	public static boolean isValid(String name) {
		if (name == null || name.isEmpty() || name.length() > MAX_LENGTH) {
			return false;
		}
		int dot = name.lastIndexOf('.');
		if (dot <= 0 || !UNIT_SUFFIXES.contains(name.substring(dot))) {
			return false;
		}
		String stem = name.substring(0, dot);
		int at = stem.indexOf('@');
		if (at == 0 || stem.indexOf('@', at + 1) >= 0) {
			return false;
		}
		for (int i = 0; i < stem.length(); i++) {
			if (i != at && !validChar(stem.charAt(i))) {
				return false;
			}
		}
		return true;
	}

	/**
	 * @param prefix a unit prefix
	 * @return whether it is valid: not empty, only unit name characters, no {@code @}
	 */
	public static boolean isValidPrefix(String prefix) {
		if (prefix.isEmpty() || prefix.length() > MAX_LENGTH) {
			return false;
		}
		for (int i = 0; i < prefix.length(); i++) {
			if (!validChar(prefix.charAt(i))) {
				return false;
			}
		}
		return true;
	}

	private static boolean validChar(char c) {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || ":-_.\\".indexOf(c) >= 0;
	}

	/**
	 * @param name a unit name
	 * @return whether portabled attaches units of this type
	 */
	public static boolean isPortableType(String name) {
		int dot = name.lastIndexOf('.');
		return dot >= 0 && PORTABLE_SUFFIXES.contains(name.substring(dot));
	}

	/**
	 * portabled's prefix match: the name starts with the prefix and the next
	 * character is {@code -}, {@code .}, {@code @} or the end.
	 *
	 * @param name a unit name
	 * @param prefix a prefix
	 * @return whether the name matches
	 */
	public static boolean matchesPrefix(String name, String prefix) {
		if (!name.startsWith(prefix)) {
			return false;
		}
		if (name.length() == prefix.length()) {
			return true;
		}
		char next = name.charAt(prefix.length());
		return next == '-' || next == '.' || next == '@';
	}

	/**
	 * portabled's {@code unit_match()}: a portable unit type whose name matches
	 * one of the prefixes, or any portable unit when there are none.
	 *
	 * @param name a unit name
	 * @param prefixes the prefixes; empty matches every portable unit
	 * @return whether the unit matches
	 */
	public static boolean matches(String name, Collection<String> prefixes) {
		if (!isPortableType(name)) {
			return false;
		}
		if (prefixes.isEmpty()) {
			return true;
		}
		for (String p : prefixes) {
			if (matchesPrefix(name, p)) {
				return true;
			}
		}
		return false;
	}
}
