package psi.format.raw.internal.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import psi.format.raw.internal.gpt.Fixtures;

/**
 * Inputs made by the real tools: a squashfs of a small portable service tree
 * ({@code mksquashfs}, reproducible), keys and certificates ({@code openssl}).
 */
final class BuildFixtures {

	private BuildFixtures() {
	}

	/** A portable service tree with {@code noise} bytes of random data (seeded), so that the tree has several levels. */
	static Path tree(Path dir, String name, int noise, long seed) throws IOException {
		Path root = dir.resolve(name);
		Files.createDirectories(root.resolve("usr/lib/systemd/system"));
		Files.createDirectories(root.resolve("etc"));
		Files.writeString(root.resolve("usr/lib/os-release"), "ID=psitest\nPORTABLE_PREFIXES=psitest\n");
		Files.writeString(root.resolve("usr/lib/systemd/system/psitest.service"), "[Service]\nExecStart=/bin/true\n");
		byte[] b = new byte[noise];
		new Random(seed).nextBytes(b);
		Files.write(root.resolve("usr/lib/noise"), b);
		return root;
	}

	/** {@code mksquashfs tree fs -noappend -comp gzip}, with fixed times and owners. */
	static Path squashfs(Path tree, Path fs) throws IOException {
		Fixtures.run(List.of("mksquashfs", tree.toString(), fs.toString(), "-quiet", "-noappend", "-comp", "gzip", "-all-root",
			"-mkfs-time", "0", "-all-time", "0"), null);
		return fs;
	}

	/** A self-signed certificate and its key: {@code rsa:2048} (PKCS#8 PEM) or {@code ec} (P-256, traditional PEM). */
	static void keyPair(Path key, Path cert, String kind, String subject) throws IOException {
		if (kind.equals("ec")) {
			Fixtures.run(List.of("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.toString()), null);
			Fixtures.run(List.of("openssl", "req", "-x509", "-key", key.toString(), "-out", cert.toString(), "-days", "3650",
				"-subj", subject), null);
		} else {
			Fixtures.run(List.of("openssl", "req", "-x509", "-newkey", kind, "-nodes", "-keyout", key.toString(), "-out",
				cert.toString(), "-days", "3650", "-subj", subject), null);
		}
	}

	/**
	 * A verification subject: a local image, its sidecars beside it (when asked), the given host root.
	 *
	 * @param wanted the levels the verifier is asked for
	 */
	record Subject(Path image, Path root, boolean sidecars, psi.spi.verify.Level... wanted) implements psi.spi.verify.Verifier.Subject {
		@Override
		public String fileName() {
			return image.getFileName().toString();
		}

		@Override
		public java.net.URI origin() {
			return null;
		}

		@Override
		public String sha256() {
			throw new UnsupportedOperationException();
		}

		@Override
		public java.util.Optional<Path> sidecar(String name) {
			Path p = image.resolveSibling(name);
			return sidecars && Files.exists(p) ? java.util.Optional.of(p) : java.util.Optional.empty();
		}

		@Override
		public boolean wants(psi.spi.verify.Level level) {
			return List.of(wanted).contains(level);
		}

		@Override
		public Path host(String path) {
			return root.resolve(path.substring(1));
		}
	}
}
