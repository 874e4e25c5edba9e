package psi.format.raw.internal.verity;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.DigestException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import psi.spi.format.ImageException;

/**
 * Checks a whole dm-verity Merkle tree in user space, as
 * {@code veritysetup verify} does (cryptsetup lib/verity/verity_hash.c), on
 * all cores.
 * <p>
 * The tree: each block (data block, or hash block of the level below) is
 * hashed as H(salt ‖ block) (hash type 1; type 0 hashes block ‖ salt); a hash
 * block holds 2^⌊log2(hash block / digest)⌋ digests, each zero-padded to a
 * power of two (type 1 only), and zeros after the last one. Levels are stored
 * top first after the superblock, the leaf level (hashes of the data blocks)
 * last; the root hash is the hash of the single top block, or of the single
 * data block when there is only one.
 * <p>
 * The check goes top-down: the root against the top block, then each level's
 * blocks against their digests one level up, then the data blocks against the
 * leaf level, so the first failure names the block that is wrong (a corrupt
 * hash block is reported as such, not as a wrong data block below it). Within
 * a level, the work is cut into chunks of about {@value #CHUNK_BYTES} bytes
 * read with positional reads and hashed by a pool of one thread per core, each
 * with its own {@link MessageDigest}. Padding that must be zero is checked as
 * cryptsetup checks it.
 * <p>
 * Thread-safe: every call has its own state and threads. The pool's threads
 * are never interrupted: an interrupt on a {@link FileChannel} read closes the
 * channel, and the caller's channel is shared with its file system reader.
 */
public final class VerityTree {

	/** Bytes of blocks one task reads and hashes at a time. */
	static final int CHUNK_BYTES = 2 << 20;
	private static final HexFormat HEX = HexFormat.of();

	private VerityTree() {
	}

	/**
	 * The parameters of a tree, as its superblock or {@code veritysetup} options
	 * give them.
	 *
	 * @param hashType 1 (normal) or 0 (Chrome OS)
	 * @param algorithm the kernel's hash name, e.g. "sha256"
	 * @param dataBlockSize bytes per data block, a power of two from 512 to 512 KiB
	 * @param hashBlockSize bytes per hash block, likewise
	 * @param dataBlocks data blocks covered, at least 1
	 * @param salt the salt, at most 256 bytes
	 */
	public record Params(int hashType, String algorithm, int dataBlockSize, int hashBlockSize, long dataBlocks, byte[] salt) {

		/** Checks the parameters and copies the salt. */
		public Params {
			if (hashType != 0 && hashType != 1) {
				throw new IllegalArgumentException("hash type " + hashType);
			}
			if (!VeritySuperblock.supported(algorithm)) {
				throw new IllegalArgumentException("hash algorithm " + algorithm);
			}
			if (!VeritySuperblock.blockSizeOk(dataBlockSize) || !VeritySuperblock.blockSizeOk(hashBlockSize)) {
				throw new IllegalArgumentException("block sizes " + dataBlockSize + ", " + hashBlockSize);
			}
			if (dataBlocks <= 0 || dataBlocks > Long.MAX_VALUE / dataBlockSize) {
				throw new IllegalArgumentException("data blocks " + dataBlocks);
			}
			if (salt.length > VeritySuperblock.MAX_SALT) {
				throw new IllegalArgumentException("salt of " + salt.length + " bytes");
			}
			salt = salt.clone();
		}

		@Override
		public byte[] salt() {
			return salt.clone();
		}

		/** @return bytes of data the tree covers */
		public long dataBytes() {
			return dataBlocks * dataBlockSize;
		}

		@Override
		public boolean equals(Object o) {
			return o instanceof Params p && hashType == p.hashType && algorithm.equals(p.algorithm)
				&& dataBlockSize == p.dataBlockSize && hashBlockSize == p.hashBlockSize && dataBlocks == p.dataBlocks
				&& Arrays.equals(salt, p.salt);
		}

		@Override
		public int hashCode() {
			return Long.hashCode(dataBlocks) * 31 + Arrays.hashCode(salt);
		}

