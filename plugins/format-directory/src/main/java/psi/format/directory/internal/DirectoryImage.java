package psi.format.directory.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageException;

/**
 * A directory image. Read-only is the file system's immutable flag on the
 * image's top directory, as portabled sets it ({@code FS_IMMUTABLE_FL}),
 * through libc's ioctl ({@link InodeFlags}, jnr-ffi: the JDK has no ioctl),
 * else e2fsprogs' {@code chattr}/{@code lsattr}.
 */
final class DirectoryImage extends DirectoryTree {

	DirectoryImage(Path dir) {
		super(dir, DirectoryFormat.TYPE);
	}

	@Override
	public boolean isReadOnly() throws IOException {
		try {
			return (InodeFlags.get(path()) & InodeFlags.FS_IMMUTABLE_FL) != 0;
		} catch (LinkageError | RuntimeException e) {
			// no jnr-ffi here: e2fsprogs
		}
		String out = run(List.of("lsattr", "-d", path().toString()));
		int space = out.indexOf(' ');
		return space > 0 && out.substring(0, space).indexOf('i') >= 0;
	}

	@Override
	public void setReadOnly(boolean readOnly) throws IOException {
		try {
			int flags = InodeFlags.get(path());
			InodeFlags.set(path(), readOnly ? flags | InodeFlags.FS_IMMUTABLE_FL : flags & ~InodeFlags.FS_IMMUTABLE_FL);
			return;
		} catch (LinkageError | RuntimeException e) {
			// no jnr-ffi here: e2fsprogs
		}
		run(List.of("chattr", readOnly ? "+i" : "-i", path().toString()));
	}

	private String run(List<String> cmd) throws IOException {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
		try {
			// wait first, so the timeout holds; chattr and lsattr -d print one line, well within a pipe's buffer
			if (!p.waitFor(30, TimeUnit.SECONDS)) {
				p.destroyForcibly();
				throw new ImageException(cmd.get(0) + " on " + path() + " did not finish in 30 s");
			}
			String out = new String(p.getInputStream().readNBytes(64 * 1024), StandardCharsets.UTF_8);
			if (p.exitValue() != 0) {
				throw new ImageException(cmd.get(0) + " on " + path() + " failed: " + out.strip());
			}
			return out;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new ImageException(cmd.get(0) + " on " + path() + " was interrupted");
		}
	}
}
