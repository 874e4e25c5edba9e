package psi.api.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/**
 * What {@code inspect} reads: the options of {@code portablectl inspect}.
 *
 * @since 2.5
 */
public class InspectRequestDTO extends DTO {
	/** The host root, or {@code null} for the configured one. */
	public String root;
	/** An image name or path. */
	public String image;
	/** Extension images layered over it, bottom first: names or absolute paths. */
	public List<String> extensions = new ArrayList<>();
	/** Unit name prefixes; empty for the image's default prefix; {@code null} for every unit. */
	public List<String> prefixes = new ArrayList<>();
	/** Also check the image's integrity block by block. */
	public boolean verify;
	/** The profile to judge the units under; {@code null} for {@code default}. */
	public String profile;
	/** Accept extension-release files not named after their extension image (as {@code portablectl inspect --force}). */
	public boolean relaxExtensionRelease;
}
