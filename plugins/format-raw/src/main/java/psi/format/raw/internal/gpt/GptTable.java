package psi.format.raw.internal.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.CRC32;

import psi.spi.format.ImageException;

/**
 * The GUID partition table of an image file (UEFI 2.x, chapter 5), read with
 * every check a hostile image calls for: protective MBR, header signature,
 * revision, size and CRC32, the entry array's size, place and CRC32, the
 * usable range, and partitions that stay inside it without overlapping each
 * other or the entry array. A damaged primary header or entry array falls
 * back to the backup at the end of the disk, and {@link #warning()} says why.
 * Sector sizes of 512 and 4096 bytes are probed, as systemd does.
 * <p>
 * Immutable and thread-safe once read.
 */
public final class GptTable {

	static final int HEADER_MIN_SIZE = 92;
	static final int REVISION_1_0 = 0x00010000;
	/** Bounds what a hostile header may make us read: at most 1024 × 4096 bytes of entries. */
	static final int MAX_ENTRIES = 1024;
	static final int MAX_ENTRY_SIZE = 4096;
	static final int ENTRY_MIN_SIZE = 128;
	private static final byte[] SIGNATURE = "EFI PART".getBytes(StandardCharsets.US_ASCII);
	private static final int[] SECTOR_SIZES = { 512, 4096 };

	private final String label;
	private final int sectorSize;
	private final long headerLba;
	private final UUID diskGuid;
	private final long firstUsableLba;
	private final long lastUsableLba;
	private final List<Partition> partitions;
	private final Optional<String> warning;

	private GptTable(String label, Header h, List<Partition> partitions, Optional<String> warning) {
		this.label = label;
		this.sectorSize = h.sectorSize;
		this.headerLba = h.myLba;
		this.diskGuid = h.diskGuid;
		this.firstUsableLba = h.firstUsable;
		this.lastUsableLba = h.lastUsable;
		this.partitions = List.copyOf(partitions);
		this.warning = warning;
	}

	/**
	 * Reads the partition table of an image file.
	 *
	 * @param ch the image, read with positional reads only (the channel's
	 *        position is not touched)
	 * @param fileSize the image's size in bytes
	 * @param label names the image in messages, e.g. {@code image '/x.raw'}
	 * @return the table, or empty if the file has no GPT at all (no protective
	 *         MBR and no "EFI PART" header at 512 or 4096 bytes, nor a backup
	 *         header at the end), so the caller can try a naked file system
	 * @throws ImageException (one line naming the structure and its byte
	 *         offset) if a GPT is present but bad
	 * @throws IOException if the file cannot be read
	 */
	public static Optional<GptTable> read(FileChannel ch, long fileSize, String label) throws IOException {
		boolean pmbr = hasProtectiveMbr(ch, fileSize);
		List<Integer> present = new ArrayList<>();
		for (int ss : SECTOR_SIZES) {
			if (signatureAt(ch, fileSize, ss) || fileSize >= 2L * ss && signatureAt(ch, fileSize, (fileSize / ss - 1) * ss)) {
				present.add(ss);
			}
		}
		if (present.isEmpty()) {
			if (pmbr) {
				throw new ImageException(label + ": protective MBR (type 0xEE) at byte 446 but no GPT header"
					+ " (\"EFI PART\") at byte 512 or 4096, nor a backup header at the end of the file");
			}
			return Optional.empty();
		}
		if (!pmbr) {
			throw new ImageException(label + ": GPT header found (" + present.get(0)
				+ "-byte sectors) but no protective MBR at byte 0 (signature 55AA and a partition of type 0xEE)");
		}
		List<GptTable> found = new ArrayList<>();
		List<String> failures = new ArrayList<>();
		for (int ss : present) {
			try {
				found.add(readWithSectorSize(ch, fileSize, ss, label));
			} catch (BadGpt e) {
				failures.add(e.getMessage());
			}
		}
		if (found.size() > 1) {
			throw new ImageException(label + ": valid GPT headers for both 512- and 4096-byte sectors (at bytes 512 and 4096);"
				+ " refusing an ambiguous image");
		}
		if (found.isEmpty()) {
			throw new ImageException(label + ": damaged GPT: " + String.join("; ", failures));
		}
		return Optional.of(found.get(0));
	}

	/** @return the sector (LBA) size in bytes, 512 or 4096 */
	public int sectorSize() {
		return sectorSize;
	}

	/**
	 * @return why the table read is not the plain primary one (the primary was
	 *         damaged and the backup used), or that the backup is damaged;
	 *         empty if both are intact
	 */
	public Optional<String> warning() {
		return warning;
	}

