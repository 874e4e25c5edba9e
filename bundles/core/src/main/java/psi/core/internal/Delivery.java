package psi.core.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.PullResultDTO;
import psi.api.dto.VerdictDTO;
import psi.api.dto.VerifyLevel;
import psi.spi.transport.Transport;
import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;

/**
 * Getting images onto the host: fetch through a {@link Transport} into a
 * hidden staging file in the pool, verify with every {@link Verifier}, and
 * rename into place. Made per operation; not thread safe.
 */
final class Delivery {

	/** The pool pulled images are placed in. */
	static final String POOL = ImagePool.POOL;
	/** The largest sidecar file ({@code SHA256SUMS}, {@code .roothash.p7s}) fetched. */
	static final long SIDECAR_MAX = 1 << 20;
	/** The largest image fetched: 64 GiB. */
	static final long IMAGE_MAX = 64L << 30;


	/** Takes the host lock for placing an image. */
	@FunctionalInterface
	interface Locker {
		HostLock.Held take() throws IOException;
	}

	/** Whether an image file name in the pool is attached. */
	@FunctionalInterface
	interface Attached {
		boolean test(String poolName) throws IOException;
	}

	private final HostLayout layout;
	private final ImagePool pool;
	private final Map<String, Transport> transports;
	private final Map<String, Verifier> verifiers;
	private final ProgressListener listener;
	private final PluginCalls calls;
	private final Locker locker;
	private final StagingArea area;
	/** A pull removes the partial downloads last written longer ago than this. */
	java.time.Duration partialMaxAge = java.time.Duration.ofDays(7);

	/**
	 * @param pool the host's pool
	 * @param transports the transports by URL scheme
	 * @param verifiers the verifiers by name, in the order they are asked
	 * @param listener told of each step
	 * @param calls the guard plugin calls go through
	 * @param locker takes the host lock, for placing a pulled image only
	 */
	Delivery(ImagePool pool, Map<String, Transport> transports, Map<String, Verifier> verifiers, ProgressListener listener,
		PluginCalls calls, Locker locker) {
		this.layout = pool.layout();
		this.pool = pool;
		this.transports = transports;
		this.verifiers = verifiers;
		this.listener = listener;
		this.calls = calls;
		this.locker = locker;
		this.area = new StagingArea(layout);
	}

	/** A delivery with the default limits, taking the host lock itself. */
	Delivery(HostLayout layout, Map<String, Transport> transports, Map<String, Verifier> verifiers, ProgressListener listener) {
		this(new ImagePool(layout), transports, verifiers, listener, new PluginCalls(PluginCalls.Limits.DEFAULT),
			() -> HostLock.take(layout, listener::waiting));
	}

	/** @return whether an image argument is a URL ({@code scheme://…} or {@code file:…}) rather than a path or name */
	static boolean isUrl(String arg) {
		return arg != null && (arg.matches("[A-Za-z][A-Za-z0-9+.-]*://.*") || arg.startsWith("file:"));
	}

	/** @return the URL, checked */
	static URI parse(String url) {
		try {
			URI u = new URI(url);
			if (u.getScheme() == null || u.getPath() == null || u.getPath().isEmpty()) {
				throw new PsiException("'" + url + "' is not a URL psi can fetch: it names no file");
			}
			return u;
		} catch (URISyntaxException e) {
			throw new PsiException("'" + url + "' is not a valid URL: " + e.getReason() + " at index " + e.getIndex());
		}
	}

	/** @return the file name the URL ends in */
	static String fileName(URI u) {
		String p = u.getPath();
		String name = p.substring(p.lastIndexOf('/') + 1);
		if (!ImageName.isValidName(name) || name.startsWith(".")) {
			throw new PsiException("'" + u + "' does not end in an image file name (…/NAME_VERSION.raw)");
		}
		return name;
	}

