package psi.shell.internal;

import java.nio.file.Path;

import psi.api.PsiException;

/**
 * Image arguments as the admin types them, made into what the engine takes:
 * the engine has no working directory, so a relative path is resolved
 * against the shell's, and under {@code --root DIR} it becomes the path as
 * seen from DIR (as {@code systemctl --root}).
 */
final class ImageArguments {

	private ImageArguments() {
	}

	/**
	 * @param root the {@code --root} given, or {@code null}
	 * @param cwd the working directory, absolute
	 * @param arg the argument
	 * @return a name, URL or absolute path as the engine takes it
	 */
	static String resolve(String root, Path cwd, String arg) {
		if (arg == null || arg.startsWith("/") || isUrl(arg) || isName(arg)) {
			return arg;
		}
		Path abs = cwd.resolve(arg).normalize();
		if (root == null) {
			return abs.toString();
		}
		Path r = Path.of(root).toAbsolutePath().normalize();
		if (r.toString().equals("/")) {
			return abs.toString();
		}
		if (!abs.startsWith(r)) {
			throw new PsiException("image path '" + arg + "' (" + abs + ") is outside the root " + r
				+ "; give it as an absolute path as seen from the root");
		}
		return "/" + r.relativize(abs);
	}

	/** As the engine tells a name from a path: no {@code /}, not {@code .} or {@code ..}. */
	private static boolean isName(String arg) {
		return !arg.isEmpty() && arg.indexOf('/') < 0 && !arg.equals(".") && !arg.equals("..");
	}

	private static boolean isUrl(String arg) {
		return arg.matches("[A-Za-z][A-Za-z0-9+.-]*://.*") || arg.startsWith("file:");
	}

	/**
	 * The tree, name and output of {@code psi build}: the name defaults to the
	 * tree directory's up to its first {@code _}, the output to
	 * {@code NAME[_VERSION].raw} in the working directory, the clamp to
	 * {@code $SOURCE_DATE_EPOCH}.
	 */
	static psi.api.dto.BuildRequestDTO build(Path tree, String name, String version, String output, Path cwd, java.util.Map<String, String> env) {
		psi.api.dto.BuildRequestDTO req = new psi.api.dto.BuildRequestDTO();
		req.tree = tree.toString();
		String n = name;
		if (n.isEmpty()) {
			n = tree.getFileName() == null ? "" : tree.getFileName().toString().split("_", 2)[0];
			if (!n.matches(IMAGE_NAME)) {
				throw new PsiException("psi build: the tree's directory name '" + psi.shell.internal.Render.line(n)
					+ "' is no image name: give --name NAME (letters, digits, '.', '-')");
			}
		} else if (!n.matches(IMAGE_NAME)) {
			throw new PsiException("psi build: --name " + psi.shell.internal.Render.line(n)
				+ ": an image name is letters, digits, '.' and '-', starting with a letter or digit, at most 64 (it is also the unit prefix)");
		}
		if (!version.isEmpty() && !version.matches("[A-Za-z0-9][A-Za-z0-9.~^+-]{0,63}")) {
			throw new PsiException("psi build: --version " + psi.shell.internal.Render.line(version)
				+ ": a version is letters, digits and . ~ ^ + -, starting with a letter or digit, at most 64");
		}
		req.output = output.isEmpty() ? cwd.resolve(n + (version.isEmpty() ? "" : "_" + version) + ".raw").toString()
			: cwd.resolve(output).normalize().toString();
		String epoch = env.get("SOURCE_DATE_EPOCH");
		if (epoch != null && !epoch.isEmpty()) {
			try {
				req.sourceDateEpoch = Long.parseLong(epoch);
			} catch (NumberFormatException e) {
				req.sourceDateEpoch = -2;
			}
			if (req.sourceDateEpoch < 0 || req.sourceDateEpoch > 0xffff_ffffL) {
				throw new PsiException("psi build: SOURCE_DATE_EPOCH=" + psi.shell.internal.Render.line(epoch)
					+ " is not a time in seconds since 1970 that squashfs can hold (0 to 4294967295)");
			}
		}
		return req;
	}

	private static final String IMAGE_NAME = "[A-Za-z0-9][A-Za-z0-9.-]{0,63}";

	/** @return a block size given as bytes or with K or M: 4K to 1M, a power of two */
	static int blockSize(String s) {
		long v;
		try {
			String t = s.toUpperCase(java.util.Locale.ROOT);
			long unit = t.endsWith("K") ? 1024 : t.endsWith("M") ? 1 << 20 : 1;
			v = Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1)) * unit;
		} catch (NumberFormatException e) {
			v = -1;
		}
		if (v < 4096 || v > 1 << 20 || Long.bitCount(v) != 1) {
			throw new PsiException("psi build: --block-size " + psi.shell.internal.Render.line(s) + ": a power of two from 4K to 1M");
		}
		return (int) v;
	}
}