	/** @return the disk GUID of the header used */
	public UUID diskGuid() {
		return diskGuid;
	}

	/** @return the non-empty entries, in table order, numbered from 1 */
	public List<Partition> partitions() {
		return partitions;
	}

	/** @return the LBA of the header used: 1 for the primary, else the backup's */
	public long headerLba() {
		return headerLba;
	}

	/** @return the first LBA partitions may use */
	public long firstUsableLba() {
		return firstUsableLba;
	}

	/** @return the last LBA partitions may use, inclusive */
	public long lastUsableLba() {
		return lastUsableLba;
	}

	/** @return the label the table was read with, naming the image in messages */
	public String label() {
		return label;
	}

	@Override
	public String toString() {
		return "GptTable[" + label + ", " + sectorSize + "-byte sectors, " + partitions.size() + " partitions"
			+ warning.map(w -> ", " + w).orElse("") + "]";
	}

	private static GptTable readWithSectorSize(FileChannel ch, long fileSize, int ss, String label) throws IOException {
		long lastLba = fileSize / ss - 1;
		String primaryWhat = "primary header at byte " + ss;
		Header primary = null;
		String primaryFailure;
		try {
			primary = readHeader(ch, fileSize, ss, 1);
			List<Partition> parts = entries(ch, fileSize, primary);
			return new GptTable(label, primary, parts, backupWarning(ch, fileSize, ss, primary));
		} catch (BadGpt e) {
			primaryFailure = primaryWhat + ": " + e.getMessage();
		}
		List<Long> backups = new ArrayList<>();
		if (lastLba > 1) {
			backups.add(lastLba);
		}
		// a primary whose header held but whose entries did not still says where its backup is (an image grown
		// after it was made keeps the backup in the middle)
		if (primary != null && primary.alternateLba != lastLba && primary.alternateLba > 1 && primary.alternateLba <= lastLba) {
			backups.add(primary.alternateLba);
		}
		List<String> failures = new ArrayList<>();
		failures.add(primaryFailure);
		for (long lba : backups) {
			try {
				Header backup = readHeader(ch, fileSize, ss, lba);
				List<Partition> parts = entries(ch, fileSize, backup);
				return new GptTable(label, backup, parts, Optional.of(
					primaryFailure + "; using the backup header at byte " + lba * ss));
			} catch (BadGpt e) {
				failures.add("backup header at byte " + lba * ss + ": " + e.getMessage());
			}
		}
		if (backups.isEmpty()) {
			failures.add("no room for a backup header in a file of " + fileSize + " bytes");
		}
		throw new BadGpt("(" + ss + "-byte sectors) " + String.join("; ", failures));
	}

	private static Optional<String> backupWarning(FileChannel ch, long fileSize, int ss, Header primary) throws IOException {
		long lastLba = fileSize / ss - 1;
		long lba = primary.alternateLba;
		if (lba <= 1 || lba > lastLba) {
			return Optional.of("the primary GPT header places its backup at LBA " + Long.toUnsignedString(lba)
				+ ", outside the file (last LBA " + lastLba + "); no backup checked");
		}
		try {
			Header backup = readHeader(ch, fileSize, ss, lba);
			entries(ch, fileSize, backup);
			return Optional.empty();
		} catch (BadGpt e) {
			return Optional.of("backup GPT header at byte " + lba * ss + " is damaged: " + e.getMessage());
		}
	}

	/** A header that passed its own checks; the entry array is checked by {@link #entries}. */
	private record Header(int sectorSize, long myLba, long alternateLba, long firstUsable, long lastUsable, UUID diskGuid,
		long entriesLba, int entryCount, int entrySize, int entriesCrc) {
	}

	/** Why one header (or its entries) cannot be used; collected, then reported as one ImageException. */
	private static final class BadGpt extends ImageException {
		private static final long serialVersionUID = 1L;

		BadGpt(String message) {
			super(message);
		}
	}

