package psi.format.raw.internal.verity;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMParser;

/**
 * The X.509 certificates trusted to sign dm-verity root hashes: PEM files
 * {@code *.crt} and {@code *.pem} in {@code /etc/verity.d},
 * {@code /run/verity.d}, {@code /usr/local/lib/verity.d} and
 * {@code /usr/lib/verity.d} (systemd's {@code CONF_PATHS("verity.d")}), read as
 * systemd reads configuration directories: a file in an earlier directory
 * hides one of the same name in a later directory, and an empty file (or a
 * link to {@code /dev/null}) hides it without trusting anything.
 * <p>
 * Every size read is bounded; a file that is too large or holds no
 * certificate is skipped and listed in {@link #unreadable()}. Immutable once
 * loaded.
 */
public final class TrustedCertificates {

	/** The directories searched, first wins. */
	public static final List<String> DIRECTORIES = List.of("/etc/verity.d", "/run/verity.d", "/usr/local/lib/verity.d",
		"/usr/lib/verity.d");
	/** Bounds one certificate file. */
	static final int MAX_FILE = 256 << 10;
	/** Bounds the files read in all directories together. */
	static final int MAX_FILES = 1024;

	/**
	 * A trusted certificate.
	 *
	 * @param certificate the certificate
	 * @param file the host path of the file it is in, as the admin knows it
	 */
	public record Trusted(X509CertificateHolder certificate, String file) {
	}

	private final List<Trusted> certificates;
	private final List<String> unreadable;

	private TrustedCertificates(List<Trusted> certificates, List<String> unreadable) {
		this.certificates = List.copyOf(certificates);
		this.unreadable = List.copyOf(unreadable);
	}

	/**
	 * Reads the certificates of {@link #DIRECTORIES}.
	 *
	 * @param host where an absolute host path is on the host psi works on
	 *        ({@code --root})
	 * @throws IOException when a directory cannot be listed
	 */
	public static TrustedCertificates load(Function<String, Path> host) throws IOException {
		List<Trusted> certs = new ArrayList<>();
		List<String> bad = new ArrayList<>();
		Set<String> seen = new HashSet<>();
		int files = 0;
		for (String dir : DIRECTORIES) {
			Path d = host.apply(dir);
			Set<String> names = new TreeSet<>();
			try (DirectoryStream<Path> s = Files.newDirectoryStream(d, "*.{crt,pem}")) {
				for (Path p : s) {
					String name = p.getFileName().toString();
					// as systemd's conf_files_list(): hidden files are not configuration
					if (!name.startsWith(".")) {
						names.add(name);
					}
				}
			} catch (NoSuchFileException | NotDirectoryException e) {
				continue;
			}
			for (String name : names) {
				if (!seen.add(name)) {
					continue;
				}
				String shown = dir + "/" + name;
				if (++files > MAX_FILES) {
					bad.add(shown + " (more than " + MAX_FILES + " files)");
					continue;
				}
				read(d.resolve(name), shown, certs, bad);
			}
		}
		return new TrustedCertificates(certs, bad);
	}

	private static void read(Path file, String shown, List<Trusted> certs, List<String> bad) throws IOException {
		if (Files.isSymbolicLink(file) && Files.readSymbolicLink(file).toString().equals("/dev/null")) {
			// masked
			return;
		}
		if (!Files.isRegularFile(file)) {
			bad.add(shown + " (not a regular file)");
			return;
		}
		byte[] bytes;
		try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
			if (ch.size() > MAX_FILE) {
				bad.add(shown + " (" + ch.size() + " bytes, more than " + MAX_FILE + ")");
				return;
			}
			ByteBuffer b = ByteBuffer.allocate((int) ch.size());
			while (b.hasRemaining() && ch.read(b) >= 0) {
				// read to the end
			}
			bytes = Arrays.copyOf(b.array(), b.position());
		} catch (NoSuchFileException e) {
			return;
		}
		if (bytes.length == 0) {
			// masked
			return;
		}
		int found = 0;
		try (PEMParser pem = new PEMParser(new StringReader(new String(bytes, StandardCharsets.US_ASCII)))) {
			for (Object o = pem.readObject(); o != null; o = pem.readObject()) {
				if (o instanceof X509CertificateHolder c) {
					certs.add(new Trusted(c, shown));
					found++;
				}
			}
		} catch (IOException | RuntimeException e) {
			bad.add(shown + " (not PEM: " + e.getMessage() + ")");
			return;
		}
		if (found == 0) {
			bad.add(shown + " (no certificate in it)");
		}
	}

	/** @return the trusted certificates, in the order of the directories and of file names */
	public List<Trusted> certificates() {
		return certificates;
	}

	/** @return the files skipped, each with the reason */
	public List<String> unreadable() {
		return unreadable;
	}
}
