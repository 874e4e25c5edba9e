package psi.core.internal;

import java.nio.charset.StandardCharsets;

/**
 * The naming rules of portable images, as portablectl and portabled 252 apply
 * them: what counts as an image name rather than a path, the version in
 * {@code NAME_VERSION.raw}, and the default unit prefix.
 */
public final class ImageName {

	/** File name suffixes of raw images: systemd's {@code .raw} and psi's {@code .psi}. */
	static final String[] RAW_SUFFIXES = { ".raw", ".psi" };

	private ImageName() {
	}

	/**
	 * An argument is an image name if it is a valid file name (not empty,
	 * not {@code .} or {@code ..}, no {@code /}, at most 255 bytes), is
	 * "safe" (no control characters, quotes, backslashes or DEL) and does not
	 * start with {@code .#}; anything else is a path.
	 *
	 * @param s the argument
	 * @return whether it is an image name
	 */
	public static boolean isValidName(String s) {
		if (s == null || s.isEmpty() || s.equals(".") || s.equals("..") || s.indexOf('/') >= 0) {
			return false;
		}
		if (s.getBytes(StandardCharsets.UTF_8).length > 255 || s.startsWith(".#")) {
			return false;
		}
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c < ' ' || c == 0x7f || c == '"' || c == '\'' || c == '\\' || Character.isSurrogate(c) && !validSurrogate(s, i)) {
				return false;
			}
		}
		return true;
	}

	private static boolean validSurrogate(String s, int i) {
		char c = s.charAt(i);
		if (Character.isHighSurrogate(c)) {
			return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
		}
		return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
	}

	/**
	 * @param fileName an image file name, e.g. {@code foobar_47.11.raw}
	 * @return the name without a raw suffix, e.g. {@code foobar_47.11}
	 */
	public static String stripSuffix(String fileName) {
		for (String suffix : RAW_SUFFIXES) {
			if (fileName.endsWith(suffix) && fileName.length() > suffix.length()) {
				return fileName.substring(0, fileName.length() - suffix.length());
			}
		}
		return fileName;
	}

	/**
	 * @param fileName an image file name
	 * @return the image name without version, e.g. {@code foobar} of {@code foobar_47.11.raw}
	 */
	public static String baseName(String fileName) {
		String n = stripSuffix(fileName);
		int u = n.indexOf('_');
		return u < 0 ? n : n.substring(0, u);
	}

	/**
	 * @param fileName an image file name
	 * @return the version, e.g. {@code 47.11} of {@code foobar_47.11.raw}, or {@code null}
	 */
	public static String version(String fileName) {
		String n = stripSuffix(fileName);
		int u = n.indexOf('_');
		return u < 0 || u == n.length() - 1 ? null : n.substring(u + 1);
	}

	/**
	 * The unit prefix used when none is given: the file name cut at the first
	 * {@code _}, or without its raw suffix where there is none; it must
	 * consist of {@code [A-Za-z0-9.-]} and be a valid unit prefix.
	 *
	 * @param fileName an image file name
	 * @return the default prefix
	 * @throws IllegalArgumentException if the name gives no valid prefix
	 */
	public static String defaultPrefix(String fileName) {
		String prefix = baseName(fileName);
		if (prefix.isEmpty()) {
			throw new IllegalArgumentException("image name '" + fileName + "' gives an empty unit prefix");
		}
		for (int i = 0; i < prefix.length(); i++) {
			char c = prefix.charAt(i);
			if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
				throw new IllegalArgumentException("image name '" + fileName + "' gives unit prefix '" + prefix
					+ "', which has characters other than A-Z a-z 0-9 . -; name the prefixes to match");
			}
		}
		if (!UnitNames.isValidPrefix(prefix)) {
			throw new IllegalArgumentException("image name '" + fileName + "' gives an invalid unit prefix '" + prefix + "'");
		}
		return prefix;
	}
}
