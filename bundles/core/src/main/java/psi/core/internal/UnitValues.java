package psi.core.internal;

import java.nio.charset.StandardCharsets;

import psi.api.PsiException;

/**
 * Values written into unit files so that systemd parses them back to the
 * same value. systemd reads a setting's value up to the end of its line (a
 * trailing backslash continues it), strips whitespace around it, expands
 * {@code %} specifiers in paths and words, and splits, unquotes and
 * C-unescapes words ({@code Environment=}, {@code LogExtraFields=}).
 * portabled 252 writes image paths and names unescaped; psi writes the same
 * bytes for every ordinary path and name, escapes what systemd would read
 * otherwise, and refuses what cannot be written at all.
 */
final class UnitValues {

	/** systemd's {@code PATH_MAX}. */
	static final int PATH_MAX = 4096;

	private UnitValues() {
	}

	/**
	 * Refuses an image path systemd would not read back from a unit file: a
	 * control character (a newline would start a new line of settings), a
	 * backslash (a line continuation, an escape), trailing whitespace (stripped),
	 * a path longer than {@code PATH_MAX} or with a component of more than 255 bytes.
	 *
	 * @param path the image's path as the host sees it
	 * @return the path
	 * @throws PsiException naming the path and the character
	 */
	static String checkPath(String path) {
		for (int i = 0; i < path.length(); i++) {
			char c = path.charAt(i);
			if (c < 0x20 || c == 0x7f) {
				throw refused(path, String.format("holds the control character \\x%02x at offset %d", (int) c, i));
			}
			if (c == '\\') {
				throw refused(path, "holds a backslash at offset " + i);
			}
		}
		if (!path.isEmpty() && Character.isWhitespace(path.charAt(path.length() - 1))) {
			throw refused(path, "ends in whitespace");
		}
		if (path.getBytes(StandardCharsets.UTF_8).length >= PATH_MAX) {
			throw refused(path, "is longer than " + (PATH_MAX - 1) + " bytes");
		}
		for (String component : path.split("/")) {
			if (component.getBytes(StandardCharsets.UTF_8).length > 255) {
				throw refused(path, "has a component longer than 255 bytes");
			}
		}
		return path;
	}

	private static PsiException refused(String path, String why) {
		return new PsiException("image path '" + show(path) + "' " + why + "; systemd would not read it back from a unit file, refusing");
	}

	/** @return the text with control characters and backslashes C-escaped, as systemd's {@code cescape()} shows them */
	static String show(String s) {
		StringBuilder sb = new StringBuilder(s.length());
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			switch (c) {
				case '\n' -> sb.append("\\n");
				case '\t' -> sb.append("\\t");
				case '\r' -> sb.append("\\r");
				case '\\' -> sb.append("\\\\");
				default -> {
					if (c < 0x20 || c == 0x7f) {
						sb.append(String.format("\\x%02x", (int) c));
					} else {
						sb.append(c);
					}
				}
			}
		}
		return sb.toString();
	}

	/**
	 * @param path a path {@link #checkPath checked}
	 * @return it as the value of a path setting ({@code RootDirectory=}): {@code %} doubled, as specifiers are expanded
	 */
	static String path(String path) {
		return path.replace("%", "%%");
	}

	/**
	 * @param word one word of a setting that splits words ({@code Environment=}, {@code LogExtraFields=})
	 * @return it as written: {@code %} doubled, and in double quotes with {@code \} and
	 *         {@code "} escaped when it holds whitespace, a quote or a backslash
	 */
	static String word(String word) {
		String w = word.replace("%", "%%");
		boolean quote = false;
		for (int i = 0; i < w.length() && !quote; i++) {
			char c = w.charAt(i);
			quote = Character.isWhitespace(c) || c == '"' || c == '\'' || c == '\\';
		}
		return quote ? '"' + w.replace("\\", "\\\\").replace("\"", "\\\"") + '"' : w;
	}
}
