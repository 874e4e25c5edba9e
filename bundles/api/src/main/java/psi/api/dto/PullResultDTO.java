package psi.api.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/**
 * What a pull (or a verification) did.
 */
public class PullResultDTO extends DTO {
	/** Where the image came from: the URL, or the local path. */
	public String source;
	/** The image's file name in the pool, e.g. {@code foobar_1.raw}. */
	public String image;
	/** The image's path as the host sees it. */
	public String path;
	/** Its size in bytes. */
	public long size;
	/** Its hex SHA-256, or {@code null} when not computed. */
	public String sha256;
	/** Whether the pool already had this image and nothing was fetched. */
	public boolean unchanged;
	/** The verification level asked for, {@code null} for the default. */
	public VerifyLevel asked;
	/** The strongest level reached ({@link VerifyLevel#NONE} when nothing verified it). */
	public VerifyLevel level;
	/** One line: what verified the image (when unchanged: when it was pulled). */
	public String verified;
	/** What each applicable verifier found (none when unchanged). */
	public List<VerdictDTO> verdicts = new ArrayList<>();
}
