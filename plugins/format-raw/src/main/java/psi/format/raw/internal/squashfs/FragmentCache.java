package psi.format.raw.internal.squashfs;

import static psi.format.raw.internal.squashfs.DataBlocks.DATA_STORED;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import psi.format.raw.internal.squashfs.BlockDecompressor.BlockFormatException;
import psi.format.raw.internal.squashfs.SquashfsReader.Fragment;
import psi.format.raw.internal.squashfs.SquashfsReader.Node;

/**
 * The fragment blocks that hold the tails of files: finds one from its entry
 * in the fragment table, decompresses it once even when several threads need
 * it, and keeps the most recently used, 4 MiB of them at most (LRU). Its maps
 * and the metadata it reads are guarded by the reader's lock; blocks are
 * decompressed outside it.
 */
final class FragmentCache {
	private static final long FRAGMENT_CACHE_BYTES = 4L << 20;

	/** Where a fragment block lies, from its fragment table entry. */
	private record FragmentEntry(long index, long start, long word) {
	}

	private final SquashfsReader lock;
	private final Superblock sb;
	private final ImageBytes bytes;
	private final MetadataBlocks meta;
	private final Corruption where;
	private final MetadataTable fragmentBlocks;
	private final DecompressorPool pool;
	private final Executor executor;
	private final long dataStart;
	private final long dataEnd;
	private final Map<Long, Fragment> fragments;
	private final Map<Long, CompletableFuture<Fragment>> fragmentsInFlight = new HashMap<>();

	/**
	 * @param lock the reader: its lock guards the metadata, and it says whether it is still open
	 * @param fragmentBlocks where the fragment table's metadata blocks may lie
	 * @param executor decompresses the fragment block after the one last used, or null
	 * @param dataStart where the data area starts, which fragment blocks must lie in
	 * @param dataEnd where it ends
	 */
	FragmentCache(SquashfsReader lock, Superblock sb, ImageBytes bytes, MetadataBlocks meta, Corruption where, MetadataTable fragmentBlocks,
		DecompressorPool pool, Executor executor, long dataStart, long dataEnd) {
		this.lock = lock;
		this.sb = sb;
		this.bytes = bytes;
		this.meta = meta;
		this.where = where;
		this.fragmentBlocks = fragmentBlocks;
		this.pool = pool;
		this.executor = executor;
		this.dataStart = dataStart;
		this.dataEnd = dataEnd;
		long slots = Math.max(2, FRAGMENT_CACHE_BYTES / sb.blockSize());
		this.fragments = new LinkedHashMap<>(16, 0.75f, true) {
			private static final long serialVersionUID = 1L;

			@Override
			protected boolean removeEldestEntry(Map.Entry<Long, Fragment> eldest) {
				return size() > slots;
			}
		};
	}

	/**
	 * The decompressed fragment block holding a file's tail, checked to hold
	 * it. The entry is read under the lock, the block decompressed outside
	 * it, once: a thread that needs a block another is decompressing waits
	 * for it. With an executor, the next fragment block is decompressed in the
	 * background meanwhile (mksquashfs fills fragment blocks in the order it
	 * writes files, which is the order of a walk).
	 */
	Fragment fragment(Node f) throws IOException {
		long index = f.fragment;
		Fragment frag = null;
		CompletableFuture<Fragment> mine = null;
		CompletableFuture<Fragment> theirs = null;
		FragmentEntry entry = null;
		synchronized (lock) {
			lock.ensureOpen();
			frag = fragments.get(index);
			if (frag == null) {
				theirs = fragmentsInFlight.get(index);
				if (theirs == null) {
					entry = fragmentEntry(index);
					mine = new CompletableFuture<>();
					fragmentsInFlight.put(index, mine);
				}
			}
			prefetchFragment(index + 1);
		}
		if (theirs != null) {
			frag = SquashfsReader.await(theirs);
		} else if (mine != null) {
			frag = decodeFragment(mine, entry);
		}
		long tail = f.fileSize & (sb.blockSize() - 1);
		if (f.fragmentOffset + tail > frag.length()) {
			throw where.in("file inode", f.blockPos, f.offset, "tail of " + tail + " bytes at offset " + f.fragmentOffset
				+ " lies beyond the " + frag.length() + " bytes of fragment " + f.fragment);
		}
		return frag;
	}

