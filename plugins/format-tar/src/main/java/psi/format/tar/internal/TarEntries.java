package psi.format.tar.internal;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import psi.spi.format.ImageException;

/**
 * The entries of a tar archive, read once from the start with commons-compress
 * (which applies pax and GNU long-name headers and expands sparse files), with
 * bounds commons-compress lacks: the headers of one entry (pax records, long
 * names, sparse maps) take at most {@value #MAX_HEADER_BYTES} bytes and
 * {@value #MAX_HEADER_NESTING} extended headers; an archive that ends inside
 * a header or without its end-of-archive marker is truncated. Every failure
 * to read is an {@link ImageException} naming the archive and the entry.
 * <p>
 * Not thread safe: one reader.
 */
final class TarEntries implements Closeable {

	/** The most bytes the headers of one entry may take (its pax records, long names and sparse map). */
	static final int MAX_HEADER_BYTES = 16 << 20;
	/** The most extended headers (pax, global pax, GNU long name and link) before one entry. */
	static final int MAX_HEADER_NESTING = 8;

	private static final int HEADER = 512;
	private static final int MAGIC_OFFSET = 257;
	private static final int BUFFER = 64 * 1024;

	private final TarArchive archive;
	private final BoundedTarStream tar;
	private String current;

	private TarEntries(TarArchive archive, InputStream data) {
		this.archive = archive;
		this.tar = new BoundedTarStream(new HeaderBytes(data));
	}

	/**
	 * @param archive the archive
	 * @return its entries, positioned before the first
	 * @throws ImageException if its data is not a tar archive
	 * @throws IOException on an I/O error
	 */
	static TarEntries open(TarArchive archive) throws IOException {
		InputStream file = Files.newInputStream(archive.path(), LinkOption.NOFOLLOW_LINKS);
		try {
			InputStream data = new BufferedInputStream(archive.compression().decompress(new BufferedInputStream(file, BUFFER)), BUFFER);
			checkUstar(archive, data);
			return new TarEntries(archive, data);
		} catch (ImageException e) {
			file.close();
			throw e;
		} catch (IOException | RuntimeException e) {
			file.close();
			throw archive.refuse(null, "corrupt " + archive.compression().label() + " data: " + reason(e));
		}
	}

	/** The first header must be a ustar (POSIX or GNU) header: {@code ustar} at 257. */
	private static void checkUstar(TarArchive archive, InputStream data) throws IOException {
		data.mark(HEADER);
		byte[] h = data.readNBytes(HEADER);
		data.reset();
		String inside = archive.compression() == Compression.NONE ? "" : archive.compression().label() + " data, but ";
		if (h.length == HEADER && isZero(h)) {
			throw archive.refuse(null, inside + "an empty tar archive");
		}
		if (h.length < HEADER || !new String(h, MAGIC_OFFSET, 5, StandardCharsets.US_ASCII).equals("ustar")) {
			throw archive.refuse(null, inside + "not a tar archive (no ustar header)");
		}
	}

	private static boolean isZero(byte[] b) {
		for (byte x : b) {
			if (x != 0) {
				return false;
			}
		}
		return true;
	}

	/**
	 * @return the next entry, or {@code null} after the last
	 * @throws ImageException if the archive is corrupt or truncated
	 */
	TarArchiveEntry next() throws ImageException {
		TarArchiveEntry e;
		try {
			e = tar.getNextEntry();
		} catch (IOException | RuntimeException x) {
			throw archive.refuse(null, "corrupt or truncated " + where() + ": " + reason(x));
		}
		if (e == null) {
			return null;
		}
		current = e.getName();
		if (!e.isCheckSumOK()) {
			throw archive.refuse(current, "header checksum mismatch (corrupt archive)");
		}
		if (e.getSize() < 0 || e.getRealSize() < 0) {
			throw archive.refuse(current, "negative size");
		}
		if (e.isDirectory() && e.getSize() != 0) {
			// commons-compress would read the content as the next header
			throw archive.refuse(current, "a directory with content (corrupt archive)");
		}
		return e;
	}

	/** @return where the last entry read lies, for a message */
	private String where() {
		return current == null ? "at its first entry" : "after entry '" + TarArchive.printable(current) + "'";
	}

