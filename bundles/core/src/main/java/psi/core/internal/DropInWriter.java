package psi.core.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import psi.spi.format.RootKind;

/**
 * The text of {@code 20-portable.conf}, byte for byte what portabled 252
 * writes: the marker line by which detach finds the unit, and for services
 * the root, the {@code PORTABLE=} environment and log field, and the host's
 * os-release bound into the service.
 */
final class DropInWriter {

	/** The marker's text before the image path. */
	static final String MARKER_BEGIN = "# Drop-in created for image '";
	/** The marker's text after the image path. */
	static final String MARKER_END = "', do not edit.";

	private DropInWriter() {
	}

	/**
	 * An extension image layered over the base, as the drop-in names it.
	 *
	 * @param path its path as the host sees it, {@link UnitValues#checkPath checked}
	 * @param directory whether it is a directory tree ({@code ExtensionDirectories=}) rather than an image file ({@code ExtensionImages=})
	 */
	record Extension(String path, boolean directory, java.util.Map<String, String> release) {
		Extension(String path, boolean directory) {
			this(path, directory, java.util.Map.of());
		}
	}

	/**
	 * Which portabled's drop-in to write.
	 *
	 * @param systemd the systemd version of the host ({@link SystemdVersion}): 252 and 253 write
	 *            {@code BindReadOnlyPaths=} for the os-release, 254 and later the version log fields instead
	 * @param release the image's os-release fields, for {@code PORTABLE_NAME_AND_VERSION=}
	 */
	record Style(int systemd, java.util.Map<String, String> release) {
		/** portabled 252's. */
		static final Style V252 = new Style(252, java.util.Map.of());
	}

	/**
	 * @param imagePath the image's path as the host sees it, {@link UnitValues#checkPath checked}
	 * @param rootKind how the image is rooted
	 * @param unitName the unit the drop-in belongs to
	 * @param imageFileName the file name of the layer the unit came from (the image or an extension), the value of {@code PORTABLE=}
	 * @param osReleaseSource the host's os-release path
	 * @return the drop-in's text
	 */
	static String portableConf(String imagePath, RootKind rootKind, String unitName, String imageFileName,
		String osReleaseSource) {
		return portableConf(imagePath, rootKind, List.of(), false, false, unitName, imageFileName, osReleaseSource, Style.V252);
	}

