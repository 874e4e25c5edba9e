package psi.core.internal;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

	private final HostLayout layout;
	private final Faults faults;
	private final Journal journal;
	private final Deque<Journal.Step> undo = new ArrayDeque<>();
	private boolean committed;

	Transaction(HostLayout layout) {
		this(layout, Faults.NONE, "change");
	}

	/** @param operation what the transaction does, for the message of a recovery: {@code attach foo} */
	Transaction(HostLayout layout, Faults faults, String operation) {
		this.layout = layout;
		this.faults = faults;
		this.journal = new Journal(layout, operation);
	}

	/** Records a step durably, then keeps it for the undo. */
	private void record(Journal.Step step) throws IOException {
		journal.record(step);
		undo.push(step);
	}

	/** @return a real path as seen from the root */
	private String seen(Path real) {
		return "/" + layout.root().relativize(real);
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
			record(new Journal.Made(seen(d)));
			Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
			Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
		}
		report(changes, ChangeDTO.of(ChangeDTO.Type.MKDIR, path, null));
	}


	/** Writes a file (0644) atomically, reported as {@code write}. */
	void write(String path, byte[] content, List<ChangeDTO> changes) throws IOException {
		write(path, content, 0644, changes);
	}

	/** Writes a file with the given mode atomically, reported as {@code write}. */
	void write(String path, byte[] content, int mode, List<ChangeDTO> changes) throws IOException {
		put(path, content, mode);
		report(changes, ChangeDTO.of(ChangeDTO.Type.WRITE, path, null));
	}

	/** Writes a copy (0644) atomically, reported as {@code copy} from {@code source}. */
	void copy(String path, byte[] content, String source, List<ChangeDTO> changes) throws IOException {
		put(path, content, 0644);
		report(changes, ChangeDTO.of(ChangeDTO.Type.COPY, path, source));
	}

	private void put(String path, byte[] content, int mode) throws IOException {
		Path p = layout.real(path);
		faults.before("write", p);
		remember(p);
		AtomicFiles.write(p, content, mode, faults);
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
		try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
			if (s.iterator().hasNext()) {
				return;
			}
		}
		faults.before("rmdir", p);
		record(new Journal.Removed(seen(p), mode));
		try {
			Files.delete(p);
		} catch (DirectoryNotEmptyException e) {
			// filled meanwhile: the recorded undo finds it there
			return;
		}
		report(changes, ChangeDTO.of(ChangeDTO.Type.UNLINK, path, null));
	}

	/** @param changes where to report a change, or {@code null} for a change the admin is not told of */
	private static void report(List<ChangeDTO> changes, ChangeDTO change) {
		if (changes != null) {
			changes.add(change);
		}
	}

	/** Records how to restore what is at {@code p} now, and removes stale temporary files beside it. */
	private void remember(Path p) throws IOException {
		if (Files.isSymbolicLink(p)) {
			record(new Journal.Linked(seen(p), Files.readSymbolicLink(p).toString()));
		} else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
			int mode = DirectoryTree.mode(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
			long mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).to(TimeUnit.MICROSECONDS);
			record(new Journal.Replaced(seen(p), journal.keep(p), mode, mtime));
		} else if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
			record(new Journal.Created(seen(p)));
		} else {
			throw new IOException(p + " is in the way: not a file or a link");
		}
		Journal.sweep(p);
	}

	/**
	 * Moves a file the caller made (a verified download) into place
	 * atomically, replacing what is there (moved aside first, deleted on
	 * commit), reported as {@code write}.
	 *
	 * @param file the file, in the same file system as {@code path}
	 */
	void place(Path file, String path, List<ChangeDTO> changes) throws IOException {
		removeTree(path, null);
		Path p = layout.real(path);
		faults.before("rename", p);
		record(new Journal.Created(seen(p)));
		try {
			Files.move(file, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
		} catch (java.nio.file.AtomicMoveNotSupportedException e) {
			throw new IOException("cannot rename " + file + " to " + p + " atomically", e);
		}
		AtomicFiles.syncDirectory(p.getParent());
		report(changes, ChangeDTO.of(ChangeDTO.Type.WRITE, path, null));
	}

	/**
	 * Records that the service manager is about to enable units, so that a
	 * recovery of this transaction disables them again.
	 */
	void enabling(String dir, boolean runtime, List<String> units) throws IOException {
		record(new Journal.Enabled(dir, runtime, List.copyOf(units)));
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
		record(new Journal.Aside(seen(p), seen(aside)));
		Files.move(p, aside, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
		AtomicFiles.syncDirectory(p.getParent());
		report(changes, ChangeDTO.of(ChangeDTO.Type.UNLINK, path, null));
	}

	/**
	 * Keeps the changes: the journal says so first, then what was moved
	 * aside is deleted and the journal removed. A failure after the journal
	 * said so is not the operation's failure: the next recovery finishes it.
	 *
	 * @throws IOException if the journal could not record the commit; the transaction is then still open
	 */
	void commit() throws IOException {
		journal.commit();
		committed = true;
		for (Runnable r : committedActions) {
			try {
				r.run();
			} catch (RuntimeException e) {
				// what follows a commit is told, not undone
			}
		}
		committedActions.clear();
		try {
			for (java.util.Iterator<Journal.Step> i = undo.descendingIterator(); i.hasNext();) {
				i.next().afterCommit(layout);
			}
			journal.close();
		} catch (IOException e) {
			// the change is made; the leftover is hidden, and the next psi finishes the clean-up
		}
		undo.clear();
	}

	private final List<Runnable> committedActions = new ArrayList<>();

	/** @param action run once the changes are kept (a record of them, never a change): not at all when they are undone */
	void onCommit(Runnable action) {
		committedActions.add(action);
	}

	/** @return whether this transaction changed nothing yet */
	boolean isEmpty() {
		return undo.isEmpty();
	}

	/**
	 * Undoes every change unless committed, newest first, then removes the
	 * journal; when a step cannot be undone the journal stays, and the next
	 * psi tries again.
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
		IOException failed = null;
		Path dir = layout.realDirectory(Journal.DIR);
		while (!undo.isEmpty()) {
			try {
				undo.pop().undo(layout, dir);
			} catch (IOException | RuntimeException e) {
				// keep undoing the rest: a partial undo is better than none
				if (failed == null) {
					failed = new IOException("could not undo every change; the host may be half changed (psi tries again next time)");
				}
				failed.addSuppressed(e);
			}
		}
		if (failed != null) {
			throw failed;
		}
		journal.close();
	}
}
