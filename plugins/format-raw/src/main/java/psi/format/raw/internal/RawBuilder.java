package psi.format.raw.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

import org.osgi.service.component.annotations.Component;

import psi.api.dto.BuildRequestDTO;
import psi.api.dto.BuildResultDTO;
import psi.format.raw.internal.build.PemFiles;
import psi.format.raw.internal.build.RawImageWriter;
import psi.format.raw.internal.build.VeritySidecars;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.format.raw.internal.squashfs.SquashfsWriter;
import psi.spi.format.ImageBuilder;
import psi.spi.format.ImageException;

/**
 * {@code psi build}'s raw images: a squashfs of the tree, written on every
 * core, then either the GPT disk image systemd-repart would make of it (root
 * or usr partition, dm-verity hash partition, signature partition) or, for
 * {@code --format squashfs}, the squashfs itself with its verity sidecars when
 * asked. Pure Java: no root, no loop device, no tool.
 */
@Component(property = { ImageBuilder.FORMATS + "=raw", ImageBuilder.FORMATS + "=squashfs" })
public class RawBuilder implements ImageBuilder {

	@Override
	public BuildResultDTO build(BuildRequestDTO req, Path output, LongConsumer progress) throws IOException {
		SquashfsWriter.Options options;
		try {
			options = new SquashfsWriter.Options(req.compression, req.blockSize, req.rootOwner, req.sourceDateEpoch, -1, req.xattrs,
				Runtime.getRuntime().availableProcessors());
		} catch (IllegalArgumentException e) {
			throw new ImageException("psi build: " + e.getMessage());
		}
		String arch = req.architecture == null ? PartitionTypes.hostArch() : req.architecture;
		if (PartitionTypes.of(PartitionTypes.Role.ROOT, arch).isEmpty()) {
			throw new ImageException("psi build: --arch " + arch + ": no Discoverable Partitions types for it (x86-64, arm64, x86, arm, riscv64, ...)");
		}
		if (req.key != null && !req.verity) {
			throw new ImageException("psi build: --sign signs the dm-verity root hash: it cannot go with --no-verity");
		}
		// the key and certificate first: a wrong one fails before minutes of compressing
		Optional<PrivateKey> key = Optional.empty();
		Optional<X509Certificate> cert = Optional.empty();
		if (req.key != null) {
			try {
				key = Optional.of(PemFiles.privateKey(Path.of(req.key)));
				cert = Optional.of(PemFiles.certificate(Path.of(req.certificate)));
				RawImageWriter.Options check = new RawImageWriter.Options(arch, false, key, cert, Optional.empty());
				RawImageWriter.checkPair(check);
			} catch (IOException e) {
				throw new ImageException("psi build: " + e.getMessage());
			}
		}
		Path tree = Path.of(req.tree);
		BuildResultDTO r = new BuildResultDTO();
		r.compression = req.compression;
		if ("squashfs".equals(req.format)) {
			fill(r, SquashfsWriter.write(tree, options, output, progress));
			if (req.sidecars) {
				VeritySidecars.Result s = VeritySidecars.write(output, key, cert);
				r.rootHash = s.rootHash();
				r.signed = key.isPresent();
				s.files().forEach(f -> r.sidecars.add(f.toString()));
			}
			return r;
		}
		boolean usr = onlyUsr(tree);
		Path fs = output.resolveSibling(output.getFileName() + ".squashfs");
		try {
			fill(r, SquashfsWriter.write(usr ? tree.resolve("usr") : tree, options, fs, progress));
			RawImageWriter.Result w;
			try {
				w = RawImageWriter.write(fs, new RawImageWriter.Options(arch, usr, key, cert, Optional.empty(), req.verity), output);
			} catch (IOException e) {
				throw new ImageException("psi build: " + e.getMessage());
			}
			r.bytes = w.size();
			r.rootHash = req.verity ? w.rootHashHex() : null;
			r.signed = key.isPresent();
			for (RawImageWriter.Written p : w.partitions()) {
				r.partitions.add(p.label() + " " + p.uuid() + " (" + p.length() + " bytes)");
			}
			return r;
		} finally {
			Files.deleteIfExists(fs);
		}
	}

	private static void fill(BuildResultDTO r, SquashfsWriter.Result s) {
		r.bytes = s.bytes();
		r.files = s.files();
		r.dataBytes = s.dataBytes();
		r.inodes = s.inodes();
	}

	/** @return whether the tree holds nothing but {@code /usr}: then it becomes a usr partition, as the specification has for /usr images */
	static boolean onlyUsr(Path tree) throws IOException {
		try (Stream<Path> s = Files.list(tree)) {
			List<String> top = s.map(p -> p.getFileName().toString()).toList();
			return top.equals(List.of("usr")) && Files.isDirectory(tree.resolve("usr"), LinkOption.NOFOLLOW_LINKS);
		}
	}
}
