package psi.format.raw.internal.verity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import psi.spi.format.ImageException;

/**
 * The 512-byte superblock cryptsetup writes at the start of a dm-verity hash
 * device (lib/verity/verity.c, {@code struct verity_sb}), read with the checks
 * cryptsetup's {@code VERITY_read_sb()} makes, and those a hostile image calls
 * for: block sizes powers of two from 512 bytes to 512 KiB, a salt of at most
 * 256 bytes, a data size that does not overflow, a hash algorithm the JDK has.
 *
 * @param version superblock format, always 1
 * @param hashType 1 for the normal tree (salt first, digests padded to a
 *        power of two), 0 for the Chrome OS one (salt last, no padding)
 * @param uuid the hash device's UUID
 * @param algorithm the kernel's hash name, e.g. "sha256"
 * @param dataBlockSize bytes per data block
 * @param hashBlockSize bytes per hash block
 * @param dataBlocks data blocks the tree covers
 * @param salt the salt, possibly empty
 */
public record VeritySuperblock(int version, int hashType, UUID uuid, String algorithm, int dataBlockSize, int hashBlockSize,
	long dataBlocks, byte[] salt) {

	/** Bytes the superblock occupies on disk; the tree starts at the next hash block boundary. */
	public static final int SIZE = 512;
	static final int MAX_SALT = 256;
	static final int MIN_BLOCK = 512;
	static final int MAX_BLOCK = 512 * 1024;
	private static final byte[] SIGNATURE = { 'v', 'e', 'r', 'i', 't', 'y', 0, 0 };
	private static final Map<String, String> JDK_NAMES = Map.of("sha1", "SHA-1", "sha224", "SHA-224", "sha256", "SHA-256",
		"sha384", "SHA-384", "sha512", "SHA-512", "sha3-256", "SHA3-256", "sha3-512", "SHA3-512");

	/** Copies the salt, so that the record stays immutable. */
	public VeritySuperblock {
		salt = salt.clone();
	}

	@Override
	public byte[] salt() {
		return salt.clone();
	}

	/**
	 * Reads and checks a superblock.
	 *
	 * @param ch the image or hash file, read positionally
	 * @param offset where the superblock is (the start of the hash device)
	 * @param label names the image and partition in messages
	 * @throws ImageException naming the field and the byte offset if the
	 *         superblock is missing or bad
	 */
	public static VeritySuperblock read(FileChannel ch, long offset, String label) throws IOException {
		ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
		long pos = offset;
		while (b.hasRemaining()) {
			int n = ch.read(b, pos);
			if (n < 0) {
				throw new ImageException(label + ": dm-verity superblock at byte " + offset + " is cut off by the end of the file"
					+ " at byte " + pos);
			}
			pos += n;
		}
		return parse(b.flip(), offset, label);
	}

	static VeritySuperblock parse(ByteBuffer b, long offset, String label) throws ImageException {
		String at = label + ": dm-verity superblock at byte " + offset;
		byte[] sig = new byte[8];
		b.get(0, sig);
		if (!Arrays.equals(sig, SIGNATURE)) {
			throw new ImageException(at + ": no \"verity\" signature");
		}
		int version = b.getInt(8);
		if (version != 1) {
			throw new ImageException(at + ": version " + Integer.toUnsignedString(version) + ", only 1 is known");
		}
		int hashType = b.getInt(12);
		if (hashType != 0 && hashType != 1) {
			throw new ImageException(at + ": hash type " + Integer.toUnsignedString(hashType) + ", expected 0 or 1");
		}
		long msb = b.order(ByteOrder.BIG_ENDIAN).getLong(16);
		long lsb = b.getLong(24);
		b.order(ByteOrder.LITTLE_ENDIAN);
		byte[] alg = new byte[32];
		b.get(32, alg);
		int len = 0;
		while (len < alg.length && alg[len] != 0) {
			len++;
		}
		String algorithm = new String(alg, 0, len, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
		if (!JDK_NAMES.containsKey(algorithm)) {
			throw new ImageException(at + ": hash algorithm '" + printable(algorithm) + "' is not one of " + JDK_NAMES.keySet());
		}
		long dataBlockSize = Integer.toUnsignedLong(b.getInt(64));
		long hashBlockSize = Integer.toUnsignedLong(b.getInt(68));
		if (!blockSizeOk(dataBlockSize) || !blockSizeOk(hashBlockSize)) {
			throw new ImageException(at + ": block sizes " + dataBlockSize + " (data) and " + hashBlockSize
				+ " (hash) must be powers of two from 512 to 524288");
		}
		long dataBlocks = b.getLong(72);
		if (dataBlocks <= 0 || dataBlocks > Long.MAX_VALUE / dataBlockSize) {
			throw new ImageException(at + ": " + Long.toUnsignedString(dataBlocks) + " data blocks of " + dataBlockSize
				+ " bytes is no size");
		}
		int saltSize = Short.toUnsignedInt(b.getShort(80));
		if (saltSize > MAX_SALT) {
			throw new ImageException(at + ": salt of " + saltSize + " bytes, more than " + MAX_SALT);
		}
		byte[] salt = new byte[saltSize];
		b.get(88, salt);
		return new VeritySuperblock(version, hashType, new UUID(msb, lsb), algorithm, (int) dataBlockSize, (int) hashBlockSize,
			dataBlocks, salt);
	}

	/** @return the superblock's 512 bytes, as cryptsetup writes them */
	public byte[] toBytes() {
		ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
		b.put(0, SIGNATURE);
		b.putInt(8, version);
		b.putInt(12, hashType);
		b.order(ByteOrder.BIG_ENDIAN).putLong(16, uuid.getMostSignificantBits()).putLong(24, uuid.getLeastSignificantBits());
		b.order(ByteOrder.LITTLE_ENDIAN);
		byte[] alg = algorithm.getBytes(StandardCharsets.US_ASCII);
		b.put(32, alg, 0, Math.min(alg.length, 32));
		b.putInt(64, dataBlockSize);
		b.putInt(68, hashBlockSize);
		b.putLong(72, dataBlocks);
		b.putShort(80, (short) salt.length);
		b.put(88, salt);
		return b.array();
	}

	/** @return a new digest for {@link #algorithm()} */
	public MessageDigest newDigest() {
		return newDigest(algorithm);
	}

	/** @return the digest length in bytes */
	public int digestSize() {
		return newDigest().getDigestLength();
	}

	/** @return the parameters a tree check needs */
	public VerityTree.Params params() {
		return new VerityTree.Params(hashType, algorithm, dataBlockSize, hashBlockSize, dataBlocks, salt);
	}

	static MessageDigest newDigest(String algorithm) {
		String jdk = JDK_NAMES.get(algorithm);
		if (jdk == null) {
			throw new IllegalArgumentException("unsupported dm-verity hash algorithm '" + algorithm + "'");
		}
		try {
			return MessageDigest.getInstance(jdk);
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("the JDK lacks " + jdk, e);
		}
	}

	static boolean supported(String algorithm) {
		return JDK_NAMES.containsKey(algorithm);
	}

	static boolean blockSizeOk(long size) {
		return size >= MIN_BLOCK && size <= MAX_BLOCK && (size & (size - 1)) == 0;
	}

	/** @return {@code s} with what is not printable ASCII C-escaped, so that a message quoting it stays one line */
	static String printable(String s) {
		StringBuilder out = new StringBuilder();
		for (char c : s.toCharArray()) {
			out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
		}
		return out.toString();
	}

	@Override
	public boolean equals(Object o) {
		return o instanceof VeritySuperblock s && version == s.version && hashType == s.hashType && uuid.equals(s.uuid)
			&& algorithm.equals(s.algorithm) && dataBlockSize == s.dataBlockSize && hashBlockSize == s.hashBlockSize
			&& dataBlocks == s.dataBlocks && Arrays.equals(salt, s.salt);
	}

	@Override
	public int hashCode() {
		return Arrays.hashCode(salt) * 31 + uuid.hashCode();
	}

	@Override
	public String toString() {
		return "VeritySuperblock[version=" + version + ", hashType=" + hashType + ", uuid=" + uuid + ", algorithm=" + algorithm
			+ ", dataBlockSize=" + dataBlockSize + ", hashBlockSize=" + hashBlockSize + ", dataBlocks=" + dataBlocks
			+ ", salt=" + HexFormat.of().formatHex(salt) + "]";
	}
}
