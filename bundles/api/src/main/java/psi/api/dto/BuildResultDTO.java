package psi.api.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/**
 * What {@code psi build} made.
 *
 * @since 2.8
 */
public class BuildResultDTO extends DTO {
	/** The image file, or null when lint found errors and nothing was written. */
	public String output;
	/** {@code raw} or {@code squashfs}. */
	public String format;
	/** The image's size in bytes. */
	public long bytes;
	/** How many regular files, and how many bytes they hold. */
	public long files;
	/** The bytes of the tree's regular files. */
	public long dataBytes;
	/** How many inodes the squashfs holds. */
	public long inodes;
	/** The compressor. */
	public String compression;
	/** The dm-verity root hash in hex, or null (a squashfs without sidecars). */
	public String rootHash;
	/** Whether a signature of the root hash was written. */
	public boolean signed;
	/** The partitions of a raw image, as {@code name type-uuid}, in order. */
	public List<String> partitions = new ArrayList<>();
	/** The files written beside the image (sidecars), absolute. */
	public List<String> sidecars = new ArrayList<>();
	/** What psi lint found in the image; errors mean nothing was written. */
	public List<FindingDTO> findings = new ArrayList<>();
}
