package psi.format.raw.internal.squashfs;

/**
 * Decompresses one squashfs block, metadata or data, with one compressor.
 * <p>
 * Not thread safe: an instance keeps the library's state between calls and
 * is used by one thread at a time (see {@link DecompressorPool}).
 */
interface BlockDecompressor extends AutoCloseable {

	/**
	 * Decompresses {@code src[srcOff, srcOff + srcLen)} into {@code dst} from
	 * {@code dstOff}, writing at most {@code maxLen} bytes.
	 *
	 * @return the number of bytes written
	 * @throws BlockFormatException if the block is not valid compressed data or
	 *         holds more than {@code maxLen} bytes ({@link BlockFormatException#overflow()})
	 */
	int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int maxLen) throws BlockFormatException;

	/** Frees native state (zlib's). */
	@Override
	default void close() {
		// most decompressors hold only heap state
	}

	/** A block that does not decompress, or decompresses to more than was allowed. */
	final class BlockFormatException extends Exception {
		private static final long serialVersionUID = 1L;
		private final boolean overflow;

		BlockFormatException(String reason, boolean overflow) {
			super(reason, null, false, false);
			this.overflow = overflow;
		}

		static BlockFormatException corrupt(String reason) {
			return new BlockFormatException(reason, false);
		}

		static BlockFormatException tooLarge() {
			return new BlockFormatException("more output than allowed", true);
		}

		/** @return whether the block held more than the allowed output */
		boolean overflow() {
			return overflow;
		}
	}
}
