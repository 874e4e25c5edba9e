package psi.format.raw.internal.verity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import psi.format.raw.internal.gpt.Partition;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.spi.format.ImageException;

/**
 * The content of a root-verity-sig or usr-verity-sig partition, as
 * systemd-repart writes it and systemd 252's
 * {@code dissected_image_load_verity_sig_partition()} reads it: NUL-padded JSON
 * {@code {"rootHash":"<hex>","certificateFingerprint":"<hex>","signature":"<base64>"}},
 * the partition at most 4 MiB. The JSON is read by a small strict parser:
 * UTF-8, one object, bounded nesting, no duplicate keys among the three used.
 *
 * @param rootHash the root hash the signature is over
 * @param certificateFingerprint SHA-256 of the DER certificate that signed, if given
 * @param signature DER PKCS#7 detached signature of the hex root hash
 */
public record VeritySignature(byte[] rootHash, Optional<byte[]> certificateFingerprint, byte[] signature) {

	/** systemd refuses larger signature partitions. */
	public static final int MAX_PARTITION = 4 << 20;
	private static final int MAX_DEPTH = 32;

	/** Copies the arrays, so that the record stays immutable. */
	public VeritySignature {
		rootHash = rootHash.clone();
		certificateFingerprint = certificateFingerprint.map(byte[]::clone);
		signature = signature.clone();
	}

	@Override
	public byte[] rootHash() {
		return rootHash.clone();
	}

	@Override
	public Optional<byte[]> certificateFingerprint() {
		return certificateFingerprint.map(byte[]::clone);
	}

	@Override
	public byte[] signature() {
		return signature.clone();
	}

	/**
	 * Reads and parses a signature partition.
	 *
	 * @throws ImageException naming the partition and what is wrong
	 */
	public static VeritySignature read(FileChannel ch, Partition p, String label) throws IOException {
		String what = label + ": signature partition " + p.number() + " (" + PartitionTypes.name(p.type()) + ") at byte "
			+ p.offset();
		if (p.length() > MAX_PARTITION) {
			throw new ImageException(what + " has " + p.length() + " bytes, more than 4 MiB");
		}
		ByteBuffer b = ByteBuffer.allocate((int) p.length());
		long pos = p.offset();
		while (b.hasRemaining()) {
			int n = ch.read(b, pos);
			if (n < 0) {
				throw new ImageException(what + " is cut off by the end of the file at byte " + pos);
			}
			pos += n;
		}
		return parse(b.array(), what);
	}

