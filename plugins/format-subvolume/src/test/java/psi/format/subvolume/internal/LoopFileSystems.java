package psi.format.subvolume.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Throwaway loop-mounted file systems under one folder in /var/tmp, for tests
 * that need real btrfs. Needs root. {@link #close()} unmounts everything under
 * the folder, detaches the loop devices of its image files and deletes it,
 * whatever state setup or the tests left behind.
 */
final class LoopFileSystems implements AutoCloseable {

	private static final String SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

	final Path dir;
	private final List<Path> imageFiles = new ArrayList<>();

	LoopFileSystems() throws IOException {
		dir = Files.createTempDirectory(Path.of("/var/tmp"), "psi-subvolume-test-");
	}

	/** @return why these tests cannot run here, or null if they can */
	static String missingPrerequisite() throws IOException {
		Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
		if (!Integer.valueOf(0).equals(uid)) {
			return "these tests loop-mount btrfs and need root (running as uid " + uid + "); run them as root, as CI does";
		}
		for (String tool : List.of("mkfs.btrfs", "btrfs", "mkfs.ext4", "mount", "umount", "losetup", "stat")) {
			if (Stream.of(SBIN_PATH.split(":")).noneMatch(d -> Files.isExecutable(Path.of(d, tool)))) {
				return "these tests need '" + tool + "' (Debian: btrfs-progs, e2fsprogs, mount, coreutils); it is not in " + SBIN_PATH;
			}
		}
		return null;
	}

	/** Makes a file system of the given size with {@code mkfs.TYPE ARGS FILE}, mounts it on {@code DIR/NAME}. */
	Path mount(String name, String type, long megabytes, List<String> mkfsArgs, String mountOptions) throws IOException {
		Path file = dir.resolve(name + ".img");
		imageFiles.add(file);
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
			f.setLength(megabytes << 20);
		}
		List<String> mkfs = new ArrayList<>(List.of("mkfs." + type));
		mkfs.addAll(mkfsArgs);
		mkfs.add(file.toString());
		run(mkfs);
		Path mnt = Files.createDirectory(dir.resolve(name));
		run(List.of("mount", "-o", "loop" + (mountOptions.isEmpty() ? "" : "," + mountOptions), file.toString(), mnt.toString()));
		return mnt;
	}

	/** Runs a command, failing with its output if it fails. */
	static String run(List<String> cmd) throws IOException {
		ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
		pb.environment().put("PATH", SBIN_PATH);
		pb.environment().put("LC_ALL", "C");
		Process p = pb.start();
		try {
			String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
				p.destroyForcibly();
				throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
			}
			return out;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException(String.join(" ", cmd) + " interrupted");
		}
	}

	/** Mount points at or below {@link #dir}, in mount order. */
	List<String> mountsBelow() throws IOException {
		List<String> points = new ArrayList<>();
		for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
			String point = line.split(" ")[1].replace("\\040", " ");
			if (point.startsWith(dir + "/")) {
				points.add(point);
			}
		}
		return points;
	}

	/** Unmounts, detaches and deletes everything; throws once at the end, naming what was left behind. */
	@Override
	public void close() throws IOException {
		List<String> errors = new ArrayList<>();
		// newest first, and again: stacked mounts come off one at a time
		for (int round = 0; round < 5 && !mountsBelow().isEmpty(); round++) {
			List<String> points = mountsBelow();
			for (int i = points.size() - 1; i >= 0; i--) {
				try {
					run(List.of("umount", points.get(i)));
				} catch (IOException e) {
					if (round == 4) {
						errors.add(e.getMessage());
					}
				}
			}
		}
		for (Path file : imageFiles) {
			// mount -o loop sets autoclear, so umount detaches; this catches a loop device left by a failed mount
			for (String line : run(List.of("losetup", "-j", file.toString())).split("\n")) {
				if (!line.isBlank()) {
					try {
						run(List.of("losetup", "-d", line.substring(0, line.indexOf(':'))));
					} catch (IOException e) {
						errors.add(e.getMessage());
					}
				}
			}
		}
		if (mountsBelow().isEmpty()) {
			try (Stream<Path> all = Files.walk(dir)) {
				for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
					Files.deleteIfExists(p);
				}
			}
		} else {
			errors.add("still mounted, not deleted: " + mountsBelow());
		}
		if (!errors.isEmpty()) {
			throw new IOException("cleanup of " + dir + " incomplete: " + String.join("; ", errors));
		}
	}

	static long inode(Path p) throws IOException {
		return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
	}
}
