package psi.core.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * Where pulled images came from and what verified them: one small properties
 * file per pool image in {@code /var/lib/psi/images}, written atomically.
 */
final class Origins {

	/** Where the records are kept, as the host sees it. */
	static final String DIR = "/var/lib/psi/images";
	private static final long MAX = 64 * 1024;

	/**
	 * @param source the URL
	 * @param validator the transport's validator (ETag, size and time), or {@code null}
	 * @param sha256 the image's hex SHA-256
	 * @param level the verification level reached
	 * @param verified one line: what verified it
	 */
	record Origin(String source, String validator, String sha256, String level, String verified) {
	}

	private final HostLayout layout;

	Origins(HostLayout layout) {
		this.layout = layout;
	}

	private Path file(String poolName) {
		return layout.host(DIR).resolve(poolName + ".origin");
	}

	/** @return the record of a pool image, if psi pulled it and the record is readable */
	Optional<Origin> read(String poolName) {
		Path f = file(poolName);
		try {
			if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) > MAX) {
				return Optional.empty();
			}
			Properties p = new Properties();
			p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
			String source = p.getProperty("source");
			return source == null ? Optional.empty()
				: Optional.of(new Origin(source, p.getProperty("validator"), p.getProperty("sha256"), p.getProperty("level"),
					p.getProperty("verified")));
		} catch (IOException | IllegalArgumentException e) {
			return Optional.empty();
		}
	}

	void write(String poolName, Origin o) throws IOException {
		Properties p = new Properties();
		p.setProperty("source", o.source());
		if (o.validator() != null) {
			p.setProperty("validator", o.validator());
		}
		p.setProperty("sha256", o.sha256());
		p.setProperty("level", o.level());
		p.setProperty("verified", o.verified());
		p.setProperty("pulled", Instant.now().toString());
		StringWriter w = new StringWriter();
		p.store(w, "written by psi pull: where " + poolName + " came from");
		Path f = file(poolName);
		Files.createDirectories(f.getParent());
		AtomicFiles.write(f, w.toString().getBytes(StandardCharsets.UTF_8), 0600);
	}

	void delete(String poolName) throws IOException {
		Files.deleteIfExists(file(poolName));
	}
}
