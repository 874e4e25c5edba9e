package psi.spi.format;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * An image format: claims a path on the host and opens it as an {@link ImageTree}
 * the engine can read without mounting.
 * <p>
 * Implementations are registered as OSGi services with the property
 * {@value #TYPE} (use {@link ImageFormatType}); the engine asks every format in
 * ranking order and takes the first that claims a path. Implementations must
 * be thread safe: the engine may open several images at once.
 */
@ConsumerType
public interface ImageFormat {

	/** Service property: the image type name shown by {@code psi list}, e.g. {@code directory}. */
	String TYPE = "psi.format.type";

	/**
	 * Opens {@code path} if this format claims it.
	 *
	 * @param path an absolute host path (already resolved under the engine's root)
	 * @return the open image, or empty if the path is not of this format
	 * @throws ImageException if the path is of this format but cannot be read;
	 *         the message names what is wrong and where
	 * @throws IOException on an I/O error
	 */
	Optional<ImageTree> open(Path path) throws IOException;
}
