package psi.core.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import psi.api.dto.ChangeDTO;
import psi.spi.unit.UnitFile;
import psi.spi.unit.Words;

/**
 * What {@code detach --clean} removes (systemd 256's {@code portablectl
 * detach --clean}, which has the service manager clean the units): the
 * directories the units' {@code StateDirectory=}, {@code CacheDirectory=},
 * {@code LogsDirectory=}, {@code RuntimeDirectory=} and
 * {@code ConfigurationDirectory=} name, with their {@code private/} twins
 * that a dynamic user's service writes to. Read from the attached unit files
 * and their drop-ins before the detach removes them. Never an image, the
 * image search path, nor the directories systemd and psi keep their own
 * state in.
 */
final class ServiceDirectories {

	/** The setting and where its directories are. */
	private record Kind(String key, String base, boolean hasPrivate) {
	}

	private static final List<Kind> KINDS = List.of(new Kind("StateDirectory", "/var/lib", true),
		new Kind("CacheDirectory", "/var/cache", true), new Kind("LogsDirectory", "/var/log", true),
		new Kind("RuntimeDirectory", "/run", false), new Kind("ConfigurationDirectory", "/etc", false));

	/** Never removed, nor anything above or below them. */
	static final List<String> PROTECTED = List.of("/etc/systemd", "/run/systemd", "/var/lib/systemd", "/etc/portables", "/run/portables",
		"/var/lib/portables", "/usr", "/etc/psi", "/run/psi", "/var/lib/psi", "/var/log/journal", "/run/user", "/run/dbus", "/etc/dbus-1");

	/** Never removed, nor anything above them: what is in them are the services' own. */
	static final List<String> BASES = List.of("/var/lib/private", "/var/cache/private", "/var/log/private");

	private ServiceDirectories() {
	}

	/**
	 * @param attached the directory the units are attached in
	 * @param units the units detached
	 * @return the paths their settings name, as seen from the root, in order, that exist
	 */
	static List<String> of(HostLayout layout, String attached, List<String> units) throws IOException {
		java.util.Map<String, List<byte[]>> files = new java.util.LinkedHashMap<>();
		for (String unit : units) {
			List<byte[]> contents = new ArrayList<>();
			for (Path f : files(layout, attached, unit)) {
				contents.add(read(f));
			}
			files.put(unit, contents);
		}
		return named(layout, files);
	}

	/**
	 * @param units unit name → its unit file and drop-ins, in the order the service manager reads them
	 * @return the paths their settings name, as seen from the root, in order, that exist
	 */
	static List<String> named(HostLayout layout, java.util.Map<String, List<byte[]>> units) {
		Set<String> out = new LinkedHashSet<>();
		for (java.util.Map.Entry<String, List<byte[]>> unit : units.entrySet()) {
			if (!unit.getKey().endsWith(".service")) {
				continue;
			}
			List<UnitFile.Assignment> settings = new ArrayList<>();
			for (byte[] f : unit.getValue()) {
				settings.addAll(UnitFile.read(f));
			}
			for (Kind k : KINDS) {
				List<String> names = new ArrayList<>();
				for (UnitFile.Assignment a : settings) {
					if (!a.section().equals("Service") || !a.key().equals(k.key())) {
						continue;
					}
					if (a.isEmpty()) {
						names.clear();
						continue;
					}
					try {
						for (String w : Words.split(a.value())) {
							names.add(w.split(":", 2)[0]);
						}
					} catch (IllegalArgumentException bad) {
						// systemd ignores a setting it cannot parse: so does the clean
					}
				}
				for (String name : names) {
					if (!relative(name)) {
						continue;
					}
					List<String> candidates = new ArrayList<>(List.of(k.base() + "/" + name));
					if (k.hasPrivate()) {
						candidates.add(k.base() + "/private/" + name);
					}
					for (String c : candidates) {
						// one inside another goes with it
						if (out.stream().noneMatch(o -> c.startsWith(o + "/")) && exists(layout, c)) {
							out.add(c);
						}
					}
				}
			}
		}
		return new ArrayList<>(out);
	}

	private static boolean exists(HostLayout layout, String path) {
		try {
			return layout.lstat(path).isPresent();
		} catch (IOException e) {
			return false; // through a link, or gone: not the service's own
		}
	}

	/** @return whether a directory name is one systemd takes: relative, no {@code .}, {@code ..} or empty components, no specifier */
	static boolean relative(String name) {
		if (name.isEmpty() || name.startsWith("/") || name.indexOf('%') >= 0) {
			return false;
		}
		for (String c : name.split("/", -1)) {
			if (c.isEmpty() || c.equals(".") || c.equals("..")) {
				return false;
			}
		}
		return true;
	}

	/** @return the unit file and its drop-ins, as the service manager reads them */
	private static List<Path> files(HostLayout layout, String attached, String unit) throws IOException {
		List<Path> out = new ArrayList<>();
		Path u = layout.real(attached + "/" + unit);
		if (Files.exists(u)) {
			out.add(u);
		}
		Path d = layout.real(attached + "/" + unit + ".d");
		if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
			TreeSet<String> names = new TreeSet<>();
			try (DirectoryStream<Path> ds = Files.newDirectoryStream(d, "*.conf")) {
				ds.forEach(p -> names.add(p.getFileName().toString()));
			}
			names.forEach(n -> out.add(d.resolve(n)));
		}
		return out;
	}

	private static byte[] read(Path f) throws IOException {
		try (InputStream in = Files.newInputStream(f)) {
			return in.readNBytes(ImageReader.MAX_UNIT_SIZE);
		}
	}

	/**
	 * @param image the detached image's path: kept, whatever a unit names
	 * @return why a path is kept, or {@code null} when it may go
	 */
	static String protection(String path, String image) {
		List<String> kept = new ArrayList<>(PROTECTED);
		kept.addAll(HostLayout.IMAGE_DIRS);
		if (image != null && image.startsWith("/")) {
			kept.add(image);
		}
		for (String p : kept) {
			if (path.equals(p) || path.startsWith(p + "/") || p.startsWith(path + "/")) {
				return "kept " + path + ": it is or holds " + p;
			}
		}
		for (String p : BASES) {
			if (path.equals(p) || p.startsWith(path + "/")) {
				return "kept " + path + ": it is or holds " + p;
			}
		}
		return null;
	}

	/**
	 * Removes the paths, a directory with everything in it, a link without
	 * what it points to.
	 *
	 * @param notes told of each path kept, one line each
	 * @return a {@code unlink} change per path removed
	 */
	static List<ChangeDTO> remove(HostLayout layout, List<String> paths, String image, List<String> notes) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		for (String p : paths) {
			String why = protection(p, image);
			if (why != null) {
				notes.add(why);
				continue;
			}
			Path real = layout.real(p);
			if (!Files.exists(real, LinkOption.NOFOLLOW_LINKS)) {
				continue;
			}
			Files.walkFileTree(real, new SimpleFileVisitor<>() {
				@Override
				public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
					Files.deleteIfExists(file);
					return FileVisitResult.CONTINUE;
				}

				@Override
				public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
					if (e != null && !(e instanceof NoSuchFileException)) {
						throw e;
					}
					Files.deleteIfExists(dir);
					return FileVisitResult.CONTINUE;
				}
			});
			ChangeDTO c = new ChangeDTO();
			c.type = ChangeDTO.Type.UNLINK;
			c.path = p;
			changes.add(c);
		}
		return changes;
	}
}
