package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * The content of one regular file: its data blocks in order (a zero size word
 * is a sparse block of zeros), then its tail from a fragment block. Without
 * an executor each block is decompressed when the reader reaches it; with one,
 * up to the reader's read-ahead count of blocks are decompressed in parallel
 * ahead of it. Not thread safe; the size words and fragments are read under
 * the reader's lock.
 */
final class FileStream extends InputStream {
	private static final byte[] NONE = new byte[0];

	private final SquashfsReader reader;
	private final SquashfsReader.Node file;
	private final MetadataCursor sizes;
	private final Executor executor;
	private final ArrayDeque<Future<byte[]>> ahead = new ArrayDeque<>();
	private long listed; // blocks whose size words were read
	private long delivered; // blocks handed to the caller
	private long nextPos; // where the next listed block starts
	private boolean tailDone;
	private byte[] buf = NONE;
	private int bufPos;
	private int bufEnd;
	private byte[] blockBuf;
	private byte[] scratch;
	private boolean closed;

	FileStream(SquashfsReader reader, SquashfsReader.Node file) {
		this.reader = reader;
		this.file = file;
		this.sizes = reader.blockList(file);
		this.nextPos = file.blocksStart;
		this.executor = file.blockCount > 1 ? reader.executor() : null;
	}

	@Override
	public int read() throws IOException {
		if (bufPos == bufEnd && !refill()) {
			return -1;
		}
		return buf[bufPos++] & 0xff;
	}

	@Override
	public int read(byte[] b, int off, int len) throws IOException {
		java.util.Objects.checkFromIndexSize(off, len, b.length);
		if (len == 0) {
			return 0;
		}
		if (bufPos == bufEnd && !refill()) {
			return -1;
		}
		int n = Math.min(len, bufEnd - bufPos);
		System.arraycopy(buf, bufPos, b, off, n);
		bufPos += n;
		return n;
	}

	@Override
	public int available() {
		return bufEnd - bufPos;
	}

	private boolean refill() throws IOException {
		if (closed) {
			throw new IOException("stream closed");
		}
		if (delivered < file.blockCount) {
			if (executor == null) {
				SquashfsReader.DataBlock b = list();
				if (blockBuf == null) {
					blockBuf = new byte[(int) Math.min(reader.blockSize(), file.fileSize)];
					scratch = new byte[reader.blockSize()];
				}
				reader.decode(b, blockBuf, scratch);
				buf = blockBuf;
				bufEnd = b.expected();
			} else {
				while (listed < file.blockCount && ahead.size() < reader.readAhead()) {
					ahead.add(submit(list()));
				}
				buf = SquashfsReader.await(ahead.poll());
				bufEnd = buf.length;
			}
			bufPos = 0;
			delivered++;
			return true;
		}
		if (file.fragment != 0xffffffffL && !tailDone) {
			tailDone = true;
			int tail = (int) (file.fileSize & (reader.blockSize() - 1));
			if (tail > 0) {
				SquashfsReader.Fragment f = reader.fragment(file);
				buf = f.data();
				bufPos = (int) file.fragmentOffset;
				bufEnd = bufPos + tail;
				return true;
			}
		}
		return false;
	}

	private SquashfsReader.DataBlock list() throws IOException {
		SquashfsReader.DataBlock b = reader.nextBlock(file, sizes, listed, nextPos);
		listed++;
		nextPos += b.word() & ~(1L << 24);
		return b;
	}

	private Future<byte[]> submit(SquashfsReader.DataBlock b) {
		CompletableFuture<byte[]> f = new CompletableFuture<>();
		Runnable task = () -> {
			if (f.isDone()) {
				return; // cancelled by close
			}
			try {
				byte[] out = new byte[b.expected()];
				reader.decode(b, out, null);
				f.complete(out);
			} catch (Throwable e) {
				f.completeExceptionally(e);
			}
		};
		try {
			executor.execute(task);
		} catch (RejectedExecutionException e) {
			task.run(); // the pool is shutting down: decompress here
		}
		return f;
	}

	@Override
	public void close() {
		closed = true;
		for (Future<byte[]> f; (f = ahead.poll()) != null;) {
			f.cancel(false);
		}
		buf = NONE;
		bufPos = bufEnd = 0;
	}
}
