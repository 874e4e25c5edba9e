package psi.format.raw.internal.verity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import psi.spi.format.ImageException;

class VeritySignatureTest {

	private static final String ROOT = "39e36e22e4f44e8721d4923645b45e6a73c78b02e62367b648fbaebcc5cf5c0e";

	private static VeritySignature parse(String json, int padTo) throws ImageException {
		byte[] b = Arrays.copyOf(json.getBytes(StandardCharsets.UTF_8), Math.max(padTo, json.getBytes(StandardCharsets.UTF_8).length));
		return VeritySignature.parse(b, "sig");
	}

	private static String refused(String json) {
		return assertThrows(ImageException.class, () -> parse(json, 4096)).getMessage();
	}

	@Test
	void readsWhatSystemdRepartWrites() throws ImageException {
		// as systemd-repart 252 wrote it (signature shortened)
		VeritySignature s = parse("{\"rootHash\":\"" + ROOT + "\",\"certificateFingerprint\":"
			+ "\"404f5f8e8ab53bafff73da3a7fd718f2cd615b31a25d05b8fc79d09c07cf8706\",\"signature\":\"MIIEnQYJKoZIhvcNAQcCoIIEjjCC\"}",
			16384);
		assertArrayEquals(HexFormat.of().parseHex(ROOT), s.rootHash());
		assertArrayEquals(HexFormat.of().parseHex("404f5f8e8ab53bafff73da3a7fd718f2cd615b31a25d05b8fc79d09c07cf8706"),
			s.certificateFingerprint().orElseThrow());
		assertEquals(0x30, s.signature()[0]);
		assertEquals(21, s.signature().length);
	}

	@Test
	void anyJsonLayoutAndOtherFields() throws ImageException {
		VeritySignature s = parse(" {\n \"x\" : [1, -2.5e3, {\"y\": null}, true, false, \"\\u00e9\\n\"],\n \"signature\" : \"AAEC\\r\\nAw==\","
			+ " \"rootHash\": \"" + ROOT.toUpperCase() + "\", \"z\": {} }\n", 0);
		assertArrayEquals(new byte[] { 0, 1, 2, 3 }, s.signature());
		assertEquals(Optional.empty(), s.certificateFingerprint());
	}

	@Test
	void refusesWhatSystemdRefusesAndMore() {
		assertEquals("sig: a NUL byte at byte 2 of its data is followed by data at byte 3", assertThrows(ImageException.class,
			() -> VeritySignature.parse(new byte[] { '{', '}', 0, 'x', 0 }, "sig")).getMessage());
		assertEquals("sig: the signature JSON has no string field \"rootHash\"", refused("{\"signature\":\"AAAA\"}"));
		assertEquals("sig: the signature JSON has no string field \"signature\"", refused("{\"rootHash\":\"" + ROOT + "\"}"));
		assertEquals("sig: bad signature JSON at character 13: \"rootHash\" is not a string", refused("{\"rootHash\": 5}"));
		assertEquals("sig: bad signature JSON at character 0: expected '{'", refused("[1]"));
		assertEquals("sig: bad signature JSON at character 3: data after the JSON object", refused("{} {}"));
		assertEquals("sig: bad signature JSON at character 32: duplicate key \"signature\"",
			refused("{\"signature\":\"a\",\"signature\":\"b\"}"));
		assertEquals("sig: bad signature JSON at character 12: the JSON ends early", refused("{\"rootHash\":"));
		assertEquals("sig: bad signature JSON at character 4: control character in a string", refused("{\"a\nb\":1}"));
		assertEquals("sig: bad signature JSON at character 8: bad escape \\x", refused("{\"a\":\"\\x\"}"));
		assertEquals("sig: bad signature JSON at character 6: unexpected character", refused("{\"a\": tru}"));
		assertEquals("sig: bad signature JSON at character 8: bad number", refused("{\"a\": 1.}"));
		assertEquals("sig: bad signature JSON at character 37: nested deeper than 32",
			refused("{\"a\":" + "[".repeat(40) + "]".repeat(40) + "}"));
		assertEquals("sig: \"rootHash\" is not an even number of hex digits", refused("{\"rootHash\":\"abc\",\"signature\":\"AA==\"}"));
		assertEquals("sig: \"rootHash\" of 2 bytes, expected 16 to 64", refused("{\"rootHash\":\"abcd\",\"signature\":\"AA==\"}"));
		assertEquals("sig: \"signature\" is not base64: Illegal base64 character 2a",
			refused("{\"rootHash\":\"" + ROOT + "\",\"signature\":\"**\"}"));
		assertEquals("sig: \"signature\" is empty", refused("{\"rootHash\":\"" + ROOT + "\",\"signature\":\"\"}"));
		assertEquals("sig: the signature JSON is not UTF-8", assertThrows(ImageException.class,
			() -> VeritySignature.parse(new byte[] { '{', '"', (byte) 0xff, '"', ':', '1', '}' }, "sig")).getMessage());
	}
}
