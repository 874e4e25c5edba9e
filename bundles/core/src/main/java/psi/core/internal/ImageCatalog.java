package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import psi.api.PsiException;
import psi.api.dto.AttachState;
import psi.api.dto.ImageDTO;
import psi.api.dto.ExtensionDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.InspectRequestDTO;
import psi.api.dto.UnitFileDTO;
import psi.spi.format.Entry;

/**
 * What the admin reads about images without changing anything: the list of
 * the search path, an image's metadata and units ({@code inspect}), its
 * attach state. Made per operation; not thread safe.
 */
final class ImageCatalog {

	private final HostLayout layout;
	private final ImageResolver images;
	private final AttachmentIndex index;
	private final Profiles profiles;

	ImageCatalog(HostLayout layout, ImageResolver images, AttachmentIndex index, Profiles profiles) {
		this.layout = layout;
		this.images = images;
		this.index = index;
		this.profiles = profiles;
	}

	/** @param profileName the profile to judge the units under; {@code null} for {@code default} */
	ImageMetadataDTO inspect(String nameOrPath, List<String> prefixes, boolean verify, String profileName) throws IOException {
		InspectRequestDTO req = new InspectRequestDTO();
		req.image = nameOrPath;
		req.prefixes = prefixes;
		req.verify = verify;
		req.profile = profileName;
		return inspect(req);
	}

	/**
	 * An image's metadata with its extensions layered over it, as portabled's
	 * {@code GetImageMetadataWithExtensions}: no check that they fit.
	 */
	ImageMetadataDTO inspect(InspectRequestDTO req) throws IOException {
		String nameOrPath = req.image;
		List<String> prefixes = req.prefixes;
		boolean verify = req.verify;
		String profileName = req.profile;
		String profile = profileName == null || profileName.isEmpty() ? profiles.defaultName() : profileName;
		// an unknown profile asked for by name is refused before the image is read
		Profiles.Profile asked = profileName == null || profileName.isEmpty() ? null : profiles.profile(profile);
		List<String> matches = ImageResolver.matches(nameOrPath, prefixes);
		boolean confext = req.extensions != null && !req.extensions.isEmpty()
			&& SystemdVersion.installed(layout) >= ExtensionRelease.CONFEXT_SINCE;
		try (ImageResolver.OpenImage img = images.open(nameOrPath);
			ImageResolver.Extensions extensions = images.openExtensions(req.extensions == null ? List.of() : req.extensions)) {
			// check first: nothing is read from an image that fails its check
			Map<String, String> checked = verify ? img.tree().verifyIntegrity() : Map.of();
			ImageReader reader = new ImageReader(img.tree(), img.path());
			ImageReader.Release release = img.tree().reading("reading its os-release", reader::osRelease);
			TreeMap<String, ImageReader.UnitFile> units = img.tree().reading("reading its unit files", () -> reader.units(matches));
			Map<String, ImageResolver.OpenImage> origin = new java.util.HashMap<>();
			List<ExtensionDTO> extDtos = new ArrayList<>();
			for (ImageResolver.OpenImage ext : extensions.images()) {
				if (verify) {
					ext.tree().verifyIntegrity();
				}
				ImageReader.Release r = ExtensionRelease.layer(ext, matches, req.relaxExtensionRelease, confext, units, origin);
				ExtensionDTO e = new ExtensionDTO();
				e.name = ImageName.stripSuffix(ext.fileName());
				e.path = ext.path();
				e.type = ext.tree().type();
				e.releasePath = r.path();
				e.releaseBytes = r.bytes();
				e.releaseText = r.text();
				e.release = new LinkedHashMap<>(r.release().fields());
				extDtos.add(e);
			}
			ImageMetadataDTO dto = new ImageMetadataDTO();
			dto.extensions = extDtos;
			dto.name = ImageName.stripSuffix(img.fileName());
			dto.path = img.path();
			dto.type = img.tree().type();
			dto.version = ImageName.version(img.fileName());
			dto.details = new LinkedHashMap<>(img.tree().describe());
			dto.details.putAll(checked);
			dto.osReleaseText = release.text();
			dto.osReleaseBytes = release.bytes();
			dto.osRelease = new LinkedHashMap<>(release.release().fields());
			dto.units = new ArrayList<>();
			// what attach would refuse under the profile, so an image's author sees it before shipping
			byte[] conf;
			try {
				conf = (asked != null ? asked : profiles.profile(profile)).content();
			} catch (psi.api.PsiException noProfile) {
				conf = new byte[0]; // no default profile here: nothing to keep inside
			}
			dto.profile = profile;
			dto.readBy = img.readBy();
			// what attach would add; one that may widen is shown here, and refused by attach unless named
			profiles.extensions(profile).forEach(e -> dto.policies.add(e.policy()
				+ (e.widening().isEmpty() ? "" : " (may widen the sandbox: attach needs --policy " + e.policy() + ")")));
			Map<String, byte[]> files = new LinkedHashMap<>();
			units.values().forEach(u -> files.put(u.name(), u.content()));
			Map<String, List<String>> refusals = SandboxGuard.refusals(profile, conf, files, layout);
			for (ImageReader.UnitFile u : units.values()) {
				UnitFileDTO f = new UnitFileDTO();
				f.name = u.name();
				f.path = u.path();
				f.image = origin.containsKey(u.name()) ? origin.get(u.name()).path() : img.path();
				f.content = new String(u.content(), StandardCharsets.UTF_8);
				f.bytes = u.content();
				f.refused = refusals.get(u.name());
				dto.units.add(f);
			}
			return dto;
		}
	}

