package psi.api.dto;

import org.osgi.dto.DTO;

/**
 * What {@code psi build} makes of a directory tree: a raw disk image (GPT,
 * squashfs root, dm-verity, optionally a signature) or a naked squashfs.
 * Paths are absolute, as the caller sees them; the build runs with the
 * caller's rights.
 *
 * @since 2.8
 */
public class BuildRequestDTO extends DTO {
	/** The directory tree to make the image of. */
	public String tree;
	/** The image file to write; written atomically, replacing one there. */
	public String output;
	/** {@code raw} (a GPT disk image, the default) or {@code squashfs} (a naked squashfs). */
	public String format = "raw";
	/** {@code zstd} (the default), {@code gzip}, {@code xz} or {@code lz4}. */
	public String compression = "zstd";
	/** The squashfs block size: a power of two from 4096 to 1048576. */
	public int blockSize = 128 * 1024;
	/** For {@code raw}: protect the root with dm-verity (a hash partition, and a signature partition when signed); without, the image is the root partition alone. */
	public boolean verity = true;
	/** The PEM private key (RSA or ECDSA) that signs the root hash, or null. */
	public String key;
	/** The PEM certificate of that key, or null. */
	public String certificate;
	/** For {@code squashfs}: also write the dm-verity sidecars ({@code .roothash}, {@code .verity}, and {@code .roothash.p7s} when signed). */
	public boolean sidecars;
	/** Every file owned by root (uid and gid 0) instead of its owner in the tree. */
	public boolean rootOwner;
	/** No time later than this, in seconds since the epoch ({@code SOURCE_DATE_EPOCH}); -1 for none. */
	public long sourceDateEpoch = -1;
	/** Store extended attributes (user, trusted, security). */
	public boolean xattrs = true;
	/** The architecture whose partition types the GPT uses ({@code x86-64}, {@code arm64}, ...), or null for the host's. */
	public String architecture;
	/** Check the image as {@code psi lint} does before it is put in place; an error leaves nothing behind. */
	public boolean lint = true;
	/** The host whose profile and verify policy lint judges by, or null for /. */
	public String root;
	/** The profile lint judges by, or null for the host's default. */
	public String profile;
}
