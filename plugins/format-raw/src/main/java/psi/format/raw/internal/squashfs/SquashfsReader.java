package psi.format.raw.internal.squashfs;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

import psi.format.raw.internal.squashfs.BlockDecompressor.BlockFormatException;
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

	/** The longest name a directory entry may have. */
	static final int MAX_NAME = 256;
	/** The longest symbolic link target accepted (Linux's PATH_MAX). */
	static final int MAX_SYMLINK = 4096;
	/** The most entries a directory header may count. */
	static final int MAX_HEADER_ENTRIES = 256;
	/** Linux's limits for one extended attribute. */
	static final int XATTR_NAME_MAX = 255;
	static final int XATTR_VALUE_MAX = 65536;
	/** The most xattr bytes (names and values) accepted for one inode. */
	static final long XATTRS_MAX = 8L << 20;
	/** The most xattrs accepted for one inode (Linux lists at most 64 KiB of names). */
	static final long XATTR_COUNT_MAX = 65536;
	/**
	 * The largest directory listing accepted: about two million entries. A
	 * limit of psi's, not of the format (whose u32 allows 4 GiB): metadata
	 * compresses so well that a small hostile image could otherwise make
	 * {@link #list} hold hundreds of millions of names.
	 */
	static final long LISTING_MAX = 64L << 20;
	private static final String[] XATTR_PREFIXES = { "user.", "trusted.", "security." };
	private static final long NO_FRAGMENT = 0xffffffffL;
	private static final long NO_XATTR = 0xffffffffL;
	private static final int CACHED_DIRECTORIES = 64;
	private static final long FRAGMENT_CACHE_BYTES = 4L << 20;
	private static final int DATA_STORED = 1 << 24;

	private final Superblock sb;
	private final Compressor compressor;
	private final Corruption where;
	private final long base;
	private final ImageBytes bytes;
	private final DecompressorPool pool;
	private final BlockDecompressor metaDecompressor;
	private final MetadataBlocks meta;
	private final Executor executor;
	private final int readAhead;
	private final MetadataTable inodes;
	private final MetadataTable directories;
	private final MetadataTable fragmentBlocks;
	private final long dataStart;
	private final long dataEnd;
	private final byte[] options;
	private final int[] ids;
	private final Node root;
	private final Map<Long, Fragment> fragments;
	private final Map<String, Located> dirs = new LinkedHashMap<>(CACHED_DIRECTORIES * 2, 0.75f, true) {
		private static final long serialVersionUID = 1L;

		@Override
		protected boolean removeEldestEntry(Map.Entry<String, Located> eldest) {
			return size() > CACHED_DIRECTORIES;
		}
	};
	private final Map<Long, CompletableFuture<Fragment>> fragmentsInFlight = new HashMap<>();
	private XattrTable xattrTable;
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
		this.bytes = new ImageBytes(channel, offset, available, where);
		byte[] raw = new byte[Superblock.SIZE];
		bytes.read(0, raw, 0, raw.length, "superblock");
		Superblock.Parsed parsed = Superblock.parse(ByteBuffer.wrap(raw), available, where);
		this.sb = parsed.superblock();
		this.compressor = parsed.compressor();
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
				checkOptions(opts);
			}
			this.options = opts;
			this.dataStart = start;
			this.dataEnd = sb.inodeTableStart();
			this.inodes = new MetadataTable("inode table", sb.inodeTableStart(), sb.directoryTableStart());
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
			this.directories = new MetadataTable("directory table", sb.directoryTableStart(), dirEnd);
			this.fragmentBlocks = new MetadataTable("fragment table", sb.directoryTableStart(), sb.fragmentTableStart());
			long slots = Math.max(2, FRAGMENT_CACHE_BYTES / sb.blockSize());
			this.fragments = new LinkedHashMap<>(16, 0.75f, true) {
				private static final long serialVersionUID = 1L;

				@Override
				protected boolean removeEldestEntry(Map.Entry<Long, Fragment> eldest) {
					return size() > slots;
				}
			};
			this.ids = readIds();
			this.root = readInode(sb.rootInode());
			if (root.basicType != 1) {
				throw where.in("root inode", root.blockPos, root.offset, "is of type " + root.type + ", not a directory");
			}
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
		return n == null ? Optional.empty() : Optional.of(inode(n));
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
		List<String> names = new ArrayList<>();
		scan(d, null, (name, len, ref, number, type, eb, eo) -> {
			names.add(new String(name, 0, len, StandardCharsets.UTF_8));
			return false;
		});
		return names;
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
		return xattrs(n);
	}

	/** Closes the reader (not the channel) and frees its decoders. */
	@Override
	public synchronized void close() {
		if (!closed) {
			closed = true;
			meta.clear();
			fragments.clear();
			dirs.clear();
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

	private Node readInode(long ref) throws IOException {
		long blk = ref >>> 16;
		int off = (int) (ref & 0xffff);
		if (blk >= inodes.end() - inodes.start() || off >= Superblock.METADATA_SIZE) {
			throw where.of("inode reference 0x" + Long.toHexString(ref) + " lies outside the inode table (bytes " + inodes.start() + " to "
				+ inodes.end() + ")");
		}
		Node n = new Node();
		n.ref = ref;
		n.blockPos = inodes.start() + blk;
		n.offset = off;
		MetadataCursor c = new MetadataCursor(meta, inodes, where, n.blockPos, off);
		n.type = c.u16();
		n.mode = c.u16() & 07777;
		n.uidIndex = c.u16();
		n.gidIndex = c.u16();
		n.mtime = c.u32();
		n.number = c.u32();
		if (n.type < 1 || n.type > 14) {
			throw c.error("inode", n.blockPos, off, "type " + n.type + " is unknown (1 to 14)");
		}
		n.basicType = n.type > 7 ? n.type - 7 : n.type;
		if (n.number < 1 || n.number > sb.inodeCount()) {
			throw c.error("inode", n.blockPos, off, "inode number " + n.number + " is outside 1 to the inode count " + sb.inodeCount());
		}
		if (n.uidIndex >= ids.length || n.gidIndex >= ids.length) {
			throw c.error("inode", n.blockPos, off, "uid/gid index " + n.uidIndex + "/" + n.gidIndex + " is beyond the " + ids.length
				+ " ids of the id table");
		}
		boolean extended = n.type > 7;
		switch (n.basicType) {
			case 1 -> {
				if (!extended) {
					n.dirBlock = c.u32();
					n.nlink = c.u32();
					n.listingSize = c.u16() - 3L;
					n.dirOffset = c.u16();
					n.parent = c.u32();
				} else {
					n.nlink = c.u32();
					n.listingSize = c.u32() - 3L;
					n.dirBlock = c.u32();
					n.parent = c.u32();
					n.indexCount = c.u16();
					n.dirOffset = c.u16();
					n.xattr = c.u32();
					n.indexBlock = c.blockPos();
					n.indexOffset = c.offset();
				}
				if (n.listingSize < 0) {
					throw c.error("directory inode", n.blockPos, off, "size " + (n.listingSize + 3) + " is less than 3");
				}
				if (n.listingSize > LISTING_MAX) {
					throw c.error("directory inode", n.blockPos, off, "listing of " + n.listingSize + " bytes exceeds the " + LISTING_MAX
						+ " psi accepts");
				}
				if (n.listingSize > 0 && (n.dirBlock >= directories.end() - directories.start() || n.dirOffset >= Superblock.METADATA_SIZE)) {
					throw c.error("directory inode", n.blockPos, off, "listing at block " + n.dirBlock + ", offset " + n.dirOffset
						+ " lies outside the directory table");
				}
				// each index entry marks a metadata block the listing crosses into, and holds at least 13 bytes
				if (n.indexCount > n.listingSize / 13 + 1) {
					throw c.error("directory inode", n.blockPos, off, "index count " + n.indexCount + " is too large for a listing of "
						+ n.listingSize + " bytes");
				}
			}
			case 2 -> {
				if (!extended) {
					n.blocksStart = c.u32();
					n.fragment = c.u32();
					n.fragmentOffset = c.u32();
					n.fileSize = c.u32();
					n.nlink = 1;
				} else {
					n.blocksStart = c.u64();
					n.fileSize = c.u64();
					c.u64(); // sparse bytes
					n.nlink = c.u32();
					n.fragment = c.u32();
					n.fragmentOffset = c.u32();
					n.xattr = c.u32();
				}
				if (n.fileSize < 0) {
					throw c.error("file inode", n.blockPos, off, "size " + Long.toUnsignedString(n.fileSize) + " is out of range");
				}
				int log = sb.blockLog();
				if (n.fragment != NO_FRAGMENT) {
					if (n.fragment >= sb.fragmentCount()) {
						throw c.error("file inode", n.blockPos, off, "fragment " + n.fragment + " is beyond the " + sb.fragmentCount()
							+ " fragments of the fragment table");
					}
					long tail = n.fileSize & (sb.blockSize() - 1);
					if (n.fragmentOffset + tail > sb.blockSize()) {
						throw c.error("file inode", n.blockPos, off, "tail of " + tail + " bytes at fragment offset " + n.fragmentOffset
							+ " exceeds the block size " + sb.blockSize());
					}
					n.blockCount = n.fileSize >>> log;
				} else {
					n.blockCount = (n.fileSize >>> log) + ((n.fileSize & (sb.blockSize() - 1)) != 0 ? 1 : 0);
				}
				if (n.blockCount > 0 && (n.blocksStart < dataStart || n.blocksStart > dataEnd)) {
					throw c.error("file inode", n.blockPos, off, "data blocks at byte " + Long.toUnsignedString(n.blocksStart)
						+ " lie outside the data area (bytes " + dataStart + " to " + dataEnd + ")");
				}
				n.listBlock = c.blockPos();
				n.listOffset = c.offset();
			}
			case 3 -> {
				n.nlink = c.u32();
				long size = c.u32();
				if (size < 1 || size > MAX_SYMLINK) {
					throw c.error("symlink inode", n.blockPos, off, "target of " + size + " bytes is not 1 to " + MAX_SYMLINK + " bytes long");
				}
				n.target = c.bytes((int) size);
				for (byte x : n.target) {
					if (x == 0) {
						throw c.error("symlink inode", n.blockPos, off, "target contains a NUL byte");
					}
				}
				if (extended) {
					n.xattr = c.u32();
				}
			}
			case 4, 5 -> {
				n.nlink = c.u32();
				n.rdev = (int) c.u32();
				if (extended) {
					n.xattr = c.u32();
				}
			}
			default -> {
				n.nlink = c.u32();
				if (extended) {
					n.xattr = c.u32();
				}
			}
		}
		return n;
	}

	private Inode inode(Node n) {
		Inode.Type t = Inode.Type.ofBasic(n.basicType);
		String target = n.target == null ? null : new String(n.target, StandardCharsets.UTF_8);
		long size = switch (t) {
			case FILE -> n.fileSize;
			case SYMLINK -> n.target.length;
			default -> 0;
		};
		return new Inode(t, n.mode, size, target, ids[n.uidIndex], ids[n.gidIndex], n.mtime, n.number, n.nlink, n.rdev, n.xattr != NO_XATTR);
	}

	private int[] readIds() throws IOException {
		MetadataTable table = new MetadataTable("id table", sb.directoryTableStart(), sb.idTableStart());
		int[] out = new int[sb.idCount()];
		int perBlock = Superblock.IDS_PER_BLOCK;
		for (int i = 0; i * perBlock < out.length; i++) {
			long blockPos = bytes.u64(sb.idTableStart() + 8L * i, "id table index");
			MetadataCursor c = new MetadataCursor(meta, table, where, blockPos, 0);
			for (int j = i * perBlock; j < Math.min(out.length, (i + 1) * perBlock); j++) {
				out[j] = (int) c.u32();
			}
		}
		return out;
	}

	private void checkOptions(byte[] opts) throws ImageException {
		if (compressor == Compressor.LZ4) {
			if (opts.length < 8 || MetadataCursor.le32(opts, 0) != 1) {
				throw where.at("compressor options", Superblock.SIZE, "lz4 options are not version 1");
			}
		}
	}

	// ---- directories and paths

	/** A resolved directory and the directories above it, for loop checks. */
	private record Located(Node node, long[] refs, long[] numbers) {
	}

	@FunctionalInterface
	private interface EntryVisitor {
		/** @return true to stop */
		boolean visit(byte[] name, int nameLen, long ref, long number, int type, long blockPos, int offset) throws IOException;
	}

	/** What a lookup found: the entry's inode and where the entry lies. */
	private record Hit(long ref, int type, long blockPos, int offset) {
	}

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
		List<byte[]> parts = components(path);
		Node cur = root;
		long[] refs = { root.ref };
		long[] numbers = { root.number };
		int from = 0;
		if (parts.size() > 1) {
			Located hit = dirs.get(prefix(parts, parts.size() - 1));
			if (hit != null) {
				cur = hit.node;
				refs = hit.refs;
				numbers = hit.numbers;
				from = parts.size() - 1;
			}
		}
		for (int i = from; i < parts.size(); i++) {
			if (cur.basicType != 1) {
				return null;
			}
			byte[] name = parts.get(i);
			Hit e = lookup(cur, name);
			if (e == null) {
				return null;
			}
			Node child = readInode(e.ref);
			int entryBasic = e.type > 7 ? e.type - 7 : e.type;
			if (entryBasic != child.basicType) {
				throw where.in("directory entry '" + printable(name) + "'", e.blockPos, e.offset, "says type " + e.type
					+ " but its inode (number " + child.number + ") is of type " + child.type);
			}
			if (child.basicType == 1) {
				for (int k = 0; k < refs.length; k++) {
					if (refs[k] == child.ref || numbers[k] == child.number) {
						throw where.in("directory entry '" + printable(name) + "'", e.blockPos, e.offset, "refers to directory inode "
							+ child.number + ", which contains it: a directory loop");
					}
				}
				refs = Arrays.copyOf(refs, refs.length + 1);
				refs[refs.length - 1] = child.ref;
				numbers = Arrays.copyOf(numbers, numbers.length + 1);
				numbers[numbers.length - 1] = child.number;
				dirs.put(prefix(parts, i + 1), new Located(child, refs, numbers));
			}
			cur = child;
		}
		return cur;
	}

	private static List<byte[]> components(String path) {
		if (!path.startsWith("/")) {
			throw new IllegalArgumentException("not an absolute path: " + path);
		}
		List<byte[]> parts = new ArrayList<>();
		for (String s : path.split("/")) {
			if (s.isEmpty()) {
				continue;
			}
			if (s.equals(".") || s.equals("..")) {
				throw new IllegalArgumentException("not a normalized path: " + path);
			}
			parts.add(s.getBytes(StandardCharsets.UTF_8));
		}
		return parts;
	}

	private static String prefix(List<byte[]> parts, int n) {
		StringBuilder b = new StringBuilder();
		for (int i = 0; i < n; i++) {
			b.append('/').append(new String(parts.get(i), StandardCharsets.UTF_8));
		}
		return b.toString();
	}

	/** Finds a name in a directory, starting from the directory index when there is one. */
	private Hit lookup(Node dir, byte[] name) throws IOException {
		Hit[] found = new Hit[1];
		scan(dir, name, (n, len, ref, number, type, eb, eo) -> {
			int cmp = Arrays.compareUnsigned(n, 0, len, name, 0, name.length);
			if (cmp == 0) {
				found[0] = new Hit(ref, type, eb, eo);
			}
			// names are sorted: past the name, it is not there
			return cmp >= 0;
		});
		return found[0];
	}

	/**
	 * Visits the entries of a directory listing: headers (count - 1, inode
	 * block, base inode number) each followed by up to 256 entries. With a
	 * target name and a directory index, starts at the last indexed header
	 * whose first name is not after the target.
	 */
	private void scan(Node dir, byte[] target, EntryVisitor v) throws IOException {
		long block = directories.start() + dir.dirBlock;
		int off = dir.dirOffset;
		long consumed = 0;
		if (target != null && dir.indexCount > 0) {
			MetadataCursor ic = new MetadataCursor(meta, inodes, where, dir.indexBlock, dir.indexOffset);
			byte[] nameBuf = new byte[MAX_NAME];
			for (int i = 0; i < dir.indexCount; i++) {
				long ib = ic.blockPos();
				int io = ic.offset();
				long index = ic.u32();
				long start = ic.u32();
				long size = ic.u32() + 1;
				if (size > MAX_NAME) {
					throw ic.error("directory index entry", ib, io, "name of " + size + " bytes exceeds " + MAX_NAME);
				}
				ic.read(nameBuf, 0, (int) size);
				if (Arrays.compareUnsigned(nameBuf, 0, (int) size, target, 0, target.length) > 0) {
					break;
				}
				if (index < consumed || index > dir.listingSize) {
					throw ic.error("directory index entry", ib, io, "listing offset " + index + " is not ascending within the listing's "
						+ dir.listingSize + " bytes");
				}
				if (start >= directories.end() - directories.start()) {
					throw ic.error("directory index entry", ib, io, "block " + start + " lies outside the directory table");
				}
				block = directories.start() + start;
				off = (int) ((index + dir.dirOffset) % Superblock.METADATA_SIZE);
				consumed = index;
			}
		}
		long remaining = dir.listingSize - consumed;
		if (remaining == 0) {
			return;
		}
		MetadataCursor c = new MetadataCursor(meta, directories, where, block, off);
		byte[] name = new byte[MAX_NAME];
		long inodeTableSize = inodes.end() - inodes.start();
		while (remaining > 0) {
			long hb = c.blockPos();
			int ho = c.offset();
			if (remaining < 12) {
				throw c.error("directory header", hb, ho, "the listing ends " + remaining + " bytes into it");
			}
			long count = c.u32() + 1;
			long start = c.u32();
			long firstNumber = c.u32();
			remaining -= 12;
			if (count > MAX_HEADER_ENTRIES) {
				throw c.error("directory header", hb, ho, "entry count " + count + " exceeds " + MAX_HEADER_ENTRIES);
			}
			if (start >= inodeTableSize) {
				throw c.error("directory header", hb, ho, "inode block " + start + " lies outside the inode table of " + inodeTableSize
					+ " bytes");
			}
			for (long i = 0; i < count; i++) {
				long eb = c.blockPos();
				int eo = c.offset();
				if (remaining < 8) {
					throw c.error("directory entry", eb, eo, "the listing ends " + remaining + " bytes into it");
				}
				int offset = c.u16();
				int delta = (short) c.u16();
				int type = c.u16();
				int size = c.u16() + 1;
				if (size > MAX_NAME) {
					throw c.error("directory entry", eb, eo, "name of " + size + " bytes exceeds " + MAX_NAME);
				}
				if (remaining < 8 + size) {
					throw c.error("directory entry", eb, eo, "the listing ends inside it");
				}
				remaining -= 8 + size;
				c.read(name, 0, size);
				checkName(c, eb, eo, name, size);
				if (offset >= Superblock.METADATA_SIZE) {
					throw c.error("directory entry", eb, eo, "inode offset " + offset + " lies beyond a metadata block");
				}
				long number = firstNumber + delta;
				if (number < 1 || number > sb.inodeCount()) {
					throw c.error("directory entry", eb, eo, "inode number " + number + " is outside 1 to the inode count " + sb.inodeCount());
				}
				if (type < 1 || type > 14) {
					throw c.error("directory entry", eb, eo, "type " + type + " is unknown (1 to 14)");
				}
				if (v.visit(name, size, start << 16 | offset, number, type, eb, eo)) {
					return;
				}
			}
		}
	}

	private static void checkName(MetadataCursor c, long eb, int eo, byte[] name, int len) throws ImageException {
		if (len == 1 && name[0] == '.' || len == 2 && name[0] == '.' && name[1] == '.') {
			throw c.error("directory entry", eb, eo, "name '" + new String(name, 0, len, StandardCharsets.UTF_8) + "' is reserved");
		}
		for (int i = 0; i < len; i++) {
			if (name[i] == '/' || name[i] == 0) {
				throw c.error("directory entry", eb, eo, "name contains a '/' or NUL byte");
			}
		}
	}

	private static String printable(byte[] name) {
		String s = new String(name, StandardCharsets.UTF_8);
		StringBuilder b = new StringBuilder();
		s.codePoints().forEach(cp -> b.append(Character.isISOControl(cp) ? '?' : (char) cp));
		return b.toString();
	}

	// ---- data

	/** One data block of a file: where it lies and what it must decompress to. */
	record DataBlock(long index, long pos, long word, int expected) {
	}

	/** A decompressed fragment block. */
	record Fragment(byte[] data, int length) {
	}

	/** @return the cursor over a file's block sizes */
	MetadataCursor blockList(Node f) {
		return new MetadataCursor(meta, inodes, where, f.listBlock, f.listOffset);
	}

	/**
	 * Reads the size word of a file's next data block (under the lock: the
	 * block list is metadata) and checks where the block lies.
	 *
	 * @param nextPos where the block starts: the file's start plus the sizes before it
	 */
	synchronized DataBlock nextBlock(Node f, MetadataCursor sizes, long index, long nextPos) throws IOException {
		ensureOpen();
		long wb = sizes.blockPos();
		int wo = sizes.offset();
		long word = sizes.u32();
		long disk = word & ~(long) DATA_STORED;
		int expected = (int) Math.min(sb.blockSize(), f.fileSize - index * sb.blockSize());
		if (disk > sb.blockSize()) {
			throw sizes.error("block size word " + index + " of inode " + f.number, wb, wo, "data block at byte " + (base + nextPos)
				+ " claims " + disk + " bytes, more than the block size " + sb.blockSize());
		}
		if (disk > 0 && (nextPos < dataStart || nextPos > dataEnd - disk)) {
			throw sizes.error("block size word " + index + " of inode " + f.number, wb, wo, "data block at byte " + (base + nextPos)
				+ " of " + disk + " bytes lies outside the data area (bytes " + (base + dataStart) + " to " + (base + dataEnd) + ")");
		}
		return new DataBlock(index, nextPos, word, expected);
	}

	/**
	 * Decompresses one data block into {@code dst}; thread safe, runs outside the lock.
	 *
	 * @param scratch a buffer of at least the block size for the compressed bytes, or null
	 */
	void decode(DataBlock b, byte[] dst, byte[] scratch) throws IOException {
		int disk = (int) (b.word & ~(long) DATA_STORED);
		if (disk == 0) {
			Arrays.fill(dst, 0, b.expected, (byte) 0); // a sparse block
			return;
		}
		if ((b.word & DATA_STORED) != 0) {
			if (disk != b.expected) {
				throw where.at("data block", b.pos, "stored block holds " + disk + " bytes where the file needs " + b.expected);
			}
			bytes.read(b.pos, dst, 0, disk, "data block");
			return;
		}
		byte[] src = scratch != null && scratch.length >= disk ? scratch : new byte[disk];
		bytes.read(b.pos, src, 0, disk, "data block");
		BlockDecompressor d = pool.borrow();
		int n;
		try {
			n = d.decompress(src, 0, disk, dst, 0, b.expected);
		} catch (BlockFormatException e) {
			throw where.at("data block", b.pos, e.overflow() ? "decompresses to more than the " + b.expected + " bytes the file needs"
				: "does not decompress (" + e.getMessage() + ")");
		} finally {
			pool.release(d);
		}
		if (n != b.expected) {
			throw where.at("data block", b.pos, "decompresses to " + n + " bytes where the file needs " + b.expected);
		}
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

	/** Where a fragment block lies, from its fragment table entry. */
	private record FragmentEntry(long index, long start, long word) {
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
		synchronized (this) {
			ensureOpen();
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
			frag = await(theirs);
		} else if (mine != null) {
			frag = decodeFragment(mine, entry);
		}
		long tail = f.fileSize & (sb.blockSize() - 1);
		if (f.fragmentOffset + tail > frag.length) {
			throw where.in("file inode", f.blockPos, f.offset, "tail of " + tail + " bytes at offset " + f.fragmentOffset
				+ " lies beyond the " + frag.length + " bytes of fragment " + f.fragment);
		}
		return frag;
	}

	/** Decompresses a fragment block outside the lock, caches it, and hands it to whoever waits. */
	private Fragment decodeFragment(CompletableFuture<Fragment> result, FragmentEntry entry) throws IOException {
		try {
			Fragment frag = readFragment(entry);
			synchronized (this) {
				fragments.put(entry.index, frag);
				fragmentsInFlight.remove(entry.index);
			}
			result.complete(frag);
			return frag;
		} catch (IOException | RuntimeException | Error e) {
			synchronized (this) {
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

	// ---- xattrs

	/** The xattr id table's header: where the key/value table starts and how many ids there are. */
	private record XattrTable(long kvStart, long count, MetadataTable kv) {
	}

	private XattrTable xattrTable() throws IOException {
		if (xattrTable == null) {
			long pos = sb.xattrIdTableStart();
			long kvStart = bytes.u64(pos, "xattr id table");
			byte[] b = new byte[8];
			bytes.read(pos + 8, b, 0, 8, "xattr id table");
			long count = Integer.toUnsignedLong(MetadataCursor.le32(b, 0));
			if (kvStart < sb.directoryTableStart() || kvStart >= pos) {
				throw where.at("xattr id table", pos, "key/value table start " + Long.toUnsignedString(kvStart)
					+ " does not lie between the directory table and the xattr id table");
			}
			long indexBytes = Superblock.ceilDiv(count * 16, Superblock.METADATA_SIZE) * 8;
			if (indexBytes > sb.bytesUsed() - pos - 16) {
				throw where.at("xattr id table", pos, count + " ids need an index of " + indexBytes + " bytes, beyond the file system's end");
			}
			xattrTable = new XattrTable(kvStart, count, new MetadataTable("xattr table", kvStart, pos));
		}
		return xattrTable;
	}

	private Map<String, byte[]> xattrs(Node n) throws IOException {
		if (n.xattr == NO_XATTR) {
			return Map.of();
		}
		if (!sb.hasXattrs()) {
			throw where.in("inode", n.blockPos, n.offset, "names xattr id " + n.xattr + " but the file system has no xattr table");
		}
		XattrTable t = xattrTable();
		if (n.xattr >= t.count) {
			throw where.in("inode", n.blockPos, n.offset, "xattr id " + n.xattr + " is beyond the " + t.count + " ids of the xattr id table");
		}
		long idPos = n.xattr * 16;
		long blockPos = bytes.u64(sb.xattrIdTableStart() + 16 + 8 * (idPos / Superblock.METADATA_SIZE), "xattr id table index");
		MetadataCursor ids = new MetadataCursor(meta, t.kv, where, blockPos, (int) (idPos % Superblock.METADATA_SIZE));
		long ib = ids.blockPos();
		int io = ids.offset();
		long ref = ids.u64();
		long count = ids.u32();
		ids.u32(); // total size, for listxattr
		if (count > XATTR_COUNT_MAX) {
			throw ids.error("xattr id " + n.xattr, ib, io, "count " + count + " exceeds " + XATTR_COUNT_MAX);
		}
		if (ref >>> 16 >= t.kv.end() - t.kv.start() || (ref & 0xffff) >= Superblock.METADATA_SIZE) {
			throw ids.error("xattr id " + n.xattr, ib, io, "reference 0x" + Long.toHexString(ref) + " lies outside the xattr table");
		}
		MetadataCursor c = new MetadataCursor(meta, t.kv, where, t.kvStart + (ref >>> 16), (int) (ref & 0xffff));
		Map<String, byte[]> out = new LinkedHashMap<>();
		long total = 0;
		byte[] nameBuf = new byte[XATTR_NAME_MAX];
		for (long i = 0; i < count; i++) {
			long kb = c.blockPos();
			int ko = c.offset();
			int type = c.u16();
			int nameSize = c.u16();
			int prefix = type & 0xff;
			if ((type & ~0x1ff) != 0 || prefix >= XATTR_PREFIXES.length) {
				throw c.error("xattr key", kb, ko, "type 0x" + Integer.toHexString(type) + " is unknown (user, trusted, security)");
			}
			if (nameSize < 1 || nameSize + XATTR_PREFIXES[prefix].length() > XATTR_NAME_MAX) {
				throw c.error("xattr key", kb, ko, "name of " + nameSize + " bytes is not 1 to " + XATTR_NAME_MAX + " bytes with its prefix");
			}
			c.read(nameBuf, 0, nameSize);
			String name = XATTR_PREFIXES[prefix] + new String(nameBuf, 0, nameSize, StandardCharsets.UTF_8);
			long vb = c.blockPos();
			int vo = c.offset();
			long vsize = c.u32();
			byte[] value;
			if ((type & 0x100) != 0) {
				// the value is stored once elsewhere; here is its reference
				if (vsize != 8) {
					throw c.error("xattr value of '" + name + "'", vb, vo, "out-of-line reference of " + vsize + " bytes, not 8");
				}
				long vref = c.u64();
				if (vref >>> 16 >= t.kv.end() - t.kv.start() || (vref & 0xffff) >= Superblock.METADATA_SIZE) {
					throw c.error("xattr value of '" + name + "'", vb, vo, "reference 0x" + Long.toHexString(vref) + " lies outside the xattr table");
				}
				MetadataCursor vc = new MetadataCursor(meta, t.kv, where, t.kvStart + (vref >>> 16), (int) (vref & 0xffff));
				long ob = vc.blockPos();
				int oo = vc.offset();
				long size = vc.u32();
				if (size > XATTR_VALUE_MAX) {
					throw vc.error("xattr value of '" + name + "'", ob, oo, size + " bytes exceed " + XATTR_VALUE_MAX);
				}
				value = vc.bytes((int) size);
			} else {
				if (vsize > XATTR_VALUE_MAX) {
					throw c.error("xattr value of '" + name + "'", vb, vo, vsize + " bytes exceed " + XATTR_VALUE_MAX);
				}
				value = c.bytes((int) vsize);
			}
			total += nameSize + value.length;
			if (total > XATTRS_MAX) {
				throw where.in("inode", n.blockPos, n.offset, "xattrs exceed " + XATTRS_MAX + " bytes");
			}
			out.put(name, value);
		}
		return out;
	}

	private void ensureOpen() throws IOException {
		if (closed) {
			throw new IOException("squashfs reader of " + where.label() + " is closed");
		}
	}
}
