package psi.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import psi.api.PsiException;
import psi.spi.format.Entry;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;

/**
 * Finds images: a name in the image search path ({@code NAME/},
 * {@code NAME.raw}, {@code NAME.psi}, or the one version {@code NAME_V} of a
 * name without version), or an absolute path seen from the root; and opens
 * them with the first format plugin that claims them. Relative paths are the
 * front end's to resolve: the engine has no working directory. Made per
 * operation; not thread safe.
 */
final class ImageResolver {

	/** An image found and opened; its tree's calls are guarded. */
	record OpenImage(String path, String fileName, GuardedTree tree, ImageFormat format) implements AutoCloseable {

		/** @return the plugin that read it, for {@code psi inspect} */
		String readBy() {
			return PluginCalls.describe(format, tree.type());
		}

		@Override
		public void close() throws IOException {
			tree.close();
		}
	}

	private final HostLayout layout;
	private final List<ImageFormat> formats;
	private final PluginCalls calls;
	private final AttachmentIndex index;

	/**
	 * @param formats the image formats, highest ranking first
	 */
	ImageResolver(HostLayout layout, List<ImageFormat> formats, PluginCalls calls, AttachmentIndex index) {
		this.layout = layout;
		this.formats = formats;
		this.calls = calls;
		this.index = index;
	}

	/**
	 * @return what attached units' markers are matched against: a name (a
	 *         name without version meaning its one version when it names
	 *         nothing else), or the path as given
	 */
	String key(String image) throws IOException {
		return ImageName.isValidName(image) ? canonical(image) : viewPath(image);
	}

	/**
	 * Finds an image by name in the search path, or by path under the root.
	 *
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
			throw new PsiException(PsiException.Reason.NO_SUCH_IMAGE, "No image '" + nameOrPath + "' found.",
				"Searched " + String.join(", ", HostLayout.IMAGE_DIRS) + " for " + nameOrPath + " and " + nameOrPath + ".raw.");
		}
		String view = viewPath(nameOrPath);
		TreeResolver.Resolved r = layout.resolve(view);
		if (r.entry().isEmpty()) {
			throw new PsiException(PsiException.Reason.NOT_FOUND, "Cannot normalize specified image path '" + UnitValues.show(nameOrPath)
				+ "': No such file or directory", layout.root().toString().equals("/") ? null : "under " + layout.root());
		}
		return picked(r.path());
	}

	/** @return where an image is, as {@link #locate(String)}, or {@code null} when it is not there (any more) */
	String locateQuietly(String nameOrPath) {
		try {
			return locate(nameOrPath);
		} catch (IOException | PsiException e) {
			return null;
		}
	}

	/**
	 * @return the image of exactly this name in the search path: {@code NAME/}, {@code NAME.raw} or {@code NAME.psi},
	 *         else the newest version in {@code NAME.v/}, {@code NAME.raw.v/} or {@code NAME.psi.v/} (systemd 256's vpick)
	 */
	Optional<String> exact(String name) throws IOException {
		for (String dir : HostLayout.IMAGE_DIRS) {
			String p = dir + "/" + name;
			if (layout.exists(p, Entry.Kind.DIRECTORY)) {
				return Optional.of(picked(p));
			}
			for (String suffix : ImageName.RAW_SUFFIXES) {
				if (layout.exists(p + suffix, Entry.Kind.FILE)) {
					return Optional.of(p + suffix);
				}
			}
			for (String suffix : new String[] { "", ".raw", ".psi" }) {
				if (!name.endsWith(".v") && layout.exists(p + suffix + ".v", Entry.Kind.DIRECTORY)) {
					return Optional.of(picked(p + suffix + ".v"));
				}
			}
		}
		return Optional.empty();
	}