	/**
	 * Reads the content of the current entry.
	 *
	 * @param size its size, as its header says
	 * @return its bytes
	 * @throws ImageException if the archive ends or is corrupt before them
	 */
	byte[] read(int size) throws ImageException {
		byte[] b;
		try {
			b = tar.readNBytes(size);
		} catch (IOException | RuntimeException x) {
			throw archive.refuse(current, "corrupt or truncated: " + reason(x));
		}
		if (b.length != size) {
			throw archive.refuse(current, "truncated: " + b.length + " of " + size + " bytes");
		}
		return b;
	}

	/**
	 * Copies the content of the current entry.
	 *
	 * @param out where to
	 * @param size its size, as its header says
	 * @throws ImageException if the archive ends or is corrupt before {@code size} bytes
	 * @throws IOException if writing fails
	 */
	void copy(OutputStream out, long size) throws IOException {
		byte[] buf = new byte[BUFFER];
		long left = size;
		while (left > 0) {
			int n;
			try {
				n = tar.read(buf, 0, (int) Math.min(buf.length, left));
			} catch (IOException | RuntimeException x) {
				throw archive.refuse(current, "corrupt or truncated: " + reason(x));
			}
			if (n < 0) {
				throw archive.refuse(current, "truncated: " + (size - left) + " of " + size + " bytes");
			}
			out.write(buf, 0, n);
			left -= n;
		}
	}

	private static String reason(Throwable x) {
		return x.getMessage() == null ? x.getClass().getSimpleName() : x.getMessage();
	}

	@Override
	public void close() throws IOException {
		tar.close();
	}

	/** commons-compress's reader with the header bounds and the end-of-archive check. */
	private static final class BoundedTarStream extends TarArchiveInputStream {

		private final HeaderBytes source;
		private int depth;
		private boolean endSeen;
		private boolean cutShort;

		BoundedTarStream(HeaderBytes source) {
			super(source, StandardCharsets.UTF_8.name());
			this.source = source;
		}

		// commons-compress calls this again for the entry after an extended header
		@Override
		public TarArchiveEntry getNextEntry() throws IOException {
			if (depth >= MAX_HEADER_NESTING) {
				throw new IOException("more than " + MAX_HEADER_NESTING + " extended headers before one entry");
			}
			if (depth == 0) {
				// skip the rest of the entry before counting, so that the bound counts headers only
				if (getCurrentEntry() != null) {
					byte[] buf = new byte[BUFFER];
					while (read(buf, 0, buf.length) >= 0) {
						// skipping
					}
				}
				source.startHeaders();
			}
			depth++;
			try {
				TarArchiveEntry e = super.getNextEntry();
				if (depth == 1 && e == null && cutShort) {
					throw new IOException("the archive ends inside a header or without its end-of-archive marker");
				}
				return e;
			} finally {
				depth--;
				if (depth == 0) {
					source.endHeaders();
				}
			}
		}

		@Override
		protected byte[] readRecord() throws IOException {
			byte[] r = super.readRecord();
			if (r == null) {
				cutShort |= !endSeen;
			} else if (isEOFRecord(r)) {
				endSeen = true;
			}
			return r;
		}
	}

	/** The decompressed archive, counting the bytes read for headers against {@link #MAX_HEADER_BYTES}. */
	private static final class HeaderBytes extends FilterInputStream {

		private boolean inHeaders;
		private long count;

		HeaderBytes(InputStream in) {
			super(in);
		}

		void startHeaders() {
			inHeaders = true;
			count = 0;
		}

		void endHeaders() {
			inHeaders = false;
		}

		private void count(long n) throws IOException {
			if (inHeaders && n > 0) {
				count += n;
				if (count > MAX_HEADER_BYTES) {
					throw new IOException("the headers of one entry take more than " + (MAX_HEADER_BYTES >> 20) + " MiB");
				}
			}
		}

		@Override
		public int read() throws IOException {
			int b = in.read();
			if (b >= 0) {
				count(1);
			}
			return b;
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			int n = in.read(b, off, len);
			count(n);
			return n;
		}

		@Override
		public long skip(long n) throws IOException {
			long s = in.skip(n);
			count(s);
			return s;
		}

		@Override
		public boolean markSupported() {
			return false;
		}

		@Override
		public void mark(int limit) {
			// not supported
		}

		@Override
		public void reset() throws IOException {
			throw new IOException("mark/reset not supported");
		}
	}
}
