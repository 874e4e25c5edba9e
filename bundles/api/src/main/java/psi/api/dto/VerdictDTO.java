package psi.api.dto;

import org.osgi.dto.DTO;

/**
 * What one verifier found.
 */
public class VerdictDTO extends DTO {
	/** The verifier's name, e.g. {@code openpgp}. */
	public String verifier;
	/** {@code integrity}, {@code checksum} or {@code signature}. */
	public String level;
	/** One line: what passed. */
	public String detail;
}
