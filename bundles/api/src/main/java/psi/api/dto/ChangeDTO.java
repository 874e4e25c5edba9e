package psi.api.dto;

import org.osgi.dto.DTO;

/** One change made to the host, as portabled reports it. */
public class ChangeDTO extends DTO {
	/** {@code copy}, {@code symlink}, {@code write}, {@code mkdir} or {@code unlink}. */
	public String type;
	/** The host path changed, as the host sees it (not including the root). */
	public String path;
	/** For {@code copy} and {@code symlink}: the source; else {@code null}. */
	public String source;

	/**
	 * @param type the change type
	 * @param path the path changed
	 * @param source the source, or {@code null}
	 * @return a new change
	 */
	public static ChangeDTO of(String type, String path, String source) {
		ChangeDTO c = new ChangeDTO();
		c.type = type;
		c.path = path;
		c.source = source;
		return c;
	}
}
