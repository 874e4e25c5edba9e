package psi.core.internal;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import psi.api.dto.ChangeDTO;
import psi.spi.format.DirectoryTree;

/**
 * The changes of one host operation, made atomically one by one and undone
 * in reverse order unless committed, so that a failed operation leaves the
 * host as it was:
 *
 * <pre>
 * try (Transaction tx = new Transaction(layout)) {
 *     tx.write(...);
 *     tx.unlink(...);
 *     tx.commit();
 * }
 * </pre>
 *
 * Paths are as seen from the root. Each step records how to undo it before
 * it changes anything. Not thread safe; taken under the {@link HostLock}.
 */
final class Transaction implements AutoCloseable {

	/**
	 * Called before every change a transaction makes; throwing fails that step.
	 * The fault-injection tests fail each step in turn through it.
	 */
	@FunctionalInterface
	interface Faults {
		/** Injects nothing. */
		Faults NONE = (step, path) -> {
		};

		/**
		 * @param step {@code mkdir}, {@code write}, {@code rename}, {@code symlink}, {@code unlink}, {@code rmdir}, {@code rmtree}
		 * @param path the path about to change
		 */
		void before(String step, Path path) throws IOException;
	}

	private interface Undo {
		void run() throws IOException;
	}

	private final HostLayout layout;
	private final Faults faults;
	private final Deque<Undo> undo = new ArrayDeque<>();
	private final Deque<Undo> afterCommit = new ArrayDeque<>();
	private boolean committed;

	Transaction(HostLayout layout) {
		this(layout, Faults.NONE);
	}

	Transaction(HostLayout layout, Faults faults) {
		this.layout = layout;
		this.faults = faults;
	}

	/** @return the host this transaction changes */
	HostLayout layout() {
		return layout;
	}

	/** Creates a directory and its missing parents (0755); reports the directory itself if it was made. */
	void mkdirs(String path, List<ChangeDTO> changes) throws IOException {
		// the directory itself resolved inside the root too: a link there to a directory is that directory
		Path p = layout.realDirectory(path);
		if (Files.isDirectory(p)) {
			return;
		}
		java.util.Deque<Path> missing = new ArrayDeque<>();
		for (Path d = p; d != null && !Files.isDirectory(d); d = d.getParent()) {
			missing.push(d);
		}
		while (!missing.isEmpty()) {
			Path d = missing.pop();
			faults.before("mkdir", d);
			undo.push(() -> Files.deleteIfExists(d));
			Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
			Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
		}
		report(changes, ChangeDTO.of(ChangeDTO.Type.MKDIR, path, null));
	}


	/** Writes a file (0644) atomically, reported as {@code write}. */
	void write(String path, byte[] content, List<ChangeDTO> changes) throws IOException {
		put(path, content);
		report(changes, ChangeDTO.of(ChangeDTO.Type.WRITE, path, null));
	}

	/** Writes a copy (0644) atomically, reported as {@code copy} from {@code source}. */
	void copy(String path, byte[] content, String source, List<ChangeDTO> changes) throws IOException {
		put(path, content);
		report(changes, ChangeDTO.of(ChangeDTO.Type.COPY, path, source));
	}

	private void put(String path, byte[] content) throws IOException {
		Path p = layout.real(path);
		faults.before("write", p);
		remember(p);
		AtomicFiles.write(p, content, 0644, faults);
	}

	/** Creates or replaces a symbolic link atomically, reported as {@code symlink}. */
	void symlink(String path, String target, List<ChangeDTO> changes) throws IOException {
		Path p = layout.real(path);
		faults.before("symlink", p);
		remember(p);
		AtomicFiles.symlink(p, target, faults);
		report(changes, ChangeDTO.of(ChangeDTO.Type.SYMLINK, path, target));
	}

