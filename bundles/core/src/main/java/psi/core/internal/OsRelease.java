package psi.core.internal;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An os-release (or extension-release) file, parsed as systemd's
 * {@code parse_env_file()} does: {@code KEY=VALUE} lines, {@code #} and
 * {@code ;} comments, single quotes taken literally, double quotes with
 * backslash escapes of {@code " \ ` $}, backslash escapes and line
 * continuations outside quotes, surrounding whitespace dropped. Lines with an
 * invalid key or a value that is not UTF-8 are ignored, as systemd ignores
 * them.
 */
public final class OsRelease {

	/** The largest os-release file read (systemd reads at most 4 MiB, real files are under 1 KiB). */
	public static final int MAX_SIZE = 64 * 1024;

	private final Map<String, String> fields;

	private OsRelease(Map<String, String> fields) {
		this.fields = Collections.unmodifiableMap(fields);
	}

	/** @return the fields in file order; a later assignment of a key replaces an earlier one */
	public Map<String, String> fields() {
		return fields;
	}

	/**
	 * @param key a field name
	 * @return its value, or {@code null} if absent or empty
	 */
	public String get(String key) {
		String v = fields.get(key);
		return v == null || v.isEmpty() ? null : v;
	}

	private enum State {
		PRE_KEY, KEY, PRE_VALUE, VALUE, VALUE_ESCAPE, SINGLE_QUOTE, DOUBLE_QUOTE, DOUBLE_QUOTE_ESCAPE, COMMENT, COMMENT_ESCAPE
	}

	/**
	 * Parses an os-release file.
	 *
	 * @param bytes the file's content, at most {@link #MAX_SIZE} bytes
	 * @return the parsed file
	 * @throws IllegalArgumentException if the file is larger than {@link #MAX_SIZE}
	 */
	public static OsRelease parse(byte[] bytes) {
		if (bytes.length > MAX_SIZE) {
			throw new IllegalArgumentException("os-release is larger than " + MAX_SIZE + " bytes");
		}
		// decode leniently so one bad line does not lose the others; bad values are dropped below
		String text = new String(bytes, StandardCharsets.ISO_8859_1);
		Map<String, String> out = new LinkedHashMap<>();
		StringBuilder key = new StringBuilder();
		StringBuilder value = new StringBuilder();
		int lastKeyWhitespace = -1;
		int lastValueWhitespace = -1;
		State state = State.PRE_KEY;
		for (int i = 0; i <= text.length(); i++) {
			char c = i < text.length() ? text.charAt(i) : '\n';
			boolean eof = i == text.length();
			switch (state) {
				case PRE_KEY:
					if (c == '#' || c == ';') {
						state = State.COMMENT;
					} else if (!isWhitespace(c)) {
						state = State.KEY;
						key.setLength(0);
						lastKeyWhitespace = -1;
						key.append(c);
					}
					break;
				case KEY:
					if (c == '\n' || c == '\r') {
						state = State.PRE_KEY; // a key without '=' is ignored
					} else if (c == '=') {
						state = State.PRE_VALUE;
						if (lastKeyWhitespace >= 0) {
							key.setLength(lastKeyWhitespace);
						}
					} else {
						if (!isWhitespace(c)) {
							lastKeyWhitespace = -1;
						} else if (lastKeyWhitespace < 0) {
							lastKeyWhitespace = key.length();
						}
						key.append(c);
					}
					break;
				case PRE_VALUE:
					if (c == '\n' || c == '\r') {
						state = State.PRE_KEY;
						put(out, key, value.delete(0, value.length()));
					} else if (c == '\'') {
						value.setLength(0);
						lastValueWhitespace = -1;
						state = State.SINGLE_QUOTE;
					} else if (c == '"') {
						value.setLength(0);
						lastValueWhitespace = -1;
						state = State.DOUBLE_QUOTE;
					} else if (c == '\\') {
						value.setLength(0);
						lastValueWhitespace = -1;
						state = State.VALUE_ESCAPE;
					} else if (!isWhitespace(c)) {
						value.setLength(0);
						lastValueWhitespace = -1;
						value.append(c);
						state = State.VALUE;
					}
					break;
				case VALUE:
					if (c == '\n' || c == '\r') {
						state = State.PRE_KEY;
						if (lastValueWhitespace >= 0) {
							value.setLength(lastValueWhitespace);
						}
						put(out, key, value);
					} else if (c == '\\') {
						state = State.VALUE_ESCAPE;
						lastValueWhitespace = -1;
					} else if (c == '\'') {
						state = State.SINGLE_QUOTE;
						lastValueWhitespace = -1;
					} else if (c == '"') {
						state = State.DOUBLE_QUOTE;
						lastValueWhitespace = -1;
					} else {
						if (!isWhitespace(c)) {
							lastValueWhitespace = -1;
						} else if (lastValueWhitespace < 0) {
							lastValueWhitespace = value.length();
						}
						value.append(c);
					}
					break;
				case VALUE_ESCAPE:
					state = State.VALUE;
					if (eof) {
						put(out, key, value);
					} else if (c != '\n') {
						value.append(c); // a backslash before a newline continues the line
					}
					break;
				case SINGLE_QUOTE:
					if (eof) {
						put(out, key, value); // unterminated quote: systemd keeps what it read
					} else if (c == '\'') {
						state = State.VALUE;
					} else {
						value.append(c);
					}
					break;
				case DOUBLE_QUOTE:
					if (eof) {
						put(out, key, value);
					} else if (c == '"') {
						state = State.VALUE;
					} else if (c == '\\') {
						state = State.DOUBLE_QUOTE_ESCAPE;
					} else {
						value.append(c);
					}
					break;
				case DOUBLE_QUOTE_ESCAPE:
					state = State.DOUBLE_QUOTE;
					if (eof) {
						put(out, key, value);
					} else if ("\"\\`$".indexOf(c) >= 0) {
						value.append(c);
					} else if (c != '\n') {
						value.append('\\').append(c);
					}
					break;
				case COMMENT:
					if (c == '\\') {
						state = State.COMMENT_ESCAPE;
					} else if (c == '\n' || c == '\r') {
						state = State.PRE_KEY;
					}
					break;
				case COMMENT_ESCAPE:
					state = State.COMMENT;
					break;
				default:
					throw new AssertionError(state);
			}
		}
		return new OsRelease(out);
	}

	private static void put(Map<String, String> out, StringBuilder key, StringBuilder value) {
		String k = key.toString();
		if (!isValidKey(k)) {
			return;
		}
		String v = utf8(value.toString());
		if (v != null) {
			out.remove(k); // a later assignment moves the key to its new place
			out.put(k, v);
		}
	}

	private static String utf8(String latin1) {
		try {
			return StandardCharsets.UTF_8.newDecoder()
				.onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT)
				.decode(ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1)))
				.toString();
		} catch (CharacterCodingException e) {
			return null;
		}
	}

	static boolean isValidKey(String k) {
		if (k.isEmpty() || Character.isDigit(k.charAt(0))) {
			return false;
		}
		for (int i = 0; i < k.length(); i++) {
			char c = k.charAt(i);
			if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')) {
				return false;
			}
		}
		return true;
	}

	private static boolean isWhitespace(char c) {
		return c == ' ' || c == '\t' || c == '\n' || c == '\r';
	}
}
