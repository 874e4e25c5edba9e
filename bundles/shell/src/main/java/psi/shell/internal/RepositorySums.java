package psi.shell.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

import psi.api.PsiException;

/**
 * {@code psi build --sums DIR}: the {@code SHA256SUMS} of a repository
 * directory, as {@code sha256sum} writes it ({@code HASH  NAME}, sorted by
 * name), so that {@code psi pull --verify=checksum} of its images passes and
 * a signature over it ({@code SHA256SUMS.gpg}) can follow. Every regular
 * file of the directory is listed but the sums and their signatures and
 * hidden files; a name systemd-importd would not accept (a newline, a
 * backslash) is refused. Written to a temporary file, synced, and renamed:
 * all or nothing.
 */
final class RepositorySums {

	static final String SUMS = "SHA256SUMS";
	private static final List<String> SKIP = List.of(SUMS, SUMS + ".gpg", SUMS + ".asc");

	private RepositorySums() {
	}

	/** @return the lines written, one per file */
	static List<String> write(Path dir) throws IOException {
		if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
			throw new PsiException(dir + " is not a directory: nothing written");
		}
		TreeMap<String, String> sums = new TreeMap<>();
		try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
			for (Path f : s) {
				String name = f.getFileName().toString();
				if (name.startsWith(".") || SKIP.contains(name) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
					continue;
				}
				if (name.contains("\n") || name.contains("\\") || name.contains("\r")) {
					throw new PsiException(Render.line(name) + " in " + dir + ": a name SHA256SUMS cannot carry (a newline or a backslash); rename it. Nothing written");
				}
				sums.put(name, sha256(f));
			}
		}
		StringBuilder sb = new StringBuilder();
		sums.forEach((n, h) -> sb.append(h).append("  ").append(n).append('\n'));
		Path tmp = Files.createTempFile(dir, "." + SUMS + ".", ".tmp");
		try {
			Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
			try (var c = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.WRITE)) {
				c.force(true);
			}
			Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
			Files.move(tmp, dir.resolve(SUMS), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		} finally {
			Files.deleteIfExists(tmp);
		}
		return sb.toString().lines().toList();
	}

	/**
	 * Signs DIR/SHA256SUMS with gpg, as the admin's keyring holds the key
	 * (psi has no business holding secret keys), into SHA256SUMS.gpg:
	 * a detached binary signature, written beside it, then renamed into place.
	 *
	 * @return the signature file
	 */
	static Path sign(Path dir, String key) throws IOException {
		return sign(dir, key, java.util.Map.of());
	}

	/** @param env added to gpg's environment (GNUPGHOME, for the tests) */
	static Path sign(Path dir, String key, java.util.Map<String, String> env) throws IOException {
		if (key.startsWith("-") || key.contains("\n")) {
			throw new PsiException("--gpg-key " + Render.line(key) + ": a key id, fingerprint or user id of your gpg keyring");
		}
		Path tmp = Files.createTempFile(dir, "." + SUMS + ".gpg.", ".tmp");
		try {
			Process p;
			try {
				ProcessBuilder pb = new ProcessBuilder("gpg", "--batch", "--yes", "--local-user", key, "--detach-sign", "--output", tmp.toString(),
					dir.resolve(SUMS).toString()).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.INHERIT);
				pb.environment().putAll(env);
				p = pb.start();
			} catch (IOException e) {
				throw new PsiException("psi build --gpg-key needs gpg, which is not installed (apt-get install gpg): " + e.getMessage());
			}
			String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			int rc;
			try {
				rc = p.waitFor();
			} catch (InterruptedException e) {
				p.destroyForcibly();
				Thread.currentThread().interrupt();
				throw new java.io.InterruptedIOException("interrupted while gpg signed");
			}
			if (rc != 0) {
				List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
				throw new PsiException("gpg could not sign " + dir.resolve(SUMS) + " with key " + Render.line(key) + ": "
					+ (lines.isEmpty() ? "exit status " + rc : Render.line(lines.get(lines.size() - 1))) + "; SHA256SUMS is written, unsigned");
			}
			try (var c = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.WRITE)) {
				c.force(true);
			}
			Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
			Path to = dir.resolve(SUMS + ".gpg");
			Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
			return to;
		} finally {
			Files.deleteIfExists(tmp);
		}
	}

	private static String sha256(Path f) throws IOException {
		MessageDigest md;
		try {
			md = MessageDigest.getInstance("SHA-256");
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
		byte[] buf = new byte[1 << 16];
		try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
			for (int n; (n = in.read(buf)) > 0;) {
				md.update(buf, 0, n);
			}
		}
		return HexFormat.of().formatHex(md.digest());
	}
}
