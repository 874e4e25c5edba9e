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
}
