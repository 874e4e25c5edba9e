package psi.format.subvolume.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageException;

/**
 * A subvolume image: read like a directory image, rooted with
 * {@code RootDirectory=}. Read-only is the subvolume's btrfs flag and a
 * version is a read-only snapshot, both through btrfs-progs, as the JDK has
 * no ioctl(2).
 */
final class SubvolumeImage extends DirectoryTree {

	private static final Duration PROPERTY_TIMEOUT = Duration.ofSeconds(30);
	// a snapshot waits for a transaction commit, which a busy file system can make slow
	private static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(2);

	SubvolumeImage(Path dir) {
		super(dir.toAbsolutePath(), SubvolumeFormat.TYPE);
	}

	/** As portabled: the subvolume's flag, or a file system that refuses writes (access(2) gives EROFS). */
	@Override
	public boolean isReadOnly() throws IOException {
		return !Files.isWritable(path()) || readOnlyFlag();
	}

	@Override
	public void setReadOnly(boolean readOnly) throws IOException {
		HostCommand.run("marking subvolume " + path() + (readOnly ? " read-only" : " writable"), PROPERTY_TIMEOUT,
			List.of("btrfs", "property", "set", "-ts", path().toString(), "ro", Boolean.toString(readOnly)));
	}

	/**
	 * The subvolume's own quota group ({@code 0/ID}) limited as
	 * {@code btrfs qgroup limit} does; the file system's quotas must be on
	 * ({@code btrfs quota enable}).
	 */
	@Override
	public void setLimit(long bytes) throws IOException {
		HostCommand.run("limiting subvolume " + path() + " to " + (bytes < 0 ? "no limit" : bytes + " bytes"), PROPERTY_TIMEOUT,
			List.of("btrfs", "qgroup", "limit", bytes < 0 ? "none" : Long.toString(bytes), path().toString()));
	}

	@Override
	public void snapshot(Path target) throws IOException {
		Path to = target.toAbsolutePath();
		// btrfs would put the snapshot inside an existing directory instead of failing
		if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
			throw new ImageException("Snapshot target " + to + " already exists, refusing to snapshot " + path());
		}
		HostCommand.run("snapshotting subvolume " + path() + " to " + to, SNAPSHOT_TIMEOUT,
			List.of("btrfs", "subvolume", "snapshot", "-r", path().toString(), to.toString()));
	}

	/** Only what is cheap: the subvolume ID (for btrfs commands) and its flag; no {@code btrfs subvolume show}. */
	@Override
	public Map<String, String> describe() throws IOException {
		String id = HostCommand.run("reading the subvolume ID of " + path(), PROPERTY_TIMEOUT,
			List.of("btrfs", "inspect-internal", "rootid", path().toString())).strip();
		return Map.of("Subvolume", "ID " + id + (readOnlyFlag() ? ", read-only" : ""));
	}

	private boolean readOnlyFlag() throws ImageException {
		String what = "reading the read-only flag of subvolume " + path();
		String out = HostCommand.run(what, PROPERTY_TIMEOUT,
			List.of("btrfs", "property", "get", "-ts", path().toString(), "ro")).strip();
		return switch (out) {
			case "ro=true" -> true;
			case "ro=false" -> false;
			default -> throw new ImageException(what + " failed: btrfs printed '" + out.replace('\n', ' ') + "'");
		};
	}
}
