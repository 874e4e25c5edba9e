package psi.format.raw.internal.build;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.UUID;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The 128-bit seed systemd-repart derives an image's identifiers from
 * ({@code --seed=}, by default the machine ID), and its derivations as
 * src/partition/repart.c makes them: each is HMAC-SHA256 keyed by the seed,
 * so that the seed itself does not leak.
 *
 * @param value the seed; its 16 bytes in UUID (big-endian) order are the HMAC key
 */
record Seed(UUID value) {

	/** @return the seed of the first 16 bytes of {@code digest} */
	static Seed of(byte[] digest) {
		ByteBuffer b = ByteBuffer.wrap(digest, 0, 16);
		return new Seed(new UUID(b.getLong(), b.getLong()));
	}

	/** repart's {@code derive_uuid()}: the first half of HMAC(seed, token), marked as a version 4 UUID. */
	UUID uuid(String token) {
		return v4(hmac(token.getBytes(StandardCharsets.US_ASCII)));
	}

	/** repart's {@code derive_salt()}: the whole HMAC(seed, token), 32 bytes. */
	byte[] salt(String token) {
		return hmac(token.getBytes(StandardCharsets.US_ASCII));
	}

	/**
	 * repart's {@code partition_acquire_uuid()} for the first partition of a
	 * type: HMAC(seed, type UUID bytes), marked as a version 4 UUID.
	 */
	UUID partitionUuid(UUID type) {
		return v4(hmac(ByteBuffer.allocate(16).putLong(type.getMostSignificantBits()).putLong(type.getLeastSignificantBits())
			.array()));
	}

	/** @return the UUID of 16 bytes at {@code offset}, in their order (as sd_id128_t and the kernel read them) */
	static UUID uuidOf(byte[] b, int offset) {
		ByteBuffer buf = ByteBuffer.wrap(b, offset, 16);
		return new UUID(buf.getLong(), buf.getLong());
	}

	private byte[] hmac(byte[] message) {
		byte[] key = ByteBuffer.allocate(16).putLong(value.getMostSignificantBits()).putLong(value.getLeastSignificantBits())
			.array();
		try {
			Mac mac = Mac.getInstance("HmacSHA256");
			mac.init(new SecretKeySpec(key, "HmacSHA256"));
			return mac.doFinal(message);
		} catch (NoSuchAlgorithmException | InvalidKeyException e) {
			throw new IllegalStateException("the JDK lacks HmacSHA256", e);
		}
	}

	/** systemd's {@code id128_make_v4_uuid()} on the first 16 bytes. */
	private static UUID v4(byte[] md) {
		byte[] id = Arrays.copyOf(md, 16);
		id[6] = (byte) ((id[6] & 0x0f) | 0x40);
		id[8] = (byte) ((id[8] & 0x3f) | 0x80);
		return uuidOf(id, 0);
	}
}
