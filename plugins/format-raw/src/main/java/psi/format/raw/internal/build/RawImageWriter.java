package psi.format.raw.internal.build;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import psi.format.raw.internal.gpt.Partition;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.format.raw.internal.gpt.PartitionTypes.Role;
import psi.format.raw.internal.verity.VeritySignature;
import psi.format.raw.internal.verity.VeritySuperblock;
import psi.format.raw.internal.verity.VerityTree;

/**
 * Turns a finished file system image (a squashfs) into a Discoverable
 * Partitions disk image as {@code systemd-repart} makes one for a portable
 * service (its {@code portable.repart.d}: root, root-verity, root-verity-sig),
 * in pure Java, without loop devices or tools.
 * <p>
 * The layout, as repart (src/partition/repart.c) and libfdisk lay out a new
 * image with 512-byte sectors: protective MBR, GPT header and 128 entries;
 * the first partition at 1 MiB; partitions back to back on 4 KiB boundaries
 * (repart's grain); then the backup entries and header, the image ending 20
 * KiB after the last partition (repart's {@code GPT_METADATA_SIZE} of 1044
 * KiB, head and tail). The partitions:
 * <ol>
 * <li>{@code root-ARCH} (or {@code usr-ARCH}): the file system, zero-padded to
 * 4 KiB;
 * <li>{@code root-ARCH-verity}: the dm-verity hash device as
 * {@code veritysetup format} writes it: the 512-byte superblock (version 1,
 * hash type 1, sha256, 32-byte salt) in a 4 KiB block, then the tree; data
 * and hash blocks of 4096 bytes (repart since v255; v252 used the 512-byte
 * sector size), covering the whole data partition; sized as repart's
 * {@code calculate_verity_hash_size()} (at least two blocks);
 * <li>{@code root-ARCH-verity-sig}, when a key is given: see
 * {@link SignaturePartition}; 16 KiB as repart's {@code VERITY_SIG_SIZE},
 * larger if the JSON needs it.
 * </ol>
 * Partition names are the type names, as repart's default labels. All three
 * carry the read-only attribute (bit 60), as repart sets it on verity data
 * and hash partitions since v255 and on signature partitions since v260 (v252
 * set grow-fs on the data partition and nothing on the signature one).
 * <p>
 * Reproducible: the same file system and options give the same bytes (with an
 * RSA key or none; ECDSA signatures are random). As repart: the data partition
 * UUID is the first 128 bits of the root hash, the verity partition UUID the
 * last 128 (both as they are, not marked v4); the rest comes from a 128-bit
 * seed by repart's HMAC-SHA256 derivations ({@link Seed}): disk UUID
 * {@code derive_uuid(seed, "disk-uuid")}, verity salt
 * {@code derive_salt(seed, "verity-salt")} and verity superblock UUID
 * {@code derive_uuid(seed, "verity-uuid")} (since v255; v252's are random),
 * signature partition UUID HMAC(seed, its type UUID). Where repart takes the machine ID as seed, the
 * seed here is the first 128 bits of the SHA-256 of the file system, unless
 * {@link Options#seed()} gives one (repart's {@code --seed=}).
 * <p>
 * The image is written to a temporary file beside {@code out}, synced and
 * renamed over it; on failure nothing is left. Stateless and thread safe.
 */
public final class RawImageWriter {

	/** Bounds the file system: its hash tree (1/128 of it) is built in memory. */
	static final long MAX_FILESYSTEM = 16L << 30;
	static final int BLOCK = 4096;
	static final long FIRST_OFFSET = GptWriter.FIRST_USABLE * GptWriter.SECTOR;
	/** repart's GPT_METADATA_SIZE (1044 KiB) less the 1 MiB before the first partition. */
	static final long TAIL = 20 << 10;
	private static final int COPY_BUFFER = 1 << 20;
	private static final long READ_ONLY = 1L << Partition.ATTR_READ_ONLY;

	private RawImageWriter() {
	}

