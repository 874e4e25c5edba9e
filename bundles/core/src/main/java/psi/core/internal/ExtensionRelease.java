package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import psi.api.PsiException;
import psi.spi.format.Entry;

/**
 * An extension image's {@code extension-release} file: where systemd 252
 * finds it ({@code open_extension_release()}) and whether it fits the base
 * image ({@code extension_release_validate()} with scope {@code portable}).
 * Configuration extensions ({@code /etc/extension-release.d}, systemd 255)
 * are not read, as in 252.
 */
final class ExtensionRelease {

	/** Where a system extension keeps its release file, named {@code extension-release.NAME}. */
	static final String DIR = "/usr/lib/extension-release.d";

	/** Where a configuration extension keeps it (systemd 255 and later). */
	static final String CONFEXT_DIR = "/etc/extension-release.d";

	/** The first systemd whose portabled takes configuration extensions. */
	static final int CONFEXT_SINCE = 255;

	/** The attribute that lets a release file of another name count, when it says {@code false}. */
	static final String STRICT_XATTR = "user.extension-release.strict";

	private ExtensionRelease() {
	}

	/**
	 * Finds an extension's release file: {@code extension-release.NAME},
	 * else the one other {@code extension-release.*} regular file whose
	 * {@value #STRICT_XATTR} says {@code false} (any one when relaxed; two
	 * candidates are ambiguous).
	 *
	 * @param reader the extension's reader
	 * @param imageName the extension's image name
	 * @param relax whether the file may have any name
	 * @param path the extension's path, for the message
	 * @return the release, its path being {@code DIR/extension-release.NAME} as portabled reports it
	 * @throws PsiException {@link PsiException.Reason#INVALID}, portabled's text, when there is none
	 */
	static ImageReader.Release read(ImageReader reader, String imageName, boolean relax, String path)
		throws IOException {
		return read(reader, imageName, relax, path, false);
	}

	/**
	 * @param confext whether a configuration extension counts too (the host's systemd is 255 or later):
	 *            its release file in {@value #CONFEXT_DIR}, looked for when there is no system extension's
	 */
	static ImageReader.Release read(ImageReader reader, String imageName, boolean relax, String path, boolean confext)
		throws IOException {
		String metadataPath = DIR + "/extension-release." + imageName;
		Optional<byte[]> found = Optional.empty();
		if (ImageName.isValidName(imageName)) {
			found = reader.readFile(metadataPath, OsRelease.MAX_SIZE);
			if (found.isEmpty()) {
				found = fallback(reader, DIR, relax);
			}
			if (found.isEmpty() && confext) {
				String etc = CONFEXT_DIR + "/extension-release." + imageName;
				found = reader.readFile(etc, OsRelease.MAX_SIZE);
				if (found.isEmpty()) {
					found = fallback(reader, CONFEXT_DIR, relax);
				}
				if (found.isPresent()) {
					metadataPath = etc;
				}
			}
		}
		if (found.isEmpty()) {
			throw new PsiException(PsiException.Reason.INVALID, "Image '" + path + "' lacks extension-release data, refusing.",
				"It has no " + metadataPath + (confext ? " nor " + CONFEXT_DIR + "/extension-release." + imageName : "")
					+ (relax ? "" : " (--force accepts an extension-release file of another name)") + ".");
		}
		byte[] b = found.get();
		return new ImageReader.Release(metadataPath, b, new String(b, StandardCharsets.UTF_8), OsRelease.parse(b));
	}

	/**
	 * Reads one extension layer as portabled's {@code extract_image_and_extensions()}:
	 * its units matching the prefixes, layered under those found so far (a
	 * name already there keeps its file: the image's, then an earlier
	 * extension's, as {@code hashmap_move}), and its release file.
	 *
	 * @param relax whether {@code --force} relaxes the release file's name check; as portabled 252, raw extensions only
	 * @param confext whether a configuration extension counts too
	 * @param units the units so far; this layer's new names are added
	 * @param origin told, for each unit added, this extension
	 * @return the extension's release
	 */
	static ImageReader.Release layer(ImageResolver.OpenImage ext, List<String> matches, boolean relax, boolean confext,
		java.util.TreeMap<String, ImageReader.UnitFile> units, java.util.Map<String, ImageResolver.OpenImage> origin) throws IOException {
		ImageReader reader = new ImageReader(ext.tree(), ext.path());
		java.util.TreeMap<String, ImageReader.UnitFile> own = ext.tree().reading("reading its unit files", () -> reader.units(matches));
		ImageReader.Release release = ext.tree().reading("reading its extension-release", () -> read(reader,
			ImageName.stripSuffix(ext.fileName()), relax && ext.tree().rootKind() == psi.spi.format.RootKind.IMAGE, ext.path(), confext));
		for (ImageReader.UnitFile u : own.values()) {
			if (units.putIfAbsent(u.name(), u) == null) {
				origin.put(u.name(), ext);
			}
		}
		return release;
	}

