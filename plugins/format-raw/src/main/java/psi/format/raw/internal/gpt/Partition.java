package psi.format.raw.internal.gpt;

import java.util.UUID;

/**
 * One non-empty entry of a GPT partition table, as read and checked by
 * {@link GptTable}: its extent lies in the table's usable range and overlaps
 * no other partition.
 *
 * @param number 1-based index of the entry in the table (the kernel's
 *        partition number)
 * @param type partition type GUID
 * @param uuid unique partition GUID
 * @param firstLba first sector, inclusive
 * @param lastLba last sector, inclusive
 * @param attributes the 64 attribute bits
 * @param name the label, UTF-16LE up to the first NUL; empty if none
 * @param sectorSize the table's sector size in bytes
 */
public record Partition(int number, UUID type, UUID uuid, long firstLba, long lastLba, long attributes, String name,
	int sectorSize) {

	/** Discoverable Partitions: the file system may be grown to the partition's size. */
	public static final int ATTR_GROWFS = 59;
	/** Discoverable Partitions: mount read-only. */
	public static final int ATTR_READ_ONLY = 60;
	/** Discoverable Partitions: not to be mounted automatically. */
	public static final int ATTR_NO_AUTO = 63;

	/** @return the byte offset of the partition in the image */
	public long offset() {
		return firstLba * sectorSize;
	}

	/** @return the size in bytes */
	public long length() {
		return (lastLba - firstLba + 1) * sectorSize;
	}

	/** @return whether the read-only attribute (bit 60) is set */
	public boolean readOnly() {
		return bit(ATTR_READ_ONLY);
	}

	/** @return whether the no-auto attribute (bit 63) is set: discovery ignores the partition */
	public boolean noAuto() {
		return bit(ATTR_NO_AUTO);
	}

	/** @return whether the grow-fs attribute (bit 59) is set */
	public boolean growFs() {
		return bit(ATTR_GROWFS);
	}

	private boolean bit(int n) {
		return (attributes >>> n & 1) != 0;
	}
}
