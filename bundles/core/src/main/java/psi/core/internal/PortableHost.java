package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.UnitFileDTO;
import psi.spi.format.Entry;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.sandbox.SandboxPolicy;

/**
 * The portable services of one host root: image discovery, attach, detach
 * and state, as portabled 252 does them. Made per operation with a snapshot of
 * the plugins; not thread safe (the engine serializes changes).
 */
final class PortableHost {

	/** An image found and opened. */
	record OpenImage(String path, String fileName, ImageTree tree) implements AutoCloseable {
		String label() {
			return "image '" + path + "'";
		}

		@Override
		public void close() throws IOException {
			tree.close();
		}
	}

	/** Where a profile's {@code service.conf} comes from: a host file, or a policy's bytes. */
	record Profile(String hostPath, byte[] content, String policy) {
	}

	/**
	 * Told which units an attach or detach is about to write or remove, before
	 * anything changes: the service manager's checks (an active unit) and
	 * steps (stop before detach) hook in here. Throwing refuses the operation.
	 */
	@FunctionalInterface
	interface Guard {
		/** A guard that lets everything through. */
		Guard NONE = units -> {
		};

		/** @param units the unit names, sorted */
		void check(List<String> units) throws IOException;
	}

	private final HostLayout layout;
	private final List<ImageFormat> formats;
	private final List<SandboxPolicy> policies;
	private final Path cwd;

	/**
	 * @param layout the host
	 * @param formats the image formats, highest ranking first
	 * @param policies the sandbox policies, highest ranking first
	 * @param cwd the directory relative image paths are resolved against
	 */
	PortableHost(HostLayout layout, List<ImageFormat> formats, List<SandboxPolicy> policies, Path cwd) {
		this.layout = layout;
		this.formats = formats;
		this.policies = policies;
		this.cwd = cwd;
	}

	/** @return the file names of the images whose units an image name or path finds attached (any version) */
	java.util.Set<String> attachedImageFiles(String image) throws IOException {
		String nameOrPath = ImageName.isValidName(image) ? canonical(image) : viewPath(image);
		java.util.Set<String> out = new TreeSet<>();
		for (boolean runtime : new boolean[] { false, true }) {
			for (String marker : attachedUnits(HostLayout.attachedDir(runtime), nameOrPath).values()) {
				out.add(DropInWriter.lastComponent(marker));
			}
		}
		return out;
	}

	/** @return the host */
	HostLayout layout() {
		return layout;
	}

	// ---- finding images

	/**
	 * Finds an image by name in the search path, or by path under the root.
	 *
	 * @param nameOrPath the argument
	 * @return the path as the host sees it (a name: as found; a path: with links resolved)
	 */
	String locate(String nameOrPath) throws IOException {
		return locate(nameOrPath, true);
	}

	/**
	 * @param versioned whether a name without version may mean its one
	 *            version; not for the verbs that destroy or change an image
	 *            ({@code remove}, {@code read-only}), which take exact names as portablectl
	 */
	String locate(String nameOrPath, boolean versioned) throws IOException {
		if (ImageName.isValidName(nameOrPath)) {
			Optional<String> found = exact(nameOrPath);
			if (found.isEmpty() && versioned) {
				found = versioned(nameOrPath);
			}
			if (found.isPresent()) {
				return found.get();
			}
			throw new PsiException("No image '" + nameOrPath + "' found. (Searched " + String.join(", ", HostLayout.IMAGE_DIRS)
				+ " for " + nameOrPath + " and " + nameOrPath + ".raw.)");
		}
		String view = viewPath(nameOrPath);
		TreeResolver.Resolved r = layout.resolve(view);
		if (r.entry().isEmpty()) {
			throw new PsiException("Cannot normalize specified image path '" + nameOrPath + "': No such file or directory"
				+ (layout.root().toString().equals("/") ? "" : " (under " + layout.root() + ")"));
		}
		return r.path();
	}

