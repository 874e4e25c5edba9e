package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import psi.api.dto.AttachState;

/**
 * What is attached to a host: every unit in {@code /etc/systemd/system.attached}
 * and {@code /run/systemd/system.attached} with the image its drop-in's marker
 * names, read in one scan and kept until {@link #invalidate()}. Made per
 * operation; not thread safe.
 */
final class AttachmentIndex {

	/** One attached unit: where, and the paths its marker names (the image, then its extensions). */
	record Attached(String unit, String dir, List<String> marker) {
	}

	private final HostLayout layout;
	private Map<String, List<Attached>> scan;

	AttachmentIndex(HostLayout layout) {
		this.layout = layout;
	}

	/** Forgets the scan: the next question reads the host again. */
	void invalidate() {
		scan = null;
	}

	private Map<String, List<Attached>> scan() throws IOException {
		if (scan == null) {
			Map<String, List<Attached>> s = new LinkedHashMap<>();
			for (boolean runtime : new boolean[] { false, true }) {
				String where = HostLayout.attachedDir(runtime);
				s.put(where, read(where));
			}
			scan = s;
		}
		return scan;
	}

	private List<Attached> read(String where) throws IOException {
		Map<String, Attached> units = new TreeMap<>();
		Path dir = layout.realDirectory(where);
		if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
			return List.of();
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
				List<String> marker = marker(dir.resolve(name + ".d").resolve("20-portable.conf"));
				if (marker != null) {
					units.put(name, new Attached(name, where, marker));
				}
			}
		}
		return List.copyOf(units.values());
	}

	private static List<String> marker(Path dropin) throws IOException {
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
	 * @param where an attached-units directory
	 * @param key an image name or a path seen from the root, as {@link ImageResolver#key(String)} gives
	 * @return unit name → marker of the units there whose marker matches the image (with any extensions), sorted
	 */
	Map<String, List<String>> units(String where, String key) throws IOException {
		return units(where, key, null);
	}

	/**
	 * @param extensions the extensions' keys, in order; {@code null} or empty for any
	 * @return as {@link #units(String, String)}, for the units attached with these extensions
	 *         ({@link DropInWriter#markerMatches(List, String, List)})
	 */
	Map<String, List<String>> units(String where, String key, List<String> extensions) throws IOException {
		Map<String, List<String>> out = new TreeMap<>();
		for (Attached a : scan().getOrDefault(where, List.of())) {
			if (DropInWriter.markerMatches(a.marker(), key, extensions)) {
				out.put(a.unit(), a.marker());
			}
		}
		return out;
	}

	/**
	 * The units attached for an image, persistent ones first.
	 *
	 * @param key as {@link #units(String, String)}
	 * @return unit name to the directory it is attached in
	 */
	Map<String, String> units(String key) throws IOException {
		return unitsWith(key, null);
	}

	/** As {@link #units(String)}, for the units attached with these extensions ({@code null} for any). */
	Map<String, String> unitsWith(String key, List<String> extensions) throws IOException {
		Map<String, String> out = new LinkedHashMap<>();
		for (boolean runtime : new boolean[] { false, true }) {
			String where = HostLayout.attachedDir(runtime);
			for (String unit : units(where, key, extensions).keySet()) {
				out.putIfAbsent(unit, where);
			}
		}
		return out;
	}

	/** @return unit name to attached directory of the units whose marker names exactly this image path first, persistent ones first */
	Map<String, String> unitsOfPath(String path) throws IOException {
		Map<String, String> out = new LinkedHashMap<>();
		for (boolean runtime : new boolean[] { false, true }) {
			String where = HostLayout.attachedDir(runtime);
			for (Attached a : scan().getOrDefault(where, List.of())) {
				if (!a.marker().isEmpty() && a.marker().get(0).equals(path)) {
					out.putIfAbsent(a.unit(), where);
				}
			}
		}
		return out;
	}

	/** @return the file names of the images whose units match the key (any version) */
	Set<String> imageFiles(String key) throws IOException {
		Set<String> out = new TreeSet<>();
		for (boolean runtime : new boolean[] { false, true }) {
			for (List<String> marker : units(HostLayout.attachedDir(runtime), key).values()) {
				out.add(DropInWriter.lastComponent(marker.get(0)));
			}
		}
		return out;
	}

	/**
	 * @param units what {@link #units(String)} found
	 * @return attached when any unit is attached persistently, else attached for this boot, or detached
	 */
	static AttachState stateOf(Map<String, String> units) {
		if (units.isEmpty()) {
			return AttachState.DETACHED;
		}
		return units.containsValue(HostLayout.attachedDir(false)) ? AttachState.ATTACHED : AttachState.ATTACHED_RUNTIME;
	}
}
