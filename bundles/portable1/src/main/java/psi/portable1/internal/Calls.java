package psi.portable1.internal;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.freedesktop.DBus.Error.FileExists;
import org.freedesktop.DBus.Error.FileNotFound;
import org.freedesktop.DBus.Error.Failed;
import org.freedesktop.DBus.Error.InvalidArgs;
import org.freedesktop.DBus.Error.NotSupported;
import org.freedesktop.DBus.Error.UnknownObject;
import org.freedesktop.portable1.BadImageType;
import org.freedesktop.portable1.NoSuchImage;
import org.freedesktop.systemd1.NoSuchUnit;
import org.freedesktop.systemd1.UnitExists;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.types.UInt64;

import System.Error.EBUSY;
import System.Error.EROFS;
import System.Error.ESTALE;
import psi.api.Portables;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ExtensionDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.InspectRequestDTO;
import psi.api.dto.UnitFileDTO;

/**
 * What the methods of portable1's Manager and Image objects do, over
 * {@link Portables} alone, with portabled's checks in portabled's order
 * ({@code bus_image_acquire} and {@code bus_image_common_*} of systemd 252),
 * its flags, and its error names and texts.
 */
final class Calls {

	/** where the image objects are */
	static final String IMAGE_PREFIX = "/org/freedesktop/portable1/image";
	/** portabled's pool (a constant in 252) */
	static final String POOL = "/var/lib/portables";
	static final UInt64 INFINITY = new UInt64(UInt64.MAX_BIG_VALUE);
	/** PORTABLE_RUNTIME | PORTABLE_FORCE_ATTACH | PORTABLE_FORCE_SYSEXT */
	static final long PUBLIC_FLAGS = 7;
	static final long RUNTIME = 1;
	static final long FORCE = 2;
	/** PORTABLE_FORCE_SYSEXT: extension-release files of any name */
	static final long FORCE_SYSEXT = 4;

	/** How an image argument is taken ({@code ImageAcquireMode}). */
	enum Acquire {
		/** names only (GetImage, the image objects) */
		REFUSE_BY_PATH,
		/** polkit only when it is a path (inspecting) */
		AUTHENTICATE_BY_PATH,
		/** polkit first, always (changes) */
		AUTHENTICATE_ALL
	}

	private final Portables portables;
	private final Authorizer authorizer;
	/** the image nodes of the object tree, kept as images are seen; {@code null} before export */
	private volatile Introspection.Nodes nodes;

	Calls(Portables portables, Authorizer authorizer) {
		this.portables = portables;
		this.authorizer = authorizer;
	}

	void nodes(Introspection.Nodes n) {
		this.nodes = n;
	}

	private void seen(String name, boolean exists) {
		Introspection.Nodes n = nodes;
		if (n != null) {
			if (exists) {
				n.add(objectPath(name).getPath());
			} else {
				n.remove(objectPath(name).getPath());
			}
		}
	}

	/** @return the object path of an image name */
	static DBusPath objectPath(String name) {
		return new DBusPath(IMAGE_PREFIX + "/" + BusLabel.escape(name));
	}

	/**
	 * bus_image_acquire: the checks on the argument, and polkit where the mode
	 * asks; the image itself is found by psi in the call that follows.
	 *
	 * @return the name or path to give psi
	 */
	String acquire(String image, Acquire mode, String action) {
		if (mode == Acquire.AUTHENTICATE_ALL) {
			authorizer.check(action);
		}
		if (ImageNames.isValidName(image)) {
			return image;
		}
		if (mode == Acquire.REFUSE_BY_PATH) {
			throw new InvalidArgs("Expected image name, not path in place of '" + image + "'.");
		}
		if (!image.startsWith("/")) {
			throw new InvalidArgs("Image name '" + image + "' is not valid or not a valid path.");
		}
		if (!ImageNames.isNormalized(image)) {
			throw new InvalidArgs("Image path '" + image + "' is not normalized.");
		}
		if (mode == Acquire.AUTHENTICATE_BY_PATH) {
			authorizer.check(action);
		}
		return image;
	}

