package psi.verify.sums.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;

import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;
import psi.spi.verify.VerifierName;

/**
 * Checks the image against the SHA-256 published beside it, as
 * systemd-importd does with {@code --verify=checksum}: the image's own
 * {@code X.sha256} (importd 252 asks for it first) and the directory's
 * {@code SHA256SUMS} (importd's fallback). Where importd stops at the first
 * it finds, psi checks both when both are published: a stale or forged one is
 * refused either way. Nothing here vouches for who published them; that is
 * {@link OpenPgpVerifier}'s job. Stateless and thread safe.
 */
@Component
@VerifierName(name = ChecksumVerifier.NAME)
public class ChecksumVerifier implements Verifier {

	static final String NAME = "checksum";
	/** The directory's checksum file. */
	static final String SUMS = "SHA256SUMS";
	/** The suffix of an image's own checksum file. */
	static final String SUFFIX = ".sha256";
	/** Bounds a checksum file, as importd bounds it (and the engine bounds every sidecar). */
	static final int MAX_SUMS = 1 << 20;

	@Override
	public java.util.Set<String> sidecars(String fileName, psi.spi.verify.Level wanted) {
		return wanted.atLeast(CHECKSUM) && Sha256Sums.isPlainName(fileName) ? java.util.Set.of(fileName + SUFFIX, SUMS)
			: java.util.Set.of();
	}

	@Override
	public Verdict verify(Subject subject) throws IOException {
		String fileName = subject.fileName();
		if (!subject.wants(CHECKSUM) || fileName == null) {
			return Verdict.notApplicable();
		}
		if (!Sha256Sums.isPlainName(fileName)) {
			throw new VerificationException(NAME + ": the image's name '" + Sha256Sums.show(fileName) + "' is not a plain file name");
		}
		List<String> matched = new ArrayList<>();
		for (String name : List.of(fileName + SUFFIX, SUMS)) {
			Optional<Path> file = subject.sidecar(name);
			if (file.isEmpty()) {
				continue;
			}
			byte[] content = BoundedFile.read(file.get(), MAX_SUMS, NAME, name);
			Sha256Sums.parse(content, name, NAME, !name.equals(SUMS)).verify(fileName, subject.sha256());
			matched.add(name);
		}
		if (matched.isEmpty()) {
			return Verdict.notApplicable();
		}
		return new Verdict(true, CHECKSUM, "SHA-256 matches " + String.join(" and ", matched));
	}
}
