package psi.api.dto;

import java.util.Map;

import org.osgi.dto.DTO;

/**
 * An extension image layered over a portable image: what {@code inspect}
 * shows of it.
 *
 * @since 2.5
 */
public class ExtensionDTO extends DTO {
	/** The image name: the file name without {@code .raw}. */
	public String name;
	/** Its path as the host sees it. */
	public String path;
	/** {@code directory}, {@code subvolume} or {@code raw}. */
	public String type;
	/** Where its extension-release file is inside the image. */
	public String releasePath;
	/** The extension-release file, byte for byte. */
	public byte[] releaseBytes;
	/** The extension-release file as text. */
	public String releaseText;
	/** Its fields, in file order. */
	public Map<String, String> release;
}
