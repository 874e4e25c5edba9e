package psi.api.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/**
 * What {@code psi update} asks: which images' origins to ask for a newer
 * version, and whether only to report.
 *
 * @since 2.6
 */
public class UpdateRequestDTO extends DTO {
	/** The host root, or {@code null} for the configured one. */
	public String root;
	/** Image names (any version of each); empty: every image psi pulled. */
	public List<String> images = new ArrayList<>();
	/** Only say what is newer; change nothing. */
	public boolean check;
	/** As {@link AttachRequestDTO#settle}, for the upgrades of attached images. */
	public int settle = -1;
	/** As {@link PullRequestDTO#verify}; {@code null} for the default (a signature for https and ssh). */
	public VerifyLevel verify;
}
