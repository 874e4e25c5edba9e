package psi.format.raw.internal.verity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import psi.spi.format.ImageException;

/**
 * The files systemd looks for beside an image ({@code X.roothash},
 * {@code X.roothash.p7s}, {@code X.verity}, and the {@code usrhash} forms), and
 * the image's {@code user.verity.*} xattrs: read from the image's directory
 * for {@code psi inspect} ({@link #beside(Path)}), or fetched from the image's
 * origin for the verifier.
 * <p>
 * Implementations need not be thread safe; one is used for one image at a time.
 */
public interface SidecarFiles {

	/** @return the image's file name, from which the sidecar names derive */
	String imageName();

	/**
	 * @param name a sidecar's file name, a single path component
	 * @return a local copy of it, or empty when there is none
	 * @throws IOException when it exists but cannot be had
	 */
	Optional<Path> file(String name) throws IOException;

	/**
	 * @param name a sidecar's file name
	 * @return how messages name it: the path, or the name at the origin
	 */
	String describe(String name);

	/**
	 * @param name the xattr's name without the {@code user.} prefix, e.g. {@code verity.roothash}
	 * @param max the most bytes it may hold
	 * @return its value, or empty when the image has none (or cannot have xattrs)
	 * @throws ImageException when it holds more than {@code max} bytes
	 */
	default Optional<byte[]> xattr(String name, int max) throws IOException {
		return Optional.empty();
	}

	/** @return how messages name an xattr of the image */
	default String describeXattr(String name) {
		return "xattr user." + name + " of " + imageName();
	}

	/**
	 * The sidecar's content, at most {@code max} bytes.
	 *
	 * @return the content, or empty when there is no such sidecar
	 * @throws ImageException when it is not a regular file or holds more than {@code max} bytes
	 */
	default Optional<byte[]> read(String name, int max) throws IOException {
		Optional<Path> file = file(name);
		if (file.isEmpty()) {
			return Optional.empty();
		}
		String where = describe(name);
		if (!Files.isRegularFile(file.get())) {
			if (!Files.exists(file.get(), LinkOption.NOFOLLOW_LINKS)) {
				return Optional.empty();
			}
			throw new ImageException(where + " is not a regular file");
		}
		try (FileChannel fc = FileChannel.open(file.get(), StandardOpenOption.READ)) {
			if (fc.size() > max) {
				throw new ImageException(where + " has " + fc.size() + " bytes, more than " + max);
			}
			ByteBuffer b = ByteBuffer.allocate((int) fc.size());
			while (b.hasRemaining() && fc.read(b) >= 0) {
				// read to the end
			}
			return Optional.of(Arrays.copyOf(b.array(), b.position()));
		} catch (NoSuchFileException e) {
			return Optional.empty();
		}
	}

	/**
	 * The names systemd 252's {@code build_auxiliary_path()} gives a sidecar:
	 * {@code X.raw} becomes {@code X<suffix>}, other names get the suffix
	 * appended. For psi's own {@code X.psi} (a raw image by another name),
	 * {@code X<suffix>} is tried first, then systemd's {@code X.psi<suffix>}.
	 *
	 * @param imageName the image's file name
	 * @param suffix e.g. {@code .roothash}
	 * @return the names to try, in order
	 */
	static List<String> names(String imageName, String suffix) {
		if (imageName.endsWith(".raw")) {
			return List.of(imageName.substring(0, imageName.length() - 4) + suffix);
		}
		if (imageName.endsWith(".psi") && imageName.length() > 4) {
			return List.of(imageName.substring(0, imageName.length() - 4) + suffix, imageName + suffix);
		}
		return List.of(imageName + suffix);
	}

	/**
	 * @return the first of {@link #names(String, String)} this image has, or
	 *         empty if it has none
	 */
	default Optional<String> find(String suffix) throws IOException {
		for (String name : names(imageName(), suffix)) {
			if (file(name).isPresent()) {
				return Optional.of(name);
			}
		}
		return Optional.empty();
	}

	/**
	 * The files beside an image on this host, and its xattrs, as systemd finds
	 * them when it mounts the image; messages name them by path.
	 *
	 * @param image the image file
	 */
	static SidecarFiles beside(Path image) {
		return new SidecarFiles() {
			@Override
			public String imageName() {
				return image.getFileName().toString();
			}

			@Override
			public Optional<Path> file(String name) {
				Path p = image.resolveSibling(name);
				return Files.exists(p) ? Optional.of(p) : Optional.empty();
			}

			@Override
			public String describe(String name) {
				return image.resolveSibling(name).toString();
			}

			@Override
			public String describeXattr(String name) {
				return "xattr user." + name + " of " + image;
			}

			@Override
			public Optional<byte[]> xattr(String name, int max) throws IOException {
				UserDefinedFileAttributeView view = Files.getFileAttributeView(image, UserDefinedFileAttributeView.class);
				if (view == null) {
					return Optional.empty();
				}
				List<String> names;
				try {
					names = view.list();
				} catch (UnsupportedOperationException | IOException e) {
					// no such file, or a file system without xattrs (ENOTSUP): there is none to read
					return Optional.empty();
				}
				if (!names.contains(name)) {
					return Optional.empty();
				}
				int size = view.size(name);
				if (size > max) {
					throw new ImageException(describeXattr(name) + " has " + size + " bytes, more than " + max);
				}
				ByteBuffer b = ByteBuffer.allocate(size);
				view.read(name, b);
				return Optional.of(Arrays.copyOf(b.array(), b.position()));
			}
		};
	}
}
