package psi.format.raw.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;

import psi.format.raw.internal.gpt.DiscoverablePartitions;
import psi.format.raw.internal.gpt.DiscoverablePartitions.Selection;
import psi.format.raw.internal.gpt.GptTable;
import psi.format.raw.internal.gpt.Partition;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.format.raw.internal.gpt.PartitionTypes.Role;
import psi.format.raw.internal.verity.RootHashSignature;
import psi.format.raw.internal.verity.RootHashSources;
import psi.format.raw.internal.verity.RootHashSources.RootHash;
import psi.format.raw.internal.verity.RootHashSources.Signature;
import psi.format.raw.internal.verity.RootHashSources.Source;
import psi.format.raw.internal.verity.SidecarFiles;
import psi.format.raw.internal.verity.TrustedCertificates;
import psi.format.raw.internal.verity.VeritySignature;
import psi.format.raw.internal.verity.VeritySuperblock;
import psi.format.raw.internal.verity.VerityTree;
import psi.spi.format.ImageException;
import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;
import psi.spi.verify.VerifierName;

/**
 * Verifies the dm-verity protection of a raw image: a GPT image with a verity
 * partition (and a signature partition), or a naked squashfs with a detached
 * hash device {@code X.verity}; root hashes and signatures also from the
 * sidecars {@code X.roothash} and {@code X.roothash.p7s} (or {@code usrhash}),
 * fetched from beside the image at its origin.
 * <p>
 * The checks, cheapest first:
 * <ol>
 * <li>the root hash agrees across its sources: a sidecar's hash must name the
 * data and verity partitions by their UUIDs (systemd picks them so) and be
 * the one in the signature partition;
 * <li>when signatures are wanted and the root hash has one, the PKCS#7
 * signature of the hex root hash verifies with a certificate in
 * {@code verity.d} ({@link TrustedCertificates});
 * <li>the whole Merkle tree, data and hash blocks, in user space on all cores
 * ({@link VerityTree}).
 * </ol>
 * The level reached: {@link Verifier#SIGNATURE} when the signature verified;
 * {@link Verifier#CHECKSUM} when the root hash came from a sidecar published
 * with the image; {@link Verifier#INTEGRITY} when only the image itself
 * carried it. Stateless and thread safe.
 */
@Component
@VerifierName(name = VerityVerifier.NAME)
public class VerityVerifier implements Verifier {

	static final String NAME = "verity";
	private static final HexFormat HEX = HexFormat.of();
	/** Hex digits of a root hash shown in a refusal. */
	private static final int SHOWN = 16;

	/** What to check: the data, its hash device, and the root hash they must give. */
	private record Plan(FileChannel data, long dataOffset, long dataLength, FileChannel hash, long hashOffset, long hashLength,
		RootHash root, Optional<String> hashDevice) {
	}

	/** A GPT image's root hash and the partitions it is for. */
	private record Found(RootHash root, Selection partitions) {
	}

	/** The root hash, the hash device and, for signatures, the root hash's signature: the files systemd reads beside an image. */
	@Override
	public java.util.Set<String> sidecars(String fileName, psi.spi.verify.Level wanted) {
		java.util.Set<String> names = new java.util.TreeSet<>();
		List<String> suffixes = wanted.atLeast(SIGNATURE) ? List.of(".roothash", ".verity", ".roothash.p7s") : List.of(".roothash", ".verity");
		for (String suffix : suffixes) {
			names.addAll(SidecarFiles.names(fileName, suffix));
		}
		return names;
	}