	/**
	 * The image's file name in the pool: {@code NAME_VERSION.raw}.
	 *
	 * @param urlFileName the file name the URL ends in, e.g. {@code foobar_1.psi}
	 * @param name the name the admin gave, or {@code null}
	 */
	static String poolName(String urlFileName, String name) {
		String stem = ImageName.stripSuffix(urlFileName);
		String n = stem;
		if (name != null && !name.isEmpty()) {
			if (!ImageName.isValidName(name) || name.startsWith(".") || name.endsWith(".raw") || name.endsWith(".psi")) {
				throw new PsiException("'" + name + "' is not a valid image name (a plain name, e.g. foobar or foobar_2)");
			}
			String version = ImageName.version(stem);
			n = name.indexOf('_') >= 0 || version == null ? name : name + "_" + version;
		}
		try {
			ImageName.defaultPrefix(n);
		} catch (IllegalArgumentException e) {
			throw new PsiException("cannot pull as '" + n + "': " + e.getMessage() + " (give a NAME)");
		}
		return n + ".raw";
	}

	/**
	 * {@code psi pull file:///PATH/NAME_VERSION} of a directory image (or a
	 * subvolume's tree): copied into the pool as {@code NAME_VERSION} with
	 * {@code cp -a} (owners, modes, links, extended attributes), and where
	 * the pool is on btrfs made a read-only snapshot of a subvolume (the
	 * snapshot is the version); it appears in the pool only complete, by a
	 * rename or the snapshot, under the host lock, with its origin record. A
	 * directory carries no checksum or signature: only {@code --verify=no}
	 * (the default of {@code file:}) takes one.
	 */
	private PullResultDTO pullDirectory(URI u, Path src, String name, VerifyLevel asked) throws IOException {
		if (asked != null && asked != VerifyLevel.NONE) {
			throw new PsiException(u + " is a directory image: it carries no checksum or signature to check (--verify=no pulls it)");
		}
		String dirName = src.getFileName() == null ? "" : src.getFileName().toString();
		if (!ImageName.isValidName(dirName) || dirName.startsWith(".")) {
			throw new PsiException("'" + u + "' does not end in an image name (…/NAME_VERSION)");
		}
		if (!ImageName.stripSuffix(dirName).equals(dirName)) {
			throw new PsiException(u + " is a directory, not a raw image file as its name says: refused");
		}
		String version = ImageName.version(dirName);
		String poolName = name == null || name.isEmpty() ? dirName : name.indexOf('_') >= 0 || version == null ? name : name + "_" + version;
		if (!ImageName.isValidName(poolName) || poolName.startsWith(".")) {
			throw new PsiException("'" + poolName + "' is not a valid image name (a plain name, e.g. foobar or foobar_2)");
		}
		try {
			ImageName.defaultPrefix(poolName);
		} catch (IllegalArgumentException e) {
			throw new PsiException("cannot pull as '" + poolName + "': " + e.getMessage() + " (give a NAME)");
		}
		Path poolDir = layout.realDirectory(POOL);
		Files.createDirectories(poolDir);
		Path target = poolDir.resolve(poolName);
		if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
			throw new PsiException(POOL + "/" + poolName + " is there already; psi pull does not replace a directory image (psi remove it first, or give another NAME)");
		}
		Path tmp = poolDir.resolve(".psi-dir-" + poolName);
		boolean btrfs = "btrfs".equals(Files.getFileStore(poolDir).type());
		removeStaged(tmp, btrfs);
		listener.step("Copying " + src + (btrfs ? " into a read-only subvolume" : ""));
		try {
			if (btrfs) {
				run("btrfs", "-q", "subvolume", "create", tmp.toString());
				run("cp", "-a", "--reflink=auto", src + "/.", tmp + "/");
			} else {
				run("cp", "-a", "--reflink=auto", src.toString(), tmp.toString());
			}
			try (HostLock.Held held = locker.take(); Transaction tx = new Transaction(layout, Transaction.Faults.NONE, "pull " + poolName)) {
				if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
					throw new PsiException(POOL + "/" + poolName + " appeared while it was copied; nothing replaced");
				}
				// the record first, in the transaction; the image last, in one step: a failure before leaves neither
				pool.writeOrigin(tx, poolName, new ImagePool.Origin(u.toString(), null, "-", VerifyLevel.NONE,
					"nothing verified (a directory image carries no checksum or signature)"));
				if (btrfs) {
					run("btrfs", "-q", "subvolume", "snapshot", "-r", tmp.toString(), target.toString());
				} else {
					Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
				}
				AtomicFiles.syncDirectory(poolDir);
				tx.commit();
			}
		} finally {
			removeStaged(tmp, btrfs);
		}
		listener.step("Placed " + POOL + "/" + poolName);
		PullResultDTO r = new PullResultDTO();
		r.source = u.toString();
		r.image = poolName;
		r.path = POOL + "/" + poolName;
		r.asked = asked;
		r.level = VerifyLevel.NONE;
		r.sha256 = "-";
		r.verified = "nothing verified (a directory image)";
		return r;
	}

	/**
	 * Unpacks an archive image (a tar file) into the pool as a directory
	 * image named as the archive without its suffix ({@code app_2.tar.zst}
	 * becomes {@code app_2}), for attach: systemd cannot root a service in
	 * an archive. The format plugin unpacks into a staging directory beside
	 * the pool; the directory appears in the pool only complete, by a
	 * rename under the host lock, with an origin record naming the archive
	 * and its SHA-256. An archive unpacked before (that record, the same
	 * SHA-256) is not unpacked again.
	 *
	 * @return the pool path of the directory image
	 */
	String unpackArchive(ImageResolver.OpenImage img) throws IOException {
		Path real = layout.host(layout.resolve(img.path()).path());
		String poolName = archiveName(img.fileName());
		if (!ImageName.isValidName(poolName) || poolName.startsWith(".")) {
			throw new PsiException("'" + img.fileName() + "' does not name an image (NAME_VERSION.tar...): cannot unpack it");
		}
		String sha256 = sha256Hex(real);
		Path poolDir = layout.realDirectory(POOL);
		Files.createDirectories(poolDir);
		Path target = poolDir.resolve(poolName);
		if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
			Optional<ImagePool.Origin> o = pool.origin(poolName);
			if (o.isPresent() && o.get().source().equals(img.path()) && sha256.equals(o.get().sha256())) {
				return POOL + "/" + poolName;
			}
			throw new PsiException(POOL + "/" + poolName + " is there already, not unpacked from " + img.path()
				+ " as it is now: nothing replaced (psi remove " + poolName + " first)");
		}
		Path tmp = poolDir.resolve(".psi-dir-" + poolName);
		removeStaged(tmp, false);
		listener.step("Unpacking " + img.path() + " into " + POOL + "/" + poolName);
		try {
			Files.createDirectory(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
				java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
			img.tree().unpack(tmp);
			try (HostLock.Held held = locker.take(); Transaction tx = new Transaction(layout, Transaction.Faults.NONE, "unpack " + poolName)) {
				if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
					throw new PsiException(POOL + "/" + poolName + " appeared while it was unpacked; nothing replaced");
				}
				pool.writeOrigin(tx, poolName, new ImagePool.Origin(img.path(), null, sha256, VerifyLevel.NONE,
					"nothing verified (unpacked from the archive " + img.path() + ")"));
				Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
				AtomicFiles.syncDirectory(poolDir);
				tx.commit();
			}
		} finally {
			removeStaged(tmp, false);
		}
		return POOL + "/" + poolName;
	}

	/** @return an archive's file name without its suffix: {@code app_2} of {@code app_2.tar.zst} or {@code app_2.tgz} */
	static String archiveName(String fileName) {
		int tar = fileName.lastIndexOf(".tar");
		if (tar > 0 && (fileName.length() == tar + 4 || fileName.charAt(tar + 4) == '.')) {
			return fileName.substring(0, tar);
		}
		int dot = fileName.lastIndexOf('.');
		return dot > 0 ? fileName.substring(0, dot) : fileName;
	}

	/** Removes a staged directory copy: a subvolume by btrfs, else the tree. */
	private static void removeStaged(Path tmp, boolean btrfs) throws IOException {
		if (!Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		if (btrfs) {
			try {
				run("btrfs", "-q", "subvolume", "delete", tmp.toString());
				return;
			} catch (IOException notASubvolume) {
				// a plain directory left by a copy that failed before: removed as a tree
			}
		}
		AtomicFiles.deleteTree(tmp);
	}

	private static void run(String... cmd) throws IOException {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
		String out;
		try (InputStream in = p.getInputStream()) {
			out = new String(in.readNBytes(8192), StandardCharsets.UTF_8).strip();
		}
		try {
			if (p.waitFor() != 0) {
				throw new IOException(String.join(" ", cmd) + ": " + (out.isEmpty() ? "exit status " + p.exitValue() : out.lines().reduce((a, b) -> b).orElse(out)));
			}
		} catch (InterruptedException e) {
			p.destroyForcibly();
			Thread.currentThread().interrupt();
			throw new java.io.InterruptedIOException("interrupted: " + String.join(" ", cmd));
		}
	}

	/**
	 * The image files the directory of a URL offers, as systemd-sysupdate
	 * and importctl find them: the file names its {@code SHA256SUMS} lists
	 * (plain names only); for a {@code file:} URL without one, the files in
	 * its directory.
	 *
	 * @throws PsiException when the origin lists nothing
	 */
	List<String> offered(String url) throws IOException {
		URI u = parse(url);
		URI sums;
		try {
			sums = u.resolve(new URI(null, null, "SHA256SUMS", null));
		} catch (URISyntaxException e) {
			throw new IOException("cannot name SHA256SUMS beside " + url, e);
		}
		Transport t = transport(u);
		Path dir = Files.createTempDirectory("psi-update-");
		Path target = dir.resolve("SHA256SUMS");
		try {
			try {
				java.util.concurrent.atomic.AtomicLong beat = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
				calls.call(PluginCalls.Kind.TRANSPORT, t, "fetching " + sums,
					() -> t.fetch(new Transport.Request(sums, target, SIDECAR_MAX), (bytes, total) -> beat.set(System.nanoTime())), beat);
			} catch (java.nio.file.NoSuchFileException e) {
				if ("file".equalsIgnoreCase(u.getScheme())) {
					try (var files = Files.list(Path.of(u).getParent())) {
						return files.filter(Files::isRegularFile).map(f -> f.getFileName().toString()).sorted().limit(65536).toList();
					}
				}
				throw new PsiException("no SHA256SUMS beside " + url + ": its origin lists no versions to update to");
			}
			List<String> out = new ArrayList<>();
			for (String line : Files.readAllLines(target, StandardCharsets.UTF_8)) {
				java.util.regex.Matcher m = SUMS_LINE.matcher(line);
				if (m.matches() && ImageName.isValidName(m.group(1)) && !m.group(1).startsWith(".")) {
					out.add(m.group(1));
				}
			}
			return out;
		} finally {
			Files.deleteIfExists(target);
			Files.deleteIfExists(dir);
		}
	}

	/** A line of SHA256SUMS: the hash, a space, a space or {@code *}, the file name. */
	private static final java.util.regex.Pattern SUMS_LINE = java.util.regex.Pattern.compile("[0-9a-fA-F]{64} [ *](.+)");

	private Transport transport(URI u) {
		String scheme = u.getScheme().toLowerCase(Locale.ROOT);
		Transport t = transports.get(scheme);
		if (t == null) {
			throw new PsiException("no transport for '" + scheme + ":' URLs is installed (installed: "
				+ (transports.isEmpty() ? "none" : String.join(", ", new TreeSet<>(transports.keySet()))) + ")");
		}
		return t;
	}

	/**
	 * Pulls a URL into the pool.
	 *
	 * @param url the URL
	 * @param name the name to give it, or {@code null}
	 * @param asked the level asked for, {@code null} for the default
	 * @param attached whether an image file name is attached (its file is not replaced)
	 */
	PullResultDTO pull(String url, String name, VerifyLevel asked, Attached attached) throws IOException {
		URI u = parse(url);
		if ("file".equalsIgnoreCase(u.getScheme()) && Files.isDirectory(Path.of(u), LinkOption.NOFOLLOW_LINKS)) {
			return pullDirectory(u, Path.of(u), name, asked);
		}
		Transport t = transport(u);
		String urlName = fileName(u);
		String poolName = poolName(urlName, name);
		Path placed = layout.realDirectory(POOL).resolve(poolName);
		VerifyLevel required = required(u, asked);
		if (Files.exists(placed, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(placed, LinkOption.NOFOLLOW_LINKS)) {
			throw new PsiException(POOL + "/" + poolName + " is there and is not a regular file (a link or a directory); psi pull will not replace it");
		}
		// a conditional fetch only when the pool's copy is the one recorded and was verified as strongly as asked now
		Optional<ImagePool.Origin> known = pool.origin(poolName)
			.filter(o -> o.source().equals(u.toString()) && o.level() != null && o.level().compareTo(required) >= 0)
			.filter(o -> Files.isRegularFile(placed, LinkOption.NOFOLLOW_LINKS));
		String ifNoneMatch = known.map(ImagePool.Origin::validator).orElse(null);
		// the pool copy's hash, computed at most once per pull
		String placedSha = known.isPresent() ? sha256Hex(placed) : null;
		if (known.isPresent() && !known.get().sha256().equals(placedSha)) {
			listener.step(POOL + "/" + poolName + " changed since it was pulled: fetching it again");
			ifNoneMatch = null;
		}

		// downloads interrupted long ago are not resumed any more: they go, so that they do not fill the disk for good
		for (StagingArea.Partial old : area.dropPartials(java.time.Instant.now().minus(partialMaxAge))) {
			listener.step("Removed " + old.path() + " (" + old.size() + " bytes of a download interrupted on " + old.modified() + ")");
		}
		StagingArea.Staging st = area.staging(u, "pull");
		try (StagingArea.Lock lock = area.lock(st, u)) {
			listener.step("Fetching " + u);
			VerifierSubject s = subject(st.partial(), urlName, u, null, t, st.sidecars(), wanted(asked));
			boolean keepPartial = false;
			try {
				if (ifNoneMatch == null) {
					s.prefetch(asked);
				}
				Transport.Fetched f = fetch(t, u, st, ifNoneMatch, urlName, true, s);
				PullResultDTO r = new PullResultDTO();
				r.source = u.toString();
				r.image = poolName;
				r.path = POOL + "/" + poolName;
				r.asked = asked;
				if (f.unchanged()) {
					ImagePool.Origin o = known.get();
					listener.step("Unchanged since it was pulled: " + r.path);
					r.unchanged = true;
					r.size = Files.size(placed);
					r.sha256 = o.sha256();
					r.level = o.level();
					r.verified = o.verified();
					return r;
				}
				r.size = f.size();
				r.sha256 = f.sha256() != null ? f.sha256() : sha256Hex(st.partial());
				s.sha256 = r.sha256;
				check(s, asked, required, r);
				// only placing the verified image is a host change: the host lock is taken for it alone
				try (HostLock.Held l = locker.take()) {
					ImagePool.Origin origin = new ImagePool.Origin(u.toString(), f.validator(), r.sha256, r.level, r.verified);
					if (Files.isRegularFile(placed, LinkOption.NOFOLLOW_LINKS)) {
						if (r.sha256.equals(placedSha != null ? placedSha : sha256Hex(placed))) {
							listener.step("Already in the pool: " + r.path);
							r.unchanged = true;
							pool.writeOrigin(poolName, origin);
							return r;
						}
						if (attached.test(poolName)) {
							throw new PsiException(r.path + " is attached and differs from " + u
								+ "; give the new image a new version (psi pull URL NAME_VERSION) or detach the old one first");
						}
					}
					pool.place(st.partial(), poolName, origin);
				}
				listener.step("Placed " + r.path);
				return r;
			} catch (Interrupted e) {
				// the transfer broke off: its bytes stay for the next pull, the rest goes
				keepPartial = true;
				throw e.failure;
			} finally {
				s.close();
				st.clean(keepPartial);
			}
		}
	}

	/** A transfer that broke off; {@link #failure} is what the admin is told. */
	private static final class Interrupted extends IOException {
		private static final long serialVersionUID = 1L;
		final transient PsiException failure;

		Interrupted(PsiException failure) {
			super(failure.getMessage(), failure);
			this.failure = failure;
		}
	}

	/**
	 * Fetches the image into the staging file. Cleans nothing: the caller
	 * stops the sidecar prefetch first, then cleans.
	 *
	 * @param resumable whether an interrupted transfer is kept for the next pull ({@link Interrupted})
	 */
	private Transport.Fetched fetch(Transport t, URI u, StagingArea.Staging st, String ifNoneMatch, String what, boolean resumable, VerifierSubject s)
		throws IOException {
		String resume = null;
		if (resumable && Files.isRegularFile(st.partial(), LinkOption.NOFOLLOW_LINKS)
			&& Files.isRegularFile(st.resume(), LinkOption.NOFOLLOW_LINKS) && Files.size(st.resume()) < 4096) {
			resume = Files.readString(st.resume()).strip();
		} else {
			Files.deleteIfExists(st.partial());
		}
		java.util.concurrent.atomic.AtomicLong beat = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
		Transport.Progress guarded = new Transport.Progress() {
			@Override
			public void started(long total, String validator, long resumedFrom) {
				beat.set(System.nanoTime());
				// before any byte is written: an image the pool's file system cannot hold is not fetched
				StagingArea.checkSpace(st.partial(), total, resumedFrom);
				try {
					if (validator == null || !resumable) {
						Files.deleteIfExists(st.resume());
					} else {
						AtomicFiles.write(st.resume(), validator.getBytes(StandardCharsets.UTF_8), 0600);
					}
				} catch (IOException e) {
					// without it the next pull starts over; nothing else depends on it
				}
				if (resumedFrom > 0) {
					listener.step("Resuming after " + resumedFrom + " bytes");
				}
			}

			@Override
			public void update(long bytes, long total) {
				beat.set(System.nanoTime());
				listener.transfer(what, bytes, total);
			}
		};
		String resumeFrom = resume;
		try {
			Transport.Fetched f = calls.call(PluginCalls.Kind.TRANSPORT, t, "fetching " + u,
				() -> t.fetch(new Transport.Request(u, st.partial(), IMAGE_MAX, ifNoneMatch, resumeFrom), guarded), beat);
			return PluginCalls.answer(f, PluginCalls.Kind.TRANSPORT, t, "fetching " + u);
		} catch (NoSuchFileException e) {
			throw new PsiException(u + ": no such image there", e);
		} catch (StagingArea.NoSpace e) {
			// nothing written, or a file system filled: what was received goes, or the disk stays full
			s.close();
			Files.deleteIfExists(st.partial());
			Files.deleteIfExists(st.resume());
			throw e;
		} catch (IOException | RuntimeException e) {
			String m = e.getMessage() == null ? e.toString() : e.getMessage();
			s.close();
			if (StagingArea.isDiskFull(e)) {
				long had = Files.isRegularFile(st.partial()) ? Files.size(st.partial()) : 0;
				Files.deleteIfExists(st.partial());
				Files.deleteIfExists(st.resume());
				throw new PsiException(u + ": the file system of " + POOL + " is full (" + m + "); dropped the " + had
					+ " bytes received, so that it is not left full", e);
			}
			boolean keep = resumable && Files.isRegularFile(st.partial()) && Files.size(st.partial()) > 0 && Files.isRegularFile(st.resume());
			PsiException failure = new PsiException(m + (keep ? " (kept the " + Files.size(st.partial()) + " bytes received; pull again to resume)" : ""), e);
			if (keep) {
				throw new Interrupted(failure);
			}
			throw failure;
		} finally {
			listener.transferDone();
		}
	}

	/**
	 * Verifies a URL without placing it: fetched to a staging file that is
	 * removed afterwards.
	 */
	PullResultDTO verifyUrl(String url, VerifyLevel asked) throws IOException {
		URI u = parse(url);
		Transport t = transport(u);
		String urlName = fileName(u);
		StagingArea.Staging st = area.staging(u, "verify");
		try (StagingArea.Lock lock = area.lock(st, u)) {
			VerifierSubject s = subject(st.partial(), urlName, u, null, t, st.sidecars(), wanted(asked));
			try {
				listener.step("Fetching " + u);
				s.prefetch(asked);
				Transport.Fetched f = fetch(t, u, st, null, urlName, false, s);
				PullResultDTO r = new PullResultDTO();
				r.source = u.toString();
				r.image = urlName;
				r.size = f.size();
				r.sha256 = f.sha256();
				s.sha256 = f.sha256();
				r.asked = asked;
				check(s, asked, required(u, asked), r);
				return r;
			} finally {
				s.close();
				st.clean(false);
			}
		}
	}

	/**
	 * Verifies a local image file in place; its sidecars are its siblings.
	 *
	 * @param hostPath the image's path as the host sees it
	 * @param real where it is under the root
	 * @param asked the level asked for, or {@code null}: whatever the image carries must hold
	 */
	PullResultDTO verifyLocal(String hostPath, Path real, VerifyLevel asked) throws IOException {
		return verifyLocal(hostPath, real, asked, null);
	}

	/**
	 * Verifies a local image file in place; a pulled image is also compared
	 * with the SHA-256 recorded when it was pulled and verified, which then
	 * vouches for it as it did then.
	 *
	 * @param pulled the image's origin record, or {@code null}
	 */
	PullResultDTO verifyLocal(String hostPath, Path real, VerifyLevel asked, ImagePool.Origin pulled) throws IOException {
		PullResultDTO r = new PullResultDTO();
		r.source = hostPath;
		r.path = hostPath;
		r.image = real.getFileName().toString();
		r.asked = asked;
		if (Files.isDirectory(real)) {
			r.level = VerifyLevel.NONE;
			if (asked != null && asked != VerifyLevel.NONE) {
				throw new PsiException(hostPath + ": refused: --verify=" + asked.option() + " asked, but a directory image carries no checksum or signature");
			}
			return r;
		}
		r.size = Files.size(real);
		VerifierSubject s = subject(real, r.image, null, null, null, null, wanted(asked));
		if (pulled != null && asked != VerifyLevel.NONE && pulled.sha256() != null) {
			if (!MessageDigest.isEqual(s.sha256().getBytes(StandardCharsets.US_ASCII), pulled.sha256().getBytes(StandardCharsets.US_ASCII))) {
				throw new PsiException(hostPath + ": refused: pulled: the image changed since it was pulled from " + pulled.source()
					+ " (SHA-256 " + s.sha256() + ", was " + pulled.sha256() + ")");
			}
			if (pulled.level() != null && pulled.level() != VerifyLevel.NONE) {
				VerdictDTO v = new VerdictDTO();
				v.verifier = "pulled";
				v.level = pulled.level();
				v.detail = "SHA-256 unchanged since it was pulled from " + pulled.source() + " and verified: " + pulled.verified();
				r.verdicts.add(v);
				listener.step("Verified: " + v.level.label() + " (" + v.verifier + ": " + v.detail + ")");
			}
		}
		check(s, asked, asked == null ? VerifyLevel.NONE : asked, r);
		return r;
	}

	/**
	 * @return the level an image from a URL must reach: what the admin asked
	 *         for, else a signature for the network, and for {@code file:}
	 *         whatever the image carries (as a local path)
	 */
	static VerifyLevel required(URI u, VerifyLevel asked) {
		if (asked != null) {
			return asked;
		}
		return "file".equalsIgnoreCase(u.getScheme()) ? VerifyLevel.NONE : VerifyLevel.SIGNATURE;
	}

	/** @return the strongest level verifiers check: signatures unless only checksums (or nothing) were asked for */
	private static VerifyLevel wanted(VerifyLevel asked) {
		return asked == null ? VerifyLevel.SIGNATURE : asked;
	}

	/**
	 * Asks every verifier and checks that the level asked for was reached.
	 *
	 * @param asked what the admin asked for: {@code NONE} skips every check; {@code null}: the default
	 * @param required the level that must be reached
	 */
	private void check(VerifierSubject s, VerifyLevel asked, VerifyLevel required, PullResultDTO r) throws IOException {
		r.level = VerifyLevel.NONE;
		for (VerdictDTO v : r.verdicts) {
			if (v.level.compareTo(r.level) > 0) {
				r.level = v.level;
			}
		}
		if (asked == VerifyLevel.NONE) {
			listener.step("Not verified (--verify=no)");
			r.verified = summary(r);
			return;
		}
		for (Map.Entry<String, Verifier> v : verifiers.entrySet()) {
			Verifier.Verdict d;
			Verifier verifier = v.getValue();
			try {
				d = calls.call(PluginCalls.Kind.VERIFIER, verifier, "verifying " + r.source, () -> verifier.verify(s));
			} catch (VerificationException e) {
				throw new PsiException(r.source + ": refused: " + e.getMessage(), e);
			} catch (IOException e) {
				throw new PsiException(r.source + ": refused: " + v.getKey() + " could not check it: "
					+ (e.getMessage() == null ? e.toString() : e.getMessage()), e);
			} catch (PsiException e) {
				throw new PsiException(r.source + ": refused: " + v.getKey() + ": " + e.getMessage(), e);
			}
			d = PluginCalls.answer(d, PluginCalls.Kind.VERIFIER, verifier, "verifying " + r.source);
			if (!d.applicable()) {
				continue;
			}

			VerdictDTO dto = new VerdictDTO();
			dto.verifier = v.getKey();
			dto.level = VerifyLevel.valueOf(d.level().name());
			dto.detail = d.detail();
			r.verdicts.add(dto);
			if (dto.level.compareTo(r.level) > 0) {
				r.level = dto.level;
			}
			listener.step("Verified: " + dto.level.label() + " (" + v.getKey() + ": " + d.detail() + ")");
		}
		if (s.sha256 != null) {
			r.sha256 = s.sha256;
		}
		r.verified = summary(r);
		if (r.level.compareTo(required) < 0) {
			String found = r.verdicts.isEmpty() ? "nothing to check (no SHA256SUMS, SHA256SUMS.gpg, .roothash.p7s or dm-verity signature"
				+ (verifiers.isEmpty() ? "; no verifier is installed" : "") + ")"
				: "only " + r.level.label() + " (" + String.join(", ", r.verdicts.stream().map(v -> v.verifier).toList()) + ")";
			throw new PsiException(r.source + ": refused: --verify=" + required.option() + " needs a " + required.label()
				+ (required == VerifyLevel.SIGNATURE ? " by a trusted key" : "") + ", found " + found
				+ (required == VerifyLevel.SIGNATURE ? "; --verify=checksum accepts a checksum, --verify=no accepts it unchecked" : "; --verify=no accepts it unchecked"));
		}
	}

	/** @return one line saying what verified the image */
	static String summary(PullResultDTO r) {
		if (r.verdicts.isEmpty()) {
			return "not verified" + (r.asked == VerifyLevel.NONE ? " (--verify=no)" : "");
		}
		List<String> parts = new ArrayList<>();
		// the strongest first: it is what vouches for the image
		List<VerdictDTO> strongestFirst = new ArrayList<>(r.verdicts);
		strongestFirst.sort(java.util.Comparator.comparing((VerdictDTO v) -> v.level).reversed());
		for (VerdictDTO v : strongestFirst) {
			parts.add(v.level.label() + " (" + v.verifier + ": " + v.detail + ")");
		}
		return String.join("; ", parts);
	}

	/** @return the image being verified as verifiers see it, its sidecars fetched through {@code transport} */
	VerifierSubject subject(Path image, String fileName, URI origin, String sha256, Transport transport, Path sidecarDir,
		VerifyLevel wanted) {
		return new VerifierSubject(layout, verifiers, calls, image, fileName, origin, sha256, transport, sidecarDir, wanted);
	}


	static byte[] sha256(byte[] b) {
		return digest().digest(b);
	}

	/** @return the hex SHA-256 of a file */
	static String sha256Hex(Path file) throws IOException {
		MessageDigest md = digest();
		byte[] buf = new byte[1 << 20];
		try (InputStream in = Files.newInputStream(file)) {
			for (int n; (n = in.read(buf)) > 0;) {
				md.update(buf, 0, n);
			}
		}
		return HexFormat.of().formatHex(md.digest());
	}

	private static MessageDigest digest() {
		try {
			return MessageDigest.getInstance("SHA-256");
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("the JDK has no SHA-256", e);
		}
	}
}