	/** @return the image of exactly this name in the search path: {@code NAME/}, {@code NAME.raw} or {@code NAME.psi} */
	private Optional<String> exact(String name) throws IOException {
		for (String dir : HostLayout.IMAGE_DIRS) {
			String p = dir + "/" + name;
			if (layout.exists(p, Entry.Kind.DIRECTORY)) {
				return Optional.of(p);
			}
			for (String suffix : ImageName.RAW_SUFFIXES) {
				if (layout.exists(p + suffix, Entry.Kind.FILE)) {
					return Optional.of(p + suffix);
				}
			}
		}
		return Optional.empty();
	}

	/**
	 * A name without a version ({@code foobar}) names the one version of it
	 * in the search path ({@code foobar_1.raw}), or the attached one of
	 * several, so that {@code psi status foobar} finds what
	 * {@code psi start https://…/foobar_1.psi} pulled.
	 */
	private Optional<String> versioned(String name) throws IOException {
		if (name.indexOf('_') >= 0) {
			return Optional.empty();
		}
		TreeMap<String, String> found = new TreeMap<>();
		for (String dir : HostLayout.IMAGE_DIRS) {
			for (String entry : layout.list(dir)) {
				String n = ImageName.stripSuffix(entry);
				if (!entry.startsWith(".") && n.startsWith(name + "_") && ImageName.isValidName(entry) && !found.containsKey(n)
					&& (n.equals(entry) ? layout.exists(dir + "/" + entry, Entry.Kind.DIRECTORY) : layout.exists(dir + "/" + entry, Entry.Kind.FILE))) {
					found.put(n, dir + "/" + entry);
				}
			}
		}
		if (found.size() == 1) {
			return Optional.of(found.firstEntry().getValue());
		}
		List<String> attached = found.keySet().stream().filter(n -> {
			try {
				return !attachedUnits(n).isEmpty();
			} catch (IOException e) {
				return false;
			}
		}).toList();
		if (attached.size() == 1) {
			return Optional.of(found.get(attached.get(0)));
		}
		if (found.size() > 1) {
			throw new PsiException("'" + name + "' names several versions: " + String.join(", ", found.keySet()) + "; name one of them");
		}
		return Optional.empty();
	}

	/**
	 * @return the image name an argument means: a name without a version
	 *         that names no image and nothing attached means its one version
	 *         ({@code foobar} → {@code foobar_1}); anything else as given
	 */
	String canonical(String arg) throws IOException {
		if (!ImageName.isValidName(arg) || arg.indexOf('_') >= 0 || exact(arg).isPresent()) {
			return arg;
		}
		for (boolean runtime : new boolean[] { false, true }) {
			if (!attachedUnits(HostLayout.attachedDir(runtime), arg).isEmpty()) {
				return arg;
			}
		}
		try {
			return versioned(arg).map(p -> ImageName.stripSuffix(DropInWriter.lastComponent(p))).orElse(arg);
		} catch (PsiException severalVersions) {
			return arg;
		}
	}

	/** @return the argument as an absolute path seen from the root */
	private String viewPath(String path) {
		if (path.startsWith("/")) {
			return Path.of(path).normalize().toString();
		}
		Path abs = cwd.resolve(path).normalize();
		if (layout.root().toString().equals("/")) {
			return abs.toString();
		}
		if (!abs.startsWith(layout.root())) {
			throw new PsiException("image path '" + path + "' (" + abs + ") is outside the root " + layout.root()
				+ "; give it as an absolute path as seen from the root");
		}
		return "/" + layout.root().relativize(abs);
	}

	/**
	 * Opens an image with the first format that claims it.
	 *
	 * @param nameOrPath the argument
	 * @return the open image; the caller closes it
	 */
	OpenImage open(String nameOrPath) throws IOException {
		String path = locate(nameOrPath);
		return openAt(path);
	}

