package psi.format.raw.internal.verity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import psi.format.raw.internal.gpt.DiscoverablePartitions.Selection;
import psi.format.raw.internal.gpt.Partition;
import psi.spi.format.ImageException;

/**
 * Where an image's dm-verity root hash comes from, in systemd 252's order
 * ({@code verity_settings_load()} and
 * {@code dissected_image_load_verity_sig_partition()} in
 * src/shared/dissect-image.c):
 * <ol>
 * <li>the xattr {@code user.verity.roothash} on the image file, else the
 * sidecar {@code X.roothash} (one line of hex) next to image {@code X.raw};
 * then likewise {@code user.verity.usrhash} and {@code X.usrhash} for a usr
 * image. A sidecar hash may come with a detached signature,
 * {@code X.roothash.p7s} ({@code X.usrhash.p7s});
 * <li>the image's verity-sig partition (JSON with the hash and its signature);
 * when a sidecar gave a hash, the partition must carry the same one;
 * <li>psi's last resort, which systemd does not have: the partition UUID
 * convention of systemd-repart (the data partition's UUID is the first 128
 * bits of the root hash, the verity partition's the last 128), which rebuilds
 * a SHA-256 root hash. It proves the image intact, not who made it.
 * </ol>
 * Sidecars and xattrs come through {@link SidecarFiles}: from beside the
 * image file for {@code psi inspect}, from the image's origin for the
 * verifier. Signatures are exposed, not checked: that is the verifier's job.
 */
public final class RootHashSources {

	/** Bounds reads of sidecar files and xattrs, which hold one line of hex. */
	static final int MAX_SIDECAR = 4096;
	/** Bounds a detached PKCS#7 signature file. */
	static final int MAX_P7S = 1 << 20;

	/** Where a root hash was found. */
	public enum Source {
		/** an extended attribute of the image file */
		XATTR("xattr"),
		/** a {@code .roothash} or {@code .usrhash} file next to the image */
		SIDECAR("sidecar file"),
		/** the image's verity-sig partition */
		SIGNATURE_PARTITION("signature partition"),
		/** the UUIDs of the data and verity partitions: unauthenticated */
		PARTITION_UUIDS("partition UUIDs");

		private final String text;

		Source(String text) {
			this.text = text;
		}

		@Override
		public String toString() {
			return text;
		}
	}

	/**
	 * A detached signature of a root hash, not yet checked.
	 *
	 * @param pkcs7 the DER PKCS#7 signature of the root hash in hex
	 * @param certificateFingerprint SHA-256 of the signer's DER certificate, when
	 *        the signature partition names it
	 * @param where the file or partition it came from
	 */
	public record Signature(byte[] pkcs7, Optional<byte[]> certificateFingerprint, String where) {
		/** Copies the arrays. */
		public Signature {
			pkcs7 = pkcs7.clone();
			certificateFingerprint = certificateFingerprint.map(byte[]::clone);
		}

		@Override
		public byte[] pkcs7() {
			return pkcs7.clone();
		}

		@Override
		public Optional<byte[]> certificateFingerprint() {
			return certificateFingerprint.map(byte[]::clone);
		}
	}

	/**
	 * A root hash and where it came from.
	 *
	 * @param hash the root hash
	 * @param source the kind of source
	 * @param designator "root" or "usr": which file system it is for
	 * @param where the file, xattr or partition(s) it came from, for messages
	 * @param signature its detached signature, if one was found
	 */
	public record RootHash(byte[] hash, Source source, String designator, String where, Optional<Signature> signature) {
		/** Copies the hash. */
		public RootHash {
			hash = hash.clone();
		}

		@Override
		public byte[] hash() {
			return hash.clone();
		}

		@Override
		public String toString() {
			return "RootHash[" + HexFormat.of().formatHex(hash) + " for " + designator + " from " + where
				+ signature.map(s -> ", signed (" + s.where() + ")").orElse("") + "]";
		}
	}

	private RootHashSources() {
	}

