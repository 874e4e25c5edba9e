package psi.format.raw.internal.squashfs;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import org.tukaani.xz.BasicArrayCache;
import org.tukaani.xz.LZMAInputStream;
import org.tukaani.xz.XZInputStream;

import io.airlift.compress.Decompressor;
import io.airlift.compress.lz4.Lz4Decompressor;
import io.airlift.compress.lzo.LzoDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;

import psi.format.raw.internal.squashfs.BlockDecompressor.BlockFormatException;

/**
 * The squashfs compressors (superblock field {@code compression_id}) and how
 * each block of theirs is decoded: every decoder is a library's, psi only
 * bounds the output.
 */
enum Compressor {
	/** zlib streams (RFC 1950), not gzip files, despite the name. */
	GZIP(1, "gzip"),
	/** The legacy {@code .lzma} format of squashfs-tools; the kernel cannot mount it. */
	LZMA(2, "lzma"),
	/** Raw LZO1X blocks, no lzop framing. */
	LZO(3, "lzo"),
	/** Complete {@code .xz} streams, BCJ filters included. */
	XZ(4, "xz"),
	/** Raw LZ4 blocks, no frame. */
	LZ4(5, "lz4"),
	/** Zstandard frames. */
	ZSTD(6, "zstd");

	/** Size of the legacy LZMA header squashfs-tools writes: properties (1), dictionary size (4), uncompressed size (8). */
	static final int LZMA_HEADER = 13;

	private final int id;
	private final String displayName;

	Compressor(int id, String displayName) {
		this.id = id;
		this.displayName = displayName;
	}

	/** @return the compressor for a superblock's {@code compression_id}, or null if unknown */
	static Compressor byId(int id) {
		for (Compressor c : values()) {
			if (c.id == id) {
				return c;
			}
		}
		return null;
	}

	/** @return the superblock's {@code compression_id} */
	int id() {
		return id;
	}

	/** @return the name mksquashfs's {@code -comp} takes */
	String displayName() {
		return displayName;
	}

	/**
	 * @param blockSize the file system's block size, the most any block can hold
	 * @return a new decoder; use it from one thread at a time
	 */
	BlockDecompressor newDecompressor(int blockSize) {
		// LZMA dictionaries are at most the block size for squashfs-tools; the
		// margin covers the decoders' own buffers (xz: 104 KiB for LZMA2).
		int memoryLimitKiB = blockSize / 1024 + 1024;
		return switch (this) {
			case GZIP -> new Zlib();
			case LZMA -> new LegacyLzma();
			case XZ -> new Xz(memoryLimitKiB);
			case LZO -> new Airlift(requireUnsafe(new LzoDecompressor()), "lzo");
			case LZ4 -> new Airlift(requireUnsafe(new Lz4Decompressor()), "lz4");
			case ZSTD -> new Zstd(requireUnsafe(new ZstdDecompressor()));
		};
	}

	/**
	 * aircompressor's decoders fail on their first block, with a
	 * NoClassDefFoundError, where {@code sun.misc.Unsafe} is not visible to
	 * them (an OSGi framework that does not export {@code sun.misc}): say so
	 * when the decoder is made instead.
	 */
	private <T> T requireUnsafe(T decoder) {
		try {
			Class.forName("sun.misc.Unsafe", false, decoder.getClass().getClassLoader());
		} catch (ClassNotFoundException | LinkageError e) {
			throw new IllegalStateException("aircompressor's " + displayName + " decoder needs sun.misc.Unsafe, which is not visible to it"
				+ " (in OSGi, the framework must export sun.misc)");
		}
		return decoder;
	}

	@Override
	public String toString() {
		return displayName;
	}

	/** Reads a decoder stream to its end into dst; more than maxLen bytes is an overflow. */
	static int drain(InputStream in, byte[] dst, int dstOff, int maxLen) throws IOException, BlockFormatException {
		int n = in.readNBytes(dst, dstOff, maxLen);
		if (n == maxLen && in.read() >= 0) {
			throw BlockFormatException.tooLarge();
		}
		return n;
	}

	private static final class Zlib implements BlockDecompressor {
		private final Inflater inflater = new Inflater();
		private final byte[] probe = new byte[1];