	private OpenImage openAt(String path) throws IOException {
		Path real = layout.host(layout.resolve(path).path());
		for (ImageFormat f : formats) {
			Optional<ImageTree> t;
			try {
				t = f.open(real);
			} catch (RuntimeException e) {
				throw new PsiException("image format " + f.getClass().getName() + " failed on " + path + ": " + e, e);
			}
			if (t.isPresent()) {
				return new OpenImage(path, DropInWriter.lastComponent(path), t.get());
			}
		}
		throw new PsiException("Image '" + path + "' is of no type psi knows, refusing. (Image formats installed: " + formatNames() + ")");
	}

	private String formatNames() {
		List<String> names = new ArrayList<>();
		for (ImageFormat f : formats) {
			names.add(f.getClass().getSimpleName());
		}
		return names.isEmpty() ? "none installed" : String.join(", ", names);
	}

	// ---- metadata

	ImageMetadataDTO inspect(String nameOrPath, List<String> prefixes, boolean verify) throws IOException {
		List<String> matches = matches(nameOrPath, prefixes);
		try (OpenImage img = open(nameOrPath)) {
			// check first: nothing is read from an image that fails its check
			Map<String, String> checked = verify ? img.tree().verifyIntegrity() : Map.of();
			ImageReader reader = new ImageReader(img.tree(), img.path());
			ImageReader.Release release = reader.osRelease();
			TreeMap<String, ImageReader.UnitFile> units = reader.units(matches);
			ImageMetadataDTO dto = new ImageMetadataDTO();
			dto.name = ImageName.stripSuffix(img.fileName());
			dto.path = img.path();
			dto.type = img.tree().type();
			dto.version = ImageName.version(img.fileName());
			dto.details = new LinkedHashMap<>(img.tree().describe());
			dto.details.putAll(checked);
			dto.osReleaseText = release.text();
			dto.osRelease = new LinkedHashMap<>(release.release().fields());
			dto.units = new ArrayList<>();
			for (ImageReader.UnitFile u : units.values()) {
				UnitFileDTO f = new UnitFileDTO();
				f.name = u.name();
				f.path = u.path();
				f.content = new String(u.content(), StandardCharsets.UTF_8);
				dto.units.add(f);
			}
			return dto;
		}
	}

	/** As portablectl: the prefix comes from the argument as given, before the image is looked up. */
	static List<String> matches(String image, List<String> prefixes) {
		if (!prefixes.isEmpty()) {
			return prefixes;
		}
		try {
			return List.of(ImageName.defaultPrefix(DropInWriter.lastComponent(image)));
		} catch (IllegalArgumentException e) {
			throw new PsiException("Failed to extract prefix of image name '" + image + "': Invalid argument ("
				+ e.getMessage() + ")");
		}
	}

	// ---- attach

	List<ChangeDTO> attach(AttachRequestDTO req, boolean reattach) throws IOException {
		return attach(req, reattach, Guard.NONE, Guard.NONE);
	}

