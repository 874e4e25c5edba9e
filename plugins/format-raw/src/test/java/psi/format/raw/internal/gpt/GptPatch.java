package psi.format.raw.internal.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/** Hand edits of a GPT image, keeping the CRCs right unless asked not to: how tests make hostile tables. */
final class GptPatch implements AutoCloseable {
	final FileChannel ch;
	final int ss;

	GptPatch(Path img, int sectorSize) throws IOException {
		this.ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE);
		this.ss = sectorSize;
	}

	long lastLba() throws IOException {
		return ch.size() / ss - 1;
	}

	ByteBuffer read(long offset, int len) throws IOException {
		ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
		ch.read(b, offset);
		return b.clear();
	}

	void write(long offset, ByteBuffer b) throws IOException {
		ch.write(b.duplicate().clear(), offset);
	}

	ByteBuffer header(long lba) throws IOException {
		return read(lba * ss, ss);
	}

	/** Edits the header at {@code lba}; recomputes its CRC if asked. */
	void editHeader(long lba, Consumer<ByteBuffer> edit, boolean fixCrc) throws IOException {
		ByteBuffer h = header(lba);
		edit.accept(h);
		if (fixCrc) {
			fixHeaderCrc(h);
		}
		write(lba * ss, h);
	}

	static void fixHeaderCrc(ByteBuffer h) {
		int size = h.getInt(12);
		h.putInt(16, 0);
		byte[] b = new byte[Math.min(size, h.capacity())];
		h.get(0, b);
		h.putInt(16, GptTable.crc32(b, 0, b.length));
	}

	/** Edits entry {@code index} (0-based) in the arrays of both headers, fixing both entries CRCs and header CRCs. */
	void editEntry(int index, Consumer<ByteBuffer> edit) throws IOException {
		for (long lba : new long[] { 1, header(1).getLong(32) }) {
			ByteBuffer h = header(lba);
			long at = h.getLong(72) * ss + (long) index * h.getInt(84);
			ByteBuffer e = read(at, h.getInt(84));
			edit.accept(e);
			write(at, e);
			fixEntriesCrc(lba);
		}
	}

	/** Recomputes the entries CRC of the header at {@code lba} from the array it points to, and its header CRC. */
	void fixEntriesCrc(long lba) throws IOException {
		ByteBuffer h = header(lba);
		int len = h.getInt(80) * h.getInt(84);
		ByteBuffer arr = read(h.getLong(72) * ss, len);
		h.putInt(88, GptTable.crc32(arr.array(), 0, len));
		fixHeaderCrc(h);
		write(lba * ss, h);
	}

	@Override
	public void close() throws IOException {
		ch.close();
	}
}
