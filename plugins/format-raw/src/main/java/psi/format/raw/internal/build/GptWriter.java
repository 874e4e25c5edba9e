package psi.format.raw.internal.build;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import psi.format.raw.internal.gpt.GptTable;

/**
 * Writes a GUID partition table with 512-byte sectors as libfdisk (through
 * systemd-repart) writes a new one: a protective MBR whose one partition
 * covers the disk (capped at 2^32 - 1 sectors), the primary header at LBA 1
 * and its 128 entries of 128 bytes at LBA 2, the backup entries 32 sectors
 * before the last and the backup header on the last sector; the first usable
 * LBA is 2048 (1 MiB, libfdisk's alignment for a new label), the last usable
 * the one before the backup entries.
 */
final class GptWriter {

	static final int SECTOR = 512;
	static final int ENTRIES = 128;
	static final int ENTRY_SIZE = 128;
	static final long FIRST_USABLE = 2048;
	/** Sectors the entry array takes. */
	static final int ENTRY_SECTORS = ENTRIES * ENTRY_SIZE / SECTOR;
	private static final int HEADER_SIZE = 92;
	private static final int NAME_CHARS = 36;

	/**
	 * A partition entry.
	 *
	 * @param type type GUID
	 * @param uuid unique GUID
	 * @param firstLba first sector
	 * @param lastLba last sector, inclusive
	 * @param attributes attribute bits
	 * @param name label, at most 36 UTF-16 code units
	 */
	record Entry(UUID type, UUID uuid, long firstLba, long lastLba, long attributes, String name) {
		Entry {
			if (name.length() > NAME_CHARS) {
				throw new IllegalArgumentException("partition name '" + name + "' is longer than " + NAME_CHARS);
			}
		}
	}

	private GptWriter() {
	}

	/** @return the last usable LBA of a disk of {@code sectors} sectors */
	static long lastUsable(long sectors) {
		return sectors - 2 - ENTRY_SECTORS;
	}

	/**
	 * Writes the MBR, both headers and both entry arrays of a disk of
	 * {@code sectors} sectors; the partitions must lie within the usable range.
	 */
	static void write(FileChannel ch, long sectors, UUID disk, List<Entry> partitions) throws IOException {
		if (partitions.size() > ENTRIES) {
			throw new IllegalArgumentException(partitions.size() + " partitions");
		}
		long last = sectors - 1;
		long lastUsable = lastUsable(sectors);
		for (Entry e : partitions) {
			if (e.firstLba() < FIRST_USABLE || e.lastLba() > lastUsable || e.firstLba() > e.lastLba()) {
				throw new IllegalArgumentException("partition at LBA " + e.firstLba() + ".." + e.lastLba() + " outside LBA "
					+ FIRST_USABLE + ".." + lastUsable);
			}
		}
		byte[] entries = entries(partitions);
		int entriesCrc = GptTable.crc32(entries, 0, entries.length);
		writeFully(ch, protectiveMbr(sectors), 0);
		writeFully(ch, ByteBuffer.wrap(entries), 2 * SECTOR);
		writeFully(ch, header(1, last, lastUsable, disk, 2, entriesCrc), SECTOR);
		long backupEntries = last - ENTRY_SECTORS;
		writeFully(ch, ByteBuffer.wrap(entries), backupEntries * SECTOR);
		writeFully(ch, header(last, 1, lastUsable, disk, backupEntries, entriesCrc), last * SECTOR);
	}

	private static ByteBuffer protectiveMbr(long sectors) {
		ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
		int p = 446;
		// status 0, CHS of LBA 1 (0/0/2), type 0xEE, CHS end "beyond" (ff ff ff), LBA 1, sectors covered
		b.put(p + 1, (byte) 0x00).put(p + 2, (byte) 0x02).put(p + 3, (byte) 0x00);
		b.put(p + 4, (byte) 0xee);
		b.put(p + 5, (byte) 0xff).put(p + 6, (byte) 0xff).put(p + 7, (byte) 0xff);
		b.putInt(p + 8, 1);
		b.putInt(p + 12, (int) Math.min(sectors - 1, 0xffffffffL));
		b.put(510, (byte) 0x55).put(511, (byte) 0xaa);
		return b;
	}

	private static ByteBuffer header(long my, long alternate, long lastUsable, UUID disk, long entriesLba, int entriesCrc) {
		ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
		b.put(0, "EFI PART".getBytes(StandardCharsets.US_ASCII));
		b.putInt(8, 0x00010000);
		b.putInt(12, HEADER_SIZE);
		b.putLong(24, my);
		b.putLong(32, alternate);
		b.putLong(40, FIRST_USABLE);
		b.putLong(48, lastUsable);
		GptTable.putGuid(b, 56, disk);
		b.putLong(72, entriesLba);
		b.putInt(80, ENTRIES);
		b.putInt(84, ENTRY_SIZE);
		b.putInt(88, entriesCrc);
		b.putInt(16, GptTable.crc32(b.array(), 0, HEADER_SIZE));
		return b;
	}

	private static byte[] entries(List<Entry> partitions) {
		ByteBuffer b = ByteBuffer.allocate(ENTRIES * ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
		int o = 0;
		for (Entry e : partitions) {
			GptTable.putGuid(b, o, e.type());
			GptTable.putGuid(b, o + 16, e.uuid());
			b.putLong(o + 32, e.firstLba());
			b.putLong(o + 40, e.lastLba());
			b.putLong(o + 48, e.attributes());
			b.put(o + 56, e.name().getBytes(StandardCharsets.UTF_16LE));
			o += ENTRY_SIZE;
		}
		return b.array();
	}

	static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
		b.rewind();
		long pos = at;
		while (b.hasRemaining()) {
			pos += ch.write(b, pos);
		}
	}
}
