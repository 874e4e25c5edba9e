package psi.api.dto;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.dto.DTO;

/** What {@code psi inspect} shows of an image. */
public class ImageMetadataDTO extends DTO {
	/** The image name. */
	public String name;
	/** The image's host path as the host sees it. */
	public String path;
	/** {@code directory}, {@code subvolume} or {@code raw}. */
	public String type;
	/** The version from the image file name, or {@code null}. */
	public String version;
	/** What the image format says of the image beyond its files (partitions, verity), in display order. */
	public Map<String, String> details;
	/** The raw os-release file. */
	public String osReleaseText;
	/**
	 * The raw os-release file, byte for byte.
	 *
	 * @since 2.4
	 */
	public byte[] osReleaseBytes;
	/** The parsed os-release fields, in file order. */
	public Map<String, String> osRelease;
	/**
	 * The extension images layered over the image, in the order given.
	 *
	 * @since 2.5
	 */
	public List<ExtensionDTO> extensions = new ArrayList<>();
	/** The units that match the requested prefixes, sorted by name. */
	public List<UnitFileDTO> units;
	/** The profile the units' {@link UnitFileDTO#refused} were judged under. */
	public String profile;

	/**
	 * The sandbox policies whose drop-ins ({@code 15-policy-NAME.conf}) attach would add under {@link #profile}, by name.
	 *
	 * @since 2.7
	 */
	public List<String> policies = new ArrayList<>();

	/**
	 * The plugin that read the image: its bundle's symbolic name and version,
	 * and its {@code service.ranking} (the highest ranking format that claims
	 * an image reads it).
	 *
	 * @since 2.7
	 */
	public String readBy;
}