	/** Parses the partition's bytes; {@code what} names it in messages. */
	static VeritySignature parse(byte[] raw, String what) throws ImageException {
		int end = 0;
		while (end < raw.length && raw[end] != 0) {
			end++;
		}
		for (int i = end; i < raw.length; i++) {
			if (raw[i] != 0) {
				throw new ImageException(what + ": a NUL byte at byte " + end + " of its data is followed by data at byte " + i);
			}
		}
		String text;
		try {
			text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw, 0, end)).toString();
		} catch (CharacterCodingException e) {
			throw new ImageException(what + ": the signature JSON is not UTF-8");
		}
		Map<String, String> fields = new Json(text, what).topLevelStrings();
		String rh = fields.get("rootHash");
		String sig = fields.get("signature");
		if (rh == null) {
			throw new ImageException(what + ": the signature JSON has no string field \"rootHash\"");
		}
		if (sig == null) {
			throw new ImageException(what + ": the signature JSON has no string field \"signature\"");
		}
		byte[] rootHash = hex(rh, what + ": \"rootHash\"");
		if (rootHash.length < 16 || rootHash.length > 64) {
			throw new ImageException(what + ": \"rootHash\" of " + rootHash.length + " bytes, expected 16 to 64");
		}
		byte[] signature;
		try {
			signature = Base64.getDecoder().decode(sig.replaceAll("[ \t\r\n]", ""));
		} catch (IllegalArgumentException e) {
			throw new ImageException(what + ": \"signature\" is not base64: " + e.getMessage());
		}
		if (signature.length == 0) {
			throw new ImageException(what + ": \"signature\" is empty");
		}
		Optional<byte[]> fingerprint = Optional.empty();
		String fp = fields.get("certificateFingerprint");
		if (fp != null) {
			fingerprint = Optional.of(hex(fp, what + ": \"certificateFingerprint\""));
		}
		return new VeritySignature(rootHash, fingerprint, signature);
	}

	static byte[] hex(String s, String what) throws ImageException {
		if (s.isEmpty() || s.length() % 2 != 0) {
			throw new ImageException(what + " is not an even number of hex digits");
		}
		for (int i = 0; i < s.length(); i++) {
			if (!HexFormat.isHexDigit(s.charAt(i))) {
				throw new ImageException(
					what + " is not hex: character " + i + " is '" + VeritySuperblock.printable(String.valueOf(s.charAt(i))) + "'");
			}
		}
		return HexFormat.of().parseHex(s);
	}

	/**
	 * A strict JSON reader (RFC 8259) for one object whose top-level string
	 * fields are wanted; other values are checked and skipped, nesting bounded.
	 */
	private static final class Json {
		private final String s;
		private final String what;
		private int i;

		Json(String s, String what) {
			this.s = s;
			this.what = what;
		}

		Map<String, String> topLevelStrings() throws ImageException {
			Map<String, String> out = new HashMap<>();
			ws();
			expect('{');
			ws();
			if (peek() == '}') {
				i++;
			} else {
				for (;;) {
					ws();
					String key = string();
					ws();
					expect(':');
					ws();
					if (i >= s.length()) {
						throw bad("the JSON ends early");
					}
					if (peek() == '"') {
						String v = string();
						if (out.put(key, v) != null && (key.equals("rootHash") || key.equals("signature")
							|| key.equals("certificateFingerprint"))) {
							throw bad("duplicate key \"" + key + "\"");
						}
					} else {
						if (key.equals("rootHash") || key.equals("signature") || key.equals("certificateFingerprint")) {
							throw bad("\"" + key + "\" is not a string");
						}
						value(1);
					}
					ws();
					char c = next();
					if (c == '}') {
						break;
					}
					if (c != ',') {
						throw bad("expected ',' or '}'");
					}
				}
			}
			ws();
			if (i != s.length()) {
				throw bad("data after the JSON object");
			}
			return out;
		}

		private void value(int depth) throws ImageException {
			if (depth > MAX_DEPTH) {
				throw bad("nested deeper than " + MAX_DEPTH);
			}
			if (i >= s.length()) {
				throw bad("the JSON ends early");
			}
			char c = peek();
			switch (c) {
				case '"' -> string();
				case '{' -> {
					i++;
					ws();
					if (peek() == '}') {
						i++;
						return;
					}
					for (;;) {
						ws();
						string();
						ws();
						expect(':');
						ws();
						value(depth + 1);
						ws();
						char d = next();
						if (d == '}') {
							return;
						}
						if (d != ',') {
							throw bad("expected ',' or '}'");
						}
					}
				}
				case '[' -> {
					i++;
					ws();
					if (peek() == ']') {
						i++;
						return;
					}
					for (;;) {
						ws();
						value(depth + 1);
						ws();
						char d = next();
						if (d == ']') {
							return;
						}
						if (d != ',') {
							throw bad("expected ',' or ']'");
						}
					}
				}
				case 't' -> literal("true");
				case 'f' -> literal("false");
				case 'n' -> literal("null");
				default -> number();
			}
		}

		private void number() throws ImageException {
			int start = i;
			if (peek() == '-') {
				i++;
			}
			if (peek() == '0') {
				i++;
			} else if (digit(peek())) {
				while (digit(peek())) {
					i++;
				}
			} else {
				throw bad("unexpected character");
			}
			if (peek() == '.') {
				i++;
				if (!digit(peek())) {
					throw bad("bad number");
				}
				while (digit(peek())) {
					i++;
				}
			}
			if (peek() == 'e' || peek() == 'E') {
				i++;
				if (peek() == '+' || peek() == '-') {
					i++;
				}
				if (!digit(peek())) {
					throw bad("bad number");
				}
				while (digit(peek())) {
					i++;
				}
			}
			if (i == start) {
				throw bad("unexpected character");
			}
		}

		private String string() throws ImageException {
			expect('"');
			StringBuilder out = new StringBuilder();
			for (;;) {
				char c = next();
				if (c == '"') {
					return out.toString();
				}
				if (c < 0x20) {
					throw bad("control character in a string");
				}
				if (c != '\\') {
					out.append(c);
					continue;
				}
				char e = next();
				switch (e) {
					case '"', '\\', '/' -> out.append(e);
					case 'b' -> out.append('\b');
					case 'f' -> out.append('\f');
					case 'n' -> out.append('\n');
					case 'r' -> out.append('\r');
					case 't' -> out.append('\t');
					case 'u' -> {
						if (i + 4 > s.length()) {
							throw bad("cut-off \\u escape");
						}
						try {
							out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
						} catch (NumberFormatException x) {
							throw bad("bad \\u escape");
						}
						i += 4;
					}
					default -> throw bad("bad escape \\" + e);
				}
			}
		}

		private void literal(String word) throws ImageException {
			if (!s.startsWith(word, i)) {
				throw bad("unexpected character");
			}
			i += word.length();
		}

		private void ws() {
			while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\n' || s.charAt(i) == '\r')) {
				i++;
			}
		}

		private char peek() {
			return i < s.length() ? s.charAt(i) : 0;
		}

		private char next() throws ImageException {
			if (i >= s.length()) {
				throw bad("the JSON ends early");
			}
			return s.charAt(i++);
		}

		private void expect(char c) throws ImageException {
			if (next() != c) {
				i--;
				throw bad("expected '" + c + "'");
			}
		}

		private static boolean digit(char c) {
			return c >= '0' && c <= '9';
		}

		/** @param why may quote the input: control characters in it are shown C-escaped, so the message stays one line */
		private ImageException bad(String why) {
			return new ImageException(what + ": bad signature JSON at character " + i + ": " + VeritySuperblock.printable(why));
		}
	}
}
