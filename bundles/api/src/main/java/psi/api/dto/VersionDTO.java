package psi.api.dto;

import org.osgi.dto.DTO;

/**
 * One version of an image on the host, as {@code psi versions NAME} lists
 * them: every {@code NAME_VERSION} in the image search path (and in
 * {@code NAME.v/} directories), newest first by systemd's version order.
 *
 * @since 2.6
 */
public class VersionDTO extends DTO {
	/** The image name with its version: {@code foo_2}. */
	public String name;
	/** The version: {@code 2}; {@code null} for an image without one. */
	public String version;
	/** Where it is, as the host sees it. */
	public String path;
	/** Whether its units are attached, and how (detached, attached, running, ...). */
	public AttachState state;
	/** Where psi pulled it from, or {@code null} (not pulled by psi). */
	public String origin;
	/** What verified it when it was pulled, one line, or {@code null}. */
	public String verified;
	/** When psi pulled it (ISO 8601), or {@code null}. */
	public String pulled;
	/** When psi last attached it (ISO 8601), or {@code null}. */
	public String attached;
	/** Whether updates skip this image ({@code psi hold}). */
	public boolean held;
}
