package psi.api.dto;

import org.osgi.dto.DTO;

/** A download kept in the pool so that the next pull of its URL resumes it. */
public class PartialDTO extends DTO {
	/** Its path as the host sees it, e.g. {@code /var/lib/portables/.psi-0123456789abcdef.partial}. */
	public String path;
	/** The bytes received so far. */
	public long size;
	/** When it was last written, µs since the epoch. */
	public long mtime;
}
