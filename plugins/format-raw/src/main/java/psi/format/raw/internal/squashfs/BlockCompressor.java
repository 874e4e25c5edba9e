package psi.format.raw.internal.squashfs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.zip.Deflater;

import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.UnsupportedOptionsException;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

import io.airlift.compress.lz4.Lz4Compressor;
import io.airlift.compress.zstd.ZstdCompressor;

/**
 * Compresses one squashfs block (data, fragment or metadata) the way the
 * kernel's decompressors read it back. Not thread safe: one per thread.
 */
interface BlockCompressor {

	/**
	 * @param src the block
	 * @param len how many of its bytes to compress
	 * @param dst where the compressed bytes go, at least {@link #bound(int)} long
	 * @return the compressed length, or -1 when compressing does not make the block smaller (then it is stored as is)
	 */
	int compress(byte[] src, int len, byte[] dst);

	/** @return the room {@link #compress} may need for {@code len} bytes */
	int bound(int len);

	/** The compressors psi writes, by the name mksquashfs's {@code -comp} takes. */
	enum Kind {
		/** zlib streams at level 9, as mksquashfs's default. */
		GZIP(Compressor.GZIP),
		/** xz streams (CRC32 check, dictionary no larger than the block, which the kernel requires). */
		XZ(Compressor.XZ),
		/** Zstandard frames (aircompressor's single level). */
		ZSTD(Compressor.ZSTD),
		/** Raw LZ4 blocks; the superblock carries the "legacy" options block the kernel requires. */
		LZ4(Compressor.LZ4);

		final Compressor id;

		Kind(Compressor id) {
			this.id = id;
		}

		/** @return the kind named as mksquashfs names it, or null */
		static Kind of(String name) {
			for (Kind k : values()) {
				if (k.name().toLowerCase(Locale.ROOT).equals(name)) {
					return k;
				}
			}
			return null;
		}

		/** @return the superblock's {@code compression_id} */
		int id() {
			return id.id();
		}

		/** @return the compressor options block stored after the superblock, or null (none, the kernel's defaults) */
		byte[] options() {
			if (this != LZ4) {
				return null;
			}
			// struct lz4_comp_opts { version = 1 (LZ4_LEGACY), flags = 0 }
			return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(0).array();
		}

		/** @return a new compressor for blocks of at most {@code blockSize} bytes */
		BlockCompressor newCompressor(int blockSize) {
			return switch (this) {
				case GZIP -> new Zlib();
				case XZ -> new Xz(blockSize);
				case ZSTD -> new Airlift(new ZstdCompressor());
				case LZ4 -> new Airlift(new Lz4Compressor());
			};
		}
	}

	/** zlib at level 9 (mksquashfs's default for gzip). */
	final class Zlib implements BlockCompressor {
		private final Deflater deflater = new Deflater(9);

		@Override
		public int compress(byte[] src, int len, byte[] dst) {
			deflater.reset();
			deflater.setInput(src, 0, len);
			deflater.finish();
			int n = 0;
			while (!deflater.finished() && n < len) {
				n += deflater.deflate(dst, n, Math.min(dst.length, len) - n);
			}
			return deflater.finished() && n < len ? n : -1;
		}

		@Override
		public int bound(int len) {
			return len;
		}
	}

	/** xz with a CRC32 check (the kernel's decoder has no CRC64) and a dictionary of the block size. */
	final class Xz implements BlockCompressor {
		private final LZMA2Options options;
		private final Out out = new Out();

		Xz(int blockSize) {
			try {
				options = new LZMA2Options(LZMA2Options.PRESET_DEFAULT);
				options.setDictSize(Math.max(blockSize, LZMA2Options.DICT_SIZE_MIN));
			} catch (UnsupportedOptionsException e) {
				throw new IllegalStateException(e);
			}
		}

		@Override
		public int compress(byte[] src, int len, byte[] dst) {
			out.reset();
			try (XZOutputStream xz = new XZOutputStream(out, options, XZ.CHECK_CRC32)) {
				xz.write(src, 0, len);
			} catch (IOException e) {
				throw new IllegalStateException("xz: " + e.getMessage(), e);
			}
			int n = out.size();
			if (n >= len || n > dst.length) {
				return -1;
			}
			System.arraycopy(out.buf(), 0, dst, 0, n);
			return n;
		}

		@Override
		public int bound(int len) {
			return len;
		}

		private static final class Out extends ByteArrayOutputStream {
			byte[] buf() {
				return buf;
			}
		}
	}

	/** aircompressor's zstd and lz4 block encoders. */
	final class Airlift implements BlockCompressor {
		private final io.airlift.compress.Compressor c;

		Airlift(io.airlift.compress.Compressor c) {
			this.c = c;
		}

		@Override
		public int compress(byte[] src, int len, byte[] dst) {
			int n = c.compress(src, 0, len, dst, 0, dst.length);
			return n < len ? n : -1;
		}

		@Override
		public int bound(int len) {
			return c.maxCompressedLength(len);
		}
	}
}