	/**
	 * What to write.
	 *
	 * @param arch the systemd architecture name of the partition types
	 *        ({@code x86-64}, {@code arm64}, ...)
	 * @param usr usr partitions (a /usr image) instead of root
	 * @param key the private key (RSA or EC) that signs the root hash, with
	 *        {@code cert}; both or neither
	 * @param cert the certificate of {@code key}
	 * @param seed repart's {@code --seed=}: where the disk UUID, the salt, the
	 *        verity UUID and the signature partition UUID come from; empty to
	 *        derive it from the file system's content
	 * @param verity whether to protect the data with dm-verity (hash and
	 *        signature partitions); without, the image is the data partition
	 *        alone, as repart makes it without {@code Verity=}
	 */
	public record Options(String arch, boolean usr, Optional<PrivateKey> key, Optional<X509Certificate> cert,
		Optional<UUID> seed, boolean verity) {

		/** Options with dm-verity. */
		public Options(String arch, boolean usr, Optional<PrivateKey> key, Optional<X509Certificate> cert, Optional<UUID> seed) {
			this(arch, usr, key, cert, seed, true);
		}

		/** @throws IllegalArgumentException for an unknown architecture, or a key without a certificate or the reverse */
		public Options {
			if (PartitionTypes.of(Role.ROOT, arch).isEmpty()) {
				throw new IllegalArgumentException("no partition types for architecture '" + arch + "'");
			}
			if (key.isPresent() != cert.isPresent()) {
				throw new IllegalArgumentException(key.isPresent() ? "a private key without its certificate"
					: "a certificate without its private key");
			}
			if (key.isPresent() && !verity) {
				throw new IllegalArgumentException("a signature signs the dm-verity root hash: an image without verity cannot be signed");
			}
		}

		/** @return unsigned root partitions for the host's architecture, seed from the content */
		public static Options unsigned() {
			return new Options(PartitionTypes.hostArch(), false, Optional.empty(), Optional.empty(), Optional.empty());
		}

		/** @return signed root partitions for the host's architecture, seed from the content */
		public static Options signed(PrivateKey key, X509Certificate cert) {
			return new Options(PartitionTypes.hostArch(), false, Optional.of(key), Optional.of(cert), Optional.empty());
		}

		/** @return these options with usr partitions instead of root, or the reverse */
		public Options withUsr(boolean usr) {
			return new Options(arch, usr, key, cert, seed);
		}

		/** @return these options with the partition types of {@code arch} */
		public Options withArch(String arch) {
			return new Options(arch, usr, key, cert, seed);
		}

		/** @return these options with an explicit seed */
		public Options withSeed(UUID seed) {
			return new Options(arch, usr, key, cert, Optional.of(seed));
		}
	}

	/**
	 * A partition written.
	 *
	 * @param number its entry number, from 1
	 * @param label its GPT name
	 * @param type its type GUID
	 * @param uuid its unique GUID
	 * @param offset its first byte in the image
	 * @param length its size in bytes
	 */
	public record Written(int number, String label, UUID type, UUID uuid, long offset, long length) {
	}

	/**
	 * What was written.
	 *
	 * @param rootHash the dm-verity root hash
	 * @param diskUuid the GPT disk GUID
	 * @param seed the seed used
	 * @param partitions data, verity and (if signed) signature partition, in table order
	 * @param size the image's size in bytes
	 */
	public record Result(byte[] rootHash, UUID diskUuid, UUID seed, List<Written> partitions, long size) {

		/** Copies the arrays and lists, so that the record stays immutable. */
		public Result {
			rootHash = rootHash.clone();
			partitions = List.copyOf(partitions);
		}

		@Override
		public byte[] rootHash() {
			return rootHash.clone();
		}

		/** @return the root hash in lowercase hex, as {@code .roothash} files and repart's JSON give it */
		public String rootHashHex() {
			return HexFormat.of().formatHex(rootHash);
		}
	}

