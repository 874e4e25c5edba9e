package psi.itest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiPredicate;
import java.util.stream.Stream;

/**
 * What a scratch root holds, to compare before and after a command: path →
 * kind, mode and content hash, or link target (with the root itself written
 * {@code ROOT}, so that two roots holding the same compare equal).
 */
public final class RootSnapshot {

	private RootSnapshot() {
	}

	/**
	 * @param dir the root
	 * @param skip what not to record, by path relative to {@code dir} and the path itself (psi's own lock, socket, journal)
	 * @return relative path → description, sorted
	 */
	public static Map<String, String> of(Path dir, BiPredicate<String, Path> skip) throws IOException, NoSuchAlgorithmException {
		Map<String, String> out = new TreeMap<>();
		MessageDigest sha = MessageDigest.getInstance("SHA-256");
		try (Stream<Path> s = Files.walk(dir)) {
			for (Path p : s.toList()) {
				String rel = dir.relativize(p).toString();
				if (skip.test(rel, p)) {
					continue;
				}
				if (Files.isSymbolicLink(p)) {
					out.put(rel, "link " + Files.readSymbolicLink(p).toString().replace(dir.toString(), "ROOT"));
				} else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
					out.put(rel, "dir " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)));
				} else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
					out.put(rel, "file " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)) + " "
						+ HexFormat.of().formatHex(sha.digest(Files.readAllBytes(p))));
				} else {
					out.put(rel, "special");
				}
			}
		}
		return out;
	}
}