	/**
	 * As portabled 252's {@code install_chroot_dropin()}: the marker names
	 * the image and every extension; a service that came from an extension
	 * also gets one {@code ExtensionDirectories=} or {@code ExtensionImages=}
	 * line per extension, with the option that relaxes the release file's
	 * name check when asked and the base is an image file. For systemd 254
	 * and later as that portabled writes it: no {@code BindReadOnlyPaths=},
	 * the image's ID and version as log fields, with extensions the image as
	 * {@code PORTABLE_ROOT=}, and each extension's name and version after its line.
	 *
	 * @param extensions the extension images, bottom first
	 * @param fromExtension whether the unit came from an extension rather than the base
	 * @param relax whether the extension-release name check was relaxed ({@code --force})
	 */
	static String portableConf(String imagePath, RootKind rootKind, List<Extension> extensions, boolean fromExtension, boolean relax,
		String unitName, String imageFileName, String osReleaseSource, Style style) {
		List<String> paths = new ArrayList<>();
		paths.add(imagePath);
		extensions.forEach(e -> paths.add(e.path()));
		StringBuilder sb = new StringBuilder(marker(paths)).append('\n');
		if (!unitName.endsWith(".service")) {
			return sb.toString();
		}
		// 254 and later: no os-release binding (the manager binds the host's itself), the ID and version as log fields
		boolean v254 = style.systemd() >= 254;
		sb.append('\n').append("[Service]\n")
			.append(rootKind.setting()).append('=').append(UnitValues.path(imagePath)).append('\n')
			.append("Environment=").append(UnitValues.word("PORTABLE=" + imageFileName)).append('\n');
		if (!v254) {
			sb.append("BindReadOnlyPaths=").append(osReleaseSource).append(":/run/host/os-release\n");
		}
		sb.append("LogExtraFields=").append(UnitValues.word("PORTABLE=" + imageFileName)).append('\n');
		if (v254 && extensions.isEmpty()) {
			releaseField(sb, style.release(), "PORTABLE_NAME_AND_VERSION", List.of("IMAGE_ID", "ID"), List.of("IMAGE_VERSION", "VERSION_ID", "BUILD_ID"));
		} else if (v254) {
			String root = lastComponent(imagePath);
			sb.append("Environment=").append(UnitValues.word("PORTABLE_ROOT=" + root)).append('\n')
				.append("LogExtraFields=").append(UnitValues.word("PORTABLE_ROOT=" + root)).append('\n');
			releaseField(sb, style.release(), "PORTABLE_ROOT_NAME_AND_VERSION", List.of("IMAGE_ID", "ID"),
				List.of("IMAGE_VERSION", "VERSION_ID", "BUILD_ID"));
		}
		if (fromExtension) {
			String option = relax && rootKind == RootKind.IMAGE ? ":x-systemd.relax-extension-release-check" : "";
			for (Extension e : extensions) {
				sb.append(v254 ? "\n" : "").append(e.directory() ? "ExtensionDirectories=" : "ExtensionImages=").append(UnitValues.word(e.path()))
					.append(option).append('\n');
				if (v254) {
					sb.append("LogExtraFields=").append(UnitValues.word("PORTABLE_EXTENSION=" + lastComponent(e.path()))).append('\n');
					releaseField(sb, e.release(), "PORTABLE_EXTENSION_NAME_AND_VERSION", List.of("SYSEXT_IMAGE_ID", "SYSEXT_ID"),
						List.of("SYSEXT_IMAGE_VERSION", "SYSEXT_VERSION_ID", "SYSEXT_BUILD_ID"));
				}
				if (style.systemd() >= 255) {
					releaseField(sb, e.release(), "PORTABLE_EXTENSION_NAME_AND_VERSION", List.of("CONFEXT_IMAGE_ID", "CONFEXT_ID"),
						List.of("CONFEXT_IMAGE_VERSION", "CONFEXT_VERSION_ID", "CONFEXT_BUILD_ID"));
				}
			}
		}
		return sb.toString();
	}

	/** portabled's {@code append_release_log_fields()}: {@code LogExtraFields=NAME=ID_VERSION}, the first field of each list found */
	private static void releaseField(StringBuilder sb, java.util.Map<String, String> release, String name, List<String> ids, List<String> versions) {
		String id = ids.stream().map(release::get).filter(java.util.Objects::nonNull).findFirst().orElse(null);
		String version = versions.stream().map(release::get).filter(java.util.Objects::nonNull).findFirst().orElse(null);
		if (id == null && version == null) {
			return;
		}
		String value = (id == null ? "" : id) + (id != null && version != null ? "_" : "") + (version == null ? "" : version);
		sb.append("LogExtraFields=").append(UnitValues.word(name + "=" + value)).append('\n');
	}

	/**
	 * @param imagePath the image's path as the host sees it
	 * @return the marker line, without newline
	 */
	static String marker(String imagePath) {
		return marker(List.of(imagePath));
	}

	/**
	 * @param paths the image's path, then its extensions' paths
	 * @return the marker line, without newline: the paths {@link #xescape escaped} and joined by {@code :}
	 */
	static String marker(List<String> paths) {
		return MARKER_BEGIN + String.join(":", paths.stream().map(DropInWriter::xescape).toList()) + MARKER_END;
	}

