package psi.core.internal;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

import psi.spi.format.Entry;
import psi.spi.format.ImageException;

/**
 * Resolves paths inside a tree (an image, or the host below {@code --root}),
 * following symbolic links the way the kernel would if the tree were the
 * root: absolute targets start at the tree's root. Nothing escapes: a
 * {@code ..} that would climb above the root is refused, as is a chain of
 * more than {@value #MAX_LINKS} links (the kernel's limit), so a loop ends.
 */
public final class TreeResolver {

	/** The most symbolic links followed for one path (the kernel's MAXSYMLINKS). */
	public static final int MAX_LINKS = 40;

	/** Raw lookups in a tree; only the last component may be a link. */
	@FunctionalInterface
	public interface Lstat {
		/**
		 * @param path an absolute, normalized path with no links before its last component
		 * @return the entry, or empty if absent
		 * @throws IOException on an I/O error
		 */
		Optional<Entry> lstat(String path) throws IOException;
	}

	/**
	 * A resolved path.
	 *
	 * @param path the absolute path with no links in it
	 * @param entry the entry there, or empty if the last component is absent
	 */
	public record Resolved(String path, Optional<Entry> entry) {
	}

	private final Lstat fs;
	private final String treeName;

	/**
	 * @param fs the tree's raw lookups
	 * @param treeName how errors name the tree, e.g. {@code image '/var/lib/portables/foo'}
	 */
	public TreeResolver(Lstat fs, String treeName) {
		this.fs = fs;
		this.treeName = treeName;
	}

	/**
	 * Resolves every link in {@code path}.
	 *
	 * @param path an absolute path inside the tree
	 * @return the resolved path; its entry is empty if the last component does not exist
	 *         (then the path is resolved up to the first missing component, and
	 *         the rest follows as named)
	 * @throws ImageException if a link leads out of the tree, the chain is too
	 *         long, or a component before the last is missing or not a directory
	 *         (reported as not found: empty entry)
	 * @throws IOException on an I/O error
	 */
	public Resolved resolve(String path) throws IOException {
		Deque<String> todo = new ArrayDeque<>();
		push(todo, path);
		Deque<String> done = new ArrayDeque<>();
		int links = 0;
		String via = null;
		Optional<Entry> last = Optional.of(new Entry(Entry.Kind.DIRECTORY, 0755, 0, null));
		while (!todo.isEmpty()) {
			String c = todo.pop();
			if (c.equals(".")) {
				continue;
			}
			if (last.isEmpty()) {
				// below something missing nothing exists: the rest of the path, as named
				done.addLast(c);
				while (!todo.isEmpty()) {
					String t = todo.pop();
					if (t.equals("..")) {
						if (done.isEmpty()) {
							throw new ImageException("path '" + path + "' in " + treeName + " leads out of its root");
						}
						done.removeLast();
					} else if (!t.equals(".")) {
						done.addLast(t);
					}
				}
				return new Resolved(join(done), Optional.empty());
			}
			if (last.get().kind() != Entry.Kind.DIRECTORY) {
				// a component below something that is not a directory: nothing there
				return new Resolved(join(done) + "/" + c, Optional.empty());
			}
			if (c.equals("..")) {
				if (done.isEmpty()) {
					throw new ImageException((via == null ? "path '" + path + "'" : "symbolic link " + via) + " in " + treeName
						+ " leads out of its root");
				}
				done.removeLast();
				last = Optional.of(new Entry(Entry.Kind.DIRECTORY, 0755, 0, null));
				continue;
			}
			done.addLast(c);
			String here = join(done);
			Optional<Entry> e = fs.lstat(here);
			if (e.isPresent() && e.get().kind() == Entry.Kind.SYMLINK) {
				if (++links > MAX_LINKS) {
					throw new ImageException("path '" + path + "' in " + treeName + " has more than " + MAX_LINKS
						+ " symbolic links (a loop?)");
				}
				String target = e.get().linkTarget();
				if (target.isEmpty()) {
					throw new ImageException("symbolic link '" + here + "' in " + treeName + " is empty");
				}
				done.removeLast();
				if (target.startsWith("/")) {
					done.clear();
				}
				via = "'" + here + "' -> '" + target + "'";
				push(todo, target);
				last = Optional.of(new Entry(Entry.Kind.DIRECTORY, 0755, 0, null));
				continue;
			}
			last = e;
		}
		return new Resolved(done.isEmpty() ? "/" : join(done), last);
	}

	private static void push(Deque<String> todo, String path) {
		String[] parts = path.split("/");
		for (int i = parts.length - 1; i >= 0; i--) {
			if (!parts[i].isEmpty()) {
				todo.push(parts[i]);
			}
		}
	}

	private static String join(Deque<String> parts) {
		StringBuilder sb = new StringBuilder();
		for (String p : parts) {
			sb.append('/').append(p);
		}
		return sb.length() == 0 ? "/" : sb.toString();
	}
}
