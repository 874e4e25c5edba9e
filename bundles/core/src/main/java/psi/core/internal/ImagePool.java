package psi.core.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import psi.api.PsiException;
import psi.api.dto.ChangeDTO;
import psi.api.dto.VerifyLevel;

/**
 * The pool of images, {@code /var/lib/portables}, and what psi knows of the
 * images it pulled there: one small properties file per pool image in
 * {@code /var/lib/psi/images} (where it came from, its SHA-256, what
 * verified it), written atomically. Placing a pulled image and removing
 * images are host changes: the caller holds the {@link HostLock}.
 */
final class ImagePool {

	/** The pool pulled images are placed in. */
	static final String POOL = "/var/lib/portables";
	/** Where the origin records are kept, as the host sees it. */
	static final String ORIGINS = "/var/lib/psi/images";
	private static final long ORIGIN_MAX = 64 * 1024;

	/**
	 * Where a pulled image came from.
	 *
	 * @param source the URL
	 * @param validator the transport's validator (ETag, size and time), or {@code null}
	 * @param sha256 the image's hex SHA-256
	 * @param level the verification level reached
	 * @param verified one line: what verified it
	 */
	record Origin(String source, String validator, String sha256, VerifyLevel level, String verified) {
	}

	private final HostLayout layout;

	ImagePool(HostLayout layout) {
		this.layout = layout;
	}

	HostLayout layout() {
		return layout;
	}

	private String originPath(String poolName) {
		return ORIGINS + "/" + poolName + ".origin";
	}

