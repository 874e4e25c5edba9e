package psi.core.internal;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import psi.api.PsiException;
import psi.api.dto.AttachState;
import psi.api.dto.VersionDTO;
import psi.spi.format.Entry;

/**
 * The versions of one image on a host: every {@code NAME_VERSION} (file or
 * directory) in the image search path, and the versions in its
 * {@code NAME.v/} directories; a name found in an earlier directory of the
 * search path hides the same name in a later one, as lookups do. The
 * version is the one in the file name, else the image's os-release
 * {@code IMAGE_VERSION=}, else its {@code VERSION_ID=}. Newest first, by
 * systemd's version order.
 */
final class ImageVersions {

	/** One version: its name ({@code foo_2}), version ({@code 2}, or {@code null}) and path. */
	record Version(String name, String version, String path) {
	}

	private ImageVersions() {
	}

	/** A version read from an os-release: what systemd's version format takes, nothing a terminal or a file name would read as more. */
	private static final java.util.regex.Pattern RELEASE_VERSION = java.util.regex.Pattern.compile("[A-Za-z0-9._~^+-]{1,64}");

	/**
	 * @param path an image's path
	 * @return its version: the one in its file name, else its os-release
	 *         {@code IMAGE_VERSION=}, else {@code VERSION_ID=}; {@code null} when none
	 */
	static String versionOf(Host host, String path) {
		String v = ImageName.version(DropInWriter.lastComponent(path));
		if (v != null) {
			return v;
		}
		try (ImageResolver.OpenImage img = host.images().openAt(path)) {
			ImageReader reader = new ImageReader(img.tree(), img.path());
			Map<String, String> f = img.tree().reading("reading its os-release", reader::osRelease).release().fields();
			for (String key : new String[] { "IMAGE_VERSION", "VERSION_ID" }) {
				String r = f.get(key);
				if (r != null && RELEASE_VERSION.matcher(r).matches()) {
					return r;
				}
			}
		} catch (IOException | RuntimeException unreadable) {
			// no version to be read: none
		}
		return null;
	}

	/** @return the versions of the image named {@code base}, newest first */
	static List<Version> of(Host host, String base) throws IOException {
		HostLayout layout = host.layout();
		Map<String, Version> byName = new LinkedHashMap<>();
		for (String dir : HostLayout.IMAGE_DIRS) {
			for (String entry : layout.list(dir).stream().sorted().toList()) {
				if (!Purge.isVersionOf(entry, base)) {
					continue;
				}
				String path = dir + "/" + entry;
				if (Versions.isVersioned(entry) && layout.exists(path, Entry.Kind.DIRECTORY)) {
					for (Versions.Pick p : Versions.all(layout, path)) {
						byName.putIfAbsent(ImageName.stripSuffix(p.fileName()), new Version(ImageName.stripSuffix(p.fileName()), p.version(), p.path()));
					}
					continue;
				}
				String name = ImageName.stripSuffix(entry);
				boolean image = name.equals(entry) ? layout.exists(path, Entry.Kind.DIRECTORY) : layout.exists(path, Entry.Kind.FILE);
				if (image && !byName.containsKey(name)) {
					byName.put(name, new Version(name, versionOf(host, path), path));
				}
			}
		}
		List<Version> out = new ArrayList<>(byName.values());
		out.sort((a, b) -> {
			int d = a.version() == null || b.version() == null ? Boolean.compare(b.version() == null, a.version() == null)
				: Versions.compare(b.version(), a.version());
			return d != 0 ? d : a.name().compareTo(b.name());
		});
		return out;
	}

	/** @return the versions as {@code psi versions} shows them; refused when the image has none */
	static List<VersionDTO> list(Host host, String image, UnitControl control) throws IOException {
		String base = Purge.baseOf(image);
		List<VersionDTO> out = new ArrayList<>();
		for (Version v : of(host, base)) {
			VersionDTO dto = new VersionDTO();
			dto.name = v.name();
			dto.version = v.version();
			// a link in /etc/portables (attach makes one) stands for what it leads to
			String real = host.layout().resolve(v.path()).path();
			dto.path = real;
			Map<String, String> units = new LinkedHashMap<>(host.index().unitsOfPath(v.path()));
			host.index().unitsOfPath(real).forEach(units::putIfAbsent);
			dto.state = AttachmentIndex.stateOf(units);
			if (control.present() && dto.state != AttachState.DETACHED) {
				for (String u : units.keySet()) {
					if (control.running(u)) {
						dto.state = dto.state.asRunning();
						break;
					}
				}
			}
			host.pool().originOf(real).ifPresent(o -> {
				dto.origin = o.source();
				dto.verified = o.verified();
			});
			String file = DropInWriter.lastComponent(v.path());
			dto.pulled = host.pool().record(file, "origin", "pulled").orElse(null);
			dto.attached = host.pool().attachedAt(file).map(Instant::toString).orElse(null);
			dto.held = host.pool().held(base);
			out.add(dto);
		}
		if (out.isEmpty()) {
			throw new PsiException(PsiException.Reason.NO_SUCH_IMAGE, "No version of '" + base + "' found.",
				"Searched " + String.join(", ", HostLayout.IMAGE_DIRS) + " for " + base + " and " + base + "_*.");
		}
		return out;
	}

	/**
	 * @param image the image's name (any version of it)
	 * @param version the version to go back to, or {@code null}: the newest older than the attached one
	 * @return the path of the version to go back to
	 */
	static String previous(Host host, String image, String version) throws IOException {
		String base = Purge.baseOf(image);
		List<Version> all = of(host, base);
		String attached = null;
		for (Version v : all) {
			if (!host.index().unitsOfPath(v.path()).isEmpty() || !host.index().unitsOfPath(host.layout().resolve(v.path()).path()).isEmpty()) {
				attached = v.version();
				break;
			}
		}
		if (attached == null) {
			throw new PsiException(PsiException.Reason.NOT_ATTACHED, "No version of '" + base + "' is attached: nothing to roll back.",
				"psi start " + base + "_VERSION starts one", 1, null);
		}
		for (Version v : all) {
			boolean pick = version != null ? version.equals(v.version()) || version.equals(v.name())
				: v.version() != null && Versions.compare(v.version(), attached) < 0;
			if (pick) {
				if (v.version() != null && v.version().equals(attached)) {
					throw new PsiException(base + "_" + attached + " is the attached version already");
				}
				return v.path();
			}
		}
		throw new PsiException(PsiException.Reason.NO_SUCH_IMAGE,
			version != null ? "No version " + version + " of '" + base + "' found." : "No version of '" + base + "' older than " + attached + " found.",
			"psi versions " + base + " lists them", 1, null);
	}
}
