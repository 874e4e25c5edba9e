package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Mounts a {@code RootImage=} read-only for a service's sandbox with
 * {@code systemd-dissect} (Debian's systemd-container), which finds the root
 * partition of a GPT image by its Discoverable Partitions type, or takes a
 * naked squashfs, through a loop device, and sets up dm-verity from the
 * image's verity partition or {@code .roothash}/{@code .verity} sidecars
 * where the image carries them, as systemd's own RootImage= does.
 */
final class ImageMount {

	static final String DISSECT = "/usr/bin/systemd-dissect";

	private ImageMount() {
	}

	/** @return why images cannot be mounted here, or empty */
	static String unavailable() {
		if (!Files.isExecutable(Path.of(DISSECT))) {
			return DISSECT + " is missing (Debian package systemd-container)";
		}
		return "";
	}

	/** Mounts the image at {@code dir}; @return dir */
	static Path mount(Path image, Path dir) throws IOException {
		String why = unavailable();
		if (!why.isEmpty()) {
			throw new IOException("RootImage=" + image + " cannot be mounted: " + why);
		}
		if (isMountPoint(dir)) {
			unmount(dir);
		}
		Files.createDirectories(dir);
		Result r = run(List.of(DISSECT, "--read-only", "--mount", image.toString(), dir.toString()));
		if (r.status() != 0) {
			String reason = r.output().isEmpty() ? "exit status " + r.status() : r.output();
			if (reason.contains("device-mapper") || reason.contains("/dev/mapper")) {
				reason += " (the kernel has no device-mapper, which a verity-protected image needs)";
			}
			throw new IOException("RootImage=" + image + ": systemd-dissect cannot mount it: " + reason);
		}
		return dir;
	}

	/** Unmounts what {@link #mount} mounted; nothing when nothing is mounted. */
	static void unmount(Path dir) {
		if (!isMountPoint(dir)) {
			return;
		}
		try {
			if (run(List.of(DISSECT, "--umount", dir.toString())).status() != 0) {
				run(List.of("umount", "--lazy", dir.toString()));
			}
		} catch (IOException e) {
			// nothing more to try
		}
	}

	static boolean isMountPoint(Path dir) {
		try {
			String target = " " + dir.toAbsolutePath().normalize().toString().replace(" ", "\\040") + " ";
			for (String l : Files.readAllLines(Path.of("/proc/self/mounts"), StandardCharsets.UTF_8)) {
				if (l.contains(target)) {
					return true;
				}
			}
		} catch (IOException e) {
			return false;
		}
		return false;
	}

	record Result(int status, String output) {
	}

	static Result run(List<String> cmd) throws IOException {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
		String out = new String(p.getInputStream().readNBytes(4096), StandardCharsets.UTF_8).trim().replaceAll("\\s*\n\\s*", "; ");
		try {
			return new Result(p.waitFor(), out);
		} catch (InterruptedException e) {
			p.destroyForcibly();
			Thread.currentThread().interrupt();
			throw new IOException("interrupted while running " + cmd.get(0));
		}
	}
}
