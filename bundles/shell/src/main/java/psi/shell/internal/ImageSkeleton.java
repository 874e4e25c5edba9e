package psi.shell.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import psi.api.PsiException;

/**
 * {@code psi build --init DIR --name NAME}: the tree of a portable service
 * image a user fills in: an os-release with {@code PORTABLE_PREFIXES=}, a
 * unit, the empty files the profiles bind onto and the directories the
 * service manager mounts onto, commented where a file can carry comments.
 * Written into a temporary directory beside DIR and renamed into place:
 * all or nothing.
 */
final class ImageSkeleton {

	/** The empty directories of a portable image: the service manager mounts onto them. */
	static final List<String> MOUNT_POINTS = List.of("proc", "sys", "dev", "run", "tmp", "var/tmp");

	private ImageSkeleton() {
	}

	/**
	 * @param dir where the tree goes: must not exist, or be an empty directory
	 * @param name the image name, also its unit prefix
	 * @return the paths written, relative to {@code dir}
	 */
	static List<String> write(Path dir, String name) throws IOException {
		if (!name.matches("[a-z0-9][a-z0-9.-]{0,63}") || name.contains("..")) {
			throw new PsiException("--name " + Render.line(name) + ": an image name is lower-case letters, digits, '.' and '-', starting with a letter or digit (it is also the unit prefix)");
		}
		if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
			if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
				throw new PsiException(dir + " exists and is not a directory: nothing written");
			}
			try (Stream<Path> s = Files.list(dir)) {
				if (s.findAny().isPresent()) {
					throw new PsiException(dir + " is not empty: psi build --init writes only into a new or empty directory; nothing written");
				}
			}
		}
		Path parent = dir.toAbsolutePath().getParent();
		Files.createDirectories(parent);
		Path tmp = Files.createTempDirectory(parent, "." + dir.getFileName() + ".psi-init-");
		List<String> written = new ArrayList<>();
		try {
			for (String d : MOUNT_POINTS) {
				mkdir(tmp, d, written);
			}
			mkdir(tmp, "usr/bin", written);
			mkdir(tmp, "var/lib/" + name, written);
			file(tmp, "usr/lib/os-release", """
				# os-release(5) of a portable service image.
				# ID= is required: attach refuses an image without it.
				# PORTABLE_PREFIXES= lists the unit name prefixes attach may take from it.
				#
				# Also in this image, empty on purpose:
				#   /etc/machine-id, /etc/resolv.conf       the host's are bound onto them
				#   /proc /sys /dev /run /tmp /var/tmp      the service manager mounts onto them
				#   /var/lib/%1$s                          its StateDirectory=, in a read-only image
				# Check it with: psi lint DIR
				ID=%1$s
				NAME="%1$s"
				PRETTY_NAME="%1$s"
				PORTABLE_PRETTY_NAME="%1$s"
				PORTABLE_PREFIXES=%1$s
				IMAGE_VERSION=1
				""".formatted(name), written);
			file(tmp, "etc/machine-id", "", written);
			file(tmp, "etc/resolv.conf", "", written);
			file(tmp, "usr/lib/systemd/system/" + name + ".service", """
				# The service attach takes from this image (systemd.service(5)). It runs inside
				# the image, behind the profile attach names (default: a dynamic user, the
				# image read-only, no /home).
				[Unit]
				Description=%1$s, a portable service

				[Service]
				# Put the program at usr/bin/%1$s in the image: psi lint checks it is there
				# and executable.
				ExecStart=/usr/bin/%1$s
				# Where it keeps its data: /var/lib/%1$s, made by the service manager.
				StateDirectory=%1$s

				[Install]
				WantedBy=multi-user.target
				""".formatted(name), written);
			Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
			if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
				Files.delete(dir); // empty, checked above
			}
			Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
		} catch (IOException | RuntimeException e) {
			deleteTree(tmp);
			throw e;
		}
		return written;
	}

	private static void mkdir(Path root, String d, List<String> written) throws IOException {
		Files.createDirectories(root.resolve(d), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
		// tmp and var/tmp as on any system: everyone writes, the sticky bit keeps their files their own
		Files.setAttribute(root.resolve(d), "unix:mode", d.endsWith("tmp") ? 01777 : 0755);
		written.add(d + "/");
	}

	private static void file(Path root, String f, String content, List<String> written) throws IOException {
		Path p = root.resolve(f);
		Files.createDirectories(p.getParent());
		Files.writeString(p, content, StandardCharsets.UTF_8);
		Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
		written.add(f);
	}

	private static void deleteTree(Path p) throws IOException {
		if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
			return;
		}
		try (Stream<Path> s = Files.walk(p)) {
			for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
				Files.deleteIfExists(q);
			}
		}
	}
}
