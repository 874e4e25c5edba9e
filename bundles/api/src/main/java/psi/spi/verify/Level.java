package psi.spi.verify;

/**
 * How strongly an image is vouched for, weakest first: the declaration order
 * is the ranking ({@link #compareTo}).
 */
public enum Level {
	/** The image is self-consistent (e.g. its own dm-verity tree); nothing vouches for it. */
	INTEGRITY,
	/** The image matches a checksum published beside it. */
	CHECKSUM,
	/** A trusted key signed the image or its checksum. */
	SIGNATURE;

	/** @return the level as admins write it: {@code integrity}, {@code checksum}, {@code signature} */
	public String label() {
		return name().toLowerCase(java.util.Locale.ROOT);
	}

	/** @return whether this level is at least as strong as {@code other} */
	public boolean atLeast(Level other) {
		return compareTo(other) >= 0;
	}
}