	/**
	 * The root hash for a GPT image's selected partitions, its sidecars read
	 * from beside it.
	 *
	 * @param image the image file
	 * @param ch the open image
	 * @param s the partitions chosen by {@code DiscoverablePartitions}
	 * @return the root hash, or empty if the image has no verity partition or
	 *         nothing gives its root hash
	 * @throws ImageException if the sources disagree with each other or with the
	 *         image (a sidecar for usr on a root image, a hash whose partition
	 *         UUIDs are not the selected ones, a bad signature partition)
	 */
	public static Optional<RootHash> find(Path image, FileChannel ch, Selection s) throws IOException {
		return find(SidecarFiles.beside(image), "image '" + image + "'", ch, s);
	}

	/**
	 * The root hash for a GPT image's selected partitions.
	 *
	 * @param files the image's sidecar files
	 * @param label names the image in messages
	 * @param ch the open image
	 * @param s the partitions chosen by {@code DiscoverablePartitions}
	 * @return as {@link #find(Path, FileChannel, Selection)}
	 */
	public static Optional<RootHash> find(SidecarFiles files, String label, FileChannel ch, Selection s) throws IOException {
		Optional<RootHash> side = sidecar(files);
		if (side.isPresent()) {
			RootHash rh = side.get();
			byte[] hash = rh.hash();
			if (!rh.designator().equals(s.designator())) {
				throw new ImageException(label + ": " + rh.where() + " holds a " + rh.designator() + " hash, but the image's"
					+ " file system is its " + s.designator() + " partition " + s.data().number());
			}
			if (s.verity().isEmpty()) {
				throw new ImageException(label + ": " + rh.where() + " holds a root hash, but the image has no verity partition"
					+ " for its " + s.designator() + " partition " + s.data().number());
			}
			Partition verity = s.verity().get();
			UUID want = uuid(hash, 0);
			UUID wantVerity = uuid(hash, hash.length - 16);
			if (!want.equals(s.data().uuid()) || !wantVerity.equals(verity.uuid())) {
				throw new ImageException(label + ": the root hash in " + rh.where() + " names partitions " + want + " and "
					+ wantVerity + ", but the image's are " + s.data().uuid() + " (" + s.data().number() + ") and "
					+ verity.uuid() + " (" + verity.number() + ")");
			}
			if (s.veritySig().isPresent() && rh.signature().isEmpty()) {
				Partition sp = s.veritySig().get();
				VeritySignature sig = VeritySignature.read(ch, sp, label);
				if (!Arrays.equals(sig.rootHash(), hash)) {
					throw new ImageException(label + ": the root hash in signature partition " + sp.number() + " ("
						+ HexFormat.of().formatHex(sig.rootHash()) + ") is not the one in " + rh.where() + " ("
						+ HexFormat.of().formatHex(hash) + ")");
				}
				return Optional.of(new RootHash(hash, rh.source(), rh.designator(), rh.where(), Optional.of(
					new Signature(sig.signature(), sig.certificateFingerprint(), "signature partition " + sp.number()))));
			}
			return side;
		}
		return fromImage(ch, s, label);
	}

	/**
	 * The root hash the image itself gives, sidecars aside: its signature
	 * partition, else its partition UUIDs.
	 *
	 * @return the root hash, or empty if the image has no verity partition or
	 *         its digests are not SHA-256 and it has no signature partition
	 * @throws ImageException if the signature partition is bad
	 */
	public static Optional<RootHash> fromImage(FileChannel ch, Selection s, String label) throws IOException {
		if (s.veritySig().isPresent()) {
			Partition sp = s.veritySig().get();
			VeritySignature sig = VeritySignature.read(ch, sp, label);
			String where = "signature partition " + sp.number();
			return Optional.of(new RootHash(sig.rootHash(), Source.SIGNATURE_PARTITION, s.designator(), where,
				Optional.of(new Signature(sig.signature(), sig.certificateFingerprint(), where))));
		}
		if (s.verity().isPresent()) {
			return fromPartitionUuids(ch, s.data(), s.verity().get(), s.designator(), label);
		}
		return Optional.empty();
	}

	/**
	 * The root hash from the image file's xattrs or sidecar files beside it.
	 *
	 * @see #sidecar(SidecarFiles)
	 */
	public static Optional<RootHash> sidecar(Path image) throws IOException {
		return sidecar(SidecarFiles.beside(image));
	}