	/**
	 * systemd's {@code xescape(s, ":")}: {@code \xNN} for control bytes,
	 * bytes from 0x7f, the backslash and the colon; everything else as is.
	 */
	static String xescape(String s) {
		StringBuilder sb = new StringBuilder();
		for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
			int c = b & 0xff;
			if (c < 0x20 || c >= 0x7f || c == '\\' || c == ':') {
				sb.append(String.format("\\x%02x", c));
			} else {
				sb.append((char) c);
			}
		}
		return sb.toString();
	}

	/** @return the bytes {@link #xescape} escaped, back; other backslashes as they are */
	static String xunescape(String s) {
		if (s.indexOf('\\') < 0) {
			return s;
		}
		java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
		byte[] b = s.getBytes(StandardCharsets.UTF_8);
		for (int i = 0; i < b.length; i++) {
			if (b[i] == '\\' && i + 3 < b.length && b[i + 1] == 'x' && hex(b[i + 2]) >= 0 && hex(b[i + 3]) >= 0) {
				out.write(hex(b[i + 2]) * 16 + hex(b[i + 3]));
				i += 3;
			} else {
				out.write(b[i]);
			}
		}
		return out.toString(StandardCharsets.UTF_8);
	}

	private static int hex(byte c) {
		return Character.digit((char) c, 16);
	}

	/**
	 * @param firstLine the first line of a {@code 20-portable.conf}
	 * @return the paths its marker names (the image, then its extensions), unescaped; {@code null} if it has no marker
	 */
	static List<String> parseMarker(String firstLine) {
		if (!firstLine.startsWith(MARKER_BEGIN) || !firstLine.endsWith(MARKER_END)
			|| firstLine.length() < MARKER_BEGIN.length() + MARKER_END.length()) {
			return null;
		}
		String inner = firstLine.substring(MARKER_BEGIN.length(), firstLine.length() - MARKER_END.length());
		List<String> out = new ArrayList<>();
		for (String token : inner.split(":", -1)) {
			out.add(xunescape(token));
		}
		return List.copyOf(out);
	}

	/**
	 * Whether a marker belongs to an image and its extensions: the image
	 * matches the first path ({@link #markerMatches(String, String)}); with
	 * no extensions asked for, whatever extensions the marker names (as
	 * portabled 252's {@code DetachImage} and {@code GetImageState}); with
	 * extensions, each matches the next path and the marker names no more
	 * (as systemd 256, stricter than 252, which ignored extra paths).
	 *
	 * @param marker the paths of a drop-in's marker
	 * @param nameOrPath the image argument
	 * @param extensions the extension arguments, or {@code null}
	 */
	static boolean markerMatches(List<String> marker, String nameOrPath, List<String> extensions) {
		if (marker.isEmpty() || !markerMatches(marker.get(0), nameOrPath)) {
			return false;
		}
		if (extensions == null || extensions.isEmpty()) {
			return true;
		}
		if (marker.size() != 1 + extensions.size()) {
			return false;
		}
		for (int i = 0; i < extensions.size(); i++) {
			if (!markerMatches(marker.get(i + 1), extensions.get(i))) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Whether a marker belongs to an image. As portabled 252, by the last path
	 * component only (the same image is often reached by several paths), a name
	 * also matching its {@code .raw} file, and a versioned name or path
	 * ({@code foo_2}) matching every version of the image ({@code foo}, {@code foo_1.raw}),
	 * so that reattach replaces one version by the next. Tighter than 252 on
	 * purpose: {@code foo_2} does not match {@code foobar}, and {@code /x/foo}
	 * does not match {@code foo_1.raw}.
	 *
	 * @param marker the image path in a drop-in's marker
	 * @param nameOrPath the image argument
	 * @return whether they match
	 */
	static boolean markerMatches(String marker, String nameOrPath) {
		String a = lastComponent(marker);
		String b = ImageName.isValidName(nameOrPath) ? nameOrPath : lastComponent(nameOrPath);
		if (Versions.isVersioned(b)) {
			b = Versions.baseName(b) + "_"; // a .v/ directory: every version in it
		}
		String parent = parentName(marker);
		if (parent != null && Versions.isVersioned(parent)) {
			// a version picked from a .v/ directory: its name, its directory, and its versions
			String base = Versions.baseName(parent);
			return b.equals(base) || b.startsWith(base + "_");
		}
		int underscore = b.indexOf('_');
		if (underscore >= 0) {
			String base = b.substring(0, underscore);
			return a.startsWith(base + "_") || ImageName.stripSuffix(a).equals(base);
		}
		return a.equals(b) || ImageName.stripSuffix(a).equals(b);
	}

	/** @return the file name of a path's directory, or {@code null} for a name or a top-level path */
	static String parentName(String path) {
		String p = path;
		while (p.length() > 1 && p.endsWith("/")) {
			p = p.substring(0, p.length() - 1);
		}
		int slash = p.lastIndexOf('/');
		return slash <= 0 ? null : lastComponent(p.substring(0, slash));
	}

	static String lastComponent(String path) {
		String p = path;
		while (p.length() > 1 && p.endsWith("/")) {
			p = p.substring(0, p.length() - 1);
		}
		int slash = p.lastIndexOf('/');
		return slash < 0 ? p : p.substring(slash + 1);
	}
}