	/** GetImage: the object of an image found by name. */
	DBusPath getImage(String name) {
		String n = acquire(name, Acquire.REFUSE_BY_PATH, null);
		String found = psi(() -> portables.image(null, n)).name;
		seen(found, true);
		return objectPath(found);
	}

	/** the image an image object's path names, or UnknownObject */
	ImageDTO imageOf(String objectPath) {
		String name = BusLabel.decode(objectPath, IMAGE_PREFIX);
		if (name == null || name.isEmpty() || !ImageNames.isValidName(name)) {
			throw new UnknownObject("Unknown object '" + objectPath + "'.");
		}
		try {
			ImageDTO dto = portables.image(null, name);
			seen(name, true);
			return dto;
		} catch (PsiException e) {
			// as portabled, whose object lookup fails with the image lookup's own error
			if (e.reason() == PsiException.Reason.NO_SUCH_IMAGE) {
				seen(name, false);
			}
			throw error(e);
		}
	}

	List<ImageEntry> listImages() {
		List<ImageEntry> out = new ArrayList<>();
		java.util.Set<String> paths = new java.util.HashSet<>();
		for (ImageDTO i : psi(() -> portables.list(null))) {
			out.add(new ImageEntry(i.name, i.type, i.readOnly, micros(i.crtime), micros(i.mtime), bytes(i.usage),
				i.state == null ? "" : i.state.label(), objectPath(i.name)));
			paths.add(objectPath(i.name).getPath());
		}
		Introspection.Nodes n = nodes;
		if (n != null) {
			n.set(paths);
		}
		return out;
	}

	Map<String, String> osRelease(String image, Acquire mode) {
		String i = acquire(image, mode, Authorizer.INSPECT);
		return new LinkedHashMap<>(psi(() -> portables.inspect(null, i, List.of())).osRelease);
	}

	Tuples.Three<String, byte[], Map<String, byte[]>> metadata(String image, List<String> matches, Acquire mode) {
		String i = acquire(image, mode, Authorizer.INSPECT);
		ImageMetadataDTO m = psi(() -> portables.inspect(null, i, all(matches)));
		return new Tuples.Three<>(m.path, osReleaseBytes(m), unitBytes(m));
	}

	private static byte[] osReleaseBytes(ImageMetadataDTO m) {
		return m.osReleaseBytes != null ? m.osReleaseBytes : m.osReleaseText.getBytes(java.nio.charset.StandardCharsets.UTF_8);
	}