	/** Removes a file or link if present, reported as {@code unlink}. */
	void unlink(String path, List<ChangeDTO> changes) throws IOException {
		Path p = layout.real(path);
		if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		faults.before("unlink", p);
		remember(p);
		Files.delete(p);
		AtomicFiles.syncDirectory(p.getParent());
		report(changes, ChangeDTO.of(ChangeDTO.Type.UNLINK, path, null));
	}

	/** Removes a directory if present and empty, reported as {@code unlink}. */
	void rmdir(String path, List<ChangeDTO> changes) throws IOException {
		Path p = layout.real(path);
		if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		int mode = DirectoryTree.mode(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
		faults.before("rmdir", p);
		try {
			Files.delete(p);
		} catch (DirectoryNotEmptyException e) {
			return;
		}
		undo.push(() -> {
			if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
				Files.createDirectory(p);
			}
			Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(AtomicFiles.perms(mode)));
		});
		report(changes, ChangeDTO.of(ChangeDTO.Type.UNLINK, path, null));
	}

	/** @param changes where to report a change, or {@code null} for a change the admin is not told of */
	private static void report(List<ChangeDTO> changes, ChangeDTO change) {
		if (changes != null) {
			changes.add(change);
		}
	}

	/** Records how to restore what is at {@code p} now. */
	private void remember(Path p) throws IOException {
		if (Files.isSymbolicLink(p)) {
			String target = Files.readSymbolicLink(p).toString();
			undo.push(() -> AtomicFiles.symlink(p, target));
		} else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
			byte[] old = Files.readAllBytes(p);
			int mode = DirectoryTree.mode(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
			java.nio.file.attribute.FileTime mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
			undo.push(() -> {
				AtomicFiles.write(p, old, mode);
				Files.setLastModifiedTime(p, mtime);
			});
		} else if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
			undo.push(() -> {
				try {
					Files.delete(p);
				} catch (NoSuchFileException e) {
					// never made
				}
			});
		} else {
			throw new IOException(p + " is in the way: not a file or a link");
		}
	}

	/**
	 * Moves a file, link or directory tree out of the way to a hidden name
	 * beside it, to be deleted once the transaction commits: a removal that
	 * can be undone until then.
	 *
	 * @param path what to remove, as seen from the root
	 */
	void removeTree(String path, List<ChangeDTO> changes) throws IOException {
		Path p = layout.real(path);
		if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		Path aside = p.resolveSibling(".#psi-removing-" + p.getFileName());
		faults.before("rename", p);
		if (Files.exists(aside, LinkOption.NOFOLLOW_LINKS)) {
			AtomicFiles.deleteTree(aside);
		}
		Files.move(p, aside, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
		undo.push(() -> Files.move(aside, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE));
		AtomicFiles.syncDirectory(p.getParent());
		afterCommit.push(() -> AtomicFiles.deleteTree(aside));
		report(changes, ChangeDTO.of(ChangeDTO.Type.UNLINK, path, null));
	}

	/**
	 * Keeps the changes. What was moved aside is deleted now; a failure to
	 * delete it leaves a hidden entry that no listing shows, and is not the
	 * operation's failure.
	 */
	void commit() {
		committed = true;
		undo.clear();
		while (!afterCommit.isEmpty()) {
			try {
				afterCommit.removeLast().run();
			} catch (IOException e) {
				// the change is made; the leftover is hidden and removed by the next removal of that name
			}
		}
	}

	/**
	 * Undoes every change unless committed, newest first.
	 *
	 * @throws IOException naming what could not be undone, each failure suppressed in it; in a
	 *             try-with-resources statement it is added to the operation's own failure
	 */
	@Override
	public void close() throws IOException {
		if (committed) {
			return;
		}
		committed = true;
		afterCommit.clear();
		IOException failed = null;
		while (!undo.isEmpty()) {
			try {
				undo.pop().run();
			} catch (IOException | RuntimeException e) {
				// keep undoing the rest: a partial undo is better than none
				if (failed == null) {
					failed = new IOException("could not undo every change; the host may be half changed");
				}
				failed.addSuppressed(e);
			}
		}
		if (failed != null) {
			throw failed;
		}
	}
}
