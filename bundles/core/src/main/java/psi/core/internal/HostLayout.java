package psi.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import psi.spi.format.DirectoryTree;
import psi.spi.format.Entry;

/**
 * Where portabled keeps things on a host, resolved under a root directory as
 * {@code systemctl --root} does: files land under the root, while paths
 * written into files are the paths as seen from the root.
 */
public final class HostLayout {

	/** The image search path, in order: two link directories, the pool, then vendor directories. */
	/** The pool: where pulled images go, and what {@code set-limit} without an image limits. */
	public static final String POOL = "/var/lib/portables";

	public static final List<String> IMAGE_DIRS = List.of("/etc/portables", "/run/portables", "/var/lib/portables",
		"/usr/local/lib/portables", "/usr/lib/portables");

	/** Where portable profiles are looked up, in order. */
	public static final List<String> PROFILE_DIRS = List.of("/etc/systemd/portable/profile",
		"/run/systemd/portable/profile", "/usr/local/lib/systemd/portable/profile", "/usr/lib/systemd/portable/profile",
		"/lib/systemd/portable/profile");

	/**
	 * The system unit search path: an image's, and the host's when checking for
	 * existing units. Debian 12 builds systemd 252 split-usr, so {@code /lib}
	 * comes before {@code /usr/lib}.
	 */
	public static final List<String> UNIT_PATH = List.of("/etc/systemd/system.control", "/run/systemd/system.control",
		"/run/systemd/transient", "/run/systemd/generator.early", "/etc/systemd/system",
		"/etc/systemd/system.attached", "/run/systemd/system", "/run/systemd/system.attached",
		"/run/systemd/generator", "/usr/local/lib/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
		"/run/systemd/generator.late");

	private final Path root;
	private final DirectoryTree tree;
	private final TreeResolver resolver;

	/** @param root the host root, an absolute directory */
	public HostLayout(Path root) {
		this.root = root.toAbsolutePath().normalize();
		this.tree = new DirectoryTree(this.root, "host");
		this.resolver = new TreeResolver(tree::lstat, "root " + this.root);
	}

	/** @return the root */
	public Path root() {
		return root;
	}

	/**
	 * @param path an absolute path as seen from the root
	 * @return the real path of it
	 */
	public Path host(String path) {
		String rel = path;
		while (rel.startsWith("/")) {
			rel = rel.substring(1);
		}
		return rel.isEmpty() ? root : root.resolve(rel);
	}

	/**
	 * Where a path seen from the root really is, for reading or changing what
	 * is there: every directory on the way is resolved inside the root, its
	 * links followed as if the root were {@code /} (absolute targets start at
	 * the root, as systemd's {@code chase()} with {@code CHASE_PREFIX_ROOT}),
	 * so that no write under {@code --root} lands outside it. The last
	 * component is kept as it is: a link there is itself what is read,
	 * replaced or removed. Directories that do not exist yet are appended as
	 * named.
	 *
	 * @param path an absolute path as seen from the root
	 * @return the real path
	 * @throws IOException if a directory on the way leads out of the root, loops, or is not a directory
	 */
	public Path real(String path) throws IOException {
		String norm = Path.of("/").resolve(path.startsWith("/") ? path.substring(1) : path).normalize().toString();
		if (root.toString().equals("/") || norm.equals("/")) {
			return host(norm);
		}
		int slash = norm.lastIndexOf('/');
		String parent = slash == 0 ? "/" : norm.substring(0, slash);
		String name = norm.substring(slash + 1);
		String[] parts = parent.equals("/") ? new String[0] : parent.substring(1).split("/");
		String prefix = "";
		String resolved = "/";
		int i = 0;
		// the longest prefix that exists, resolved; a missing component ends it
		for (; i < parts.length; i++) {
			String candidate = prefix + "/" + parts[i];
			TreeResolver.Resolved r = resolver.resolve(candidate);
			if (r.entry().isEmpty()) {
				// missing from here on: resolved as far as it exists (a link's target included), the rest as named
				resolved = r.path();
				i++;
				break;
			}
			if (r.entry().get().kind() != Entry.Kind.DIRECTORY) {
				throw new java.nio.file.NotDirectoryException(candidate + " under the root " + root + " (" + r.path() + ")");
			}
			prefix = candidate;
			resolved = r.path();
		}
		Path p = host(resolved);
		for (; i < parts.length; i++) {
			p = p.resolve(parts[i]);
		}
		return p.resolve(name);
	}

	/**
	 * As {@link #real(String)} for a directory whose entries are then used:
	 * its last component is resolved inside the root too.
	 *
	 * @param dir an absolute directory path as seen from the root
	 * @return the real directory path
	 */
	public Path realDirectory(String dir) throws IOException {
		return real(dir + "/.psi-entry").getParent();
	}

	/**
	 * Follows links under the root (absolute targets start at the root).
	 *
	 * @param path an absolute path as seen from the root
	 * @return the resolved path and what is there
	 * @throws IOException if a link leads out of the root or loops
	 */
	public TreeResolver.Resolved resolve(String path) throws IOException {
		return resolver.resolve(path);
	}

	/**
	 * @param path an absolute path as seen from the root, whose parents are no links
	 * @return what is there, not following a final link
	 */
	public Optional<Entry> lstat(String path) throws IOException {
		return tree.lstat(path);
	}

	/**
	 * @param dir an absolute directory path as seen from the root, no links in it
	 * @return the names in it; empty if it is absent
	 */
	public List<String> list(String dir) throws IOException {
		return tree.list(dir);
	}

	/**
	 * @param path an absolute path as seen from the root
	 * @return whether something exists there, following links
	 */
	public boolean exists(String path) throws IOException {
		return resolve(path).entry().isPresent();
	}

	/**
	 * @param path an absolute path as seen from the root
	 * @param kind what it must be
	 * @return whether such a thing exists there, following links
	 */
	public boolean exists(String path, Entry.Kind kind) throws IOException {
		return resolve(path).entry().map(e -> e.kind() == kind).orElse(false);
	}

	/**
	 * @param runtime whether for this boot only
	 * @return the directory attached units are written to
	 */
	public static String attachedDir(boolean runtime) {
		return runtime ? "/run/systemd/system.attached" : "/etc/systemd/system.attached";
	}

	/**
	 * @param runtime whether for this boot only
	 * @return the directory of links to images outside the search path
	 */
	public static String linkDir(boolean runtime) {
		return runtime ? "/run/portables" : "/etc/portables";
	}

	/** @return the host's os-release, bound into services: {@code /etc/os-release}, else {@code /usr/lib/os-release} */
	public String osReleaseSource() throws IOException {
		return exists("/etc/os-release") ? "/etc/os-release" : "/usr/lib/os-release";
	}
}
