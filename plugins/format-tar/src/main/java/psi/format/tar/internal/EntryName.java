package psi.format.tar.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import psi.spi.format.ImageException;

/**
 * The path inside the image of an entry name as stored: leading {@code /}
 * and {@code ./} stripped, empty and {@code .} components dropped, so that
 * {@code ./usr/lib/}, {@code usr/lib} and {@code /usr/lib} are all
 * {@code /usr/lib} and {@code ./} is the root {@code /}. A {@code ..}
 * component is refused, as are names longer than {@value #MAX_NAME} bytes,
 * components longer than {@value #MAX_COMPONENT} and NUL characters.
 */
final class EntryName {

	/** The longest entry name or link target, in bytes (Linux's PATH_MAX). */
	static final int MAX_NAME = 4096;
	/** The longest component of a name, in bytes (Linux's NAME_MAX). */
	static final int MAX_COMPONENT = 255;

	private EntryName() {
	}

	/**
	 * @param archive the archive, for messages
	 * @param raw the name as stored (an entry's name or a hard link's target)
	 * @return the absolute path inside the image, e.g. {@code /usr/lib/os-release}; {@code /} for the root
	 * @throws ImageException if the name is refused
	 */
	static String normalise(TarArchive archive, String raw) throws ImageException {
		return path(components(archive, raw));
	}

	/**
	 * @param archive the archive, for messages
	 * @param raw the name as stored
	 * @return its components below the root, none for the root
	 * @throws ImageException if the name is refused
	 */
	static List<String> components(TarArchive archive, String raw) throws ImageException {
		return components(archive, raw, raw, "name");
	}

	/**
	 * @param archive the archive, for messages
	 * @param entry the hard link's name as stored
	 * @param target its target as stored
	 * @return the target's components below the root
	 * @throws ImageException if the target is refused, as a name would be
	 */
	static List<String> hardLinkTarget(TarArchive archive, String entry, String target) throws ImageException {
		return components(archive, entry, target == null ? "" : target, "hard link target");
	}

	/**
	 * @param entry the entry, for messages
	 * @param raw what to split
	 * @param what what {@code raw} is, for messages
	 */
	private static List<String> components(TarArchive archive, String entry, String raw, String what) throws ImageException {
		if (raw.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
			throw archive.refuse(entry, what + " longer than " + MAX_NAME + " bytes");
		}
		if (raw.indexOf('\0') >= 0) {
			throw archive.refuse(entry, what + " holds a NUL character");
		}
		List<String> parts = new ArrayList<>();
		for (String c : raw.split("/")) {
			if (c.isEmpty() || c.equals(".")) {
				continue;
			}
			if (c.equals("..")) {
				throw archive.refuse(entry, what + " has a '..' component");
			}
			if (c.getBytes(StandardCharsets.UTF_8).length > MAX_COMPONENT) {
				throw archive.refuse(entry, what + " has a component longer than " + MAX_COMPONENT + " bytes");
			}
			parts.add(c);
		}
		return parts;
	}

	/**
	 * @param parts components below the root
	 * @return the absolute path inside the image
	 */
	static String path(List<String> parts) {
		return parts.isEmpty() ? "/" : "/" + String.join("/", parts);
	}

	/**
	 * A symbolic link's target, kept as stored: relative or absolute, it is
	 * resolved inside the image's root by the engine, never by this plugin.
	 *
	 * @param archive the archive, for messages
	 * @param entry the link's name as stored
	 * @param target its target as stored
	 * @return the target
	 * @throws ImageException if it is empty, longer than {@value #MAX_NAME} bytes or holds a NUL
	 */
	static String linkTarget(TarArchive archive, String entry, String target) throws ImageException {
		if (target == null || target.isEmpty()) {
			throw archive.refuse(entry, "symbolic link with an empty target");
		}
		if (target.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
			throw archive.refuse(entry, "symbolic link target longer than " + MAX_NAME + " bytes");
		}
		if (target.indexOf('\0') >= 0) {
			throw archive.refuse(entry, "symbolic link target holds a NUL character");
		}
		return target;
	}

	/**
	 * @param path an absolute path inside the image
	 * @return the path of its directory; {@code /} for the root
	 */
	static String parent(String path) {
		int slash = path.lastIndexOf('/');
		return slash <= 0 ? "/" : path.substring(0, slash);
	}

	/**
	 * @param path an absolute path inside the image, not the root
	 * @return its last component
	 */
	static String fileName(String path) {
		return path.substring(path.lastIndexOf('/') + 1);
	}
}