	private static Header readHeader(FileChannel ch, long fileSize, int ss, long lba) throws IOException {
		long lastLba = fileSize / ss - 1;
		if (lba > lastLba) {
			throw new BadGpt("beyond the end of the file (" + fileSize + " bytes)");
		}
		ByteBuffer b = read(ch, lba * ss, ss);
		byte[] sig = new byte[8];
		b.get(0, sig);
		if (!Arrays.equals(sig, SIGNATURE)) {
			throw new BadGpt("no \"EFI PART\" signature");
		}
		int revision = b.getInt(8);
		if (revision != REVISION_1_0) {
			throw new BadGpt(String.format("revision 0x%08x, expected 0x00010000", revision));
		}
		long headerSize = Integer.toUnsignedLong(b.getInt(12));
		if (headerSize < HEADER_MIN_SIZE || headerSize > ss) {
			throw new BadGpt("header size " + headerSize + " outside " + HEADER_MIN_SIZE + ".." + ss);
		}
		int storedCrc = b.getInt(16);
		byte[] hdr = new byte[(int) headerSize];
		b.get(0, hdr);
		Arrays.fill(hdr, 16, 20, (byte) 0);
		int crc = crc32(hdr, 0, hdr.length);
		if (crc != storedCrc) {
			throw new BadGpt(String.format("header CRC32 is 0x%08x, computed 0x%08x", storedCrc, crc));
		}
		long myLba = b.getLong(24);
		if (myLba != lba) {
			throw new BadGpt("header claims to be at LBA " + Long.toUnsignedString(myLba) + ", found at LBA " + lba);
		}
		long alternate = b.getLong(32);
		long firstUsable = b.getLong(40);
		long lastUsable = b.getLong(48);
		if (Long.compareUnsigned(lastUsable, lastLba) > 0) {
			throw new BadGpt("last usable LBA " + Long.toUnsignedString(lastUsable) + " beyond the end of the file (last LBA "
				+ lastLba + ", " + fileSize + " bytes)");
		}
		if (firstUsable < 2 || firstUsable > lastUsable) {
			throw new BadGpt("usable range LBA " + Long.toUnsignedString(firstUsable) + ".." + lastUsable + " is empty or"
				+ " covers the protective MBR or header");
		}
		if (lba >= firstUsable && lba <= lastUsable) {
			throw new BadGpt("usable range LBA " + firstUsable + ".." + lastUsable + " covers the header itself");
		}
		UUID disk = guid(b, 56);
		long entriesLba = b.getLong(72);
		long count = Integer.toUnsignedLong(b.getInt(80));
		long size = Integer.toUnsignedLong(b.getInt(84));
		if (count > MAX_ENTRIES) {
			throw new BadGpt(count + " partition entries, more than " + MAX_ENTRIES);
		}
		if (size < ENTRY_MIN_SIZE || size > MAX_ENTRY_SIZE || size % ENTRY_MIN_SIZE != 0) {
			throw new BadGpt("partition entry size " + size + ", expected a multiple of 128 up to " + MAX_ENTRY_SIZE);
		}
		if (entriesLba < 1 || Long.compareUnsigned(entriesLba, lastLba) > 0) {
			throw new BadGpt("partition entries at LBA " + Long.toUnsignedString(entriesLba) + ", outside the file (last LBA "
				+ lastLba + ")");
		}
		return new Header(ss, lba, alternate, firstUsable, lastUsable, disk, entriesLba, (int) count, (int) size, b.getInt(88));
	}

	private static List<Partition> entries(FileChannel ch, long fileSize, Header h) throws IOException {
		int ss = h.sectorSize;
		long start = h.entriesLba * ss;
		long bytes = (long) h.entryCount * h.entrySize;
		long end = start + bytes;
		String array = "partition entry array at bytes " + start + ".." + end;
		if (end > fileSize) {
			throw new BadGpt(array + " runs past the end of the file (" + fileSize + " bytes)");
		}
		long arrayFirst = h.entriesLba;
		long arrayLast = h.entriesLba + Math.max(0, (bytes + ss - 1) / ss - 1);
		if (bytes > 0 && arrayFirst <= h.myLba && h.myLba <= arrayLast) {
			throw new BadGpt(array + " overlaps the header at LBA " + h.myLba);
		}
		ByteBuffer b = read(ch, start, (int) bytes);
		int crc = crc32(b.array(), 0, (int) bytes);
		if (crc != h.entriesCrc) {
			throw new BadGpt(String.format("%s: CRC32 is 0x%08x, computed 0x%08x", array, h.entriesCrc, crc));
		}
		List<Partition> parts = new ArrayList<>();
		for (int i = 0; i < h.entryCount; i++) {
			int o = i * h.entrySize;
			UUID type = guid(b, o);
			if (type.getMostSignificantBits() == 0 && type.getLeastSignificantBits() == 0) {
				continue;
			}
			int number = i + 1;
			long first = b.getLong(o + 32);
			long last = b.getLong(o + 40);
			if (Long.compareUnsigned(first, last) > 0) {
				throw new BadGpt("partition " + number + " (entry at byte " + (start + o) + "): first LBA "
					+ Long.toUnsignedString(first) + " after last LBA " + Long.toUnsignedString(last));
			}
			if (Long.compareUnsigned(first, h.firstUsable) < 0 || Long.compareUnsigned(last, h.lastUsable) > 0) {
				throw new BadGpt("partition " + number + " (entry at byte " + (start + o) + "): LBA " + Long.toUnsignedString(first)
					+ ".." + Long.toUnsignedString(last) + " outside the usable range LBA " + h.firstUsable + ".." + h.lastUsable);
			}
			if (bytes > 0 && first <= arrayLast && arrayFirst <= last) {
				throw new BadGpt("partition " + number + " (LBA " + first + ".." + last + ") overlaps the " + array);
			}
			parts.add(new Partition(number, type, guid(b, o + 16), first, last, b.getLong(o + 48), name(b, o + 56), ss));
		}
		List<Partition> byStart = new ArrayList<>(parts);
		byStart.sort(Comparator.comparingLong(Partition::firstLba).thenComparingInt(Partition::number));
		Partition reach = null;
		for (Partition p : byStart) {
			if (reach != null && p.firstLba() <= reach.lastLba()) {
				Partition a = reach.number() < p.number() ? reach : p;
				Partition c = a == p ? reach : p;
				throw new BadGpt("partitions " + a.number() + " (LBA " + a.firstLba() + ".." + a.lastLba() + ") and " + c.number()
					+ " (LBA " + c.firstLba() + ".." + c.lastLba() + ") overlap");
			}
			if (reach == null || p.lastLba() > reach.lastLba()) {
				reach = p;
			}
		}
		return parts;
	}

