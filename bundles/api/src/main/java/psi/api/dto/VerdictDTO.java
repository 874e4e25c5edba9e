package psi.api.dto;

import org.osgi.dto.DTO;

/**
 * What one verifier found.
 */
public class VerdictDTO extends DTO {
	/** The verifier's name, e.g. {@code openpgp}. */
	public String verifier;
	/** {@link VerifyLevel#INTEGRITY}, {@link VerifyLevel#CHECKSUM} or {@link VerifyLevel#SIGNATURE}. */
	public VerifyLevel level;
	/** One line: what passed. */
	public String detail;
}