	/**
	 * @param detaching checks the units a reattach removes first
	 * @param attaching checks the units about to be attached
	 */
	List<ChangeDTO> attach(AttachRequestDTO req, boolean reattach, Guard detaching, Guard attaching) throws IOException {
		String copy = req.copy == null ? "auto" : req.copy;
		if (!List.of("auto", "copy", "symlink", "mixed").contains(copy)) {
			throw new PsiException("Failed to parse --copy= argument: " + copy + " (one of auto, copy, symlink, mixed)");
		}
		for (String p : req.prefixes) {
			if (!UnitNames.isValidPrefix(p)) {
				throw new PsiException("Unit name prefix not valid: " + p);
			}
		}
		String profileName = req.profile == null || req.profile.isEmpty() ? "default" : req.profile;
		if (profileName.contains("/") || profileName.startsWith(".")) {
			throw new PsiException("Unit profile name not valid: " + profileName);
		}
		List<String> matches = matches(req.image, req.prefixes);
		try (OpenImage img = open(req.image)) {
			ImageReader reader = new ImageReader(img.tree(), img.path());
			OsRelease release = reader.osRelease().release();
			if (release.get("ID") == null) {
				throw new PsiException("Image " + img.path() + " os-release metadata lacks the ID field");
			}
			String portablePrefixes = release.get("PORTABLE_PREFIXES");
			if (portablePrefixes != null) {
				List<String> valid = List.of(portablePrefixes.trim().split("\\s+"));
				if (!valid.containsAll(matches)) {
					throw new PsiException("Selected matches '" + String.join("', '", matches)
						+ "' are not compatible with portable service image '" + img.path()
						+ "', refusing. (Acceptable prefix matches are: " + String.join(", ", valid) + ")");
				}
			}
			TreeMap<String, ImageReader.UnitFile> units = reader.units(matches);
			if (units.isEmpty()) {
				throw new PsiException("Couldn't find any matching unit files in image '" + img.path() + "', refusing.");
			}
			Profile profile = profile(profileName);
			List<ChangeDTO> changes = new ArrayList<>();
			Transaction tx = new Transaction(layout);
			try {
				List<ChangeDTO> detached = List.of();
				if (reattach) {
					DetachRequestDTO d = new DetachRequestDTO();
					d.image = img.path();
					d.runtime = req.runtime;
					detached = detach(d, tx, detaching);
				}
				attaching.check(new ArrayList<>(units.keySet()));
				if (!req.force) {
					for (String name : units.keySet()) {
						String where = unitOnHost(name);
						if (where != null) {
							throw new PsiException("Unit file '" + name + "' exists on the host already, refusing. (" + where
								+ "; --force attaches anyway)");
						}
					}
				}
				String attached = HostLayout.attachedDir(req.runtime);
				String osReleaseSource = layout.osReleaseSource();
				tx.mkdirs(attached, changes);
				for (ImageReader.UnitFile u : units.values()) {
					String dropinDir = attached + "/" + u.name() + ".d";
					tx.mkdirs(dropinDir, changes);
					String conf = DropInWriter.portableConf(img.path(), img.tree().rootKind(), u.name(), img.fileName(),
						osReleaseSource);
					tx.write(dropinDir + "/20-portable.conf", conf.getBytes(StandardCharsets.UTF_8), changes);
					if (u.name().endsWith(".service")) {
						if (profile.hostPath() != null && !copy.equals("copy")) {
							tx.symlink(dropinDir + "/10-profile.conf", profile.hostPath(), changes);
						} else {
							tx.copy(dropinDir + "/10-profile.conf", profile.content(), profile.hostPath(), changes);
							if (profile.hostPath() != null) {
								// as portabled's copy_file_atomic(): the copy keeps the profile's mtime
								Files.setLastModifiedTime(layout.host(dropinDir + "/10-profile.conf"),
									Files.getLastModifiedTime(layout.host(layout.resolve(profile.hostPath()).path())));
							}
						}
					}
					String unitPath = attached + "/" + u.name();
					Optional<Path> source = copy.equals("symlink") ? img.tree().hostPath(u.path()) : Optional.empty();
					if (source.isPresent()) {
						tx.symlink(unitPath, img.path() + u.path(), changes);
					} else {
						// portabled names the source only where the unit is a host file (directory images)
						String from = img.tree().hostPath(u.path()).isPresent() ? img.path() + u.path() : null;
						tx.copy(unitPath, u.content(), from, changes);
					}
				}
				// portabled links every attached image into /etc/portables (or /run/portables), pool images too
				String linkDir = HostLayout.linkDir(req.runtime);
				if (!img.path().equals(linkDir + "/" + img.fileName())) {
					String link = linkDir + "/" + img.fileName();
					if (layout.lstat(link).isEmpty()) {
						tx.mkdirs(HostLayout.linkDir(req.runtime), null);
						tx.symlink(link, img.path(), changes);
					}
				}
				tx.commit();
				if (reattach) {
					// as portabled: the removals the attach did not redo (by file name), then the attach's changes
					java.util.Set<String> redone = new java.util.HashSet<>();
					changes.forEach(c -> redone.add(DropInWriter.lastComponent(c.path)));
					List<ChangeDTO> all = new ArrayList<>();
					detached.stream().filter(c -> !redone.contains(DropInWriter.lastComponent(c.path))).forEach(all::add);
					all.addAll(changes);
					return all;
				}
				return changes;
			} catch (IOException | RuntimeException e) {
				tx.rollback();
				throw e;
			}
		}
	}