	private static boolean hasProtectiveMbr(FileChannel ch, long fileSize) throws IOException {
		if (fileSize < 512) {
			return false;
		}
		ByteBuffer b = read(ch, 0, 512);
		if ((b.get(510) & 0xff) != 0x55 || (b.get(511) & 0xff) != 0xaa) {
			return false;
		}
		for (int i = 0; i < 4; i++) {
			if ((b.get(446 + 16 * i + 4) & 0xff) == 0xee) {
				return true;
			}
		}
		return false;
	}

	private static boolean signatureAt(FileChannel ch, long fileSize, long offset) throws IOException {
		if (offset + SIGNATURE.length > fileSize) {
			return false;
		}
		ByteBuffer b = read(ch, offset, SIGNATURE.length);
		return Arrays.equals(b.array(), SIGNATURE);
	}

	/** Positional read of exactly {@code len} bytes, little-endian. */
	static ByteBuffer read(FileChannel ch, long offset, int len) throws IOException {
		ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
		long pos = offset;
		while (b.hasRemaining()) {
			int n = ch.read(b, pos);
			if (n < 0) {
				throw new BadGpt("the file ends at byte " + pos + ", inside the " + len + " bytes at byte " + offset);
			}
			pos += n;
		}
		return b.flip();
	}

	/** A GUID as stored: the first three fields little-endian, the last eight bytes in order. */
	static UUID guid(ByteBuffer b, int o) {
		long msb = (Integer.toUnsignedLong(b.getInt(o)) << 32) | (Short.toUnsignedLong(b.getShort(o + 4)) << 16)
			| Short.toUnsignedLong(b.getShort(o + 6));
		long lsb = b.order(ByteOrder.BIG_ENDIAN).getLong(o + 8);
		b.order(ByteOrder.LITTLE_ENDIAN);
		return new UUID(msb, lsb);
	}

	/** Writes a GUID in GPT's mixed-endian layout; the inverse of {@link #guid}. */
	public static void putGuid(ByteBuffer b, int o, UUID u) {
		long msb = u.getMostSignificantBits();
		b.order(ByteOrder.LITTLE_ENDIAN);
		b.putInt(o, (int) (msb >>> 32));
		b.putShort(o + 4, (short) (msb >>> 16));
		b.putShort(o + 6, (short) msb);
		b.order(ByteOrder.BIG_ENDIAN).putLong(o + 8, u.getLeastSignificantBits());
		b.order(ByteOrder.LITTLE_ENDIAN);
	}

	private static String name(ByteBuffer b, int o) {
		int len = 0;
		while (len < 36 && b.getShort(o + 2 * len) != 0) {
			len++;
		}
		byte[] raw = new byte[2 * len];
		b.get(o, raw);
		return new String(raw, StandardCharsets.UTF_16LE);
	}

	/** @return the CRC32 of GPT headers and entry arrays */
	public static int crc32(byte[] b, int off, int len) {
		CRC32 c = new CRC32();
		c.update(b, off, len);
		return (int) c.getValue();
	}
}
