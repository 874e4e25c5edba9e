package psi.spi.verify;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A verifier: checks an image against trusted keys before anything of it is
 * attached (checksums, signatures, dm-verity).
 * <p>
 * Registered with {@value #NAME}; must be thread safe.
 */
@ConsumerType
public interface Verifier {

	/** Service property: the verifier's name, e.g. {@code checksum}. */
	String NAME = "psi.verifier.name";

	/**
	 * Checks an image.
	 *
	 * @param image the local image file
	 * @param origin where the image came from (its sidecars are looked up beside it), or {@code null}
	 * @return what was checked; {@link Verdict#applicable()} false when this verifier has nothing to check
	 * @throws VerificationException when a check fails; the message says which and why
	 * @throws IOException on an I/O error
	 */
	Verdict verify(Path image, URI origin) throws IOException;

	/**
	 * @param applicable whether the image carried something this verifier checks
	 * @param level the strength reached: {@code checksum} or {@code signature}
	 * @param detail one line saying what passed, e.g. the key that signed
	 */
	record Verdict(boolean applicable, String level, String detail) {
	}
}