	/**
	 * @param path an image path found
	 * @return it, or for a {@code .v/} directory the newest version in it, the one attach pins
	 * @throws PsiException when a {@code .v/} directory holds no version for this host
	 */
	String picked(String path) throws IOException {
		String name = DropInWriter.lastComponent(path);
		if (!Versions.isVersioned(name) || !layout.exists(path, Entry.Kind.DIRECTORY)) {
			return path;
		}
		return Versions.pick(layout, path).map(Versions.Pick::path).orElseThrow(() -> new PsiException(PsiException.Reason.NO_SUCH_IMAGE,
			"No image version found in '" + UnitValues.show(path) + "'.", "A .v/ directory holds " + Versions.baseName(name)
				+ "_VERSION.raw files (or directories, in NAME.v/) for this architecture with tries left."));
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
		List<String> attached = new ArrayList<>();
		for (Map.Entry<String, String> f : found.entrySet()) {
			// this very version attached (a name would match every version of the image): by its path, or where its link leads
			String path = f.getValue();
			if (!index.unitsOfPath(path).isEmpty() || !index.unitsOfPath(layout.resolve(path).path()).isEmpty()) {
				attached.add(f.getKey());
			}
		}
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
			if (!index.units(HostLayout.attachedDir(runtime), arg).isEmpty()) {
				return arg;
			}
		}
		try {
			return versioned(arg).map(p -> ImageName.stripSuffix(DropInWriter.lastComponent(p))).orElse(arg);
		} catch (PsiException severalVersions) {
			return arg;
		}
	}

	/** @return the argument, an absolute path seen from the root, normalized */
	static String viewPath(String path) {
		if (!path.startsWith("/")) {
			throw new PsiException("image path '" + UnitValues.show(path) + "' is relative; give it as an absolute path as seen from the root");
		}
		return Path.of(path).normalize().toString();
	}

	/**
	 * Opens an image with the first format that claims it.
	 *
	 * @return the open image; the caller closes it
	 */
	OpenImage open(String nameOrPath) throws IOException {
		return openAt(locate(nameOrPath));
	}

	/** Open extension images, bottom first; closing closes them. */
	record Extensions(List<OpenImage> images) implements AutoCloseable {
		/** @return the extensions and then the image */
		List<OpenImage> with(OpenImage base) {
			List<OpenImage> all = new ArrayList<>(images);
			all.add(base);
			return all;
		}

		@Override
		public void close() throws IOException {
			for (OpenImage i : images) {
				i.close();
			}
		}
	}

	/**
	 * Opens extension images as portabled 252 finds them: a name exactly in
	 * the search path (no version guessed), else an absolute path; two of
	 * one image name are refused. On failure nothing stays open.
	 *
	 * @param args names or paths, bottom first
	 * @return the open extensions, in the order given; the caller closes them
	 */
	Extensions openExtensions(List<String> args) throws IOException {
		List<OpenImage> out = new ArrayList<>();
		try {
			java.util.Set<String> names = new java.util.HashSet<>();
			for (String arg : args) {
				String path;
				if (ImageName.isValidName(arg)) {
					path = exact(arg).orElseThrow(() -> new PsiException(PsiException.Reason.NOT_FOUND,
						"No extension image '" + arg + "' found.", "Searched " + String.join(", ", HostLayout.IMAGE_DIRS) + "."));
				} else {
					path = locate(arg, false);
				}
				UnitValues.checkPath(path);
				if (path.indexOf(':') >= 0) {
					throw new PsiException("extension path '" + UnitValues.show(path) + "' holds a ':', which ExtensionImages= reads as"
						+ " the start of its options; refusing");
				}
				OpenImage img = openAt(path);
				out.add(img);
				if (!names.add(ImageName.stripSuffix(img.fileName()))) {
					throw new PsiException(PsiException.Reason.DUPLICATE_IMAGE, "File exists",
						"an extension named '" + ImageName.stripSuffix(img.fileName()) + "' is given twice: " + arg);
				}
			}
			return new Extensions(List.copyOf(out));
		} catch (IOException | RuntimeException e) {
			for (OpenImage o : out) {
				try {
					o.close();
				} catch (IOException suppressed) {
					e.addSuppressed(suppressed);
				}
			}
			throw e;
		}
	}

	/**
	 * @return what extension arguments are matched against in the markers: a name as given, a path normalized
	 */
	static List<String> extensionKeys(List<String> args) {
		return args == null ? null : args.stream().map(a -> ImageName.isValidName(a) ? a : viewPath(a)).toList();
	}

	/** @param path the image's path as the host sees it */
	OpenImage openAt(String path) throws IOException {
		Path real = layout.host(layout.resolve(path).path());
		String label = "image '" + path + "'";
		for (ImageFormat f : formats) {
			Optional<ImageTree> t = PluginCalls.answer(calls.call(PluginCalls.Kind.FORMAT, f, "opening " + path, () -> f.open(real)),
				PluginCalls.Kind.FORMAT, f, "opening " + path);
			if (t.isPresent()) {
				return new OpenImage(path, DropInWriter.lastComponent(path), new GuardedTree(t.get(), calls, label), f);
			}
		}
		throw new PsiException(PsiException.Reason.BAD_IMAGE_TYPE, "Image '" + UnitValues.show(path) + "' is of no type psi knows, refusing.",
			"Image formats installed: " + formatNames());
	}

	private String formatNames() {
		List<String> names = new ArrayList<>();
		for (ImageFormat f : formats) {
			names.add(f.getClass().getSimpleName());
		}
		return names.isEmpty() ? "none installed" : String.join(", ", names);
	}

	/** As portablectl: the prefix comes from the argument as given, before the image is looked up. */
	static List<String> matches(String image, List<String> prefixes) {
		if (prefixes == null) {
			return List.of(); // every unit of the image, as portabled's call without matches
		}
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
}
