package psi.core.internal;

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
	 * @param imagePath the image's path as the host sees it, {@link UnitValues#checkPath checked}
	 * @param rootKind how the image is rooted
	 * @param unitName the unit the drop-in belongs to
	 * @param imageFileName the image's file name, the value of {@code PORTABLE=}
	 * @param osReleaseSource the host's os-release path
	 * @return the drop-in's text
	 */
	static String portableConf(String imagePath, RootKind rootKind, String unitName, String imageFileName,
		String osReleaseSource) {
		StringBuilder sb = new StringBuilder();
		sb.append(marker(imagePath)).append('\n');
		if (unitName.endsWith(".service")) {
			sb.append('\n')
				.append("[Service]\n")
				.append(rootKind.setting()).append('=').append(UnitValues.path(imagePath)).append('\n')
				.append("Environment=").append(UnitValues.word("PORTABLE=" + imageFileName)).append('\n')
				.append("BindReadOnlyPaths=").append(osReleaseSource).append(":/run/host/os-release\n")
				.append("LogExtraFields=").append(UnitValues.word("PORTABLE=" + imageFileName)).append('\n');
		}
		return sb.toString();
	}

	/**
	 * @param imagePath the image's path as the host sees it
	 * @return the marker line, without newline
	 */
	static String marker(String imagePath) {
		return MARKER_BEGIN + imagePath + MARKER_END;
	}

	/**
	 * @param firstLine the first line of a {@code 20-portable.conf}
	 * @return the image path in its marker, or {@code null} if it has none
	 */
	static String parseMarker(String firstLine) {
		if (!firstLine.startsWith(MARKER_BEGIN) || !firstLine.endsWith(MARKER_END)) {
			return null;
		}
		return firstLine.substring(MARKER_BEGIN.length(), firstLine.length() - MARKER_END.length());
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
		int underscore = b.indexOf('_');
		if (underscore >= 0) {
			String base = b.substring(0, underscore);
			return a.startsWith(base + "_") || ImageName.stripSuffix(a).equals(base);
		}
		return a.equals(b) || ImageName.stripSuffix(a).equals(b);
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
