package psi.spi.format;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * An open image: raw, unresolved access to its file tree and what systemd
 * needs to root a service in it.
 * <p>
 * Paths given to {@link #lstat}, {@link #list} and {@link #read} are absolute
 * inside the image ({@code /usr/lib/os-release}), normalized, and free of
 * symbolic links in every component but the last: the engine resolves links
 * itself, inside the image's root, so that nothing escapes it. An
 * implementation must never follow a link on its own.
 * <p>
 * Instances are used by one thread at a time and closed by the engine.
 */
@ConsumerType
public interface ImageTree extends Closeable {

	/** @return the type name, as {@link ImageFormat#TYPE} */
	String type();

	/** @return the image's host path (a directory, subvolume or file) */
	Path path();

	/** @return how systemd roots a service in this image */
	RootKind rootKind();

	/**
	 * Describes one path without following a final symbolic link.
	 *
	 * @param path absolute path inside the image
	 * @return the entry, or empty if nothing is there
	 * @throws IOException on an I/O error or a corrupt image
	 */
	Optional<Entry> lstat(String path) throws IOException;

	/**
	 * Lists the names in a directory of the image, in no particular order.
	 *
	 * @param dir absolute path of a directory inside the image
	 * @return the names (not paths) of its entries; empty if it is absent
	 * @throws IOException on an I/O error or a corrupt image
	 */
	List<String> list(String dir) throws IOException;

	/**
	 * Reads a regular file of the image.
	 *
	 * @param path absolute path of a regular file inside the image
	 * @param maxBytes the most bytes the caller accepts
	 * @return the content
	 * @throws ImageException if the file is larger than {@code maxBytes}
	 * @throws IOException on an I/O error or a corrupt image
	 */
	byte[] read(String path, int maxBytes) throws IOException;

	/**
	 * Limits the disk space the image may take (portabled's
	 * {@code SetImageLimit}: a btrfs quota on a subvolume); formats
	 * without quotas refuse.
	 *
	 * @param bytes the most bytes, or {@code -1} for no limit
	 * @throws ImageException with the text {@code Operation not supported} where the image has no quota
	 * @since 1.1
	 */
	default void setLimit(long bytes) throws IOException {
		throw new ImageException("Operation not supported");
	}

	/**
	 * An extended attribute of a file of the image, as stored: a final
	 * symbolic link is not followed. Images carry few ({@code
	 * user.extension-release.strict} on an extension's release file), so a
	 * format that keeps none answers empty.
	 *
	 * @param path absolute path inside the image
	 * @param name the attribute's full name, e.g. {@code user.extension-release.strict}
	 * @return its value, or empty when the file has no such attribute
	 * @throws IOException on an I/O error or a corrupt image
	 * @since 1.1
	 */
	default Optional<byte[]> xattr(String path, String name) throws IOException {
		return Optional.empty();
	}

	/**
	 * The host path under which a file of the image can be reached directly,
	 * for {@code --copy=symlink}; only directory-like images have one.
	 *
	 * @param path absolute path inside the image
	 * @return the host path, or empty if the image is not a host directory tree
	 */
	default Optional<Path> hostPath(String path) {
		return Optional.empty();
	}

	/**
	 * Whether the image is an archive (a tar file, say) that systemd cannot
	 * root a service in where it lies. The engine reads it like any image
	 * ({@code psi inspect}), and to attach it unpacks it with
	 * {@link #unpack(Path)} into the pool as a directory image, then attaches
	 * that directory.
	 *
	 * @return whether {@link #unpack(Path)} is what attaching takes
	 * @since 1.2
	 */
	default boolean isArchive() {
		return false;
	}

	/**
	 * Unpacks an archive's tree into {@code target}, an empty directory the
	 * engine made beside the pool. Must keep every file inside
	 * {@code target}: no entry may escape through {@code ..}, an absolute
	 * name, or a symbolic or hard link unpacked before it; must write no
	 * device node and no set-user-ID or set-group-ID bit unless its
	 * configuration allows them; and must bound the sizes it writes. On
	 * failure the engine removes {@code target}.
	 *
	 * @param target the empty directory to fill
	 * @throws ImageException naming the entry that is refused and why
	 * @throws IOException on an I/O error
	 * @since 1.2
	 */
	default void unpack(Path target) throws IOException {
		throw new ImageException(type() + " image " + path() + " is not an archive");
	}

	/** @return whether the image is marked read-only */
	boolean isReadOnly() throws IOException;

	/**
	 * Marks the image read-only or writable (for directories the immutable
	 * flag, for subvolumes the btrfs flag, for files the write bits).
	 *
	 * @param readOnly the new state
	 * @throws IOException if the flag cannot be set
	 */
	void setReadOnly(boolean readOnly) throws IOException;

	/**
	 * Makes a read-only snapshot of the image at {@code target} (used for
	 * versions): a btrfs snapshot for subvolumes.
	 *
	 * @param target where the snapshot goes; must not exist
	 * @throws IOException if the image cannot be snapshotted
	 */
	default void snapshot(Path target) throws IOException {
		throw new ImageException(type() + " image " + path() + " cannot be snapshotted");
	}

	/** @return bytes used by the image, or -1 when unknown (portablectl shows {@code -}) */
	default long usage() {
		return -1;
	}

	/**
	 * What {@code psi inspect} shows of the image beyond its files, in order:
	 * for a raw image the partition table, the partitions used, the file
	 * system, the dm-verity root hash and whether the hash tree checked out.
	 *
	 * @return label to value, in display order; empty when there is nothing to say
	 * @throws IOException on an I/O error or a corrupt image
	 */
	default Map<String, String> describe() throws IOException {
		return Map.of();
	}

	/**
	 * Checks the image's integrity where it carries the means (a dm-verity
	 * hash tree and its root hash): every block, now. May take a while on
	 * large images; {@link #describe()} stays cheap.
	 *
	 * @return what was checked, label to result, in display order; empty when
	 *         the image carries nothing to check
	 * @throws ImageException naming the first block or hash that does not match
	 * @throws IOException on an I/O error
	 */
	default Map<String, String> verifyIntegrity() throws IOException {
		return Map.of();
	}

	@Override
	default void close() throws IOException {
		// most images hold nothing open
	}
}
