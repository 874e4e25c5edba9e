package psi.api.dto;

import java.util.Locale;

/**
 * How strongly an image is verified, weakest first (the declaration order is
 * the ranking). In a request, the level asked for ({@code --verify=}):
 * {@link #NONE} is {@code --verify=no}, {@code null} the default.
 */
public enum VerifyLevel {
	/** Nothing verified; asked for: {@code --verify=no}. */
	NONE,
	/** The image is self-consistent (its own dm-verity tree); nothing vouches for it. */
	INTEGRITY,
	/** The image matches a checksum published beside it. */
	CHECKSUM,
	/** A trusted key signed the image or its checksum. */
	SIGNATURE;

	/** @return as admins write it: {@code none}, {@code integrity}, {@code checksum}, {@code signature} */
	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

	/** @return as {@code --verify=} takes it: {@code no}, {@code checksum}, {@code signature} */
	public String option() {
		return this == NONE ? "no" : label();
	}

	/**
	 * @param option {@code no}, {@code checksum} or {@code signature}, as {@code --verify=} takes it
	 * @return the level
	 * @throws IllegalArgumentException for anything else
	 */
	public static VerifyLevel ofOption(String option) {
		return switch (option) {
			case "no" -> NONE;
			case "checksum" -> CHECKSUM;
			case "signature" -> SIGNATURE;
			default -> throw new IllegalArgumentException("--verify=" + option + " is not one of no, checksum, signature");
		};
	}

	/**
	 * @param label a level's {@link #label()}
	 * @return the level, or {@code null} for anything else
	 */
	public static VerifyLevel ofLabel(String label) {
		for (VerifyLevel l : values()) {
			if (l.label().equals(label)) {
				return l;
			}
		}
		return null;
	}
}
