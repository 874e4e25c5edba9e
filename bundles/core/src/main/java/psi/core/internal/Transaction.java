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
 * The changes of one attach or detach, made atomically one by one and
 * undone in reverse order if a later step fails, so that a failed operation
 * leaves the host as it was. Paths are as seen from the root.
 */
final class Transaction {

	private interface Undo {
		void run() throws IOException;
	}

	private final HostLayout layout;
	private final Deque<Undo> undo = new ArrayDeque<>();

	Transaction(HostLayout layout) {
		this.layout = layout;
	}

	/** Creates a directory and its missing parents (0755); reports the directory itself if it was made. */
	void mkdirs(String path, List<ChangeDTO> changes) throws IOException {
		Path p = layout.host(path);
		if (Files.isDirectory(p)) {
			return;
		}
		Path parent = p.getParent();
		if (parent != null && !Files.isDirectory(parent)) {
			mkdirs(path.substring(0, Math.max(1, path.lastIndexOf('/'))), null);
		}
		Files.createDirectory(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
		Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
		undo.push(() -> Files.deleteIfExists(p));
		if (changes != null) {
			changes.add(ChangeDTO.of("mkdir", path, null));
		}
	}

	/** Writes a file (0644) atomically, reported as {@code write}. */
	void write(String path, byte[] content, List<ChangeDTO> changes) throws IOException {
		put(path, content);
		changes.add(ChangeDTO.of("write", path, null));
	}

	/** Writes a copy (0644) atomically, reported as {@code copy} from {@code source}. */
	void copy(String path, byte[] content, String source, List<ChangeDTO> changes) throws IOException {
		put(path, content);
		changes.add(ChangeDTO.of("copy", path, source));
	}

	private void put(String path, byte[] content) throws IOException {
		Path p = layout.host(path);
		remember(p);
		AtomicFiles.write(p, content, 0644);
	}

	/** Creates or replaces a symbolic link atomically, reported as {@code symlink}. */
	void symlink(String path, String target, List<ChangeDTO> changes) throws IOException {
		Path p = layout.host(path);
		remember(p);
		AtomicFiles.symlink(p, target);
		changes.add(ChangeDTO.of("symlink", path, target));
	}

	/** Removes a file or link if present, reported as {@code unlink}. */
	void unlink(String path, List<ChangeDTO> changes) throws IOException {
		Path p = layout.host(path);
		if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		remember(p);
		Files.delete(p);
		AtomicFiles.syncDirectory(p.getParent());
		changes.add(ChangeDTO.of("unlink", path, null));
	}

	/** Removes a directory if present and empty, reported as {@code unlink}. */
	void rmdir(String path, List<ChangeDTO> changes) throws IOException {
		Path p = layout.host(path);
		if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		int mode = DirectoryTree.mode(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
		try {
			Files.delete(p);
		} catch (DirectoryNotEmptyException e) {
			return;
		}
		undo.push(() -> {
			Files.createDirectory(p);
			Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(AtomicFiles.perms(mode)));
		});
		changes.add(ChangeDTO.of("unlink", path, null));
	}

	/** Records how to restore what is at {@code p} now. */
	private void remember(Path p) throws IOException {
		if (Files.isSymbolicLink(p)) {
			String target = Files.readSymbolicLink(p).toString();
			undo.push(() -> AtomicFiles.symlink(p, target));
		} else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
			byte[] old = Files.readAllBytes(p);
			int mode = DirectoryTree.mode(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
			undo.push(() -> AtomicFiles.write(p, old, mode));
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

	/** Keeps the changes. */
	void commit() {
		undo.clear();
	}

	/** Undoes every change, newest first; failures to undo are added to the error being reported. */
	void rollback() {
		while (!undo.isEmpty()) {
			try {
				undo.pop().run();
			} catch (IOException e) {
				// keep undoing the rest: a partial undo is better than none
			}
		}
	}
}
