package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

import psi.format.raw.internal.squashfs.SourceTree.Child;
import psi.format.raw.internal.squashfs.SourceTree.Node;
import psi.spi.format.ImageException;

/**
 * Writes a directory tree as a squashfs 4.0 file system, as the kernel and
 * squashfs-tools read it: data blocks compressed on every core in parallel
 * and written in order, files smaller than a block packed into fragments,
 * all-zero blocks left sparse, hard links kept, xattrs (deduplicated), uids
 * and gids; then the inode, directory, fragment, id and xattr tables. The
 * same tree and options give the same bytes: entries sorted, times clamped,
 * nothing taken from the clock. Not written: the NFS export table and
 * duplicate-file detection (mksquashfs's defaults), which only save space.
 */
public final class SquashfsWriter {
	/** Squashfs images are padded to this, as mksquashfs pads them (loop devices want it). */
	public static final int PAD = 4096;
	/** The inode field value meaning no xattrs, or no fragment. */
	private static final int NONE = 0xffff_ffff;

	/**
	 * What to write.
	 *
	 * @param compression gzip, xz, zstd or lz4
	 * @param blockSize 4 KiB to 1 MiB, a power of two
	 * @param rootOwner every file owned by root (uid and gid 0) instead of its owner
	 * @param clampTime no time later than this (seconds since the epoch, e.g. SOURCE_DATE_EPOCH), or -1
	 * @param mkfsTime the superblock's time, or -1 for the newest file's (clamped)
	 * @param xattrs whether to store extended attributes
	 * @param threads how many compress
	 */
	public record Options(String compression, int blockSize, boolean rootOwner, long clampTime, long mkfsTime, boolean xattrs, int threads) {
		/** @throws IllegalArgumentException naming what is wrong */
		public Options {
			if (BlockCompressor.Kind.of(compression) == null) {
				throw new IllegalArgumentException("compression '" + compression + "' is not gzip, xz, zstd or lz4");
			}
			if (blockSize < 4096 || blockSize > 1 << 20 || Integer.bitCount(blockSize) != 1) {
				throw new IllegalArgumentException("block size " + blockSize + " is not a power of two from 4096 to 1048576");
			}
			threads = Math.max(1, threads);
		}
	}

	/**
	 * What was written.
	 *
	 * @param bytes the file system's size, padded to {@link #PAD}
	 * @param inodes how many inodes
	 * @param files how many regular files
	 * @param dataBytes how many bytes the regular files hold
	 * @param mkfsTime the superblock's time
	 */
	public record Result(long bytes, long inodes, long files, long dataBytes, long mkfsTime) {
	}

	private final Options options;
	private final BlockCompressor.Kind kind;
	private final FileChannel out;
	private final long base;
	private final LongConsumer progress;
	private long pos;
	private long files;
	private long dataBytes;

	private SquashfsWriter(Options options, FileChannel out, long base, LongConsumer progress) {
		this.options = options;
		this.kind = BlockCompressor.Kind.of(options.compression());
		this.out = out;
		this.base = base;
		this.progress = progress;
	}

