package psi.core.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import psi.api.PsiException;
import psi.api.dto.ChangeDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.UnitFileDTO;
import psi.spi.format.Entry;

/**
 * What {@code psi purge NAME} removes, read from the host before anything
 * changes: the units attached from any version of the image, every version
 * in the pool and in the admin's image directories (links only: what a link
 * points to outside them stays), psi's origin records of them, the log files
 * psi's own service manager kept of the units, and the directories the
 * services' settings name. The same plan is shown to the admin before asking
 * and then carried out, in one transaction ({@link Lifecycle#purge}).
 *
 * @param base the image name without version
 * @param attached for each attached-units directory, the units attached there
 * @param images the image paths to remove (versions, links)
 * @param links those of them that are links, to where they lead ({@code null}: nowhere under the root)
 * @param readOnly those of them marked read-only (the mark is taken off first)
 * @param records psi's records of them
 * @param directories the services' own directories
 * @param logs psi's log files of the units
 * @param kept what stays, one line each: the path, a colon, why
 */
record Purge(String base, Map<String, List<String>> attached, List<String> images, Map<String, String> links, List<String> readOnly, List<String> records,
	List<String> directories, List<String> logs, List<String> kept) {

	/** Image directories a purge takes nothing from: the vendor's. */
	static final List<String> VENDOR_DIRS = List.of("/usr/local/lib/portables", "/usr/lib/portables");

	/** Where psi's own service manager keeps its units' output. */
	static final String LOGS = "/var/log/psi";

	/** @return the name without version an image argument means: {@code foo} of {@code foo_2}, {@code /x/foo_2.raw} or {@code foo.v} */
	static String baseOf(String arg) {
		String name = ImageName.isValidName(arg) ? arg : DropInWriter.lastComponent(arg);
		String base = Versions.isVersioned(name) ? Versions.baseName(name) : ImageName.baseName(name);
		if (base.isEmpty() || !ImageName.isValidName(base) || base.startsWith(".")) {
			throw new PsiException("cannot purge '" + UnitValues.show(arg) + "': it names no image (give an image name, e.g. foobar)");
		}
		return base;
	}

	/** @return whether a directory entry is a version of the image, its {@code .v/} directory, or the image itself */
	static boolean isVersionOf(String entry, String base) {
		if (entry.startsWith(".") || !ImageName.isValidName(entry)) {
			return false;
		}
		return (Versions.isVersioned(entry) ? Versions.baseName(entry) : ImageName.baseName(entry)).equals(base);
	}

	/**
	 * Reads what a purge of the image would remove.
	 *
	 * @param keepData keep the services' own directories
	 * @throws PsiException when nothing of that name is on the host
	 */
	static Purge plan(Host host, String arg, boolean keepData) throws IOException {
		HostLayout layout = host.layout();
		String base = baseOf(arg);
		String key = base + "_"; // every version: see DropInWriter.markerMatches
		Map<String, List<String>> attached = new LinkedHashMap<>();
		Set<String> unitNames = new LinkedHashSet<>();
		List<String> kept = new ArrayList<>();
		Set<String> markerImages = new LinkedHashSet<>();
		for (boolean runtime : new boolean[] { false, true }) {
			Map<String, List<String>> units = host.index().units(HostLayout.attachedDir(runtime), key);
			if (!units.isEmpty()) {
				attached.put(HostLayout.attachedDir(runtime), new ArrayList<>(units.keySet()));
				unitNames.addAll(units.keySet());
				units.values().forEach(m -> markerImages.add(m.get(0)));
			}
		}
		List<String> images = new ArrayList<>();
		List<String> readOnly = new ArrayList<>();
		Map<String, String> links = new LinkedHashMap<>();
		List<String> records = new ArrayList<>();
		Map<String, List<byte[]>> unitFiles = new LinkedHashMap<>();
		for (String dir : HostLayout.IMAGE_DIRS) {
			for (String entry : layout.list(dir).stream().sorted().toList()) {
				if (!isVersionOf(entry, base)) {
					continue;
				}
				String path = dir + "/" + entry;
				if (VENDOR_DIRS.contains(dir)) {
					kept.add(path + ": a vendor's image (" + dir + "), removed with what installed it");
					continue;
				}
				Optional<Entry> e = layout.lstat(path);
				if (e.isEmpty()) {
					continue;
				}
				images.add(path);
				if (e.get().kind() == Entry.Kind.SYMLINK) {
					String target = target(layout, path);
					links.put(path, target);
					if (target != null && !target.startsWith(ImagePool.POOL + "/") && !target.startsWith(dir + "/")) {
						kept.add(target + ": not in the pool (only the link " + path + " goes)");
					}
					continue;
				}
				readUnits(host, path, unitFiles, unitNames, readOnly);
			}
		}
		for (String m : markerImages) {
			String real = target(layout, m);
			boolean removed = images.contains(m) || real != null && images.stream().anyMatch(i -> real.equals(target(layout, i)));
			if (!removed && kept.stream().noneMatch(k -> k.startsWith(m + ":") || real != null && k.startsWith(real + ":"))) {
				kept.add(m + ": not in the pool (it is only detached)");
			}
		}
		for (String entry : layout.list(ImagePool.ORIGINS).stream().sorted().toList()) {
			for (String kind : new String[] { ".origin", ".attached", ".held" }) {
				if (entry.endsWith(kind) && isVersionOf(entry.substring(0, entry.length() - kind.length()), base)) {
					records.add(ImagePool.ORIGINS + "/" + entry);
				}
			}
		}
		List<String> directories = new ArrayList<>();
		if (!keepData) {
			for (Map.Entry<String, List<String>> a : attached.entrySet()) {
				directories.addAll(ServiceDirectories.of(layout, a.getKey(), a.getValue()));
			}
			for (String d : ServiceDirectories.named(layout, unitFiles)) {
				if (!directories.contains(d) && directories.stream().noneMatch(o -> d.startsWith(o + "/"))) {
					directories.add(d);
				}
			}
			for (String d : new ArrayList<>(directories)) {
				String why = ServiceDirectories.protection(d, null);
				if (why != null) {
					directories.remove(d);
					kept.add(d + ": " + why.substring(why.indexOf(':') + 2));
				}
			}
		}
		List<String> logs = logs(layout, unitNames);
		Purge p = new Purge(base, attached, images, links, readOnly, records, directories, logs, kept);
		if (p.isEmpty()) {
			throw new PsiException(PsiException.Reason.NO_SUCH_IMAGE, "No image '" + base + "' found, nor anything attached or left of it.",
				"Searched " + String.join(", ", HostLayout.IMAGE_DIRS) + " for " + base + " and its versions (" + base + "_*).");
		}
		return p;
	}

	/** @return the path a link leads to, as seen from the root, or {@code null} when it leads nowhere under it */
	private static String target(HostLayout layout, String path) {
		try {
			TreeResolver.Resolved r = layout.resolve(path);
			return r.entry().isPresent() ? r.path() : null;
		} catch (IOException | PsiException e) {
			return null;
		}
	}

	/** Reads the unit files of an image version, for the directories they name; an unreadable image names none. */
	private static void readUnits(Host host, String path, Map<String, List<byte[]>> unitFiles, Set<String> unitNames, List<String> readOnly) {
		try (ImageResolver.OpenImage img = host.images().openAt(path)) {
			if (img.tree().isReadOnly()) {
				readOnly.add(path);
			}
		} catch (IOException | RuntimeException e) {
			return;
		}
		try {
			ImageMetadataDTO m = host.catalog().inspect(path, List.of(), false, null);
			for (UnitFileDTO u : m.units) {
				unitFiles.putIfAbsent(u.name, List.of(u.bytes));
				unitNames.add(u.name);
			}
		} catch (IOException | RuntimeException e) {
			// an image psi cannot read has no unit to name a directory: it still goes
		}
	}

	/** @return psi's own log files of the units ({@code UNIT.log}, rotated {@code UNIT.log.N}; a template's instances too) */
	private static List<String> logs(HostLayout layout, Set<String> units) throws IOException {
		List<String> out = new ArrayList<>();
		for (String entry : layout.list(LOGS).stream().sorted().toList()) {
			for (String u : units) {
				int at = u.indexOf("@.");
				boolean mine = at >= 0
					? entry.startsWith(u.substring(0, at + 1)) && entry.contains(u.substring(at + 1) + ".log")
					: entry.equals(u + ".log") || entry.startsWith(u + ".log.");
				if (mine && layout.lstat(LOGS + "/" + entry).map(e -> e.kind() == Entry.Kind.FILE).orElse(false)) {
					out.add(LOGS + "/" + entry);
					break;
				}
			}
		}
		return out;
	}

	boolean isEmpty() {
		return attached.isEmpty() && images.isEmpty() && records.isEmpty() && directories.isEmpty() && logs.isEmpty();
	}

	/** @return what goes, each as an {@code unlink} change saying what it is, then what stays as a {@code failed} change saying why */
	List<ChangeDTO> describe() {
		List<ChangeDTO> out = new ArrayList<>();
		attached.forEach((dir, units) -> units.forEach(u -> out.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, dir + "/" + u,
			"attached unit (stopped, disabled and detached)"))));
		images.forEach(i -> out.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, i, links.containsKey(i)
			? "link to " + (links.get(i) == null ? "nothing" : links.get(i)) : readOnly.contains(i) ? "image (read-only)" : "image")));
		records.forEach(r -> out.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, r, "psi's record of " + (r.endsWith(".origin") ? "where it came from"
			: r.endsWith(".held") ? "a hold on its updates" : "when it was attached"))));
		directories.forEach(d -> out.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, d, "service data")));
		logs.forEach(l -> out.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, l, "psi's log of its units")));
		kept.forEach(k -> out.add(ChangeDTO.of(ChangeDTO.Type.FAILED, k.substring(0, k.indexOf(": ")), "kept: " + k.substring(k.indexOf(": ") + 2))));
		return out;
	}
}
