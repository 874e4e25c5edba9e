package psi.spi.transport;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A transport: fetches a URL into a local staging file, streaming.
 * <p>
 * Registered with {@value #SCHEMES} naming the URL schemes it serves; the
 * engine picks the transport by scheme. Implementations must be thread safe,
 * must check TLS certificates and SSH host keys, and write to
 * {@link Request#target()} only; the engine renames it into place once the
 * fetch and its verification succeed, and removes it on failure.
 * <p>
 * A source that does not exist (HTTP 404 or 410, no such file) is reported by
 * {@link java.nio.file.NoSuchFileException} naming the URL, so that optional
 * sidecar files ({@code SHA256SUMS}, {@code .roothash}) can be told apart
 * from failures.
 */
@ConsumerType
public interface Transport {

	/** Service property (String[]): the URL schemes served, e.g. {@code https}. */
	String SCHEMES = "psi.transport.schemes";

	/**
	 * Fetches {@link Request#source()} into {@link Request#target()}.
	 *
	 * @param request what to fetch and where to
	 * @param progress told of the transfer as it goes; never {@code null}
	 * @return what was fetched
	 * @throws java.nio.file.NoSuchFileException if the source does not exist
	 * @throws IOException if the fetch fails, the body is larger than
	 *             announced or than {@link Request#maxBytes()}; the message
	 *             names the URL and the cause in one line
	 */
	Fetched fetch(Request request, Progress progress) throws IOException;

	/**
	 * What to fetch: a value the engine makes. Final, so that it can gain
	 * properties (new accessors, new constructors) in minor versions.
	 */
	final class Request {
		private final URI source;
		private final Path target;
		private final long maxBytes;
		private final String ifNoneMatch;
		private final String resumeValidator;

		/**
		 * @param source the URL
		 * @param target the staging file
		 * @param maxBytes the largest body accepted; a larger one fails the fetch
		 * @param ifNoneMatch the {@link Fetched#validator()} of the copy the caller
		 *            has, or {@code null}: when the source still matches it,
		 *            nothing is written and {@link Fetched#unchanged()} is true
		 * @param resumeValidator when {@code target} holds the start of an earlier
		 *            interrupted fetch, the validator that fetch was
		 *            {@linkplain Progress#started started} with: the transport
		 *            continues after the bytes already there if the source still
		 *            matches it (HTTP {@code Range} with {@code If-Range}), and
		 *            starts over otherwise. {@code null}: start over.
		 */
		public Request(URI source, Path target, long maxBytes, String ifNoneMatch, String resumeValidator) {
			this.source = source;
			this.target = target;
			this.maxBytes = maxBytes;
			this.ifNoneMatch = ifNoneMatch;
			this.resumeValidator = resumeValidator;
		}

		/**
		 * A plain fetch: no validators.
		 *
		 * @param source the URL
		 * @param target the staging file
		 * @param maxBytes the largest body accepted
		 */
		public Request(URI source, Path target, long maxBytes) {
			this(source, target, maxBytes, null, null);
		}

		/** @return the URL */
		public URI source() {
			return source;
		}

		/** @return the staging file */
		public Path target() {
			return target;
		}

		/** @return the largest body accepted */
		public long maxBytes() {
			return maxBytes;
		}

		/** @return the validator of the copy the caller has, or {@code null} */
		public String ifNoneMatch() {
			return ifNoneMatch;
		}

		/** @return the validator of the interrupted fetch in the target, or {@code null} */
		public String resumeValidator() {
			return resumeValidator;
		}

		@Override
		public boolean equals(Object o) {
			return o instanceof Request other && java.util.Objects.equals(source, other.source) && java.util.Objects.equals(target, other.target) && java.util.Objects.equals(maxBytes, other.maxBytes) && java.util.Objects.equals(ifNoneMatch, other.ifNoneMatch) && java.util.Objects.equals(resumeValidator, other.resumeValidator);
		}

		@Override
		public int hashCode() {
			return java.util.Objects.hash(source, target, maxBytes, ifNoneMatch, resumeValidator);
		}

		@Override
		public String toString() {
			return source + " to " + target;
		}
	}

	/**
	 * Told of a transfer's progress; called from the transport's threads.
	 */
	@ConsumerType
	interface Progress {
		/**
		 * Called once the source answered, before any byte is written.
		 *
		 * @param total bytes announced in all (resumed bytes included), or -1 when unknown
		 * @param validator what identifies this version of the source (an
		 *            ETag, or size and modification time), or {@code null}
		 * @param resumedFrom bytes of the target kept from an earlier fetch
		 */
		default void started(long total, String validator, long resumedFrom) {
		}

		/**
		 * @param bytes bytes in the target so far
		 * @param total bytes expected in all, or -1 when unknown
		 */
		void update(long bytes, long total);

		/** Ignores everything. */
		Progress NONE = (bytes, total) -> {
		};
	}

	/**
	 * The result of a fetch: a value the transport makes. Final, so that it
	 * can gain properties (new accessors, new constructors) in minor versions.
	 */
	final class Fetched {
		private final long size;
		private final String sha256;
		private final boolean unchanged;
		private final String validator;

		/**
		 * @param size bytes in the target
		 * @param sha256 the hex SHA-256 of the whole target, computed while
		 *            receiving (resumed bytes included), or {@code null} when unchanged
		 * @param unchanged whether the source matched {@link Request#ifNoneMatch()}
		 *            and nothing was written
		 * @param validator what identifies this version of the source, or {@code null}
		 */
		public Fetched(long size, String sha256, boolean unchanged, String validator) {
			this.size = size;
			this.sha256 = sha256;
			this.unchanged = unchanged;
			this.validator = validator;
		}

		/** @return bytes in the target */
		public long size() {
			return size;
		}

		/** @return the hex SHA-256 of the target, or {@code null} */
		public String sha256() {
			return sha256;
		}

		/** @return whether the source matched {@link Request#ifNoneMatch()} and nothing was written */
		public boolean unchanged() {
			return unchanged;
		}

		/** @return what identifies this version of the source, or {@code null} */
		public String validator() {
			return validator;
		}

		@Override
		public boolean equals(Object o) {
			return o instanceof Fetched other && java.util.Objects.equals(size, other.size) && java.util.Objects.equals(sha256, other.sha256) && java.util.Objects.equals(unchanged, other.unchanged) && java.util.Objects.equals(validator, other.validator);
		}

		@Override
		public int hashCode() {
			return java.util.Objects.hash(size, sha256, unchanged, validator);
		}

		@Override
		public String toString() {
			return unchanged ? "unchanged" : size + " bytes, SHA-256 " + sha256;
		}
	}
}