	private static Map<String, byte[]> unitBytes(ImageMetadataDTO m) {
		Map<String, byte[]> units = new LinkedHashMap<>();
		for (UnitFileDTO u : m.units) {
			units.put(u.name, u.bytes != null ? u.bytes : u.content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
		}
		return units;
	}

	Tuples.Four<String, byte[], Map<String, byte[]>, Map<String, byte[]>> metadata(String image, List<String> extensions,
			List<String> matches, long flags, Acquire mode) {
		checkFlags(flags, PUBLIC_FLAGS);
		String i = acquire(image, mode, Authorizer.INSPECT);
		InspectRequestDTO req = new InspectRequestDTO();
		req.image = i;
		req.extensions = new ArrayList<>(extensions);
		req.prefixes = all(matches);
		req.relaxExtensionRelease = (flags & FORCE_SYSEXT) != 0;
		ImageMetadataDTO m = psi(() -> portables.inspect(req));
		// as portabled 252: keyed by the extension's path; a directory extension's release has none (sent as "")
		Map<String, byte[]> releases = new LinkedHashMap<>();
		for (ExtensionDTO e : m.extensions) {
			releases.put("raw".equals(e.type) ? e.path : "", e.releaseBytes);
		}
		return new Tuples.Four<>(m.path, osReleaseBytes(m), releases, unitBytes(m));
	}

	/** portabled's matches: none means every unit of the image (portablectl always sends the prefixes it means) */
	private static List<String> all(List<String> matches) {
		return matches.isEmpty() ? null : new ArrayList<>(matches);
	}

	/** GetImageState: no lookup, as portabled: an image that is not there is {@code detached}. */
	String state(String image) {
		return psi(() -> portables.state(null, image)).label();
	}

	String state(String image, List<String> extensions, long flags) {
		checkFlags(flags, 0);
		return psi(() -> portables.state(null, image, new ArrayList<>(extensions))).label();
	}

	List<Change> attach(String image, List<String> extensions, List<String> matches, String profile, String copyMode, long flags,
			Acquire mode) {
		AttachRequestDTO r = attachRequest(image, extensions, matches, profile, copyMode, flags, mode);
		return changes(psi(() -> portables.attach(r)));
	}

	Tuples.Two<List<Change>, List<Change>> reattach(String image, List<String> extensions, List<String> matches, String profile,
			String copyMode, long flags, Acquire mode) {
		AttachRequestDTO r = attachRequest(image, extensions, matches, profile, copyMode, flags, mode);
		// psi reports the removals the attach did not redo first, then the attach's changes: portabled's two lists
		List<Change> detached = new ArrayList<>();
		List<Change> attached = new ArrayList<>();
		for (ChangeDTO c : psi(() -> portables.reattach(r))) {
			(c.type == ChangeDTO.Type.UNLINK ? detached : attached).add(change(c));
		}
		return new Tuples.Two<>(detached, attached);
	}

	private AttachRequestDTO attachRequest(String image, List<String> extensions, List<String> matches, String profile,
			String copyMode, long flags, Acquire mode) {
		checkFlags(flags, PUBLIC_FLAGS);
		String copy = switch (copyMode) {
			case "" -> "auto";
			case "copy", "symlink" -> copyMode;
			default -> throw new InvalidArgs("Unknown copy mode '" + copyMode + "'");
		};
		String i = mode == null ? image : acquire(image, mode, Authorizer.ATTACH);
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = i;
		r.extensions = new ArrayList<>(extensions);
		r.relaxExtensionRelease = (flags & FORCE_SYSEXT) != 0;
		r.prefixes = all(matches);
		r.profile = profile.isEmpty() ? "default" : profile;
		r.runtime = (flags & RUNTIME) != 0;
		r.force = (flags & FORCE) != 0;
		r.copy = copy;
		// as portabled: the client reloads the manager, enables and starts
		r.noReload = true;
		return r;
	}

	/** DetachImage: polkit, then no lookup (what was attached can be detached after the image went). */
	List<Change> detach(String image, List<String> extensions, long flags, boolean authorized) {
		checkFlags(flags, PUBLIC_FLAGS);
		if (!authorized) {
			authorizer.check(Authorizer.ATTACH);
		}
		DetachRequestDTO r = new DetachRequestDTO();
		r.image = image;
		r.extensions = new ArrayList<>(extensions);
		r.runtime = (flags & RUNTIME) != 0;
		r.force = (flags & FORCE) != 0;
		r.noReload = true;
		return changes(psi(() -> portables.detach(r)));
	}

	void remove(String image, Acquire mode) {
		String i = acquire(image, mode, Authorizer.MANAGE);
		String name = refuseVendor(i).name;
		psi(() -> portables.remove(null, List.of(i)));
		seen(name, false);
	}

	void markReadOnly(String image, boolean readOnly, Acquire mode) {
		String i = acquire(image, mode, Authorizer.MANAGE);
		refuseVendor(i);
		psi(() -> {
			portables.markReadOnly(null, i, readOnly);
			return null;
		});
	}

	void setLimit(String image, UInt64 limit, Acquire mode) {
		checkLimit(limit);
		String i = acquire(image, mode, Authorizer.MANAGE);
		refuseVendor(i);
		psi(() -> {
			portables.setLimit(null, i, bytes(limit));
			return null;
		});
	}

	/** @return the limit in bytes, -1 for none ((uint64) -1, as portabled) */
	private static long bytes(UInt64 limit) {
		return limit.value().equals(UInt64.MAX_BIG_VALUE) ? -1 : limit.longValue();
	}

	void setPoolLimit(UInt64 limit) {
		checkLimit(limit);
		authorizer.check(Authorizer.MANAGE);
		if (!poolIsBtrfs()) {
			throw new NotSupported("Quota is only supported on btrfs.");
		}
		psi(() -> {
			portables.setLimit(null, null, bytes(limit));
			return null;
		});
	}

	List<String> profiles() {
		return psi(() -> portables.profiles(null));
	}

	/** vendor images ({@code /usr/…}) cannot be changed: EROFS, as portabled */
	private ImageDTO refuseVendor(String image) {
		ImageDTO dto = psi(() -> portables.image(null, image));
		if (dto.path.startsWith("/usr/")) {
			throw new EROFS("Read-only file system");
		}
		return dto;
	}

	static boolean poolIsBtrfs() {
		try {
			return "btrfs".equals(Files.getFileStore(Path.of(POOL)).type());
		} catch (IOException e) {
			return false;
		}
	}

	private static void checkLimit(UInt64 limit) {
		BigInteger v = limit.value();
		if (v.shiftRight(63).signum() != 0 && !v.equals(UInt64.MAX_BIG_VALUE)) {
			throw new InvalidArgs("New limit out of range");
		}
	}

	private static void checkFlags(long flags, long allowed) {
		if ((flags & ~allowed) != 0) {
			throw new InvalidArgs("Invalid 'flags' parameter '" + Long.toUnsignedString(flags) + "'");
		}
	}

	static List<Change> changes(List<ChangeDTO> changes) {
		List<Change> out = new ArrayList<>();
		for (ChangeDTO c : changes) {
			out.add(change(c));
		}
		return out;
	}

	/** portabled's {@code (type, path, source)}; a job (psi's own interface) is {@code ("job", UNIT, RESULT)} */
	private static Change change(ChangeDTO c) {
		if (c.type == ChangeDTO.Type.JOB && c.job != null) {
			return new Change("job", nz(c.path), nz(c.job.result));
		}
		return new Change(c.type.name().toLowerCase(java.util.Locale.ROOT), nz(c.path), nz(c.source));
	}

	static String nz(String s) {
		return s == null ? "" : s;
	}

	static UInt64 micros(long micros) {
		return new UInt64(Math.max(0, micros));
	}

	/** a size, or UINT64_MAX where it is not known (psi's -1) */
	static UInt64 bytes(long bytes) {
		return bytes < 0 ? INFINITY : new UInt64(bytes);
	}

	/** A call into psi. */
	interface Op<T> {
		T run();
	}

	/** Runs a psi call, its failure sent as portabled sends the same failure. */
	static <T> T psi(Op<T> op) {
		try {
			return op.run();
		} catch (PsiException e) {
			throw error(e);
		}
	}

	/** portabled's error name and text for a psi failure */
	static DBusExecutionException error(PsiException e) {
		String s = e.summary() != null ? e.summary() : String.valueOf(e.getMessage());
		return switch (e.reason()) {
			case NO_SUCH_IMAGE -> new NoSuchImage(s);
			case BAD_IMAGE_TYPE -> new BadImageType(e.getMessage());
			case NOT_FOUND -> new FileNotFound("No such file or directory");
			case INVALID -> new InvalidArgs(s);
			case NO_OS_RELEASE_ID -> new ESTALE(s);
			case UNIT_EXISTS -> new UnitExists(s);
			case NOT_ATTACHED -> new NoSuchUnit(s);
			case NOT_DETACHED -> new EBUSY(s);
			case READ_ONLY -> new EROFS(s);
			case NOT_SUPPORTED -> new NotSupported(s);
			case EXTENSION_MISMATCH -> new ESTALE(s);
			case DUPLICATE_IMAGE -> new FileExists("File exists");
			default -> new Failed(String.valueOf(e.getMessage()));
		};
	}
}
