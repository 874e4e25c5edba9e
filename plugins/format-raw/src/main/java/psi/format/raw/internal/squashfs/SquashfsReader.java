package psi.format.raw.internal.squashfs;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;

import psi.spi.format.Entry;
import psi.spi.format.ImageException;

/**
 * Reads a squashfs 4.0 file system in place, without mounting it: random
 * access, so reading one file reads its inode, its directory entries and its
 * own blocks, not the image.
 * <p>
 * Every structure is checked before it is used and every length is bounded
 * before anything is allocated for it: a corrupt or hostile image gives an
 * {@link ImageException} of one line naming the structure and the byte of
 * the file where it lies (counted from the start of the channel, not of the
 * partition), never a hang or an unbounded allocation. Path lookups refuse
 * directory loops (an entry naming a directory above it), so a walk that
 * recurses through {@link #list} and {@link #lstat} ends.
 * <p>
 * Paths are absolute inside the file system, normalized, and resolved without
 * following any symbolic link: one in the middle of a path ends the lookup
 * (nothing is there), a final one is described, not followed.
 * <p>
 * The channel is shared and only read positionally; the reader never closes
 * it. A reader is thread safe (its methods and streams take its lock for
 * metadata; data blocks are decompressed outside it), though the engine uses
 * it from one thread at a time. It keeps at most 1 MiB of decompressed
 * metadata blocks (LRU), 4 MiB of fragment blocks (LRU) and the 64 directories
 * last looked up. Given an executor it decompresses, in parallel, the data
 * blocks of a file ahead of the stream reading it and the fragment block
 * after the one last used.
 */
public final class SquashfsReader implements Closeable {

	/** An inode's fragment index when its file has no tail in a fragment block. */
	static final long NO_FRAGMENT = 0xffffffffL;
	/** An inode's xattr id when it has no extended attributes. */
	static final long NO_XATTR = 0xffffffffL;

	private final Superblock sb;
	private final Corruption where;
	private final long base;
	private final DecompressorPool pool;
	private final BlockDecompressor metaDecompressor;
	private final MetadataBlocks meta;
	private final Executor executor;
	private final int readAhead;
	private final byte[] options;
	private final InodeTable inodes;
	private final DirectoryScanner directories;
	private final PathResolver paths;
	private final DataBlocks data;
	private final FragmentCache fragments;
	private final XattrTable xattrs;
	private boolean closed;

	/**
	 * Opens the squashfs that starts at byte {@code offset} of {@code channel}
	 * and spans {@code length} bytes (a partition or the whole file), and
	 * checks its superblock, id table and root directory.
	 *
	 * @param channel the image file; shared, read positionally, not closed by the reader
	 * @param offset where the squashfs starts in the file
	 * @param length how many bytes it may span
	 * @param label names the image in messages, e.g. {@code image '/x.raw'}
	 * @throws ImageException if the file system is not a valid squashfs 4.0
	 * @throws IOException on an I/O error
	 */
	public SquashfsReader(FileChannel channel, long offset, long length, String label) throws IOException {
		this(channel, offset, length, label, null, 0);
	}

