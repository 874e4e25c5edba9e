package psi.api.dto;

import org.osgi.dto.DTO;

/** An image as {@code psi list} shows it. */
public class ImageDTO extends DTO {
	/** The image name (file name without {@code .raw}). */
	public String name;
	/** The host path as found (under the root, not including it). */
	public String path;
	/** {@code directory}, {@code subvolume} or {@code raw}. */
	public String type;
	/** Whether the image is marked read-only. */
	public boolean readOnly;
	/** Creation time in µs since the epoch, 0 when unknown. */
	public long crtime;
	/** Modification time in µs since the epoch, 0 when unknown. */
	public long mtime;
	/** Bytes used, -1 when unknown. */
	public long usage;
	/** The attachment state, as {@link psi.api.Portables#state}. */
	public AttachState state;
}