	@Override
	public Verdict verify(Subject subject) throws IOException {
		Path image = subject.image();
		if (!Files.isRegularFile(image, LinkOption.NOFOLLOW_LINKS)) {
			return Verdict.notApplicable();
		}
		String label = subject.fileName();
		SidecarFiles files = new OriginSidecars(subject);
		try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
			if (RawFormat.isSquashfs(ch, 0)) {
				return naked(subject, files, ch, label);
			}
			Optional<GptTable> table = GptTable.read(ch, ch.size(), label);
			if (table.isEmpty()) {
				return Verdict.notApplicable();
			}
			Optional<Found> found = gpt(files, ch, table.get(), label);
			if (found.isEmpty()) {
				return Verdict.notApplicable();
			}
			Selection s = found.get().partitions();
			Partition hp = s.verity().orElseThrow(() -> new VerificationException("verity: " + label + ": no verity partition"));
			return check(subject, new Plan(ch, s.data().offset(), s.data().length(), ch, hp.offset(), hp.length(),
				found.get().root(), Optional.empty()), label);
		} catch (ImageException e) {
			throw new VerificationException("verity: " + e.getMessage());
		}
	}

	/** A naked squashfs: applicable with a hash device sidecar, or a root hash sidecar (which then wants one). */
	private static Verdict naked(Subject subject, SidecarFiles files, FileChannel ch, String label) throws IOException {
		Optional<RootHash> side = RootHashSources.sidecar(files);
		Optional<String> verity = files.find(".verity");
		if (verity.isEmpty()) {
			if (side.isEmpty()) {
				return Verdict.notApplicable();
			}
			throw new VerificationException("verity: " + side.get().where() + " gives a root hash, but " + label
				+ " has no partition table and there is no hash device " + SidecarFiles.names(label, ".verity").get(0)
				+ " beside it");
		}
		String hashName = files.describe(verity.get());
		if (side.isEmpty()) {
			throw new VerificationException("verity: " + hashName + " is a dm-verity hash device, but there is no "
				+ SidecarFiles.names(label, ".roothash").get(0) + " with its root hash");
		}
		Path hashFile = files.file(verity.get())
			.orElseThrow(() -> new VerificationException("verity: " + hashName + " is gone"));
		try (FileChannel hash = FileChannel.open(hashFile, StandardOpenOption.READ)) {
			VeritySuperblock sb = VeritySuperblock.read(hash, 0, hashName);
			long covered = sb.dataBlocks() * sb.dataBlockSize();
			if (covered < ch.size()) {
				throw new VerificationException("verity: the hash tree in " + hashName + " covers " + covered + " bytes, but "
					+ label + " has " + ch.size() + ": its end would be read unchecked");
			}
			// hash blocks are named by their byte in the hash device: say which file that is
			return check(subject, new Plan(ch, 0, ch.size(), hash, 0, hash.size(), side.get(), Optional.of(hashName)),
				label + " with " + hashName);
		}
	}

	/**
	 * The root hash of a GPT image, its sources checked against each other.
	 *
	 * @return empty when the image has no verity partition and no root hash sidecar
	 */
	private static Optional<Found> gpt(SidecarFiles files, FileChannel ch, GptTable t, String label) throws IOException {
		String arch = PartitionTypes.hostArch();
		Optional<RootHash> side = RootHashSources.sidecar(files);
		Selection plain = null;
		ImageException plainError = null;
		try {
			plain = DiscoverablePartitions.select(t, arch);
		} catch (ImageException e) {
			plainError = e;
		}
		if (side.isEmpty()) {
			if (plainError != null) {
				if (hasVerity(t)) {
					throw plainError;
				}
				return Optional.empty();
			}
			if (plain.verity().isEmpty()) {
				return Optional.empty();
			}
			Optional<RootHash> own = RootHashSources.fromImage(ch, plain, label);
			if (own.isEmpty()) {
				throw new VerificationException("verity: " + label + " has verity partition " + plain.verity().get().number()
					+ " but no root hash: no signature partition, no " + SidecarFiles.names(label, ".roothash").get(0)
					+ ", and its tree is not SHA-256, which partition UUIDs could give");
			}
			return Optional.of(new Found(own.get(), plain));
		}
		RootHash sh = side.get();
		Selection byHash;
		try {
			// as systemd: a root hash known before dissection picks the data and verity partitions by their UUIDs
			byHash = DiscoverablePartitions.select(t, arch, sh.hash(), sh.designator());
		} catch (ImageException e) {
			Optional<RootHash> own = plain != null && plain.verity().isPresent() ? RootHashSources.fromImage(ch, plain, label)
				: Optional.empty();
			if (own.isPresent()) {
				throw mismatch(sh, own.get().hash(), own.get().where());
			}
			throw e;
		}
		if (byHash.veritySig().isPresent()) {
			Partition sp = byHash.veritySig().get();
			VeritySignature sig = VeritySignature.read(ch, sp, label);
			if (!Arrays.equals(sig.rootHash(), sh.hash())) {
				throw mismatch(sh, sig.rootHash(), "signature partition " + sp.number());
			}
		}
		// the designator, the UUIDs and the signature partition checked once more, and the signature found
		Optional<RootHash> root = RootHashSources.find(files, label, ch, byHash);
		return root.map(r -> new Found(r, byHash));
	}

	private static VerificationException mismatch(RootHash side, byte[] own, String ownWhere) {
		return new VerificationException("verity: the root hash in " + side.where() + " (" + shown(side.hash())
			+ ") does not match the image's (" + shown(own) + ", in " + ownWhere + ")");
	}

	private static boolean hasVerity(GptTable t) {
		for (Partition p : t.partitions()) {
			Optional<Role> role = PartitionTypes.lookup(p.type()).map(PartitionTypes.Known::role);
			if (role.isPresent() && role.get().perArchitecture() && role.get() != Role.ROOT && role.get() != Role.USR) {
				return true;
			}
		}
		return false;
	}

	/** The signature if wanted, then the tree; the verdict. */
	private static Verdict check(Subject subject, Plan plan, String label) throws IOException {
		RootHash root = plan.root();
		Optional<Signature> sig = root.signature();
		boolean wanted = subject.wants(SIGNATURE);
		TrustedCertificates.Trusted signer = null;
		if (wanted && sig.isPresent()) {
			TrustedCertificates trusted = TrustedCertificates.load(subject::host);
			signer = RootHashSignature.verify(sig.get().pkcs7(), root.hash(), trusted, sig.get().where());
		}
		VeritySuperblock sb = VerityTree.verify(plan.data(), plan.dataOffset(), plan.dataLength(), plan.hash(),
			plan.hashOffset(), 0, plan.hashLength(), root.hash(), label);
		String tree = "dm-verity tree checked (" + sb.dataBlocks() + " blocks of " + sb.dataBlockSize() + " bytes, "
			+ sb.algorithm() + plan.hashDevice().map(h -> ", hash device " + h).orElse("") + "), root hash "
			+ HEX.formatHex(root.hash());
		if (signer != null) {
			return new Verdict(true, SIGNATURE, tree + " signed by " + signer.certificate().getSubject() + " (" + signer.file()
				+ ", signature in " + sig.get().where() + ")");
		}
		String unsigned = sig.isEmpty() ? ", not signed" : ", signature in " + sig.get().where() + " not checked";
		psi.spi.verify.Level level = root.source() == Source.SIDECAR ? CHECKSUM : INTEGRITY;
		return new Verdict(true, level, tree + " from " + root.where() + unsigned);
	}

	private static String shown(byte[] hash) {
		String hex = HEX.formatHex(hash);
		return hex.length() <= SHOWN ? hex : hex.substring(0, SHOWN) + "…";
	}

	/**
	 * Sidecars fetched from beside the image at its origin (the sibling files of
	 * a local image), named in messages as there. An image fetched has no
	 * xattrs: {@code user.verity.*} is not looked at.
	 */
	private static final class OriginSidecars implements SidecarFiles {
		private final Subject subject;
		private final Map<String, Optional<Path>> fetched = new HashMap<>();

		OriginSidecars(Subject subject) {
			this.subject = subject;
		}

		@Override
		public String imageName() {
			return subject.fileName();
		}

		@Override
		public Optional<Path> file(String name) throws IOException {
			Optional<Path> p = fetched.get(name);
			if (p == null) {
				p = subject.sidecar(name);
				fetched.put(name, p);
			}
			return p;
		}

		@Override
		public String describe(String name) {
			return name;
		}
	}
}