	/**
	 * As {@link #SquashfsReader(FileChannel, long, long, String)}, decompressing
	 * the data blocks of streamed files ahead of the reader on {@code executor}.
	 *
	 * @param dataExecutor runs data block decompression; {@code null} to decompress in the reading thread.
	 *        The reader does not own it: shut it down after closing the reader
	 * @param readAhead how many data blocks of one file may be decompressed ahead (with an executor);
	 *        four per thread of the executor keeps the threads busy
	 */
	public SquashfsReader(FileChannel channel, long offset, long length, String label, Executor dataExecutor, int readAhead)
		throws IOException {
		Objects.requireNonNull(channel, "channel");
		Objects.requireNonNull(label, "label");
		if (offset < 0 || length < 0) {
			throw new IllegalArgumentException("negative offset or length: " + offset + ", " + length);
		}
		this.where = new Corruption(label, offset);
		this.base = offset;
		this.executor = dataExecutor;
		this.readAhead = Math.max(1, readAhead);
		long available = Math.max(0, Math.min(length, channel.size() - offset));
		if (available < Superblock.SIZE) {
			throw where.at("superblock", 0, "the image holds " + available + " bytes here, fewer than the 96 of a superblock");
		}
		ImageBytes bytes = new ImageBytes(channel, offset, available, where);
		byte[] raw = new byte[Superblock.SIZE];
		bytes.read(0, raw, 0, raw.length, "superblock");
		Superblock.Parsed parsed = Superblock.parse(ByteBuffer.wrap(raw), available, where);
		this.sb = parsed.superblock();
		Compressor compressor = parsed.compressor();
		bytes.limit(sb.bytesUsed());
		this.pool = new DecompressorPool(compressor, sb.blockSize(), label);
		this.metaDecompressor = pool.borrow();
		try {
			this.meta = new MetadataBlocks(bytes, metaDecompressor, where);
			long start = Superblock.SIZE;
			byte[] opts = new byte[0];
			if (sb.has(Superblock.COMPRESSOR_OPTIONS)) {
				MetadataBlocks.Block b = meta.get(new MetadataTable("compressor options", Superblock.SIZE, sb.inodeTableStart()),
					Superblock.SIZE);
				opts = Arrays.copyOf(b.data(), b.length());
				start = b.next();
				checkOptions(compressor, opts);
			}
			this.options = opts;
			long dataStart = start;
			long dataEnd = sb.inodeTableStart();
			MetadataTable inodeTable = new MetadataTable("inode table", sb.inodeTableStart(), sb.directoryTableStart());
			long dirEnd = sb.idTableStart();
			if (sb.fragmentCount() > 0) {
				dirEnd = Math.min(dirEnd, sb.fragmentTableStart());
			}
			if (sb.exportTableStart() != Superblock.ABSENT) {
				dirEnd = Math.min(dirEnd, sb.exportTableStart());
			}
			if (sb.hasXattrs()) {
				dirEnd = Math.min(dirEnd, sb.xattrIdTableStart());
			}
			MetadataTable directoryTable = new MetadataTable("directory table", sb.directoryTableStart(), dirEnd);
			MetadataTable fragmentTable = new MetadataTable("fragment table", sb.directoryTableStart(), sb.fragmentTableStart());
			this.fragments = new FragmentCache(this, sb, bytes, meta, where, fragmentTable, pool, dataExecutor, dataStart, dataEnd);
			this.inodes = new InodeTable(sb, bytes, meta, where, inodeTable, directoryTable, dataStart, dataEnd);
			Node root = inodes.read(sb.rootInode());
			if (root.basicType != 1) {
				throw where.in("root inode", root.blockPos, root.offset, "is of type " + root.type + ", not a directory");
			}
			this.directories = new DirectoryScanner(sb, meta, where, inodeTable, directoryTable);
			this.paths = new PathResolver(root, inodes, directories, where);
			this.data = new DataBlocks(sb, bytes, pool, where, offset, dataStart, dataEnd);
			this.xattrs = new XattrTable(sb, bytes, meta, where);
		} catch (IOException | RuntimeException | Error e) {
			pool.release(metaDecompressor);
			pool.close();
			throw e;
		}
	}

	/** @return the checked superblock */
	public Superblock superblock() {
		return sb;
	}

	/** @return the compressor options block's bytes (empty without one) */
	public byte[] compressorOptions() {
		return options.clone();
	}

	/**
	 * Describes a path without following a final symbolic link.
	 *
	 * @param path absolute, normalized path; no symbolic links before the last component
	 * @return the entry, or empty if nothing is there (or a component before the last is not a directory)
	 * @throws ImageException if the image is corrupt on the way
	 */
	public synchronized Optional<Entry> lstat(String path) throws IOException {
		return stat(path).map(Inode::entry);
	}

