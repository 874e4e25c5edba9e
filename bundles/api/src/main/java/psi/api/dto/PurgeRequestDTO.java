package psi.api.dto;

import org.osgi.dto.DTO;

/**
 * What {@code psi purge} removes: an image, every version of it, and what
 * its services left on the host.
 *
 * @since 2.6
 */
public class PurgeRequestDTO extends DTO {
	/** The host root, or {@code null} for the configured one. */
	public String root;
	/**
	 * An image name (with or without a version: every version goes) or
	 * path (its name is taken).
	 */
	public String image;
	/**
	 * Keep the directories the services' {@code StateDirectory=},
	 * {@code CacheDirectory=}, {@code LogsDirectory=},
	 * {@code RuntimeDirectory=} and {@code ConfigurationDirectory=} name.
	 */
	public boolean keepData;
	/**
	 * Change nothing: return what a purge would remove, each as an
	 * {@code unlink} change whose {@link ChangeDTO#source} says what it is,
	 * and each thing it would keep as a {@code failed} change saying why.
	 */
	public boolean dryRun;
}
