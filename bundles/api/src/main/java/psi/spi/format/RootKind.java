package psi.spi.format;

/** How systemd roots a portable service in an image (the setting in {@code 20-portable.conf}). */
public enum RootKind {
	/** {@code RootDirectory=}: a directory or subvolume tree. */
	DIRECTORY("RootDirectory"),
	/** {@code RootImage=}: a raw disk image or block device. */
	IMAGE("RootImage");

	private final String setting;

	RootKind(String setting) {
		this.setting = setting;
	}

	/** @return the unit file setting, {@code RootDirectory} or {@code RootImage} */
	public String setting() {
		return setting;
	}
}
