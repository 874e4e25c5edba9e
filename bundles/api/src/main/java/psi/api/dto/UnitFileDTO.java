package psi.api.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** A unit file found in an image. */
public class UnitFileDTO extends DTO {
	/** The unit name, e.g. {@code foobar.service}. */
	public String name;
	/** Where it was found inside the image (before symbolic links were resolved). */
	public String path;
	/**
	 * The path of the image it was found in: the base image, or one of the
	 * {@link ImageMetadataDTO#extensions}.
	 *
	 * @since 2.5
	 */
	public String image;
	/** Its content. */
	public String content;
	/**
	 * Its content, byte for byte.
	 *
	 * @since 2.4
	 */
	public byte[] bytes;
	/**
	 * What {@code psi attach} would refuse in it under the profile inspected
	 * ({@link ImageMetadataDTO#profile}, {@code default} unless asked),
	 * one line per setting that would run outside the sandbox
	 * ({@code unit:line: Directive= why (profile ...)}); empty when it keeps inside.
	 */
	public List<String> refused;
}
