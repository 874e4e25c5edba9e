package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Optional;
import java.util.TreeMap;

import psi.api.PsiException;
import psi.spi.format.Entry;
import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;

/**
 * Reads what attach needs from an open image, as portabled's
 * {@code extract_now()}: its os-release and the unit files of its unit
 * search path that match the prefixes. Every link is resolved inside the
 * image.
 */
final class ImageReader {

	/** The largest unit file read; systemd's own limit for a unit file line is 1 MiB. */
	static final int MAX_UNIT_SIZE = 4 * 1024 * 1024;

	/** The most units read from one image directory. */
	static final int MAX_UNITS = 4096;

	/**
	 * A unit file found in an image.
	 *
	 * @param name the unit name
	 * @param dir the resolved directory it was found in, inside the image
	 * @param content its content
	 */
	record UnitFile(String name, String dir, byte[] content) {
		/** @return where it was found, before its own link (if any) was followed */
		String path() {
			return dir.equals("/") ? "/" + name : dir + "/" + name;
		}
	}

	/**
	 * The os-release file and where it was.
	 *
	 * @param path where it was found in the image
	 * @param text its content
	 * @param release its fields
	 */
	record Release(String path, byte[] bytes, String text, OsRelease release) {
	}

	private final ImageTree tree;
	private final TreeResolver resolver;
	private final String path;
	private final String label;

	/**
	 * @param tree the open image
	 * @param path the image's path as the host sees it, for messages
	 */
	ImageReader(ImageTree tree, String path) {
		this.tree = tree;
		this.path = path;
		this.label = "image '" + path + "'";
		this.resolver = new TreeResolver(tree::lstat, label);
	}

	/**
	 * @return the os-release: {@code /etc/os-release}, else {@code /usr/lib/os-release}
	 * @throws ImageException if the image has neither
	 */
	Release osRelease() throws IOException {
		for (String p : new String[] { "/etc/os-release", "/usr/lib/os-release" }) {
			Optional<byte[]> b = readFile(p, OsRelease.MAX_SIZE);
			if (b.isPresent()) {
				return new Release(p, b.get(), new String(b.get(), StandardCharsets.UTF_8), OsRelease.parse(b.get()));
			}
		}
		throw new PsiException(PsiException.Reason.INVALID, "Image '" + path + "' lacks os-release data, refusing.",
			"Neither /etc/os-release nor /usr/lib/os-release is in it.");
	}

	/** @return the tree read */
	ImageTree tree() {
		return tree;
	}

	/** @return a directory's path with links resolved inside the image, or empty when it is no directory */
	Optional<String> directory(String path) throws IOException {
		TreeResolver.Resolved r = resolver.resolve(path);
		return r.entry().filter(e -> e.kind() == Entry.Kind.DIRECTORY).map(e -> r.path());
	}

	/**
	 * Reads a regular file, following links inside the image.
	 *
	 * @return its content, or empty if it does not exist
	 * @throws ImageException if it is not a regular file or is too large
	 */
	Optional<byte[]> readFile(String path, int max) throws IOException {
		TreeResolver.Resolved r = resolver.resolve(path);
		if (r.entry().isEmpty()) {
			return Optional.empty();
		}
		Entry e = r.entry().get();
		if (e.kind() != Entry.Kind.FILE) {
			throw new ImageException("'" + path + "' in " + label + " is not a regular file");
		}
		if (e.size() > max) {
			throw new ImageException("'" + path + "' in " + label + " is " + e.size() + " bytes, more than the " + max + " allowed");
		}
		return Optional.of(tree.read(r.path(), max));
	}

	/**
	 * The unit files matching the prefixes, first name in the search path
	 * wins; only regular files and links to them; empty files (masked units)
	 * are skipped.
	 *
	 * @param prefixes the prefixes; empty for every portable unit
	 * @return the units by name, sorted
	 */
	TreeMap<String, UnitFile> units(Collection<String> prefixes) throws IOException {
		TreeMap<String, UnitFile> found = new TreeMap<>();
		java.util.Set<String> seen = new java.util.HashSet<>();
		for (String dir : HostLayout.UNIT_PATH) {
			TreeResolver.Resolved d = resolver.resolve(dir);
			if (d.entry().isEmpty() || d.entry().get().kind() != Entry.Kind.DIRECTORY) {
				continue;
			}
			// the same directory reached twice (/lib -> usr/lib) is read once
			if (!seen.add(d.path())) {
				continue;
			}
			var names = tree.list(d.path());
			if (names.size() > MAX_UNITS) {
				throw new ImageException("directory '" + dir + "' in " + label + " has " + names.size()
					+ " entries, more than the " + MAX_UNITS + " allowed");
			}
			for (String name : names.stream().sorted().toList()) {
				if (!UnitNames.isValid(name) || !UnitNames.matches(name, prefixes) || found.containsKey(name)) {
					continue;
				}
				String path = d.path().equals("/") ? "/" + name : d.path() + "/" + name;
				Optional<Entry> own = tree.lstat(path);
				if (own.isEmpty() || own.get().kind() != Entry.Kind.FILE && own.get().kind() != Entry.Kind.SYMLINK) {
					continue;
				}
				TreeResolver.Resolved target = resolver.resolve(path);
				if (target.entry().isEmpty()) {
					continue; // a dangling link
				}
				if (target.entry().get().kind() != Entry.Kind.FILE) {
					throw new ImageException("unit file '" + path + "' in " + label + " is not a regular file");
				}
				if (target.entry().get().size() == 0) {
					continue; // masked
				}
				byte[] content = readFile(path, MAX_UNIT_SIZE).orElseThrow();
				if (content.length == 0) {
					continue;
				}
				found.put(name, new UnitFile(name, d.path(), content));
			}
		}
		return found;
	}
}