	/** @return where a unit of that name is on the host's unit path, or {@code null} */
	private String unitOnHost(String name) throws IOException {
		for (String dir : HostLayout.UNIT_PATH) {
			String p = dir + "/" + name;
			TreeResolver.Resolved r = layout.resolve(p);
			if (r.entry().isPresent() || Files.isSymbolicLink(layout.host(p))) {
				return p;
			}
		}
		return null;
	}

	/**
	 * Finds a profile's {@code service.conf}: the host's first, then the
	 * policies', highest ranking first.
	 */
	Profile profile(String name) throws IOException {
		for (String dir : HostLayout.PROFILE_DIRS) {
			String p = dir + "/" + name + "/service.conf";
			if (layout.exists(p, Entry.Kind.FILE)) {
				return new Profile(p, Files.readAllBytes(layout.host(layout.resolve(p).path())), null);
			}
		}
		for (SandboxPolicy policy : policies) {
			Optional<byte[]> b;
			try {
				b = policy.serviceConf(name);
			} catch (RuntimeException e) {
				throw new PsiException("sandbox policy " + policy.getClass().getName() + " failed on profile '" + name + "': " + e, e);
			}
			if (b.isPresent()) {
				return new Profile(null, b.get(), policy.getClass().getName());
			}
		}
		throw new PsiException("Profile '" + name + "' not found (available: " + String.join(", ", profiles()) + ")");
	}

	List<String> profiles() throws IOException {
		TreeSet<String> names = new TreeSet<>();
		for (String dir : HostLayout.PROFILE_DIRS) {
			TreeResolver.Resolved r = layout.resolve(dir);
			if (r.entry().isPresent() && r.entry().get().kind() == Entry.Kind.DIRECTORY) {
				for (String n : layout.list(r.path())) {
					if (layout.exists(r.path() + "/" + n + "/service.conf", Entry.Kind.FILE)) {
						names.add(n);
					}
				}
			}
		}
		for (SandboxPolicy p : policies) {
			try {
				names.addAll(p.profiles());
			} catch (RuntimeException e) {
				// a broken policy does not hide the others' profiles
			}
		}
		return new ArrayList<>(names);
	}

	// ---- detach and state

	List<ChangeDTO> detach(DetachRequestDTO req) throws IOException {
		return detach(req, Guard.NONE);
	}

	List<ChangeDTO> detach(DetachRequestDTO req, Guard guard) throws IOException {
		Transaction tx = new Transaction(layout);
		List<ChangeDTO> changes = detach(req, tx, guard);
		tx.commit();
		return changes;
	}

	private List<ChangeDTO> detach(DetachRequestDTO req, Transaction tx, Guard guard) throws IOException {
		String nameOrPath = ImageName.isValidName(req.image) ? canonical(req.image) : viewPath(req.image);
		String where = HostLayout.attachedDir(req.runtime);
		Map<String, String> units = attachedUnits(where, nameOrPath);
		List<ChangeDTO> changes = new ArrayList<>();
		if (units.isEmpty()) {
			throw new PsiException("No unit files associated with '" + req.image + "' found attached to the system. Image not attached?"
				+ (req.runtime ? "" : " (To detach from " + HostLayout.attachedDir(true) + ", use --runtime.)"), 1, null);
		}
		guard.check(new ArrayList<>(units.keySet()));
		TreeSet<String> markers = new TreeSet<>();
		for (Map.Entry<String, String> u : units.entrySet()) {
			tx.unlink(where + "/" + u.getKey(), changes);
			for (String suffix : new String[] { "/10-profile.conf", "/20-portable.conf" }) {
				tx.unlink(where + "/" + u.getKey() + ".d" + suffix, changes);
			}
			tx.rmdir(where + "/" + u.getKey() + ".d", changes);
			if (u.getValue().startsWith("/")) {
				markers.add(u.getValue());
			}
		}
		for (String m : markers) {
			String link = HostLayout.linkDir(req.runtime) + "/" + DropInWriter.lastComponent(m);
			if (layout.lstat(link).map(e -> e.kind() == Entry.Kind.SYMLINK).orElse(false)) {
				tx.unlink(link, changes);
			}
		}
		tx.rmdir(where, changes);
		return changes;
	}

