package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Idle decoders of one reader, so that threads decompressing data blocks in
 * parallel each hold their own. Thread safe.
 */
final class DecompressorPool implements AutoCloseable {
	private final Compressor compressor;
	private final int blockSize;
	private final String label;
	private final ConcurrentLinkedQueue<BlockDecompressor> idle = new ConcurrentLinkedQueue<>();
	private volatile boolean closed;

	/** @param label names the image in messages */
	DecompressorPool(Compressor compressor, int blockSize, String label) {
		this.compressor = compressor;
		this.blockSize = blockSize;
		this.label = label;
	}

	/**
	 * @return a decoder for the caller's thread alone, until {@link #release}
	 * @throws IOException if the compressor's library cannot run here
	 *         (aircompressor needs {@code sun.misc.Unsafe}: in OSGi, the
	 *         framework must export {@code sun.misc})
	 */
	BlockDecompressor borrow() throws IOException {
		BlockDecompressor d = idle.poll();
		if (d != null) {
			return d;
		}
		try {
			return compressor.newDecompressor(blockSize);
		} catch (LinkageError | RuntimeException e) {
			throw new IOException("squashfs in " + label + ": the " + compressor + " decoder cannot run in this Java runtime: " + e.getMessage(), e);
		}
	}

	void release(BlockDecompressor d) {
		if (closed) {
			d.close();
			return;
		}
		idle.add(d);
		if (closed && idle.remove(d)) {
			d.close();
		}
	}

	@Override
	public void close() {
		closed = true;
		for (BlockDecompressor d; (d = idle.poll()) != null;) {
			d.close();
		}
	}
}