	/**
	 * Writes the image.
	 *
	 * @param filesystem the file system image, e.g. a squashfs
	 * @param options partition types and signing
	 * @param out the image to write; replaced if it exists
	 * @return the root hash and what was written
	 * @throws IOException one line naming the file: the file system missing,
	 *         empty or too large, a key that does not match its certificate, a
	 *         write failure
	 */
	public static Result write(Path filesystem, Options options, Path out) throws IOException {
		try {
			checkPair(options);
		} catch (IOException e) {
			throw new Failure("cannot write '" + out + "': " + e.getMessage());
		}
		Path dir = out.toAbsolutePath().getParent();
		String name = out.getFileName().toString();
		try (FileChannel fs = openFilesystem(filesystem)) {
			long fsSize = fs.size();
			Path tmp;
			try {
				tmp = Files.createTempFile(dir, "." + name + ".", ".tmp",
					PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
			} catch (IOException e) {
				throw new IOException("cannot write '" + out + "': cannot create a temporary file in '" + dir + "': "
					+ PemFiles.oneLine(e));
			}
			boolean done = false;
			try {
				Result r;
				try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
					r = layOut(fs, fsSize, filesystem, options, ch, out);
					ch.force(true);
				}
				try {
					Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
				} catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
					throw new Failure("cannot write '" + out + "': cannot rename " + tmp.getFileName() + " over it: "
						+ PemFiles.oneLine(e));
				}
				done = true;
				syncDirectory(dir);
				return r;
			} catch (Failure e) {
				throw e;
			} catch (IOException e) {
				throw new Failure("cannot write '" + out + "': " + PemFiles.oneLine(e));
			} finally {
				if (!done) {
					Files.deleteIfExists(tmp);
				}
			}
		}
	}

	/**
	 * @throws IOException when the options' private key is not the one of their certificate (one line)
	 */
	public static void checkPair(Options options) throws IOException {
		if (options.key().isPresent()) {
			SignaturePartition.checkPair(options.key().get(), options.cert().orElseThrow());
		}
	}

	/** A failure whose one-line message already names the file and what went wrong. */
	private static final class Failure extends IOException {
		private static final long serialVersionUID = 1L;

		Failure(String message) {
			super(message);
		}
	}

	private static FileChannel openFilesystem(Path filesystem) throws IOException {
		String what = "filesystem '" + filesystem + "'";
		if (!Files.isRegularFile(filesystem)) {
			throw new IOException(what + (Files.exists(filesystem) ? " is not a regular file" : " does not exist"));
		}
		FileChannel ch;
		try {
			ch = FileChannel.open(filesystem, StandardOpenOption.READ);
		} catch (NoSuchFileException e) {
			throw new IOException(what + " does not exist");
		} catch (IOException e) {
			throw new IOException(what + " cannot be read: " + PemFiles.oneLine(e));
		}
		long size = ch.size();
		if (size == 0 || size > MAX_FILESYSTEM) {
			ch.close();
			throw new IOException(what + (size == 0 ? " is empty" : " has " + size + " bytes, more than " + MAX_FILESYSTEM));
		}
		return ch;
	}

	/** Writes the partitions and the table into {@code ch}. */
	private static Result layOut(FileChannel fs, long fsSize, Path filesystem, Options o, FileChannel ch, Path out)
		throws IOException {
		long dataOffset = FIRST_OFFSET;
		long dataSize = roundUp(fsSize, BLOCK);
		byte[] digest = copy(fs, fsSize, filesystem, ch, dataOffset);
		// the padding to the 4 KiB block, which the tree covers
		GptWriter.writeFully(ch, ByteBuffer.allocate((int) (dataSize - fsSize)), dataOffset + fsSize);
		Seed seed = o.seed().map(Seed::new).orElseGet(() -> Seed.of(digest));
		Role dataRole = o.usr() ? Role.USR : Role.ROOT;
		if (!o.verity()) {
			// the data partition alone, its UUID derived from the seed and its type, as repart derives it
			UUID type = type(dataRole, o.arch());
			Written data = written(1, type, seed.partitionUuid(type), dataOffset, dataSize);
			long size = dataOffset + dataSize + TAIL;
			UUID disk = seed.uuid("disk-uuid");
			GptWriter.write(ch, size / GptWriter.SECTOR, disk, List.of(new GptWriter.Entry(data.type(), data.uuid(),
				dataOffset / GptWriter.SECTOR, (dataOffset + dataSize) / GptWriter.SECTOR - 1, READ_ONLY, data.label())));
			return new Result(new byte[0], disk, seed.value(), List.of(data), size);
		}

		HashDevice hash = hashDevice(ch, dataOffset, dataSize, seed);
		byte[] root = hash.root();
		long hashOffset = dataOffset + dataSize;
		long hashSize = hash.size();
		GptWriter.writeFully(ch, ByteBuffer.wrap(hash.superblock()), hashOffset);
		GptWriter.writeFully(ch, ByteBuffer.wrap(hash.tree()), hashOffset + BLOCK);

		Role verityRole = o.usr() ? Role.USR_VERITY : Role.ROOT_VERITY;
		Role sigRole = o.usr() ? Role.USR_VERITY_SIG : Role.ROOT_VERITY_SIG;
		List<Written> parts = new ArrayList<>();
		parts.add(written(1, type(dataRole, o.arch()), Seed.uuidOf(root, 0), dataOffset, dataSize));
		parts.add(written(2, type(verityRole, o.arch()), Seed.uuidOf(root, root.length - 16), hashOffset, hashSize));
		long end = hashOffset + hashSize;
		if (o.key().isPresent()) {
			X509Certificate cert = o.cert().orElseThrow();
			byte[] pkcs7 = SignaturePartition.pkcs7(root, o.key().get(), cert);
			String json = SignaturePartition.json(root, cert, pkcs7);
			long sigSize = Math.max(SignaturePartition.DEFAULT_SIZE, roundUp(json.length() + 1L, BLOCK));
			if (sigSize > VeritySignature.MAX_PARTITION) {
				throw new Failure("cannot write '" + out + "': the signature JSON has " + json.length()
					+ " bytes, more than systemd reads (4 MiB)");
			}
			UUID sigType = type(sigRole, o.arch());
			parts.add(written(3, sigType, seed.partitionUuid(sigType), end, sigSize));
			GptWriter.writeFully(ch, ByteBuffer.wrap(SignaturePartition.content(json, (int) sigSize)), end);
			end += sigSize;
		}

		long size = end + TAIL;
		UUID disk = seed.uuid("disk-uuid");
		List<GptWriter.Entry> entries = new ArrayList<>();
		for (Written w : parts) {
			entries.add(new GptWriter.Entry(w.type(), w.uuid(), w.offset() / GptWriter.SECTOR,
				(w.offset() + w.length()) / GptWriter.SECTOR - 1, READ_ONLY, w.label()));
		}
		GptWriter.write(ch, size / GptWriter.SECTOR, disk, entries);
		return new Result(root, disk, seed.value(), parts, size);
	}

	/**
	 * The dm-verity hash device of {@code dataSize} bytes of data: the
	 * superblock, in a block of its own, then the tree, as
	 * {@code veritysetup format} writes them; salt and UUID from the seed.
	 *
	 * @param root the root hash
	 * @param superblock the superblock's 512 bytes
	 * @param tree the tree's levels, top first
	 */
	record HashDevice(byte[] root, byte[] superblock, byte[] tree) {
		/** @return the partition's size: the superblock's block and the tree, at least two blocks (as repart sizes it) */
		long size() {
			return Math.max(2, 1 + tree.length / BLOCK) * (long) BLOCK;
		}
	}

	static HashDevice hashDevice(FileChannel data, long dataOffset, long dataSize, Seed seed) throws IOException {
		VerityTree.Params params = new VerityTree.Params(1, "sha256", BLOCK, BLOCK, dataSize / BLOCK, seed.salt("verity-salt"));
		VerityTree.Built tree = VerityTree.build(data, dataOffset, params);
		VeritySuperblock sb = new VeritySuperblock(1, 1, seed.uuid("verity-uuid"), "sha256", BLOCK, BLOCK, dataSize / BLOCK,
			params.salt());
		return new HashDevice(tree.root(), sb.toBytes(), tree.tree());
	}

	/** Copies the file system to {@code at}; returns its SHA-256. */
	private static byte[] copy(FileChannel fs, long fsSize, Path filesystem, FileChannel ch, long at) throws IOException {
		MessageDigest md;
		try {
			md = MessageDigest.getInstance("SHA-256");
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("the JDK lacks SHA-256", e);
		}
		ByteBuffer b = ByteBuffer.allocate(COPY_BUFFER);
		long done = 0;
		while (done < fsSize) {
			b.clear().limit((int) Math.min(COPY_BUFFER, fsSize - done));
			while (b.hasRemaining()) {
				int n;
				try {
					n = fs.read(b, done + b.position());
				} catch (IOException e) {
					throw new Failure("filesystem '" + filesystem + "' cannot be read at byte " + (done + b.position()) + ": "
						+ PemFiles.oneLine(e));
				}
				if (n < 0) {
					throw new Failure("filesystem '" + filesystem + "' shrank while it was read: it ends at byte "
						+ (done + b.position()) + ", not " + fsSize);
				}
			}
			b.flip();
			md.update(b.array(), 0, b.limit());
			GptWriter.writeFully(ch, b, at + done);
			done += b.limit();
		}
		return md.digest();
	}

	private static Written written(int number, UUID type, UUID uuid, long offset, long length) {
		return new Written(number, PartitionTypes.name(type), type, uuid, offset, length);
	}

	private static UUID type(Role role, String arch) {
		return PartitionTypes.of(role, arch).orElseThrow(() -> new IllegalArgumentException(role + " " + arch));
	}

	private static long roundUp(long n, long to) {
		return (n + to - 1) / to * to;
	}

	/** Makes the rename durable; a file system that cannot sync directories is left as it is. */
	private static void syncDirectory(Path dir) {
		try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
			d.force(true);
		} catch (IOException e) {
			// the image is complete and renamed; only the durability of the rename is not promised
		}
	}
}
