package psi.core.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The intent record of a {@link Transaction} on disk, so that an operation
 * killed at any instant (kill -9, a power cut) is undone, or finished when it
 * had committed, by the next psi that takes the host lock.
 * <p>
 * Under the root, {@code /var/lib/psi/journal/intent} holds one line per
 * step, each written and fsynced <em>before</em> the step changes anything:
 * how to undo it. Old contents a step replaces are copied beside it first
 * ({@code N.old}). {@code commit} as the last line means the operation is
 * done and only its clean-up (deleting what was moved aside) remains. The
 * journal lives under {@code /var/lib}, not {@code /run}, because most of
 * what it undoes (in {@code /etc}) outlives a reboot; undo steps for paths
 * under {@code /run} are skipped after the running host rebooted, since
 * {@code /run} starts empty.
 * <p>
 * Every undo is idempotent (a step may be recorded and never made, and a
 * recovery may itself be killed) and stays inside the root. Temporary files
 * of {@link AtomicFiles} ({@code .#NAME} and 16 hex digits) beside a
 * recorded path are removed too.
 */
final class Journal {

	/** Where the journal lives, as seen from the root. */
	static final String DIR = "/var/lib/psi/journal";
	private static final String INTENT = "intent";
	private static final String COMMIT = "commit";
	/** The most a journal may hold; a longer one was not written by psi. */
	private static final long MAX = 4L << 20;

	/** One undoable step, as recorded. */
	sealed interface Step {
		/** @return the step's line in the journal, without the newline */
		String line();

		/** Undoes the step if it was made; does nothing if it was not. */
		void undo(HostLayout layout, Path journal) throws IOException;

		/** What remains to do once the operation committed. */
		default void afterCommit(HostLayout layout) throws IOException {
		}

		/** @return the path the step changes, as seen from the root */
		String path();
	}

	/** A file or link that was not there: undo removes it. */
	record Created(String path) implements Step {
		@Override
		public String line() {
			return "new " + encode(path);
		}

		@Override
		public void undo(HostLayout layout, Path journal) throws IOException {
			Path p = layout.real(path);
			if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
				Files.deleteIfExists(p);
			}
			sweep(p);
		}
	}

	/** A regular file that was there, its content kept in the journal as {@code old}: undo puts it back. */
	record Replaced(String path, String old, int mode, long mtime) implements Step {
		@Override
		public String line() {
			return "file " + encode(path) + " " + old + " " + Integer.toOctalString(mode) + " " + mtime;
		}

		@Override
		public void undo(HostLayout layout, Path journal) throws IOException {
			Path p = layout.real(path);
			Path kept = journal.resolve(old);
			if (Files.isRegularFile(kept, LinkOption.NOFOLLOW_LINKS)) {
				AtomicFiles.write(p, Files.readAllBytes(kept), mode);
				Files.setLastModifiedTime(p, FileTime.from(mtime, TimeUnit.MICROSECONDS));
			}
			sweep(p);
		}
	}

	/** A symbolic link that was there: undo makes it again. */
	record Linked(String path, String target) implements Step {
		@Override
		public String line() {
			return "link " + encode(path) + " " + encode(target);
		}

		@Override
		public void undo(HostLayout layout, Path journal) throws IOException {
			Path p = layout.real(path);
			AtomicFiles.symlink(p, target);
			sweep(p);
		}
	}

	/** A directory that was made: undo removes it when empty. */
	record Made(String path) implements Step {
		@Override
		public String line() {
			return "mkdir " + encode(path);
		}

		@Override
		public void undo(HostLayout layout, Path journal) throws IOException {
			Path p = layout.real(path);
			try {
				if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
					Files.delete(p);
				}
			} catch (DirectoryNotEmptyException e) {
				// something else lives there now: keep it
			}
		}
	}

	/** An empty directory that was removed: undo makes it again with its mode. */
	record Removed(String path, int mode) implements Step {
		@Override
		public String line() {
			return "rmdir " + encode(path) + " " + Integer.toOctalString(mode);
		}

		@Override
		public void undo(HostLayout layout, Path journal) throws IOException {
			Path p = layout.real(path);
			if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
				Files.createDirectory(p);
			}
			Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(AtomicFiles.perms(mode)));
		}
	}

	/** A file or tree moved aside to be deleted on commit: undo moves it back. */
	record Aside(String path, String aside) implements Step {
		@Override
		public String line() {
			return "aside " + encode(path) + " " + encode(aside);
		}

		@Override
		public void undo(HostLayout layout, Path journal) throws IOException {
			Path a = layout.real(aside);
			Path p = layout.real(path);
			if (Files.exists(a, LinkOption.NOFOLLOW_LINKS) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
				Files.move(a, p, StandardCopyOption.ATOMIC_MOVE);
				AtomicFiles.syncDirectory(p.getParent());
			}
		}

		@Override
		public void afterCommit(HostLayout layout) throws IOException {
			AtomicFiles.deleteTree(layout.real(aside));
		}
	}

	/** Units the manager was asked to enable: undo asks it to disable them. */
	record Enabled(String path, boolean runtime, List<String> units) implements Step {
		@Override
		public String line() {
			StringBuilder sb = new StringBuilder("enable ").append(encode(path)).append(' ').append(runtime);
			units.forEach(u -> sb.append(' ').append(encode(u)));
			return sb.toString();
		}

		@Override
		public void undo(HostLayout layout, Path journal) {
			// the manager's to undo: recovery hands the units to the caller
		}
	}

	/** What a recovery found and did. */
	record Recovery(String operation, boolean committed, List<String> disable, boolean runtimeDisable) {
		/** @return what to tell the admin */
		String message() {
			return committed ? "Finished the clean-up of an interrupted " + operation
				: "Undid an interrupted " + operation + ": the host is as it was before it";
		}
	}

	private final HostLayout layout;
	private final String operation;
	private Path dir;
	private FileChannel intent;
	private int kept;

	/** @param operation what the transaction does, for the recovery message: {@code attach foo} */
	Journal(HostLayout layout, String operation) {
		this.layout = layout;
		this.operation = operation;
	}

	/**
	 * Records a step, durably, before it is made. The first step opens the
	 * journal; a journal left by an interrupted operation must have been
	 * recovered before.
	 */
	void record(Step step) throws IOException {
		open();
		append(step.line());
	}

	/**
	 * Keeps a copy of a regular file's content before it is replaced or removed.
	 *
	 * @return the copy's name in the journal
	 */
	String keep(Path file) throws IOException {
		open();
		String name = (kept++) + ".old";
		Path copy = dir.resolve(name);
		Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
		try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
			ch.force(true);
		}
		return name;
	}

	/** Marks the operation done: from now on recovery finishes it instead of undoing it. */
	void commit() throws IOException {
		if (intent != null) {
			append(COMMIT);
		}
	}

	/** Removes the journal once the operation is done or undone. */
	void close() throws IOException {
		if (intent == null) {
			return;
		}
		intent.close();
		intent = null;
		clear(dir);
	}

	private void open() throws IOException {
		if (intent != null) {
			return;
		}
		dir = layout.realDirectory(DIR);
		Files.createDirectories(dir);
		Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
		Path f = dir.resolve(INTENT);
		if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
			throw new IOException(f + " records an interrupted operation that was not recovered");
		}
		// stale copies of an operation whose journal was removed: never read, dropped
		clear(dir);
		intent = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
		AtomicFiles.syncDirectory(dir);
		append("begin " + ProcessHandle.current().pid() + " " + bootId() + " " + Instant.now() + " " + encode(operation));
	}

	private void append(String line) throws IOException {
		ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
		while (b.hasRemaining()) {
			intent.write(b);
		}
		intent.force(true);
	}

	/** Removes the journal's files (the intent last), keeping the directory. */
	private static void clear(Path dir) throws IOException {
		try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
			for (Path p : s) {
				if (!p.getFileName().toString().equals(INTENT)) {
					Files.deleteIfExists(p);
				}
			}
		}
		Files.deleteIfExists(dir.resolve(INTENT));
		AtomicFiles.syncDirectory(dir);
	}

	/** @return whether an interrupted operation waits to be recovered under this root */
	static boolean pending(HostLayout layout) {
		try {
			return Files.exists(layout.realDirectory(DIR).resolve(INTENT), LinkOption.NOFOLLOW_LINKS);
		} catch (IOException e) {
			return false;
		}
	}

	/**
	 * Undoes an operation that was interrupted before it committed, or
	 * finishes the clean-up of one that committed, then removes its journal.
	 * Called under the host lock.
	 *
	 * @return what was recovered, or {@code null} when nothing was pending
	 * @throws IOException if a step cannot be undone; the journal then stays for the next try
	 */
	static Recovery recover(HostLayout layout) throws IOException {
		Path dir = layout.realDirectory(DIR);
		Path f = dir.resolve(INTENT);
		if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
			return null;
		}
		if (Files.size(f) > MAX) {
			throw new IOException(f + " is larger than " + MAX + " bytes; it was not written by psi");
		}
		String text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
		// a line without its newline was being written when psi died: its step was not made
		int end = text.lastIndexOf('\n');
		String[] lines = end < 0 ? new String[0] : text.substring(0, end).split("\n", -1);
		String operation = "operation";
		boolean sameBoot = true;
		List<Step> steps = new ArrayList<>();
		boolean committed = false;
		for (String line : lines) {
			String[] w = line.split(" ", -1);
			try {
				switch (w[0]) {
					case "begin" -> {
						sameBoot = !"/".equals(layout.root().toString()) || w[2].equals(bootId());
						operation = decode(w[4]);
					}
					case "new" -> steps.add(new Created(decode(w[1])));
					case "file" -> steps.add(new Replaced(decode(w[1]), safeName(w[2]), Integer.parseInt(w[3], 8), Long.parseLong(w[4])));
					case "link" -> steps.add(new Linked(decode(w[1]), decode(w[2])));
					case "mkdir" -> steps.add(new Made(decode(w[1])));
					case "rmdir" -> steps.add(new Removed(decode(w[1]), Integer.parseInt(w[2], 8)));
					case "aside" -> steps.add(new Aside(decode(w[1]), decode(w[2])));
					case "enable" -> steps.add(new Enabled(decode(w[1]), Boolean.parseBoolean(w[2]),
						List.of(w).subList(3, w.length).stream().map(Journal::decode).toList()));
					case COMMIT -> committed = true;
					default -> throw new IOException("unknown step");
				}
			} catch (IOException | RuntimeException e) {
				throw new IOException(f + ": cannot read the line '" + UnitValues.show(line) + "'; it was not written by psi");
			}
		}
		List<String> disable = new ArrayList<>();
		boolean runtime = false;
		if (committed) {
			for (Step s : steps) {
				s.afterCommit(layout);
				if (s instanceof Created || s instanceof Replaced || s instanceof Linked) {
					sweep(layout.real(s.path()));
				}
			}
		} else {
			for (int i = steps.size() - 1; i >= 0; i--) {
				Step s = steps.get(i);
				if (!sameBoot && (s.path().equals("/run") || s.path().startsWith("/run/"))) {
					continue;
				}
				if (s instanceof Enabled e) {
					disable.addAll(e.units());
					runtime |= e.runtime();
				}
				s.undo(layout, dir);
			}
		}
		clear(dir);
		return new Recovery(operation, committed, disable, runtime);
	}

	/** A kept copy's name as the journal writes it, nothing that leaves the journal. */
	private static String safeName(String name) throws IOException {
		if (!name.matches("[0-9]{1,9}\\.old")) {
			throw new IOException("bad name");
		}
		return name;
	}

	/**
	 * Removes {@link AtomicFiles}' temporary files beside {@code p}
	 * ({@code .#NAME} followed by 16 hex digits): under the host lock, none
	 * is in use.
	 */
	static void sweep(Path p) throws IOException {
		Path parent = p.getParent();
		if (parent == null || !Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		String prefix = ".#" + p.getFileName();
		try (DirectoryStream<Path> s = Files.newDirectoryStream(parent,
			e -> e.getFileName().toString().startsWith(prefix) && e.getFileName().toString().substring(prefix.length()).matches("[0-9a-f]{16}"))) {
			for (Path t : s) {
				if (!Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) {
					Files.deleteIfExists(t);
				}
			}
		} catch (NoSuchFileException e) {
			// the directory went
		}
	}

	/** @return the running kernel's boot id, or {@code -} where it cannot be read */
	private static String bootId() {
		try {
			return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
		} catch (IOException e) {
			return "-";
		}
	}

	/** Paths and names as one word: space, control characters, backslash and non-ASCII as {@code \}{@code uXXXX}. */
	static String encode(String s) {
		StringBuilder sb = new StringBuilder(s.length());
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c <= ' ' || c == '\\' || c >= 0x7f) {
				sb.append(String.format("\\u%04x", (int) c));
			} else {
				sb.append(c);
			}
		}
		return sb.isEmpty() ? "\\u" : sb.toString();
	}

	static String decode(String s) {
		if (s.equals("\\u")) {
			return "";
		}
		StringBuilder sb = new StringBuilder(s.length());
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c == '\\') {
				if (i + 6 > s.length() || s.charAt(i + 1) != 'u') {
					throw new IllegalArgumentException("bad escape");
				}
				sb.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
				i += 5;
			} else {
				sb.append(c);
			}
		}
		return sb.toString();
	}
}
