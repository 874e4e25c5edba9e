package psi.api.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/** What {@code psi status} shows of an image. */
public class ImageStatusDTO extends DTO {
	/** The image name. */
	public String name;
	/** The image's host path, or {@code null} when it is gone but its units are attached. */
	public String path;
	/** {@code directory}, {@code subvolume} or {@code raw}, or {@code null} when the image is gone. */
	public String type;
	/** The version from the image file name, or {@code null}. */
	public String version;
	/** The profile its services are attached with, {@code null} when unknown. */
	public String profile;
	/** The attach state, as {@link psi.api.Portables#state}. */
	public AttachState state;
	/** The image file name, the {@code PORTABLE=} journal field of its units. */
	public String portable;
	/** Its attached units with their state, sorted by name. */
	public List<UnitStatusDTO> units;
	/** Why the units' state is not known (no service manager), or {@code null}. */
	public String managerProblem;

	/** Where psi pulled the image from, or {@code null} when psi did not pull it. */
	public String origin;

	/** What verified it when it was pulled or started, or {@code null}. */
	public String verified;

	/**
	 * A change of version of the image under way: {@code foo_1 -> foo_2},
	 * then {@code (watching)} while its psi watches it, or
	 * {@code (interrupted: the next change finishes it)} when that psi died;
	 * {@code null} when none.
	 *
	 * @since 2.6
	 */
	public String moving;

	/**
	 * The sandbox policies whose drop-ins ({@code 15-policy-NAME.conf}) the attached units have: each name, with what it may widen when the admin named it.
	 *
	 * @since 2.7
	 */
	public List<String> policies = new ArrayList<>();
}