	private static Optional<byte[]> fallback(ImageReader reader, String releaseDir, boolean relax) throws IOException {
		psi.spi.format.ImageTree tree = reader.tree();
		Optional<String> dir = reader.directory(releaseDir);
		if (dir.isEmpty()) {
			return Optional.empty();
		}
		List<String> names = tree.list(dir.get());
		if (names.size() > ImageReader.MAX_UNITS) {
			return Optional.empty();
		}
		String candidate = null;
		for (String n : names.stream().sorted().toList()) {
			if (!n.startsWith("extension-release.") || !ImageName.isValidName(n.substring("extension-release.".length()))) {
				continue;
			}
			String p = dir.get() + "/" + n;
			Optional<Entry> e = tree.lstat(p);
			if (e.isEmpty() || e.get().kind() != Entry.Kind.FILE) {
				continue;
			}
			if (!relax && !notStrict(tree.xattr(p, STRICT_XATTR))) {
				continue;
			}
			if (candidate != null) {
				return Optional.empty(); // ambiguous: portabled's ENOTUNIQ, reported as no release data
			}
			candidate = p;
		}
		return candidate == null ? Optional.empty() : reader.readFile(candidate, OsRelease.MAX_SIZE);
	}

	/** @return whether the attribute says {@code false}, as systemd's {@code parse_boolean()} reads it */
	static boolean notStrict(Optional<byte[]> value) {
		if (value.isEmpty()) {
			return false;
		}
		String v = new String(value.get(), StandardCharsets.UTF_8);
		return v.equals("0") || List.of("no", "n", "false", "f", "off").contains(v.toLowerCase(Locale.ROOT));
	}

	/**
	 * Whether an extension fits its base, as systemd 252's
	 * {@code extension_release_validate()} with the scope {@code portable}.
	 *
	 * @param base the base image's os-release
	 * @param ext the extension's release
	 * @param architecture the host's architecture as systemd names it ({@link #hostArchitecture()})
	 * @return whether it fits
	 */
	static boolean fits(OsRelease base, OsRelease ext, String architecture) {
		return mismatch(base, ext, architecture) == null;
	}

	/** @return why an extension does not fit its base ({@link #fits}), or {@code null} when it does */
	static String mismatch(OsRelease base, OsRelease ext, String architecture) {
		if (ext.fields().isEmpty()) {
			return "its extension-release file is empty";
		}
		String scope = ext.get("SYSEXT_SCOPE");
		List<String> scopes = scope == null ? List.of("system", "portable") : List.of(scope.trim().split("\\s+"));
		if (!scopes.contains("portable")) {
			return "its SYSEXT_SCOPE=" + scope + " lacks portable";
		}
		String arch = ext.get("ARCHITECTURE");
		if (!empty(arch) && !arch.equals("_any") && !arch.equals(architecture)) {
			return "its ARCHITECTURE=" + arch + " is not this host's " + architecture;
		}
		String id = ext.get("ID");
		if (empty(id)) {
			return "it has no ID=";
		}
		if (id.equals("_any")) {
			return null;
		}
		if (!id.equals(base.get("ID"))) {
			return "its ID=" + id + " is not the image's ID=" + base.get("ID");
		}
		String versionId = base.get("VERSION_ID");
		String level = base.get("SYSEXT_LEVEL");
		if (empty(versionId) && empty(level)) {
			return null;
		}
		String extLevel = ext.get("SYSEXT_LEVEL");
		if (!empty(level) && !empty(extLevel)) {
			return level.equals(extLevel) ? null : "its SYSEXT_LEVEL=" + extLevel + " is not the image's SYSEXT_LEVEL=" + level;
		}
		if (!empty(versionId) && !versionId.equals(ext.get("VERSION_ID"))) {
			return (empty(ext.get("VERSION_ID")) ? "it has no VERSION_ID=" : "its VERSION_ID=" + ext.get("VERSION_ID") + " is not")
				+ " the image's VERSION_ID=" + versionId + (empty(extLevel) ? "" : " (SYSEXT_LEVEL= counts only when both have one)");
		}
		return null;
	}

	private static boolean empty(String s) {
		return s == null || s.isEmpty();
	}

	/** @return the host's architecture as systemd's {@code architecture_to_string(uname_architecture())} names it */
	static String hostArchitecture() {
		String a = System.getProperty("os.arch", "");
		return switch (a) {
			case "amd64", "x86_64" -> "x86-64";
			case "aarch64" -> "arm64";
			case "x86", "i386", "i486", "i586", "i686" -> "x86";
			case "arm" -> "arm";
			case "ppc64le" -> "ppc64-le";
			case "ppc64" -> "ppc64";
			case "s390x" -> "s390x";
			case "riscv64" -> "riscv64";
			case "loongarch64" -> "loongarch64";
			default -> a;
		};
	}
}
