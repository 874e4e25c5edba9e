package psi.format.raw.internal.squashfs;

import psi.spi.format.ImageException;

/**
 * Builds the one-line messages of a squashfs that cannot be read: which
 * image, which structure, at which byte of the file (the channel's position,
 * so a partition's squashfs is named by where it lies in the image file).
 */
final class Corruption {
	private final String label;
	private final long base;

	/**
	 * @param label names the image, e.g. {@code image '/x.raw'}
	 * @param base where the squashfs starts in the file
	 */
	Corruption(String label, long base) {
		this.label = label;
		this.base = base;
	}

	/** @return "squashfs in LABEL: STRUCTURE at byte N: PROBLEM", N counted from the start of the file */
	ImageException at(String structure, long pos, String problem) {
		return new ImageException("squashfs in " + label + ": " + structure + " at byte " + (base + pos) + ": " + problem);
	}

	/** @return the message of a structure inside a metadata block: the block's byte in the file and the offset in its decompressed bytes */
	ImageException in(String structure, long blockPos, int offset, String problem) {
		return new ImageException("squashfs in " + label + ": " + structure + " in the metadata block at byte " + (base + blockPos)
			+ ", offset " + offset + ": " + problem);
	}

	/** @return a message about the file system as a whole */
	ImageException of(String problem) {
		return new ImageException("squashfs in " + label + ": " + problem);
	}

	String label() {
		return label;
	}
}
