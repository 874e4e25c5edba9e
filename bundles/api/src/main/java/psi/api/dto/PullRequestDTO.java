package psi.api.dto;

import org.osgi.dto.DTO;

/**
 * What to pull (or verify): {@code psi pull URL [NAME]}.
 */
public class PullRequestDTO extends DTO {
	/** The host root, or {@code null} for the engine's. */
	public String root;
	/** A URL ({@code https:}, {@code ssh:}, {@code file:}), a path, or an image name (verify only). */
	public String source;
	/** The image name to give the pulled image, or {@code null} for the one the URL names. */
	public String name;
	/**
	 * The level that must be reached: {@link VerifyLevel#NONE} ({@code --verify=no}),
	 * {@link VerifyLevel#CHECKSUM} or {@link VerifyLevel#SIGNATURE}; {@code null}
	 * for the default: a signature for https and ssh, and for local images
	 * whatever they carry.
	 */
	public VerifyLevel verify;

	/**
	 * Accept an image older than the newest version of the same image in
	 * the pool (a downgrade), which is refused otherwise.
	 *
	 * @since 2.6
	 */
	public boolean allowDowngrade;
}
