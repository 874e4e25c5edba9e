package psi.format.tar.internal;

/**
 * What a tar archive may hold and unpack to: the format's configuration,
 * checked. Immutable.
 *
 * @param allowDevices whether character and block devices and FIFOs are unpacked (else refused)
 * @param allowSetuid whether set-user-ID, set-group-ID and sticky-on-file bits are kept (else stripped)
 * @param maxBytes the most bytes the archive's entries may hold in all, unpacked
 * @param maxEntries the most entries the archive may hold
 */
record TarSettings(boolean allowDevices, boolean allowSetuid, long maxBytes, int maxEntries) {

	/** The defaults of {@link TarFormat.Config}. */
	static final TarSettings DEFAULT = new TarSettings(false, false, 16L << 30, 1_000_000);

	/** Bounds the limits to sane values. */
	TarSettings {
		maxBytes = Math.max(0, maxBytes);
		maxEntries = Math.max(1, maxEntries);
	}

	/**
	 * @param c the configuration
	 * @return its settings
	 */
	static TarSettings of(TarFormat.Config c) {
		return new TarSettings(c.allowDevices(), c.allowSetuid(), c.maxBytes(), c.maxEntries());
	}
}
