package psi.spi.sandbox;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import psi.spi.verify.Level;

/**
 * What a {@link SandboxPolicy} is told of an image about to be attached
 * ({@link SandboxPolicy#refusal(AttachSubject)}). Implemented by the engine.
 *
 * @since 1.1
 */
@ProviderType
public interface AttachSubject {

	/** @return the image's name, without suffix and version ({@code foobar} for {@code foobar_1.2.raw}) */
	String name();

	/** @return the image's path as the host sees it */
	String path();

	/** @return the format that read it ({@code raw}, {@code directory}, ...) */
	String type();

	/** @return the profile it is attached with */
	String profile();

	/** @return its os-release fields */
	Map<String, String> osRelease();

	/** @return the names of the units about to be attached */
	List<String> units();

	/**
	 * How strongly the image is vouched for: what verified it when it was
	 * pulled (while its SHA-256 is unchanged), or what the installed
	 * verifiers find on it in place (its dm-verity signature, a
	 * {@code SHA256SUMS} or {@code .roothash.p7s} beside it). Checked the
	 * first time a policy asks, which may read the whole image.
	 *
	 * @return the strongest level reached, or empty when nothing vouches for it
	 * @throws IOException when it cannot be checked
	 */
	Optional<Level> verified() throws IOException;
}
