package psi.transport.ssh.internal;

/**
 * Makes text from the other side (ssh's messages, an SFTP server's status
 * text) safe for a one-line error message: no control characters, bounded.
 */
final class Printable {
	private Printable() {
	}

	/**
	 * @param text any text, or {@code null}
	 * @param max the most characters kept; longer text ends in "..."
	 * @return the text trimmed, each run of control characters (line breaks,
	 *         terminal escapes) replaced by one space unless a space is next to it
	 */
	static String line(String text, int max) {
		if (text == null) {
			return "";
		}
		StringBuilder b = new StringBuilder(Math.min(text.length(), max));
		boolean gap = false;
		int i = 0;
		for (; i < text.length() && b.length() < max; i++) {
			char c = text.charAt(i);
			if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
				gap = true;
				continue;
			}
			if (gap && b.length() > 0 && !Character.isWhitespace(b.charAt(b.length() - 1)) && !Character.isWhitespace(c)) {
				b.append(' ');
			}
			gap = false;
			b.append(c);
		}
		String s = b.toString().strip();
		return i < text.length() && !text.substring(i).isBlank() ? s + "..." : s;
	}
}
