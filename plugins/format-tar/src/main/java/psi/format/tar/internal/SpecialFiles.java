package psi.format.tar.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes device nodes and FIFOs with coreutils' {@code mknod}, and sets their
 * time with {@code touch}: the JDK has no mknod(2), and it opens a file to
 * set its time (or its mode without following links), which blocks on a
 * FIFO and may act on a device. psi's plugins stay free of native code where
 * a tool does. {@code mknod} creates its last component anew (it fails on
 * anything there, a symbolic link included); the caller has checked every
 * directory above it. {@code touch -h -c} neither opens nor creates.
 */
final class SpecialFiles {

	private SpecialFiles() {
	}

	/**
	 * @param p where; must not exist
	 * @param type {@link EntryType#CHARACTER_DEVICE}, {@link EntryType#BLOCK_DEVICE} or {@link EntryType#FIFO}
	 * @param major the device's major number
	 * @param minor the device's minor number
	 * @throws IOException if mknod fails; the message is its own
	 */
	static void make(Path p, EntryType type, int major, int minor) throws IOException {
		List<String> cmd = new ArrayList<>(List.of("mknod", "-m", "600", "--", p.toString()));
		switch (type) {
		case CHARACTER_DEVICE:
			cmd.addAll(List.of("c", Integer.toString(major), Integer.toString(minor)));
			break;
		case BLOCK_DEVICE:
			cmd.addAll(List.of("b", Integer.toString(major), Integer.toString(minor)));
			break;
		case FIFO:
			cmd.add("p");
			break;
		default:
			throw new IllegalArgumentException(type + " is no device");
		}
		run(cmd, p);
	}

	/**
	 * Sets the modification time of a device node or FIFO, without opening it.
	 *
	 * @param p the node
	 * @param mtime its time
	 * @throws IOException if touch fails
	 */
	static void setTime(Path p, FileTime mtime) throws IOException {
		Instant t = mtime.toInstant();
		run(List.of("touch", "-h", "-c", "-m", "-d", "@" + t.getEpochSecond() + "." + String.format("%09d", t.getNano()), "--",
			p.toString()), p);
	}

	private static void run(List<String> cmd, Path p) throws IOException {
		Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
		try {
			// wait first, so the timeout holds; these tools print one line at most, well within a pipe's buffer
			if (!proc.waitFor(30, TimeUnit.SECONDS)) {
				proc.destroyForcibly();
				throw new IOException(cmd.get(0) + " " + p + " did not finish in 30 s");
			}
			String out = new String(proc.getInputStream().readNBytes(4096), StandardCharsets.UTF_8).strip();
			if (proc.exitValue() != 0) {
				throw new IOException(cmd.get(0) + " " + p + " failed: " + out);
			}
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException(cmd.get(0) + " " + p + " was interrupted");
		}
	}
}