		@Override
		public String toString() {
			return "Params[hashType=" + hashType + ", algorithm=" + algorithm + ", dataBlockSize=" + dataBlockSize
				+ ", hashBlockSize=" + hashBlockSize + ", dataBlocks=" + dataBlocks + ", salt=" + HEX.formatHex(salt) + "]";
		}
	}

	/**
	 * Where the levels of a tree lie, in hash blocks from the start of the hash
	 * device: cryptsetup's {@code hash_levels()}.
	 */
	static final class Geometry {
		final Params p;
		final int digestSize;
		/** Bytes per digest slot in a hash block: the digest padded to a power of two (type 1) or not (type 0). */
		final int stride;
		final int perBlock;
		final int levels;
		/** First hash block of each level, leaf level 0 first. */
		final long[] levelBlock;
		/** Blocks in each level. */
		final long[] levelSize;
		final long endBlock;

		Geometry(Params p, long startBlock) {
			this.p = p;
			this.digestSize = VeritySuperblock.newDigest(p.algorithm()).getDigestLength();
			this.stride = p.hashType() == 1 ? Integer.highestOneBit(digestSize - 1) << 1 : digestSize;
			int bits = 31 - Integer.numberOfLeadingZeros(p.hashBlockSize() / digestSize);
			this.perBlock = 1 << bits;
			int n = 0;
			while (bits * n < 64 && (p.dataBlocks() - 1) >>> (bits * n) != 0) {
				n++;
			}
			this.levels = n;
			this.levelBlock = new long[n];
			this.levelSize = new long[n];
			long pos = startBlock;
			for (int i = n - 1; i >= 0; i--) {
				int shift = (i + 1) * bits;
				long size = shift >= 64 ? 1 : ((p.dataBlocks() - 1) >>> shift) + 1;
				levelBlock[i] = pos;
				levelSize[i] = size;
				pos += size;
			}
			this.endBlock = pos;
		}

		/** @return the byte, from the start of its level, of child {@code j}'s digest */
		long slot(long j) {
			return (j / perBlock) * p.hashBlockSize() + (j % perBlock) * stride;
		}
	}

	/**
	 * Checks the tree behind a superblock, for a GPT verity partition or a hash
	 * file made by {@code veritysetup format DATA HASH}: the superblock is at
	 * {@code hashOffset}, the hash device starts there, and the tree at the
	 * next hash block boundary after the superblock. Reads to the end of the
	 * channels at most.
	 *
	 * @param data the data device (image file)
	 * @param dataOffset where data block 0 is
	 * @param hash the hash device (image file, or a separate hash file)
	 * @param hashOffset where the superblock is
	 * @param expectedRootHash the trusted root hash
	 * @param label names the image in messages
	 * @throws ImageException naming the first bad block (data block N, or hash
	 *         block at byte X of level L) or the expected and computed root
	 *         hashes
	 */
	public static void verify(FileChannel data, long dataOffset, FileChannel hash, long hashOffset, byte[] expectedRootHash,
		String label) throws IOException {
		verify(data, dataOffset, Long.MAX_VALUE, hash, hashOffset, 0, Long.MAX_VALUE, expectedRootHash, label);
	}

	/**
	 * Checks the tree behind a superblock, with the devices bounded (GPT
	 * partitions) and the superblock at an offset into the hash device
	 * ({@code veritysetup --hash-offset}, which lets data and hash share a file).
	 *
	 * @param dataLength bytes of the data device; the superblock's data blocks must fit
	 * @param hashDeviceOffset where the hash device starts in {@code hash}
	 * @param hashAreaOffset where the superblock is, from the start of the hash device
	 * @param hashLength bytes of the hash device; the tree must fit
	 * @return the superblock, whose {@link VeritySuperblock#dataBlocks()} times
	 *         {@link VeritySuperblock#dataBlockSize()} bytes of data are verified;
	 *         data beyond them is not
	 */
	public static VeritySuperblock verify(FileChannel data, long dataOffset, long dataLength, FileChannel hash,
		long hashDeviceOffset, long hashAreaOffset, long hashLength, byte[] expectedRootHash, String label) throws IOException {
		if (hashAreaOffset < 0 || hashAreaOffset > Long.MAX_VALUE / 2 || hashDeviceOffset < 0) {
			throw new IllegalArgumentException("hash offsets " + hashDeviceOffset + ", " + hashAreaOffset);
		}
		VeritySuperblock sb = VeritySuperblock.read(hash, hashDeviceOffset + hashAreaOffset, label);
		long start = ceilDiv(hashAreaOffset + VeritySuperblock.SIZE, sb.hashBlockSize());
		check(data, dataOffset, dataLength, hash, hashDeviceOffset, start, hashLength, sb.params(), expectedRootHash, label);
		return sb;
	}

