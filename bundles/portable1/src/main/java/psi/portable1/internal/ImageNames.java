package psi.portable1.internal;

import java.nio.charset.StandardCharsets;

/**
 * How portabled tells an image name from a path ({@code image_name_is_valid},
 * {@code path_is_absolute} and {@code path_is_normalized} of systemd 252),
 * checked before psi is asked, so that the same argument is refused with the
 * same error.
 */
final class ImageNames {

	private ImageNames() {
	}

	/** @return whether {@code s} is an image name (searched in the image directories), not a path */
	static boolean isValidName(String s) {
		byte[] b = s.getBytes(StandardCharsets.UTF_8);
		if (s.isEmpty() || s.equals(".") || s.equals("..") || s.indexOf('/') >= 0 || b.length > 255) {
			return false;
		}
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validSurrogate(s, i)) {
				return false;
			}
		}
		return !s.startsWith(".#");
	}

	private static boolean validSurrogate(String s, int i) {
		char c = s.charAt(i);
		if (Character.isHighSurrogate(c)) {
			return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
		}
		return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
	}

	/** @return whether an absolute path has no {@code .} or {@code ..} component and no {@code //} */
	static boolean isNormalized(String path) {
		if (path.length() >= 4096) {
			return false;
		}
		if (path.contains("//")) {
			return false;
		}
		for (String c : path.split("/", -1)) {
			if (c.equals(".") || c.equals("..")) {
				return false;
			}
		}
		return true;
	}
}