	/** @return the record of a pool image, if psi pulled it and the record is readable */
	Optional<Origin> origin(String poolName) {
		try {
			Path f = layout.real(originPath(poolName));
			if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) > ORIGIN_MAX) {
				return Optional.empty();
			}
			Properties p = new Properties();
			p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
			String source = p.getProperty("source");
			return source == null ? Optional.empty()
				: Optional.of(new Origin(source, p.getProperty("validator"), p.getProperty("sha256"), VerifyLevel.ofLabel(p.getProperty("level")),
					p.getProperty("verified")));
		} catch (IOException | IllegalArgumentException e) {
			return Optional.empty();
		}
	}

	/**
	 * @param realPath an image's path with links resolved, as the host sees it
	 * @return its origin record when it is a pool image psi pulled
	 */
	Optional<Origin> originOf(String realPath) {
		return realPath.startsWith(POOL + "/") ? origin(DropInWriter.lastComponent(realPath)) : Optional.empty();
	}

	/**
	 * @param file an image's file name
	 * @param kind the kind of record: {@code origin} (written by pull)
	 * @param key the property
	 * @return one value of a record, if the record is there and readable
	 */
	Optional<String> record(String file, String kind, String key) {
		try {
			Path f = layout.real(ORIGINS + "/" + file + "." + kind);
			if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) > ORIGIN_MAX) {
				return Optional.empty();
			}
			Properties p = new Properties();
			p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
			return Optional.ofNullable(p.getProperty(key));
		} catch (IOException | IllegalArgumentException e) {
			return Optional.empty();
		}
	}

	/**
	 * Records, inside an attach's transaction, that an image was attached:
	 * {@code /var/lib/psi/images/FILE.attached}, whose modification time is
	 * when (its content stays the same, so that attaching twice writes the
	 * same bytes).
	 */
	static void recordAttached(Transaction tx, String file) throws IOException {
		tx.mkdirs(ORIGINS, null);
		tx.write(ORIGINS + "/" + file + ".attached", ("# written by psi attach: its time is when " + file + " was last attached\n")
			.getBytes(StandardCharsets.UTF_8), 0644, null);
	}

	/** @return when an image file was last attached, if psi recorded it */
	Optional<Instant> attachedAt(String file) {
		try {
			Path f = layout.real(ORIGINS + "/" + file + ".attached");
			return Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)
				? Optional.of(Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant())
				: Optional.empty();
		} catch (IOException e) {
			return Optional.empty();
		}
	}

	/** @return whether updates skip the image ({@code psi hold NAME}: {@code /var/lib/psi/images/NAME.held}) */
	boolean held(String base) {
		try {
			return layout.lstat(ORIGINS + "/" + base + ".held").isPresent();
		} catch (IOException e) {
			return false;
		}
	}

	/** Writes an origin record atomically (0600), in a transaction of its own. */
	void writeOrigin(String poolName, Origin o) throws IOException {
		try (Transaction tx = new Transaction(layout, Transaction.Faults.NONE, "pull " + poolName)) {
			writeOrigin(tx, poolName, o);
			tx.commit();
		}
	}

	void writeOrigin(Transaction tx, String poolName, Origin o) throws IOException {
		Properties p = new Properties();
		p.setProperty("source", o.source());
		if (o.validator() != null) {
			p.setProperty("validator", o.validator());
		}
		p.setProperty("sha256", o.sha256());
		p.setProperty("level", o.level().label());
		p.setProperty("verified", o.verified());
		p.setProperty("pulled", Instant.now().toString());
		StringWriter w = new StringWriter();
		p.store(w, "written by psi pull: where " + poolName + " came from");
		tx.mkdirs(ORIGINS, null);
		tx.write(originPath(poolName), w.toString().getBytes(StandardCharsets.UTF_8), 0600, null);
	}

	/**
	 * Places a verified staging file in the pool under its name with its
	 * origin record, both or neither (one transaction).
	 *
	 * @param staging the staging file, in the pool's directory
	 * @param poolName {@code NAME_VERSION.raw}
	 */
	void place(Path staging, String poolName, Origin origin) throws IOException {
		Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rw-r--r--"));
		try (Transaction tx = new Transaction(layout, Transaction.Faults.NONE, "pull " + poolName)) {
			tx.place(staging, POOL + "/" + poolName, null);
			writeOrigin(tx, poolName, origin);
			tx.commit();
		}
	}

	/**
	 * Removes detached images and their origin records inside {@code tx}:
	 * each is moved aside first and deleted when the transaction commits.
	 *
	 * @param images exact names or paths
	 * @return the changes
	 */
	List<ChangeDTO> remove(Transaction tx, ImageResolver resolver, AttachmentIndex index, List<String> images) throws IOException {
		List<String> paths = new ArrayList<>();
		for (String image : images) {
			String path = resolver.locate(image, false);
			String key = ImageName.isValidName(image) ? image : path;
			if (!index.units(key).isEmpty()) {
				throw new PsiException(PsiException.Reason.NOT_DETACHED, "Image '" + path + "' is not detached, refusing.", "Detach it first.");
			}
			try (ImageResolver.OpenImage img = resolver.openAt(path)) {
				if (img.tree().isReadOnly()) {
					throw new PsiException(PsiException.Reason.READ_ONLY,
						"Image '" + image + "' is read-only, refusing to remove it; run read-only " + image + " no first", null);
				}
			}
			paths.add(path);
		}
		return removeFiles(tx, paths);
	}

	/**
	 * Removes images the caller found detached and writable, with psi's
	 * records of them, inside {@code tx} (moved aside, deleted at commit).
	 *
	 * @param paths image paths as the host sees them
	 * @return an {@code unlink} change per image
	 */
	List<ChangeDTO> removeFiles(Transaction tx, List<String> paths) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		for (String path : paths) {
			String real = layout.resolve(path).path();
			if (Files.isSymbolicLink(layout.real(path))) {
				tx.removeTree(real, null);
				tx.unlink(path, null);
			} else {
				tx.removeTree(path, null);
			}
			if (path.startsWith(POOL + "/")) {
				tx.unlink(originPath(DropInWriter.lastComponent(path)), null);
			}
			tx.unlink(ORIGINS + "/" + DropInWriter.lastComponent(path) + ".attached", null);
			changes.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, path, null));
		}
		return changes;
	}
}