	/**
	 * As {@link #lstat}, with everything the inode says (owner, times, device numbers).
	 *
	 * @param path absolute, normalized path; no symbolic links before the last component
	 * @return the inode, or empty if nothing is there
	 * @throws ImageException if the image is corrupt on the way
	 */
	public synchronized Optional<Inode> stat(String path) throws IOException {
		Node n = resolve(path);
		return n == null ? Optional.empty() : Optional.of(inodes.inode(n));
	}

	/**
	 * Lists a directory, in the file system's order (sorted by name bytes).
	 *
	 * @param dir absolute path of a directory
	 * @return the names in it; empty if it is absent or not a directory
	 * @throws ImageException if the listing is corrupt
	 */
	public synchronized List<String> list(String dir) throws IOException {
		Node d = resolve(dir);
		if (d == null || d.basicType != 1) {
			return List.of();
		}
		return directories.names(d);
	}

	/**
	 * Reads a whole regular file.
	 *
	 * @param path absolute path of a regular file
	 * @param maxBytes the most bytes the caller accepts
	 * @return its content
	 * @throws ImageException if it is larger than {@code maxBytes}, or corrupt
	 * @throws NoSuchFileException if nothing is there
	 * @throws IOException if it is not a regular file
	 */
	public byte[] read(String path, int maxBytes) throws IOException {
		Node f;
		synchronized (this) {
			f = regularFile(path);
		}
		if (f.fileSize > maxBytes) {
			throw new ImageException("'" + path + "' in squashfs in " + where.label() + " is larger than " + maxBytes + " bytes ("
				+ f.fileSize + ")");
		}
		byte[] out = new byte[(int) f.fileSize];
		try (InputStream in = new FileStream(this, f)) {
			int n = in.readNBytes(out, 0, out.length);
			if (n != out.length) {
				throw where.in("inode", f.blockPos, f.offset, "file of " + f.fileSize + " bytes ends after " + n);
			}
		}
		return out;
	}

	/**
	 * Streams a regular file. The stream takes the reader's lock for each
	 * block it starts; close it to stop read-ahead.
	 *
	 * @param path absolute path of a regular file
	 * @return its content, block by block
	 * @throws NoSuchFileException if nothing is there
	 * @throws IOException if it is not a regular file, or on a corrupt image (also while reading)
	 */
	public synchronized InputStream open(String path) throws IOException {
		return new FileStream(this, regularFile(path));
	}

	/**
	 * The extended attributes of a path (not following a final symbolic link).
	 *
	 * @param path absolute, normalized path
	 * @return full names ({@code user.x}, {@code trusted.x}, {@code security.x}) to values, in stored order
	 * @throws NoSuchFileException if nothing is there
	 * @throws ImageException if the xattr tables are corrupt
	 */
	public synchronized Map<String, byte[]> xattrs(String path) throws IOException {
		Node n = resolve(path);
		if (n == null) {
			throw new NoSuchFileException(path, null, "not in squashfs in " + where.label());
		}
		return xattrs.xattrs(n);
	}

	/** Closes the reader (not the channel) and frees its decoders. */
	@Override
	public synchronized void close() {
		if (!closed) {
			closed = true;
			meta.clear();
			fragments.clear();
			paths.clear();
			pool.release(metaDecompressor);
			pool.close();
		}
	}

	/** For tests: where a path's inode lies, {absolute byte of its metadata block, offset in it}, or null. */
	synchronized long[] inodeLocation(String path) throws IOException {
		Node n = resolve(path);
		return n == null ? null : new long[] { n.blockPos + base, n.offset };
	}

	/** For tests: the inode type as stored, 1 to 14 (8 to 14 the extended forms), or 0 if nothing is there. */
	synchronized int inodeType(String path) throws IOException {
		Node n = resolve(path);
		return n == null ? 0 : n.type;
	}

	// ---- inodes