	/** @return unit name → marker of the units in {@code where} whose marker matches the image */
	private Map<String, String> attachedUnits(String where, String nameOrPath) throws IOException {
		Map<String, String> units = new TreeMap<>();
		Path dir = layout.host(where);
		if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
			return units;
		}
		try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
			for (Path p : ds) {
				String name = p.getFileName().toString();
				if (!UnitNames.isValid(name)) {
					continue;
				}
				if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(p)) {
					continue;
				}
				String marker = marker(dir.resolve(name + ".d").resolve("20-portable.conf"));
				if (marker != null && DropInWriter.markerMatches(marker, nameOrPath)) {
					units.put(name, marker);
				}
			}
		}
		return units;
	}

	private static String marker(Path dropin) throws IOException {
		if (!Files.isRegularFile(dropin, LinkOption.NOFOLLOW_LINKS)) {
			return null;
		}
		try (var in = Files.newInputStream(dropin, LinkOption.NOFOLLOW_LINKS)) {
			byte[] head = in.readNBytes(8192);
			String text = new String(head, StandardCharsets.UTF_8);
			int nl = text.indexOf('\n');
			return DropInWriter.parseMarker(nl < 0 ? text : text.substring(0, nl));
		}
	}

	/**
	 * The units attached for an image, persistent ones first.
	 *
	 * @return unit name to where it is attached ({@code /etc/...} or {@code /run/...} directory)
	 */
	Map<String, String> attachedUnits(String image) throws IOException {
		String nameOrPath = ImageName.isValidName(image) ? canonical(image) : viewPath(image);
		Map<String, String> out = new java.util.LinkedHashMap<>();
		for (boolean runtime : new boolean[] { false, true }) {
			String where = HostLayout.attachedDir(runtime);
			for (String unit : attachedUnits(where, nameOrPath).keySet()) {
				out.putIfAbsent(unit, where);
			}
		}
		return out;
	}

	/**
	 * The profile attached units use: the profile directory its
	 * {@code 10-profile.conf} links to, or the profile whose bytes a copy has.
	 *
	 * @param units unit name to attached directory, as {@link #attachedUnits(String)}
	 * @return the profile name, or {@code null} when there is none to tell
	 */
	String profileOf(Map<String, String> units) throws IOException {
		for (Map.Entry<String, String> u : units.entrySet()) {
			Path conf = layout.host(u.getValue() + "/" + u.getKey() + ".d/10-profile.conf");
			if (Files.isSymbolicLink(conf)) {
				Path target = Files.readSymbolicLink(conf);
				return target.getParent() == null ? target.toString() : target.getParent().getFileName().toString();
			}
			if (Files.isRegularFile(conf, LinkOption.NOFOLLOW_LINKS)) {
				byte[] copy = Files.readAllBytes(conf);
				for (String name : profiles()) {
					if (java.util.Arrays.equals(copy, profile(name).content())) {
						return name + " (copied)";
					}
				}
				return "a copy of an unknown profile";
			}
		}
		return null;
	}

	/** The attach state, without a service manager: {@code attached}, {@code attached-runtime} or {@code detached}. */
	String state(String image) throws IOException {
		return stateOf(attachedUnits(image));
	}

	/**
	 * @param units what {@link #attachedUnits(String)} found
	 * @return {@code attached} when any unit is attached persistently, else {@code attached-runtime} or {@code detached}
	 */
	static String stateOf(Map<String, String> units) {
		if (units.isEmpty()) {
			return "detached";
		}
		return units.containsValue(HostLayout.attachedDir(false)) ? "attached" : "attached-runtime";
	}

	// ---- list, read-only, remove

	List<ImageDTO> list() throws IOException {
		Map<String, ImageDTO> byName = new TreeMap<>();
		for (String dir : HostLayout.IMAGE_DIRS) {
			for (String entry : layout.list(dir).stream().sorted().toList()) {
				if (!ImageName.isValidName(entry) || entry.startsWith(".")) {
					continue;
				}
				String name = ImageName.stripSuffix(entry);
				if (byName.containsKey(name)) {
					continue;
				}
				String path = dir + "/" + entry;
				TreeResolver.Resolved r;
				try {
					r = layout.resolve(path);
				} catch (IOException e) {
					continue;
				}
				if (r.entry().isEmpty()) {
					continue;
				}
				boolean isDir = r.entry().get().kind() == Entry.Kind.DIRECTORY;
				if (!isDir && (r.entry().get().kind() != Entry.Kind.FILE || name.equals(entry))) {
					continue;
				}
				try (OpenImage img = openAt(path)) {
					ImageDTO dto = new ImageDTO();
					dto.name = name;
					dto.path = path;
					dto.type = img.tree().type();
					dto.readOnly = img.tree().isReadOnly();
					Path real = layout.host(r.path());
					BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
					dto.crtime = a.creationTime().toMillis() * 1000;
					// as portabled: directories have no meaningful mtime (their contents change, not the image)
					dto.mtime = isDir ? 0 : a.lastModifiedTime().toMillis() * 1000;
					dto.usage = img.tree().usage();
					dto.state = state(name);
					byName.put(name, dto);
				} catch (PsiException | IOException e) {
					// one unreadable image does not hide the others: listed, with what is wrong
					ImageDTO dto = new ImageDTO();
					dto.name = name;
					dto.path = path;
					dto.type = "unreadable (" + e.getMessage() + ")";
					dto.usage = -1;
					dto.state = state(name);
					byName.put(name, dto);
				}
			}
		}
		return new ArrayList<>(byName.values());
	}

	void markReadOnly(String image, boolean readOnly) throws IOException {
		try (OpenImage img = openAt(locate(image, false))) {
			img.tree().setReadOnly(readOnly);
		}
	}

	List<ChangeDTO> remove(List<String> images) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		List<String> paths = new ArrayList<>();
		for (String image : images) {
			String path = locate(image, false);
			String name = ImageName.isValidName(image) ? image : path;
			if (!attachedUnits(name).isEmpty()) {
				throw new PsiException("Image '" + path + "' is not detached, refusing. (Detach it first.)");
			}
			try (OpenImage img = openAt(path)) {
				if (img.tree().isReadOnly()) {
					throw new PsiException("Image '" + image + "' is read-only, refusing to remove it; run read-only " + image + " no first");
				}
			}
			paths.add(path);
		}
		for (String path : paths) {
			Path p = layout.host(path);
			if (Files.isSymbolicLink(p)) {
				Path target = layout.host(layout.resolve(path).path());
				deleteTree(target);
				Files.delete(p);
			} else {
				deleteTree(p);
			}
			if (path.startsWith(Delivery.POOL + "/")) {
				new Origins(layout).delete(DropInWriter.lastComponent(path));
			}
			changes.add(ChangeDTO.of("unlink", path, null));
		}
		return changes;
	}

	private static void deleteTree(Path p) throws IOException {
		if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		Files.walkFileTree(p, new SimpleFileVisitor<>() {
			@Override
			public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
				Files.delete(file);
				return FileVisitResult.CONTINUE;
			}

			@Override
			public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
				if (exc != null) {
					throw exc;
				}
				try {
					Files.delete(dir);
				} catch (NoSuchFileException e) {
					// gone already
				}
				return FileVisitResult.CONTINUE;
			}
		});
	}
}
