package psi.spi.verify;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

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

	/** Shorthand for {@link Level#INTEGRITY}. */
	Level INTEGRITY = Level.INTEGRITY;
	/** Shorthand for {@link Level#CHECKSUM}. */
	Level CHECKSUM = Level.CHECKSUM;
	/** Shorthand for {@link Level#SIGNATURE}. */
	Level SIGNATURE = Level.SIGNATURE;

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
	 * The files beside the image at its origin this verifier reads for it,
	 * so that the engine fetches exactly these while the image itself
	 * arrives. A verifier may still ask {@link Subject#sidecar} for others;
	 * they are then fetched when asked.
	 *
	 * @param fileName the image's file name at its origin
	 * @param wanted the strongest level the admin asked for
	 * @return the file names, each a single path component; by default none
	 */
	default Set<String> sidecars(String fileName, Level wanted) {
		return Set.of();
	}

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
		 * @param level {@link Level#CHECKSUM} or {@link Level#SIGNATURE}
		 * @return whether the admin asked for checks of this level: a verifier
		 *         skips signature checks when only checksums were asked for
		 */
		boolean wants(Level level);

		/**
		 * @param path an absolute host path such as {@code /etc/verity.d}
		 * @return where it is under the host root psi works on ({@code --root})
		 */
		Path host(String path);
	}

	/**
	 * What a verifier found: a value the engine reads. Final, so that it can
	 * gain properties (new accessors, new constructors) in minor versions.
	 */
	final class Verdict {
		private static final Verdict NOT_APPLICABLE = new Verdict(false, null, null);

		private final boolean applicable;
		private final Level level;
		private final String detail;

		/**
		 * @param applicable whether the image carried something this verifier checks
		 * @param level the strength reached; {@code null} when not applicable
		 * @param detail one line saying what passed, e.g. the key that signed
		 */
		public Verdict(boolean applicable, Level level, String detail) {
			if (applicable && level == null) {
				throw new IllegalArgumentException("an applicable verdict has a level");
			}
			this.applicable = applicable;
			this.level = level;
			this.detail = detail;
		}

		/** @return a verdict for an image that carries nothing this verifier checks */
		public static Verdict notApplicable() {
			return NOT_APPLICABLE;
		}

		/** @return whether the image carried something this verifier checks */
		public boolean applicable() {
			return applicable;
		}

		/** @return the strength reached, {@code null} when not applicable */
		public Level level() {
			return level;
		}

		/** @return one line saying what passed */
		public String detail() {
			return detail;
		}

		@Override
		public boolean equals(Object o) {
			return o instanceof Verdict other && java.util.Objects.equals(applicable, other.applicable) && java.util.Objects.equals(level, other.level) && java.util.Objects.equals(detail, other.detail);
		}

		@Override
		public int hashCode() {
			return java.util.Objects.hash(applicable, level, detail);
		}

		@Override
		public String toString() {
			return applicable ? level.label() + ": " + detail : "not applicable";
		}
	}
}
