package psi.format.subvolume.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;

import psi.spi.format.ImageException;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageFormatType;
import psi.spi.format.ImageTree;

/**
 * Subvolume images: a btrfs subvolume on the host holding an OS tree. Ranked
 * above the directory format (-100), which takes every directory this one
 * declines.
 */
@Component(property = "service.ranking:Integer=0")
@ImageFormatType(type = SubvolumeFormat.TYPE)
public class SubvolumeFormat implements ImageFormat {

	static final String TYPE = "subvolume";

	/** BTRFS_FIRST_FREE_OBJECTID: the inode number of every subvolume's top directory. */
	static final long SUBVOLUME_ROOT_INODE = 256;

	/** BTRFS_SUPER_MAGIC, the statfs(2) f_type of btrfs. */
	static final long BTRFS_MAGIC = 0x9123683EL;

	private static final Duration STATFS_TIMEOUT = Duration.ofSeconds(30);

	@Override
	public Optional<ImageTree> open(Path path) throws IOException {
		// portabled's test: a directory with inode 256 on a file system with the btrfs magic
		if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
			|| !Long.valueOf(SUBVOLUME_ROOT_INODE).equals(Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS))
			|| !isBtrfs(path)) {
			return Optional.empty();
		}
		return Optional.of(new SubvolumeImage(path));
	}

	/**
	 * The statfs(2) magic through coreutils' {@code stat -f}, asked only of
	 * inode-256 directories. Not {@code Files.getFileStore(dir).type()}: JDK 17
	 * names the first /proc/mounts entry for a mount point, so a file system
	 * mounted over a btrfs mount point is reported as btrfs, and a btrfs
	 * mounted over another file system as that one.
	 */
	static boolean isBtrfs(Path dir) throws ImageException {
		String out = HostCommand.run("checking the file system of " + dir, STATFS_TIMEOUT,
			List.of("stat", "--file-system", "--format=%t", dir.toAbsolutePath().toString())).strip();
		try {
			return Long.parseLong(out, 16) == BTRFS_MAGIC;
		} catch (NumberFormatException e) {
			throw new ImageException("checking the file system of " + dir + " failed: stat printed '" + out + "'");
		}
	}
}