		@Override
		public int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int maxLen) throws BlockFormatException {
			inflater.reset();
			inflater.setInput(src, srcOff, srcLen);
			int total = 0;
			try {
				while (!inflater.finished()) {
					int n = total < maxLen ? inflater.inflate(dst, dstOff + total, maxLen - total) : inflater.inflate(probe);
					if (total == maxLen && n > 0) {
						throw BlockFormatException.tooLarge();
					}
					total += n;
					if (n == 0 && !inflater.finished()) {
						if (inflater.needsDictionary()) {
							throw BlockFormatException.corrupt("zlib: the stream needs a preset dictionary");
						}
						if (inflater.needsInput()) {
							throw BlockFormatException.corrupt("zlib: the stream is truncated");
						}
						// zlib stopped with room and input left: not a valid stream (and no endless loop)
						throw BlockFormatException.corrupt("zlib: the stream stops making progress");
					}
				}
			} catch (DataFormatException e) {
				throw BlockFormatException.corrupt("zlib: " + e.getMessage());
			}
			return total;
		}

		@Override
		public void close() {
			inflater.end();
		}
	}

	private static final class Xz implements BlockDecompressor {
		private final int memoryLimitKiB;
		private final BasicArrayCache arrays = new BasicArrayCache();

		Xz(int memoryLimitKiB) {
			this.memoryLimitKiB = memoryLimitKiB;
		}

		@Override
		public int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int maxLen) throws BlockFormatException {
			try (InputStream in = new XZInputStream(new ByteArrayInputStream(src, srcOff, srcLen), memoryLimitKiB, true, arrays)) {
				return drain(in, dst, dstOff, maxLen);
			} catch (IOException | RuntimeException e) {
				throw BlockFormatException.corrupt("xz: " + describe(e));
			}
		}
	}

	/**
	 * squashfs-tools writes the {@code .lzma} header (properties, dictionary
	 * size, then the real uncompressed size instead of "unknown") and, being
	 * built on liblzma's alone encoder, usually an end marker as well: both
	 * endings are accepted.
	 */
	private static final class LegacyLzma implements BlockDecompressor {
		private final BasicArrayCache arrays = new BasicArrayCache();

		@Override
		public int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int maxLen) throws BlockFormatException {
			if (srcLen < LZMA_HEADER) {
				throw BlockFormatException.corrupt("lzma: " + srcLen + " bytes are too few for the 13-byte header");
			}
			byte props = src[srcOff];
			long dictSize = le(src, srcOff + 1, 4);
			long size = le(src, srcOff + 5, 8);
			if (size < 0 || size > maxLen) {
				throw BlockFormatException.tooLarge();
			}
			if (dictSize > Integer.MAX_VALUE) {
				throw BlockFormatException.corrupt("lzma: dictionary size " + dictSize + " is out of range");
			}
			try (LZMAInputStream in = new LZMAInputStream(new ByteArrayInputStream(src, srcOff + LZMA_HEADER, srcLen - LZMA_HEADER), size,
				props, (int) dictSize, null, arrays)) {
				in.enableRelaxedEndCondition();
				return drain(in, dst, dstOff, maxLen);
			} catch (IOException | RuntimeException e) {
				throw BlockFormatException.corrupt("lzma: " + describe(e));
			}
		}

		private static long le(byte[] b, int off, int n) {
			long v = 0;
			for (int i = n - 1; i >= 0; i--) {
				v = v << 8 | b[off + i] & 0xff;
			}
			return v;
		}
	}

	private static final class Airlift implements BlockDecompressor {
		private final Decompressor decompressor;
		private final String name;

		Airlift(Decompressor decompressor, String name) {
			this.decompressor = decompressor;
			this.name = name;
		}

		@Override
		public int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int maxLen) throws BlockFormatException {
			try {
				// the raw formats carry no size: running out of room is reported as malformed input
				return decompressor.decompress(src, srcOff, srcLen, dst, dstOff, maxLen);
			} catch (RuntimeException e) {
				throw BlockFormatException.corrupt(name + ": " + describe(e) + " (or more than " + maxLen + " bytes)");
			}
		}
	}

	private static final class Zstd implements BlockDecompressor {
		private final ZstdDecompressor decompressor;

		Zstd(ZstdDecompressor decompressor) {
			this.decompressor = decompressor;
		}

		@Override
		public int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int maxLen) throws BlockFormatException {
			long size;
			try {
				size = ZstdDecompressor.getDecompressedSize(src, srcOff, srcLen);
			} catch (RuntimeException e) {
				throw BlockFormatException.corrupt("zstd: " + describe(e));
			}
			if (size > maxLen) {
				throw BlockFormatException.tooLarge();
			}
			try {
				return decompressor.decompress(src, srcOff, srcLen, dst, dstOff, maxLen);
			} catch (RuntimeException e) {
				throw BlockFormatException.corrupt("zstd: " + describe(e));
			}
		}
	}

	private static String describe(Exception e) {
		String m = e.getMessage();
		return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replace('\n', ' ');
	}
}