	/** Forgets the cached blocks; under the lock. */
	void clear() {
		fragments.clear();
	}

	/** Decompresses a fragment block outside the lock, caches it, and hands it to whoever waits. */
	private Fragment decodeFragment(CompletableFuture<Fragment> result, FragmentEntry entry) throws IOException {
		try {
			Fragment frag = readFragment(entry);
			synchronized (lock) {
				fragments.put(entry.index, frag);
				fragmentsInFlight.remove(entry.index);
			}
			result.complete(frag);
			return frag;
		} catch (IOException | RuntimeException | Error e) {
			synchronized (lock) {
				fragmentsInFlight.remove(entry.index);
			}
			result.completeExceptionally(e);
			throw e;
		}
	}

	/**
	 * With an executor, starts decompressing a fragment block in the
	 * background unless it is cached or under way. Under the lock. A corrupt
	 * entry is left for the file that needs it to report.
	 */
	private void prefetchFragment(long index) {
		if (executor == null || index >= sb.fragmentCount() || fragments.containsKey(index) || fragmentsInFlight.containsKey(index)) {
			return;
		}
		FragmentEntry entry;
		try {
			entry = fragmentEntry(index);
		} catch (IOException e) {
			return;
		}
		CompletableFuture<Fragment> result = new CompletableFuture<>();
		fragmentsInFlight.put(index, result);
		try {
			executor.execute(() -> {
				try {
					decodeFragment(result, entry);
				} catch (IOException | RuntimeException e) {
					// handed to the waiters, if any
				}
			});
		} catch (RejectedExecutionException e) {
			fragmentsInFlight.remove(index);
			result.cancel(false);
		}
	}

	private FragmentEntry fragmentEntry(long index) throws IOException {
		long blockPos = bytes.u64(sb.fragmentTableStart() + 8 * (index / Superblock.FRAGMENTS_PER_BLOCK), "fragment table index");
		MetadataCursor c = new MetadataCursor(meta, fragmentBlocks, where, blockPos, (int) (index % Superblock.FRAGMENTS_PER_BLOCK) * 16);
		long eb = c.blockPos();
		int eo = c.offset();
		long start = c.u64();
		long word = c.u32();
		c.u32();
		long disk = word & ~(long) DATA_STORED;
		String what = "fragment entry " + index;
		if (disk == 0 || disk > sb.blockSize()) {
			throw c.error(what, eb, eo, "fragment block of " + disk + " bytes is not 1 to the block size " + sb.blockSize());
		}
		if (start < dataStart || start > dataEnd - disk) {
			throw c.error(what, eb, eo, "fragment block at byte " + Long.toUnsignedString(start) + " lies outside the data area");
		}
		return new FragmentEntry(index, start, word);
	}

	/** Reads and decompresses a fragment block; thread safe, runs outside the lock. */
	private Fragment readFragment(FragmentEntry e) throws IOException {
		int disk = (int) (e.word & ~(long) DATA_STORED);
		byte[] src = new byte[disk];
		bytes.read(e.start, src, 0, disk, "fragment block");
		if ((e.word & DATA_STORED) != 0) {
			return new Fragment(src, disk);
		}
		byte[] out = new byte[sb.blockSize()];
		BlockDecompressor d = pool.borrow();
		try {
			return new Fragment(out, d.decompress(src, 0, disk, out, 0, out.length));
		} catch (BlockFormatException x) {
			throw where.at("fragment block", e.start, x.overflow() ? "decompresses to more than the block size " + sb.blockSize()
				: "does not decompress (" + x.getMessage() + ")");
		} finally {
			pool.release(d);
		}
	}
}