	/**
	 * The root hash from the image's xattrs or sidecar files, looked up before
	 * the image is opened, as systemd does: {@code user.verity.roothash},
	 * {@code X.roothash}, {@code user.verity.usrhash}, {@code X.usrhash}, with
	 * the matching {@code .p7s} signature if there is one.
	 *
	 * @throws ImageException if a sidecar or xattr exists but holds no root hash
	 */
	public static Optional<RootHash> sidecar(SidecarFiles files) throws IOException {
		for (String designator : List.of("root", "usr")) {
			String suffix = designator.equals("root") ? "roothash" : "usrhash";
			String xattr = "verity." + suffix;
			String where = files.describeXattr(xattr);
			Source source = Source.XATTR;
			Optional<byte[]> text = files.xattr(xattr, MAX_SIDECAR);
			Optional<String> name = Optional.empty();
			if (text.isEmpty()) {
				name = files.find("." + suffix);
				if (name.isPresent()) {
					where = files.describe(name.get());
					source = Source.SIDECAR;
					text = files.read(name.get(), MAX_SIDECAR);
				}
			}
			if (text.isPresent()) {
				byte[] hash = parseHexLine(text.get(), where);
				// the signature of a sidecar's hash is named after that very sidecar
				Optional<String> p7s;
				if (name.isPresent()) {
					String n = name.get() + ".p7s";
					p7s = files.file(n).isPresent() ? Optional.of(n) : Optional.empty();
				} else {
					p7s = files.find("." + suffix + ".p7s");
				}
				Optional<byte[]> sig = p7s.isPresent() ? files.read(p7s.get(), MAX_P7S) : Optional.empty();
				if (sig.isPresent() && sig.get().length == 0) {
					throw new ImageException(files.describe(p7s.get()) + " is empty");
				}
				String sigWhere = p7s.map(files::describe).orElse(null);
				return Optional.of(new RootHash(hash, source, designator, where,
					sig.map(b -> new Signature(b, Optional.empty(), sigWhere))));
			}
		}
		return Optional.empty();
	}

	/**
	 * @return {@code X.verity} next to image {@code X.raw}: an external hash
	 *         device, which systemd uses for images without a partition table
	 */
	public static Optional<Path> hashDeviceSidecar(Path image) throws IOException {
		SidecarFiles files = SidecarFiles.beside(image);
		Optional<String> name = files.find(".verity");
		return name.isPresent() ? files.file(name.get()) : Optional.empty();
	}

	/**
	 * The root hash the partition UUIDs give, by systemd-repart's convention,
	 * if the verity superblock says the tree's digests are 32 bytes (SHA-256),
	 * the only size two UUIDs hold.
	 */
	public static Optional<RootHash> fromPartitionUuids(FileChannel ch, Partition data, Partition verity, String designator,
		String label) throws IOException {
		VeritySuperblock sb = VeritySuperblock.read(ch, verity.offset(), label + " partition " + verity.number());
		if (sb.digestSize() != 32) {
			return Optional.empty();
		}
		ByteBuffer b = ByteBuffer.allocate(32);
		b.putLong(data.uuid().getMostSignificantBits()).putLong(data.uuid().getLeastSignificantBits());
		b.putLong(verity.uuid().getMostSignificantBits()).putLong(verity.uuid().getLeastSignificantBits());
		return Optional.of(new RootHash(b.array(), Source.PARTITION_UUIDS, designator,
			"UUIDs of partitions " + data.number() + " and " + verity.number(), Optional.empty()));
	}

	/** The 16 bytes at {@code off} as the UUID whose string form they are. */
	static UUID uuid(byte[] b, int off) {
		ByteBuffer bb = ByteBuffer.wrap(b, off, 16);
		return new UUID(bb.getLong(), bb.getLong());
	}

	/** A root hash written as hex on the first line, as systemd's {@code read_one_line_file()} and {@code unhexmem()} take it. */
	static byte[] parseHexLine(byte[] raw, String where) throws ImageException {
		String text = new String(raw, StandardCharsets.US_ASCII);
		int nl = text.indexOf('\n');
		String line = (nl >= 0 ? text.substring(0, nl) : text).strip();
		if (line.length() < 32 || line.length() > 128) {
			throw new ImageException(where + ": root hash of " + line.length() + " hex digits, expected 32 to 128");
		}
		return VeritySignature.hex(line, where);
	}
}
