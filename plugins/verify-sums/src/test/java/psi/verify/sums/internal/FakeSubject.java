package psi.verify.sums.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import psi.spi.verify.Verifier;

/**
 * A subject over local files, as the engine hands one to verifiers: the image
 * and its sidecars in one directory standing for the origin, host paths under
 * a root directory.
 */
final class FakeSubject implements Verifier.Subject {


	final Path origin;
	final Path root;
	final String fileName;
	final List<String> asked = new ArrayList<>();
	psi.spi.verify.Level wanted = Verifier.SIGNATURE;

	FakeSubject(Path origin, Path root, String fileName) {
		this.origin = origin;
		this.root = root;
		this.fileName = fileName;
	}

	@Override
	public Path image() {
		return origin.resolve(fileName);
	}

	@Override
	public String fileName() {
		return fileName;
	}

	@Override
	public URI origin() {
		return URI.create("https://images.example/" + fileName);
	}

	@Override
	public String sha256() throws IOException {
		try (InputStream in = new DigestInputStream(Files.newInputStream(image()), MessageDigest.getInstance("SHA-256"))) {
			in.transferTo(java.io.OutputStream.nullOutputStream());
			return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
		} catch (NoSuchAlgorithmException e) {
			throw new AssertionError(e);
		}
	}

	@Override
	public Optional<Path> sidecar(String name) {
		if (!Sha256Sums.isPlainName(name)) {
			throw new IllegalArgumentException("not a plain file name: " + name);
		}
		asked.add(name);
		Path p = origin.resolve(name);
		return Files.exists(p) ? Optional.of(p) : Optional.empty();
	}

	@Override
	public boolean wants(psi.spi.verify.Level level) {
		return level.compareTo(wanted) <= 0;
	}

	@Override
	public Path host(String path) {
		if (!path.startsWith("/")) {
			throw new IllegalArgumentException("not absolute: " + path);
		}
		return root.resolve(path.substring(1));
	}
}