	/** {@code psi lint}: the image's pitfalls ({@link ImageLint}), under the profile asked for or the default. */
	List<psi.api.dto.FindingDTO> lint(InspectRequestDTO req, Attachments.Verification verification) throws IOException {
		String profile = req.profile == null || req.profile.isEmpty() ? profiles.defaultName() : req.profile;
		byte[] conf;
		try {
			conf = profiles.profile(profile).content();
		} catch (psi.api.PsiException noProfile) {
			if (req.profile != null && !req.profile.isEmpty()) {
				throw noProfile;
			}
			conf = new byte[0]; // no default profile here: nothing to keep inside
		}
		List<String> matches = ImageResolver.matches(req.image, req.prefixes);
		byte[] profileConf = conf;
		try (ImageResolver.OpenImage img = images.open(req.image)) {
			return img.tree().reading("checking it", () -> ImageLint.check(img, matches, profile, profileConf, layout, verification));
		}
	}

	/** The attach state, without a service manager: {@code attached}, {@code attached-runtime} or {@code detached}. */
	AttachState state(String image) throws IOException {
		return AttachmentIndex.stateOf(index.units(images.key(image)));
	}

	/** Whether a unit runs, as the service manager says. */
	interface Running {
		boolean test(String unit) throws IOException;
	}

	/**
	 * The attach state as portabled tells it: {@code running} when one of
	 * the image's units is active, else {@code enabled} when one is enabled
	 * (linked from a {@code .wants}, {@code .requires} or {@code .upholds}
	 * directory), else {@code attached}; each {@code -runtime} when attached
	 * under {@code /run}.
	 */
	AttachState state(String image, Running running) throws IOException {
		return state(image, null, running);
	}

	/** As {@link #state(String, Running)}, for the units attached with these extensions ({@code null} or empty: any). */
	AttachState state(String image, List<String> extensions, Running running) throws IOException {
		Map<String, String> units = index.unitsWith(images.key(image), ImageResolver.extensionKeys(extensions));
		AttachState s = AttachmentIndex.stateOf(units);
		if (s == AttachState.DETACHED) {
			return s;
		}
		boolean runtime = s.runtime();
		boolean enabled = false;
		for (String u : units.keySet()) {
			boolean runs;
			try {
				runs = running.test(u);
			} catch (java.nio.file.NoSuchFileException gone) {
				runs = false; // detached meanwhile: a change does not wait for readers
			}
			if (runs) {
				return runtime ? AttachState.RUNNING_RUNTIME : AttachState.RUNNING;
			}
			enabled |= enabled(u);
		}
		return !enabled ? s : runtime ? AttachState.ENABLED_RUNTIME : AttachState.ENABLED;
	}

	private boolean enabled(String unit) throws IOException {
		for (String dir : new String[] { "/etc/systemd/system", "/run/systemd/system", HostLayout.attachedDir(false), HostLayout.attachedDir(true) }) {
			List<String> entries;
			try {
				entries = layout.list(dir);
			} catch (java.nio.file.NoSuchFileException gone) {
				continue;
			}
			for (String e : entries) {
				if ((e.endsWith(".wants") || e.endsWith(".requires") || e.endsWith(".upholds"))
					&& layout.lstat(dir + "/" + e + "/" + unit).isPresent()) {
					return true;
				}
			}
		}
		return false;
	}

