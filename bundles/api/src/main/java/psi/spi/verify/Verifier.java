package psi.spi.verify;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A verifier: checks an image against trusted keys before anything of it is
 * attached (checksums, OpenPGP signatures, dm-verity).
 * <p>
 * Registered with {@value #NAME}; must be thread safe. The engine asks every
 * verifier; one that throws refuses the image. The image is accepted when the
 * strongest {@link Verdict#level()} among the applicable verdicts reaches the
 * level the admin asked for ({@code --verify=}).
 */
@ConsumerType
public interface Verifier {

	/** Service property: the verifier's name, e.g. {@code checksum}. */
	String NAME = "psi.verifier.name";

	/** Level: the image is self-consistent (e.g. its own dm-verity tree), nothing vouches for it. */
	String INTEGRITY = "integrity";
	/** Level: the image matches a checksum published beside it. */
	String CHECKSUM = "checksum";
	/** Level: a trusted key signed the image or its checksum. */
	String SIGNATURE = "signature";

	/**
	 * Checks an image.
	 *
	 * @param subject the image and its surroundings
	 * @return what was checked; {@link Verdict#applicable()} false when this
	 *         verifier found nothing to check
	 * @throws VerificationException when a check fails; the message says which and why
	 * @throws IOException on an I/O error
	 */
	Verdict verify(Subject subject) throws IOException;

	/**
	 * The image being verified, provided by the engine.
	 */
	@ProviderType
	interface Subject {
		/** @return the complete local image file */
		Path image();

		/** @return the image's file name at its origin, as {@code SHA256SUMS} names it */
		String fileName();

		/** @return where the image came from, or {@code null} for a local path */
		URI origin();

		/**
		 * @return the hex SHA-256 of {@link #image()}; computed while
		 *         receiving, or on first call and then kept
		 * @throws IOException on an I/O error
		 */
		String sha256() throws IOException;

		/**
		 * A small file beside the image at its origin ({@code SHA256SUMS},
		 * {@code foo.raw.sha256}, {@code foo.roothash.p7s}), fetched through
		 * the image's own transport at most once, bounded in size.
		 *
		 * @param name the file's name, a single path component
		 * @return the local copy, or empty when the origin has no such file
		 * @throws IOException when it exists but cannot be fetched
		 */
		Optional<Path> sidecar(String name) throws IOException;

		/**
		 * @param level {@link #CHECKSUM} or {@link #SIGNATURE}
		 * @return whether the admin asked for checks of this level: a verifier
		 *         skips signature checks when only checksums were asked for
		 */
		boolean wants(String level);

		/**
		 * @param path an absolute host path such as {@code /etc/verity.d}
		 * @return where it is under the host root psi works on ({@code --root})
		 */
		Path host(String path);
	}

	/**
	 * @param applicable whether the image carried something this verifier checks
	 * @param level the strength reached: {@link #INTEGRITY}, {@link #CHECKSUM} or {@link #SIGNATURE}
	 * @param detail one line saying what passed, e.g. the key that signed
	 */
	record Verdict(boolean applicable, String level, String detail) {
		/** @return a verdict for an image that carries nothing this verifier checks */
		public static Verdict notApplicable() {
			return new Verdict(false, null, null);
		}
	}
}