	/**
	 * Writes the tree's squashfs into a new or truncated file.
	 *
	 * @param progress told the bytes of file data read so far, or null
	 */
	public static Result write(Path tree, Options options, Path file, LongConsumer progress) throws IOException {
		try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
			StandardOpenOption.TRUNCATE_EXISTING)) {
			return write(tree, options, ch, 0, progress);
		}
	}

	/**
	 * Writes the tree's squashfs into a channel at an offset (a partition of
	 * a disk image); pads it to {@link #PAD}.
	 */
	public static Result write(Path tree, Options options, FileChannel out, long offset, LongConsumer progress) throws IOException {
		SourceTree.Scanned scanned = SourceTree.scan(tree, new SourceTree.Options(options.rootOwner(), options.clampTime(), options.xattrs()));
		return new SquashfsWriter(options, out, offset, progress).write(scanned);
	}

	private Result write(SourceTree.Scanned tree) throws IOException {
		long mkfsTime = options.mkfsTime() >= 0 ? options.mkfsTime()
			: options.clampTime() >= 0 ? Math.min(tree.newest(), options.clampTime()) : tree.newest();
		mkfsTime = Math.max(0, Math.min(mkfsTime, 0xffff_ffffL));
		byte[] compOptions = kind.options();
		pos = Superblock.SIZE + (compOptions == null ? 0 : 2 + compOptions.length);
		List<long[]> fragments = new ArrayList<>();
		try (Data data = new Data(fragments)) {
			data(tree.root(), data);
			data.finish();
		}
		BlockCompressor mc = kind.newCompressor(Superblock.METADATA_SIZE);
		MetadataWriter inodes = new MetadataWriter(mc);
		MetadataWriter dirs = new MetadataWriter(mc);
		Tables t = new Tables(inodes, dirs);
		long count = number(tree.root(), new long[1]);
		t.write(tree.root(), count + 1);

		long inodeTableStart = pos;
		put(inodes.finish());
		long dirTableStart = pos;
		put(dirs.finish());
		// fragment table
		MetadataWriter fw = new MetadataWriter(mc);
		List<Long> fragIndex = new ArrayList<>();
		for (long[] f : fragments) {
			if (fw.offset() == 0) {
				fragIndex.add(fw.block());
			}
			fw.u64(f[0]).u32(f[1]).u32(0);
		}
		long fragTableStart = index(fw, fragIndex);
		// id table
		MetadataWriter iw = new MetadataWriter(mc);
		List<Long> idIndex = new ArrayList<>();
		for (int id : t.ids.keySet()) {
			if (iw.offset() == 0) {
				idIndex.add(iw.block());
			}
			iw.u32(id & 0xffff_ffffL);
		}
		long idTableStart = index(iw, idIndex);
		long xattrTableStart = t.xattrs.isEmpty() ? Superblock.ABSENT : xattrTables(t, mc);
		long bytesUsed = pos;

		ByteBuffer sb = ByteBuffer.allocate(Superblock.SIZE).order(ByteOrder.LITTLE_ENDIAN);
		sb.putInt(Superblock.MAGIC).putInt((int) count).putInt((int) mkfsTime).putInt(options.blockSize()).putInt(fragments.size());
		sb.putShort((short) kind.id()).putShort((short) Integer.numberOfTrailingZeros(options.blockSize()));
		int flags = compOptions == null ? 0 : Superblock.COMPRESSOR_OPTIONS;
		sb.putShort((short) flags).putShort((short) t.ids.size()).putShort((short) 4).putShort((short) 0);
		sb.putLong(tree.root().ref).putLong(bytesUsed).putLong(idTableStart).putLong(xattrTableStart).putLong(inodeTableStart);
		sb.putLong(dirTableStart).putLong(fragTableStart).putLong(Superblock.ABSENT);
		writeAt(sb.flip(), 0);
		if (compOptions != null) {
			ByteBuffer o = ByteBuffer.allocate(2 + compOptions.length).order(ByteOrder.LITTLE_ENDIAN);
			o.putShort((short) (compOptions.length | 0x8000)).put(compOptions);
			writeAt(o.flip(), Superblock.SIZE);
		}
		long padded = (bytesUsed + PAD - 1) / PAD * PAD;
		if (padded > bytesUsed) {
			writeAt(ByteBuffer.allocate((int) (padded - bytesUsed)), bytesUsed);
		}
		return new Result(padded, count, files, dataBytes, mkfsTime);
	}

	/** Writes a table's metadata blocks, then the index of their positions; @return the index's position */
	private long index(MetadataWriter w, List<Long> blocks) throws IOException {
		long start = pos;
		put(w.finish());
		long at = pos;
		ByteBuffer idx = ByteBuffer.allocate(8 * blocks.size()).order(ByteOrder.LITTLE_ENDIAN);
		for (long b : blocks) {
			idx.putLong(start + b);
		}
		put(idx.array());
		return at;
	}

	/** The key/value table, the id table of xattr sets and its header; @return the header's position */
	private long xattrTables(Tables t, BlockCompressor mc) throws IOException {
		MetadataWriter kv = new MetadataWriter(mc);
		long[] refs = new long[t.xattrs.size()];
		long[] sizes = new long[refs.length];
		int i = 0;
		for (SortedMap<String, byte[]> set : t.xattrs.keySet().stream().map(k -> t.xattrSets.get(k)).toList()) {
			refs[i] = kv.ref();
			long size = 0;
			for (Map.Entry<String, byte[]> e : set.entrySet()) {
				String name = e.getKey();
				int prefix = name.startsWith("user.") ? 0 : name.startsWith("trusted.") ? 1 : 2;
				byte[] n = name.substring(name.indexOf('.') + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
				kv.u16(prefix).u16(n.length).bytes(n).u32(e.getValue().length).bytes(e.getValue());
				size += 8 + n.length + e.getValue().length;
			}
			sizes[i++] = size;
		}
		long kvStart = pos;
		put(kv.finish());
		MetadataWriter ids = new MetadataWriter(mc);
		List<Long> idIndex = new ArrayList<>();
		i = 0;
		for (List<Object> k : t.xattrs.keySet()) {
			if (ids.offset() == 0) {
				idIndex.add(ids.block());
			}
			ids.u64(refs[i]).u32(t.xattrSets.get(k).size()).u32(sizes[i]);
			i++;
		}
		long idStart = pos;
		put(ids.finish());
		long header = pos;
		ByteBuffer h = ByteBuffer.allocate(16 + 8 * idIndex.size()).order(ByteOrder.LITTLE_ENDIAN);
		h.putLong(kvStart).putInt(t.xattrs.size()).putInt(0);
		for (long b : idIndex) {
			h.putLong(idStart + b);
		}
		put(h.array());
		return header;
	}

	/** Numbers the inodes as they will be written: children before their directory, the root last. */
	private static long number(Node dir, long[] next) {
		for (Child c : dir.children) {
			if (c.node().number == 0) {
				if (c.node().type == Inode.Type.DIRECTORY) {
					number(c.node(), next);
				} else {
					c.node().number = ++next[0];
				}
			}
		}
		dir.number = ++next[0];
		return dir.number;
	}

	/** The data pass: every regular file's blocks and fragment, in the order of the tree. */
	private void data(Node dir, Data data) throws IOException {
		for (Child c : dir.children) {
			Node n = c.node();
			if (n.type == Inode.Type.DIRECTORY) {
				data(n, data);
			} else if (n.type == Inode.Type.FILE && n.sizes == null) {
				data.file(n);
			}
		}
	}

	private void put(byte[] b) throws IOException {
		writeAt(ByteBuffer.wrap(b), pos);
		pos += b.length;
	}

	private void writeAt(ByteBuffer b, long at) throws IOException {
		while (b.hasRemaining()) {
			at += out.write(b, base + at);
		}
	}

	/** Reads files block by block, compresses on a pool and writes in order. */
	private final class Data implements AutoCloseable {
		private final int bs = options.blockSize();
		private final ExecutorService pool;
		private final ThreadLocal<BlockCompressor> compressors = ThreadLocal.withInitial(() -> kind.newCompressor(bs));
		private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[compressors.get().bound(bs)]);
		private final ArrayDeque<Pending> inflight = new ArrayDeque<>();
		private final int depth;
		private final List<long[]> fragments;
		private byte[] frag;
		private int fragFill;
		private long read;

		/** A block on its way to compressed (or to null: sparse) and where its size goes. */
		private record Pending(Future<byte[]> packed, Node file, int index) {
		}

		Data(List<long[]> fragments) {
			this.fragments = fragments;
			this.depth = 4 * options.threads();
			this.pool = Executors.newFixedThreadPool(options.threads(), r -> {
				Thread t = new Thread(r, "psi-squashfs");
				t.setDaemon(true);
				return t;
			});
			this.frag = new byte[bs];
		}

		void file(Node n) throws IOException {
			files++;
			dataBytes += n.size;
			long size = n.size;
			int full = (int) (size / bs);
			int tail = (int) (size % bs);
			boolean fragmentTail = size < bs && tail > 0;
			int blocks = full + (tail > 0 && !fragmentTail ? 1 : 0);
			n.sizes = new int[blocks];
			n.start = -1;
			if (size == 0) {
				n.start = 0;
				return;
			}
			// never through a link: a file swapped for a symbolic link after the scan (to a file of the
			// builder's that the tree's owner may not read) fails instead of landing in the image
			try (FileChannel in = FileChannel.open(n.path, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
				for (int i = 0; i < blocks; i++) {
					int len = (int) Math.min(bs, size - (long) i * bs);
					byte[] b = new byte[len];
					fill(in, ByteBuffer.wrap(b), (long) i * bs, n);
					enqueue(new Pending(compress(b, len, true), n, i));
				}
				if (fragmentTail) {
					byte[] b = new byte[tail];
					fill(in, ByteBuffer.wrap(b), 0, n);
					if (fragFill + tail > bs) {
						flushFragment();
					}
					n.fragment = fragments.size() + pendingFragments;
					n.fragmentOffset = fragFill;
					System.arraycopy(b, 0, frag, fragFill, tail);
					fragFill += tail;
				}
				if (in.size() != size) {
					throw new ImageException(where(n) + ": changed size while psi read it (" + size + " bytes, now " + in.size() + ")");
				}
			} catch (ImageException e) {
				throw e;
			} catch (AccessDeniedException e) {
				throw new ImageException(where(n) + ": cannot read it: permission denied");
			} catch (IOException e) {
				// the JDK reports O_NOFOLLOW's ELOOP as a plain IOException
				String why = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
				throw new ImageException(where(n) + ": cannot read it: " + why
					+ (java.nio.file.Files.isSymbolicLink(n.path) ? " (it became a symbolic link while psi read the tree)" : ""));
			}
			if (n.sizes.length == 0) {
				n.start = 0;
			}
		}

		private int pendingFragments;

		private void flushFragment() throws IOException {
			if (fragFill == 0) {
				return;
			}
			byte[] b = Arrays.copyOf(frag, fragFill);
			pendingFragments++;
			enqueue(new Pending(compress(b, b.length, false), null, -1));
			fragFill = 0;
		}

		private void fill(FileChannel in, ByteBuffer b, long at, Node n) throws IOException {
			while (b.hasRemaining()) {
				int r = in.read(b, at);
				if (r < 0) {
					throw new ImageException(where(n) + ": shrank while psi read it (expected " + n.size + " bytes)");
				}
				at += r;
			}
			read += b.capacity();
			if (progress != null) {
				progress.accept(read);
			}
		}

		/**
		 * @param sparse whether an all-zero block is left out (a file's block; not a fragment block)
		 * @return the compressed block with a trailing flag byte (1: stored as is), or null for a sparse block
		 */
		private Future<byte[]> compress(byte[] b, int len, boolean sparse) {
			return pool.submit(() -> {
				if (sparse && zero(b)) {
					return null;
				}
				BlockCompressor c = compressors.get();
				byte[] dst = scratch.get();
				int n = c.compress(b, len, dst);
				if (n < 0) {
					// stored: the size word's bit 24 says so; mark it by a trailing flag byte
					byte[] raw = Arrays.copyOf(b, len + 1);
					raw[len] = 1;
					return raw;
				}
				return Arrays.copyOf(dst, n + 1);
			});
		}

		private void enqueue(Pending p) throws IOException {
			inflight.add(p);
			while (inflight.size() > depth) {
				drain(inflight.poll());
			}
		}

		private void drain(Pending p) throws IOException {
			byte[] b;
			try {
				b = p.packed().get();
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new InterruptedIOException("interrupted while compressing");
			} catch (ExecutionException e) {
				throw new IOException("compressing: " + e.getCause(), e.getCause());
			}
			int word = 0;
			long at = pos;
			if (b != null) {
				int len = b.length - 1;
				word = len | (b[len] == 1 ? 1 << 24 : 0);
				writeAt(ByteBuffer.wrap(b, 0, len), pos);
				pos += len;
			}
			if (p.file() == null) {
				fragments.add(new long[] { at, word });
				pendingFragments--;
				return;
			}
			Node n = p.file();
			if (n.start < 0) {
				n.start = at;
			}
			n.sizes[p.index()] = word;
			if (b == null) {
				n.sparse += Math.min(bs, n.size - (long) p.index() * bs);
			}
		}

		void finish() throws IOException {
			flushFragment();
			while (!inflight.isEmpty()) {
				drain(inflight.poll());
			}
		}

		@Override
		public void close() {
			pool.shutdownNow();
		}

		private static boolean zero(byte[] b) {
			for (byte x : b) {
				if (x != 0) {
					return false;
				}
			}
			return true;
		}
	}

	private static String where(Node n) {
		return n.path.toString();
	}

	/** The inode and directory tables, written children first; the id table and xattr sets they gather. */
	private final class Tables {
		private final MetadataWriter inodes;
		private final MetadataWriter dirs;
		final Map<Integer, Integer> ids = new LinkedHashMap<>();
		/** Distinct xattr sets, by content, in order of first use: their index is the xattr id. */
		final Map<List<Object>, Integer> xattrs = new LinkedHashMap<>();
		final Map<List<Object>, SortedMap<String, byte[]>> xattrSets = new HashMap<>();

		Tables(MetadataWriter inodes, MetadataWriter dirs) {
			this.inodes = inodes;
			this.dirs = dirs;
		}

		void write(Node dir, long parent) {
			for (Child c : dir.children) {
				Node n = c.node();
				if (n.ref >= 0) {
					continue;
				}
				if (n.type == Inode.Type.DIRECTORY) {
					write(n, dir.number);
				} else {
					inode(n);
				}
			}
			// the listing: runs of entries sharing an inode block and a base number
			long listingRef = dirs.ref();
			long listingStart = dirs.written();
			int subdirs = 0;
			int i = 0;
			List<Child> cs = dir.children;
			while (i < cs.size()) {
				long block = cs.get(i).node().ref >>> 16;
				long baseNumber = cs.get(i).node().number;
				int j = i;
				while (j < cs.size() && j - i < 256 && cs.get(j).node().ref >>> 16 == block
					&& Math.abs(cs.get(j).node().number - baseNumber) <= Short.MAX_VALUE) {
					j++;
				}
				dirs.u32(j - i - 1).u32(block).u32(baseNumber);
				for (int k = i; k < j; k++) {
					Child c = cs.get(k);
					Node n = c.node();
					dirs.u16((int) (n.ref & 0xffff)).u16((int) (n.number - baseNumber)).u16(n.type.ordinal() + 1).u16(c.name().length - 1)
						.bytes(c.name());
				}
				i = j;
			}
			for (Child c : cs) {
				if (c.node().type == Inode.Type.DIRECTORY) {
					subdirs++;
				}
			}
			directoryInode(dir, listingRef, dirs.written() - listingStart, 2 + subdirs, parent);
		}

		private void directoryInode(Node n, long listingRef, long listing, long nlink, long parent) {
			int xattr = xattrId(n);
			n.ref = inodes.ref();
			if (listing + 3 <= 0xffff && xattr == NONE) {
				header(n, 1);
				inodes.u32(listingRef >>> 16).u32(nlink).u16((int) (listing + 3)).u16((int) (listingRef & 0xffff)).u32(parent);
			} else {
				header(n, 8);
				inodes.u32(nlink).u32(listing + 3).u32(listingRef >>> 16).u32(parent).u16(0).u16((int) (listingRef & 0xffff)).u32(xattr);
			}
		}

		private void inode(Node n) {
			int xattr = xattrId(n);
			n.ref = inodes.ref();
			switch (n.type) {
				case FILE -> {
					int frag = n.fragment < 0 ? NONE : n.fragment;
					int fragOffset = n.fragment < 0 ? 0 : n.fragmentOffset;
					if (n.links == 1 && xattr == NONE && n.sparse == 0 && n.start <= 0xffff_ffffL && n.size <= 0xffff_ffffL) {
						header(n, 2);
						inodes.u32(n.start).u32(frag & 0xffff_ffffL).u32(fragOffset).u32(n.size);
					} else {
						header(n, 9);
						inodes.u64(n.start).u64(n.size).u64(n.sparse).u32(n.links).u32(frag & 0xffff_ffffL).u32(fragOffset).u32(xattr & 0xffff_ffffL);
					}
					for (int s : n.sizes) {
						inodes.u32(s & 0xffff_ffffL);
					}
				}
				case SYMLINK -> {
					header(n, xattr == NONE ? 3 : 10);
					inodes.u32(n.links).u32(n.target.length).bytes(n.target);
					if (xattr != NONE) {
						inodes.u32(xattr & 0xffff_ffffL);
					}
				}
				case BLOCK_DEVICE, CHAR_DEVICE -> {
					header(n, n.type.ordinal() + 1 + (xattr == NONE ? 0 : 7));
					inodes.u32(n.links).u32(n.rdev & 0xffff_ffffL);
					if (xattr != NONE) {
						inodes.u32(xattr & 0xffff_ffffL);
					}
				}
				default -> {
					header(n, n.type.ordinal() + 1 + (xattr == NONE ? 0 : 7));
					inodes.u32(n.links);
					if (xattr != NONE) {
						inodes.u32(xattr & 0xffff_ffffL);
					}
				}
			}
		}

		private void header(Node n, int type) {
			inodes.u16(type).u16(n.mode).u16(id(n.uid)).u16(id(n.gid)).u32(n.mtime).u32(n.number);
		}

		private int id(int id) {
			return ids.computeIfAbsent(id, k -> ids.size());
		}

		private int xattrId(Node n) {
			if (n.xattrs.isEmpty()) {
				return NONE;
			}
			List<Object> key = new ArrayList<>();
			for (Map.Entry<String, byte[]> e : n.xattrs.entrySet()) {
				key.add(e.getKey());
				key.add(java.nio.ByteBuffer.wrap(e.getValue()));
			}
			Integer id = xattrs.get(key);
			if (id == null) {
				id = xattrs.size();
				xattrs.put(key, id);
				xattrSets.put(key, n.xattrs);
			}
			return id;
		}
	}
}