	List<ImageDTO> list() throws IOException {
		Map<String, ImageDTO> byName = new TreeMap<>();
		for (String dir : HostLayout.IMAGE_DIRS) {
			for (String entry : layout.list(dir).stream().sorted().toList()) {
				if (!ImageName.isValidName(entry) || entry.startsWith(".")) {
					continue;
				}
				if (Versions.isVersioned(entry) && layout.exists(dir + "/" + entry, Entry.Kind.DIRECTORY)) {
					// a .v/ directory: each of its versions, as a versioned image of the pool is listed
					for (Versions.Pick v : Versions.all(layout, dir + "/" + entry)) {
						String name = ImageName.stripSuffix(v.fileName());
						if (!byName.containsKey(name)) {
							ImageDTO dto = listed(name, v.path());
							// this version's own state: the marker names its path
							dto.state = AttachmentIndex.stateOf(index.unitsOfPath(v.path()));
							byName.put(name, dto);
						}
					}
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
				byName.put(name, listed(name, path));
			}
		}
		return new ArrayList<>(byName.values());
	}

	/** @return an image as {@link #list()} shows it; an unreadable one with what is wrong */
	private ImageDTO listed(String name, String path) throws IOException {
		ImageDTO dto;
		try {
			TreeResolver.Resolved r = layout.resolve(path);
			boolean isDir = r.entry().isPresent() && r.entry().get().kind() == Entry.Kind.DIRECTORY;
			dto = describe(name, path, r, isDir);
		} catch (PsiException | IOException e) {
			// one unreadable image does not hide the others: listed, with what is wrong
			dto = new ImageDTO();
			dto.name = name;
			dto.path = path;
			dto.type = "unreadable (" + e.getMessage() + ")";
			dto.usage = -1;
		}
		dto.state = state(name);
		return dto;
	}

	/** One image by exact name (as portabled looks it up) or by path, as {@link #list()} describes it. */
	ImageDTO image(String nameOrPath) throws IOException {
		String path = images.locate(nameOrPath, false);
		TreeResolver.Resolved r = layout.resolve(path);
		boolean isDir = r.entry().isPresent() && r.entry().get().kind() == Entry.Kind.DIRECTORY;
		ImageDTO dto = describe(ImageName.stripSuffix(DropInWriter.lastComponent(path)), path, r, isDir);
		dto.state = state(nameOrPath);
		return dto;
	}

	private ImageDTO describe(String name, String path, TreeResolver.Resolved r, boolean isDir) throws IOException {
		ImageDTO dto = new ImageDTO();
		dto.name = name;
		dto.path = path;
		try (ImageResolver.OpenImage img = images.openAt(path)) {
			dto.type = img.tree().type();
			dto.readOnly = img.tree().isReadOnly();
			Path real = layout.host(r.path());
			BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
			dto.crtime = a.creationTime().to(java.util.concurrent.TimeUnit.MICROSECONDS);
			// as portabled: directories have no meaningful mtime (their contents change, not the image)
			dto.mtime = isDir ? 0 : a.lastModifiedTime().to(java.util.concurrent.TimeUnit.MICROSECONDS);
			dto.usage = img.tree().usage();
		}
		return dto;
	}

	/** @param image a name or path, {@code null} for the pool; {@code bytes} -1 for no limit */
	void setLimit(String image, long bytes) throws IOException {
		String path = image == null ? HostLayout.POOL : images.locate(image, false);
		try (ImageResolver.OpenImage img = images.openAt(path)) {
			try {
				img.tree().setLimit(bytes);
			} catch (psi.spi.format.ImageException e) {
				if ("Operation not supported".equals(e.getMessage())) {
					throw new PsiException(PsiException.Reason.NOT_SUPPORTED, "Operation not supported",
						path + " is a " + img.tree().type() + (image == null ? " (the pool)" : " image") + "; only btrfs subvolumes take a size limit");
				}
				throw e;
			}
		}
	}

	void markReadOnly(String image, boolean readOnly) throws IOException {
		try (ImageResolver.OpenImage img = images.openAt(images.locate(image, false))) {
			img.tree().setReadOnly(readOnly);
		}
	}
}
