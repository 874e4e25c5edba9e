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

	/** Mounts the image at {@code dir} through loop devices; @return dir */
	static Path mount(Path image, Path dir) throws IOException {
		return mount(image, dir, "loop");
	}

	/** @return whether this host offers loop devices */
	static boolean loopDevices() {
		return Files.isWritable(Path.of("/dev/loop-control"));
	}

	/**
	 * Mounts the image at {@code dir}.
	 *
	 * @param how {@code loop} (systemd-dissect), {@code squashfuse}, or
	 *        {@code auto}: loop devices where the host has them, else squashfuse
	 * @return dir
	 */
	static Path mount(Path image, Path dir, String how) throws IOException {
		if (isMountPoint(dir)) {
			unmount(dir);
		}
		Files.createDirectories(dir);
		if (how.equals("squashfuse") || how.equals("auto") && !loopDevices()) {
			return squashfuse(image, dir);
		}
		String why = unavailable();
		if (!why.isEmpty()) {
			throw new IOException("RootImage=" + image + " cannot be mounted: " + why);
		}
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

	static final String SQUASHFUSE = "/usr/bin/squashfuse";

	/**
	 * Where a host has no loop devices (a container): the squashfs of a naked
	 * image, or of a GPT image's root (else {@code usr}) partition of this
	 * architecture, read by squashfuse (FUSE, Debian package squashfuse).
	 * squashfuse cannot check dm-verity block by block as it reads: an image
	 * with verity data (a verity partition, a {@code .verity} or
	 * {@code .roothash} beside it) is refused, never run unchecked.
	 */
	static Path squashfuse(Path image, Path dir) throws IOException {
		if (!Files.isExecutable(Path.of(SQUASHFUSE))) {
			throw new IOException("RootImage=" + image + " cannot be mounted: this host has no loop devices and " + SQUASHFUSE
				+ " is missing (Debian package squashfuse)");
		}
		String base = image.getFileName().toString().replaceFirst("\\.(raw|psi|img)$", "");
		for (String sidecar : List.of(".verity", ".roothash", ".roothash.p7s")) {
			if (Files.exists(image.resolveSibling(base + sidecar))) {
				throw verityRefused(image);
			}
		}
		long offset = 0;
		byte[] magic = new byte[4];
		try (var in = Files.newInputStream(image)) {
			if (in.readNBytes(magic, 0, 4) != 4) {
				throw new IOException("RootImage=" + image + ": too short to be an image");
			}
		}
		if (!new String(magic, StandardCharsets.ISO_8859_1).equals("hsqs")) {
			offset = rootPartition(image);
		}
		Result r = run(List.of(SQUASHFUSE, "-o", "ro,allow_other,offset=" + offset, image.toString(), dir.toString()));
		if (r.status() != 0 || !isMountPoint(dir)) {
			throw new IOException("RootImage=" + image + ": squashfuse cannot mount it: " + (r.output().isEmpty() ? "exit status " + r.status() : r.output()));
		}
		return dir;
	}

	private static IOException verityRefused(Path image) {
		return new IOException("RootImage=" + image + " carries dm-verity data, which squashfuse cannot check as it reads; refused "
			+ "(it runs where the host has loop devices and device-mapper)");
	}

	/** @return the byte offset of a GPT image's root (else usr) partition for this architecture, by sfdisk */
	private static long rootPartition(Path image) throws IOException {
		boolean arm = System.getProperty("os.arch").equals("aarch64");
		String root = arm ? "B921B045-1DF0-41C3-AF44-4C6F280D3FAE" : "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
		String usr = arm ? "B0E01050-EE5F-4390-949A-9101B17104E9" : "8484680C-9521-48C6-9C11-B0720656F69E";
		String rootVerity = arm ? "DF3300CE-D69F-4C92-978C-9BFB0F38D820" : "2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5";
		String usrVerity = arm ? "6E11A4E7-FBCA-4DED-B9E9-E1A512BB664E" : "77FF5F63-E7B6-4633-ACF4-1565B864C0E6";
		// read whole (a GPT has at most a few hundred entries): a verity partition listed late must not be missed
		Process p = new ProcessBuilder("sfdisk", "--json", image.toString()).redirectErrorStream(true)
			.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
		byte[] json = p.getInputStream().readNBytes(1 << 20);
		boolean more = p.getInputStream().read() >= 0;
		p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
		Result r;
		try {
			r = new Result(p.waitFor(), new String(json, StandardCharsets.UTF_8));
		} catch (InterruptedException e) {
			p.destroyForcibly();
			Thread.currentThread().interrupt();
			throw new IOException("interrupted while reading the partitions of " + image);
		}
		if (r.status() != 0 || more) {
			throw new IOException("RootImage=" + image + ": neither a squashfs nor a partitioned disk image sfdisk reads: "
				+ r.output().strip().replaceAll("\\s*\n\\s*", "; "));
		}
		java.util.regex.Matcher sector = java.util.regex.Pattern.compile("\"sectorsize\":\\s*([0-9]+)").matcher(r.output());
		long size = sector.find() ? Long.parseLong(sector.group(1)) : 512;
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"start\":\\s*([0-9]+),\\s*\"size\":\\s*[0-9]+,\\s*\"type\":\\s*\"([0-9A-Fa-f-]+)\"")
			.matcher(r.output());
		long rootStart = -1;
		long usrStart = -1;
		while (m.find()) {
			String type = m.group(2).toUpperCase(java.util.Locale.ROOT);
			if (type.equals(rootVerity) || type.equals(usrVerity)) {
				throw verityRefused(image);
			}
			if (type.equals(root) && rootStart < 0) {
				rootStart = Long.parseLong(m.group(1));
			} else if (type.equals(usr) && usrStart < 0) {
				usrStart = Long.parseLong(m.group(1));
			}
		}
		long start = rootStart >= 0 ? rootStart : usrStart;
		if (start < 0) {
			throw new IOException("RootImage=" + image + ": no root or usr partition for " + System.getProperty("os.arch"));
		}
		return start * size;
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
