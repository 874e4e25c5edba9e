package psi.api.dto;

import org.osgi.dto.DTO;

/**
 * One finding of {@code psi lint}: a portable-service pitfall in an image,
 * with a one-line remedy.
 *
 * @since 2.7
 */
public class FindingDTO extends DTO {
	/** {@code error}: attach, start or the service will fail; {@code warning}: it runs, but not as the image means. */
	public String severity;
	/** The check's name, e.g. {@code exec-missing}, as the README lists them. */
	public String check;
	/** Where: a unit name, or a path inside the image. */
	public String where;
	/** The line in the unit file, 0 when it is not about one line. */
	public int line;
	/** What is wrong, in one line. */
	public String message;
	/** What to do about it, in one line. */
	public String remedy;
}