	/**
	 * Checks a tree without a superblock ({@code veritysetup --no-superblock}),
	 * its parameters given.
	 *
	 * @param treeOffset where the tree's first (top level) block is
	 */
	public static void verify(FileChannel data, long dataOffset, FileChannel hash, long treeOffset, Params params,
		byte[] expectedRootHash, String label) throws IOException {
		check(data, dataOffset, Long.MAX_VALUE, hash, treeOffset, 0, Long.MAX_VALUE, params, expectedRootHash, label);
	}

	/**
	 * A tree built in memory: its root hash and its levels as laid out on disk, top level first.
	 *
	 * @param root the root hash
	 * @param tree the hash blocks that follow the superblock's hash block, top level first
	 */
	public record Built(byte[] root, byte[] tree) {
	}

	/**
	 * @return the root hash of the data, computed without a hash device (in
	 *         memory: about one digest per data block)
	 */
	public static byte[] computeRoot(FileChannel data, long dataOffset, Params params) throws IOException {
		return build(data, dataOffset, params).root();
	}

	/** Builds the tree of the data in memory, as {@code veritysetup format} writes it after the superblock. */
	public static Built build(FileChannel data, long dataOffset, Params p) throws IOException {
		Geometry g = new Geometry(p, 0);
		long treeBytes = g.endBlock * p.hashBlockSize();
		if (treeBytes > Integer.MAX_VALUE - 16) {
			throw new IOException("tree of " + treeBytes + " bytes is too large to build in memory");
		}
		byte[] tree = new byte[(int) treeBytes];
		MessageDigest md = VeritySuperblock.newDigest(p.algorithm());
		byte[] salt = p.salt();
		byte[] out = new byte[g.digestSize];
		if (g.levels == 0) {
			byte[] block = readFully(data, dataOffset, p.dataBlockSize(), "data block 0");
			hash(md, p.hashType(), salt, block, 0, block.length, out);
			return new Built(out.clone(), tree);
		}
		// the data blocks, the bulk of the work, on every core: each thread a range, its digests into slots of its own
		int threads = (int) Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), p.dataBlocks() / 1024));
		if (threads == 1) {
			hashData(data, dataOffset, p, g, salt, tree, 0, p.dataBlocks());
		} else {
			ExecutorService pool = Executors.newFixedThreadPool(threads, Workers.daemons());
			try {
				List<Future<?>> tasks = new ArrayList<>();
				for (int t = 0; t < threads; t++) {
					long from = p.dataBlocks() * t / threads;
					long to = p.dataBlocks() * (t + 1) / threads;
					tasks.add(pool.submit(() -> {
						hashData(data, dataOffset, p, g, salt, tree, from, to);
						return null;
					}));
				}
				for (Future<?> f : tasks) {
					try {
						f.get();
					} catch (InterruptedException e) {
						Thread.currentThread().interrupt();
						throw new InterruptedIOException("dm-verity hashing interrupted");
					} catch (ExecutionException e) {
						if (e.getCause() instanceof IOException io) {
							throw io;
						}
						throw new IllegalStateException(e.getCause());
					}
				}
			} finally {
				pool.shutdownNow();
			}
		}
		for (int i = 1; i < g.levels; i++) {
			for (long j = 0; j < g.levelSize[i - 1]; j++) {
				hash(md, p.hashType(), salt, tree, (int) ((g.levelBlock[i - 1] + j) * p.hashBlockSize()), p.hashBlockSize(), out);
				System.arraycopy(out, 0, tree, (int) (g.levelBlock[i] * p.hashBlockSize() + g.slot(j)), g.digestSize);
			}
		}
		hash(md, p.hashType(), salt, tree, (int) (g.levelBlock[g.levels - 1] * p.hashBlockSize()), p.hashBlockSize(), out);
		return new Built(out.clone(), tree);
	}

	/** Hashes data blocks {@code from} to {@code to} into level 0 of the tree. */
	private static void hashData(FileChannel data, long dataOffset, Params p, Geometry g, byte[] salt, byte[] tree, long from, long to)
		throws IOException {
		MessageDigest md = VeritySuperblock.newDigest(p.algorithm());
		ByteBuffer buf = ByteBuffer.allocate(p.dataBlockSize());
		byte[] out = new byte[g.digestSize];
		for (long j = from; j < to; j++) {
			buf.clear();
			readFully(data, dataOffset + j * p.dataBlockSize(), buf, "data block " + j);
			hash(md, p.hashType(), salt, buf.array(), 0, p.dataBlockSize(), out);
			System.arraycopy(out, 0, tree, (int) (g.levelBlock[0] * p.hashBlockSize() + g.slot(j)), g.digestSize);
		}
	}

	private static void check(FileChannel data, long dataOffset, long dataLength, FileChannel hash, long hashDeviceOffset,
		long startBlock, long hashLength, Params p, byte[] expectedRoot, String label) throws IOException {
		if (dataOffset < 0 || dataLength < 0 || hashDeviceOffset < 0 || startBlock < 0 || hashLength < 0) {
			throw new IllegalArgumentException("negative offset or length");
		}
		Geometry g = new Geometry(p, startBlock);
		int hbs = p.hashBlockSize();
		if (expectedRoot.length != g.digestSize) {
			throw new ImageException(label + ": root hash of " + expectedRoot.length + " bytes, but " + p.algorithm()
				+ " digests have " + g.digestSize);
		}
		long dataAvailable = Math.min(dataLength, Math.max(0, data.size() - dataOffset));
		if (p.dataBytes() > dataAvailable) {
			throw new ImageException(label + ": dm-verity covers " + p.dataBlocks() + " data blocks of " + p.dataBlockSize()
				+ " bytes from byte " + dataOffset + ", but only " + dataAvailable + " bytes of data are there");
		}
		long hashAvailable = Math.min(hashLength, Math.max(0, hash.size() - hashDeviceOffset));
		if (g.endBlock > hashAvailable / hbs) {
			throw new ImageException(label + ": dm-verity hash tree ends at byte " + (hashDeviceOffset + g.endBlock * hbs)
				+ ", but the hash device ends at byte " + (hashDeviceOffset + hashAvailable));
		}

		MessageDigest md = VeritySuperblock.newDigest(p.algorithm());
		byte[] salt = p.salt();
		byte[] computed = new byte[g.digestSize];
		if (g.levels == 0) {
			byte[] block = readFully(data, dataOffset, p.dataBlockSize(), label + ": data block 0");
			hash(md, p.hashType(), salt, block, 0, block.length, computed);
		} else {
			long top = hashDeviceOffset + g.levelBlock[g.levels - 1] * hbs;
			byte[] block = readFully(hash, top, hbs, label + ": top hash block at byte " + top);
			hash(md, p.hashType(), salt, block, 0, block.length, computed);
		}
		if (!Arrays.equals(computed, expectedRoot)) {
			throw new ImageException(label + ": dm-verity root hash mismatch: expected " + HEX.formatHex(expectedRoot)
				+ ", computed " + HEX.formatHex(computed));
		}
		if (g.levels == 0) {
			return;
		}
		try (Workers workers = new Workers()) {
			for (int i = g.levels - 1; i >= 0; i--) {
				long parentBase = hashDeviceOffset + g.levelBlock[i] * hbs;
				Level level;
				if (i > 0) {
					level = new Level(g, label, i, hash, hashDeviceOffset + g.levelBlock[i - 1] * hbs, hbs, g.levelSize[i - 1],
						hash, parentBase, g.levelSize[i] * hbs);
				} else {
					level = new Level(g, label, 0, data, dataOffset, p.dataBlockSize(), p.dataBlocks(), hash, parentBase,
						g.levelSize[0] * hbs);
				}
				workers.run(level);
			}
		}
	}

	/**
	 * One level's check: every child (a data block, or a hash block of the level
	 * below) against its digest in this level, and the zero padding of this level.
	 */
	private static final class Level {
		final Geometry g;
		final String label;
		final int level;
		final FileChannel childCh;
		final long childBase;
		final int childSize;
		final long childCount;
		final FileChannel parentCh;
		final long parentBase;
		final long parentBytes;
		final long chunkChildren;
		final long chunks;
		final AtomicLong next = new AtomicLong();
		private long badKey = Long.MAX_VALUE;
		private String badMessage;
		private volatile long badBound = Long.MAX_VALUE;
		private volatile boolean cancelled;

		Level(Geometry g, String label, int level, FileChannel childCh, long childBase, int childSize, long childCount,
			FileChannel parentCh, long parentBase, long parentBytes) {
			this.g = g;
			this.label = label;
			this.level = level;
			this.childCh = childCh;
			this.childBase = childBase;
			this.childSize = childSize;
			this.childCount = childCount;
			this.parentCh = parentCh;
			this.parentBase = parentBase;
			this.parentBytes = parentBytes;
			this.chunkChildren = Math.max(1, CHUNK_BYTES / childSize);
			this.chunks = ceilDiv(childCount, chunkChildren);
		}

		synchronized void fail(long key, String message) {
			if (key < badKey) {
				badKey = key;
				badMessage = message;
				badBound = key;
			}
		}

		synchronized String failure() {
			return badMessage;
		}

		/** Makes the workers stop after their current chunk. */
		void cancel() {
			cancelled = true;
		}

		/** Claims and checks chunks until none is left or a failure before them is known. */
		void work() throws IOException {
			MessageDigest md = VeritySuperblock.newDigest(g.p.algorithm());
			byte[] salt = g.p.salt();
			int type = g.p.hashType();
			byte[] out = new byte[g.digestSize];
			ByteBuffer children = ByteBuffer.allocate((int) (chunkChildren * childSize));
			ByteBuffer parents = null;
			long k;
			while ((k = next.getAndIncrement()) < chunks) {
				long c0 = k * chunkChildren;
				long c1 = Math.min(childCount, c0 + chunkChildren);
				if (c0 > badBound || cancelled) {
					return;
				}
				// this chunk's share of the parent level: from its first child's slot to the next chunk's first
				// slot, or to the end of the level, so that every byte of the level is checked once
				long p0 = g.slot(c0);
				long p1 = c1 < childCount ? g.slot(c1) : parentBytes;
				int plen = (int) (p1 - p0);
				if (parents == null || parents.capacity() < plen) {
					parents = ByteBuffer.allocate(plen);
				}
				parents.clear().limit(plen);
				readFully(parentCh, parentBase + p0, parents, label + ": level " + level + " hash blocks at byte " + (parentBase + p0));
				children.clear().limit((int) ((c1 - c0) * childSize));
				readFully(childCh, childBase + c0 * childSize, children, label + ": " + childName(c0));
				byte[] pb = parents.array();
				byte[] cb = children.array();
				long zeroFrom = 0;
				for (long j = c0; j < c1; j++) {
					hash(md, type, salt, cb, (int) ((j - c0) * childSize), childSize, out);
					int at = (int) (g.slot(j) - p0);
					if (!zero(pb, (int) zeroFrom, at)) {
						padding(j, p0, pb, (int) zeroFrom, at);
						return;
					}
					if (!Arrays.equals(out, 0, g.digestSize, pb, at, at + g.digestSize)) {
						long hashBlockAt = parentBase + (g.slot(j) / g.p.hashBlockSize()) * g.p.hashBlockSize();
						fail(j, label + ": dm-verity: " + childName(j) + " does not match its hash (level " + level
							+ " hash block at byte " + hashBlockAt + ")");
						return;
					}
					zeroFrom = at + g.digestSize;
				}
				if (!zero(pb, (int) zeroFrom, plen)) {
					padding(c1 - 1, p0, pb, (int) zeroFrom, plen);
					return;
				}
			}
		}

		private void padding(long j, long p0, byte[] pb, int from, int to) {
			int i = from;
			while (i < to && pb[i] == 0) {
				i++;
			}
			long at = parentBase + p0 + i;
			long block = parentBase + ((p0 + i) / g.p.hashBlockSize()) * g.p.hashBlockSize();
			fail(j, label + ": dm-verity: level " + level + " hash block at byte " + block + " has a non-zero byte at byte " + at
				+ " where padding must be zero");
		}

		private String childName(long j) {
			if (level == 0) {
				return "data block " + j + " (byte " + (childBase + j * childSize) + ")";
			}
			return "level " + (level - 1) + " hash block at byte " + (childBase + j * childSize);
		}
	}

	/** A pool of one thread per core for one verification, shut down (never interrupted) when it is done. */
	private static final class Workers implements AutoCloseable {
		private final int threads = Runtime.getRuntime().availableProcessors();
		private ExecutorService pool;

		void run(Level level) throws IOException {
			int n = (int) Math.min(threads, level.chunks);
			if (n <= 1) {
				level.work();
			} else {
				if (pool == null) {
					pool = Executors.newFixedThreadPool(threads, daemons());
				}
				List<Future<?>> tasks = new ArrayList<>();
				for (int i = 0; i < n; i++) {
					tasks.add(pool.submit(() -> {
						try {
							level.work();
						} catch (IOException | RuntimeException e) {
							level.cancel();
							throw e instanceof IOException io ? new UncheckedIOException(io) : e;
						}
						return null;
					}));
				}
				await(tasks, level);
			}
			String failure = level.failure();
			if (failure != null) {
				throw new ImageException(failure);
			}
		}

		private static void await(List<Future<?>> tasks, Level level) throws IOException {
			boolean interrupted = false;
			Throwable error = null;
			for (Future<?> f : tasks) {
				for (;;) {
					try {
						f.get();
						break;
					} catch (InterruptedException e) {
						// stop the tasks after their current chunk, and wait for them, so that nothing reads after we return
						level.cancel();
						interrupted = true;
					} catch (ExecutionException e) {
						if (error == null) {
							error = e.getCause();
						}
						break;
					}
				}
			}
			if (interrupted) {
				Thread.currentThread().interrupt();
				throw new InterruptedIOException("dm-verity check interrupted");
			}
			if (error instanceof UncheckedIOException u) {
				throw u.getCause();
			}
			if (error instanceof RuntimeException r) {
				throw r;
			}
			if (error instanceof Error e) {
				throw e;
			}
		}

		static ThreadFactory daemons() {
			AtomicInteger n = new AtomicInteger();
			return r -> {
				Thread t = new Thread(r, "psi-verity-" + n.incrementAndGet());
				t.setDaemon(true);
				return t;
			};
		}

		@Override
		public void close() {
			if (pool != null) {
				pool.shutdown();
			}
		}
	}

	private static void hash(MessageDigest md, int type, byte[] salt, byte[] b, int off, int len, byte[] out) {
		if (type == 1) {
			md.update(salt);
		}
		md.update(b, off, len);
		if (type == 0) {
			md.update(salt);
		}
		try {
			md.digest(out, 0, out.length);
		} catch (DigestException e) {
			throw new IllegalStateException(e);
		}
	}

	private static long ceilDiv(long a, long b) {
		return -Math.floorDiv(-a, b);
	}

	private static boolean zero(byte[] b, int from, int to) {
		for (int i = from; i < to; i++) {
			if (b[i] != 0) {
				return false;
			}
		}
		return true;
	}

	private static byte[] readFully(FileChannel ch, long pos, int len, String what) throws IOException {
		ByteBuffer b = ByteBuffer.allocate(len);
		readFully(ch, pos, b, what);
		return b.array();
	}

	private static void readFully(FileChannel ch, long pos, ByteBuffer b, String what) throws IOException {
		long at = pos;
		while (b.hasRemaining()) {
			int n = ch.read(b, at);
			if (n < 0) {
				throw new ImageException(what + ": the file ends at byte " + at);
			}
			at += n;
		}
	}
}
