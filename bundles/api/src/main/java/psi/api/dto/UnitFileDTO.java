package psi.api.dto;

import org.osgi.dto.DTO;

/** A unit file found in an image. */
public class UnitFileDTO extends DTO {
	/** The unit name, e.g. {@code foobar.service}. */
	public String name;
	/** Where it was found inside the image (before symbolic links were resolved). */
	public String path;
	/** Its content. */
	public String content;
}