	/** A parsed inode; what the kind of inode does not have stays 0. */
	static final class Node {
		long ref;
		long blockPos;
		int offset;
		int type;
		int basicType;
		int mode;
		int uidIndex;
		int gidIndex;
		long mtime;
		long number;
		long nlink;
		long xattr = NO_XATTR;
		// directories
		long dirBlock;
		int dirOffset;
		long listingSize;
		long parent;
		int indexCount;
		long indexBlock;
		int indexOffset;
		// regular files
		long blocksStart;
		long fileSize;
		long fragment = NO_FRAGMENT;
		long fragmentOffset;
		long blockCount;
		long listBlock;
		int listOffset;
		// symbolic links and devices
		byte[] target;
		int rdev;
	}

	private void checkOptions(Compressor compressor, byte[] opts) throws ImageException {
		if (compressor == Compressor.LZ4) {
			if (opts.length < 8 || MetadataCursor.le32(opts, 0) != 1) {
				throw where.at("compressor options", Superblock.SIZE, "lz4 options are not version 1");
			}
		}
	}

	// ---- paths

	private Node regularFile(String path) throws IOException {
		Node f = resolve(path);
		if (f == null) {
			throw new NoSuchFileException(path, null, "not in squashfs in " + where.label());
		}
		if (f.basicType != 2) {
			throw new IOException("'" + path + "' in squashfs in " + where.label() + " is not a regular file ("
				+ Inode.Type.ofBasic(f.basicType).name().toLowerCase(java.util.Locale.ROOT) + ")");
		}
		return f;
	}

	private Node resolve(String path) throws IOException {
		ensureOpen();
		return paths.resolve(path);
	}

	// ---- data, for FileStream

	/** One data block of a file: where it lies and what it must decompress to. */
	record DataBlock(long index, long pos, long word, int expected) {
	}

	/** A decompressed fragment block. */
	record Fragment(byte[] data, int length) {
	}

	/** @return the cursor over a file's block sizes */
	MetadataCursor blockList(Node f) {
		return inodes.blockList(f);
	}

	/**
	 * Reads the size word of a file's next data block (under the lock: the
	 * block list is metadata) and checks where the block lies.
	 *
	 * @param nextPos where the block starts: the file's start plus the sizes before it
	 */
	synchronized DataBlock nextBlock(Node f, MetadataCursor sizes, long index, long nextPos) throws IOException {
		ensureOpen();
		return data.next(f, sizes, index, nextPos);
	}

	/**
	 * Decompresses one data block into {@code dst}; thread safe, runs outside the lock.
	 *
	 * @param scratch a buffer of at least the block size for the compressed bytes, or null
	 */
	void decode(DataBlock b, byte[] dst, byte[] scratch) throws IOException {
		data.decode(b, dst, scratch);
	}

	/** @return the executor for read-ahead, or null */
	Executor executor() {
		return executor;
	}

	int readAhead() {
		return readAhead;
	}

	int blockSize() {
		return sb.blockSize();
	}

	/** The decompressed fragment block holding a file's tail, checked to hold it; see {@link FragmentCache#fragment}. */
	Fragment fragment(Node f) throws IOException {
		return fragments.fragment(f);
	}

	/** Waits for a block being decompressed by another thread. */
	static <T> T await(Future<T> f) throws IOException {
		try {
			return f.get();
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new InterruptedIOException("interrupted while waiting for a squashfs block to be decompressed");
		} catch (CancellationException e) {
			throw new IOException("decompression of a squashfs block was cancelled", e);
		} catch (ExecutionException e) {
			Throwable c = e.getCause();
			if (c instanceof IOException io) {
				throw io;
			}
			if (c instanceof RuntimeException r) {
				throw r;
			}
			if (c instanceof Error err) {
				throw err;
			}
			throw new IOException(c);
		}
	}

	/** @throws IOException if the reader is closed; under the lock */
	void ensureOpen() throws IOException {
		if (closed) {
			throw new IOException("squashfs reader of " + where.label() + " is closed");
		}
	}
}
