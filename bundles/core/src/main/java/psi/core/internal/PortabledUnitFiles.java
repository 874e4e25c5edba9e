package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import psi.api.dto.ChangeDTO;
import psi.spi.format.Entry;

/**
 * The files systemd-portabled 252 writes for an attached image, byte for
 * byte: per unit a drop-in directory with {@code 20-portable.conf} (the
 * marker, the root, the os-release binding) and, for services,
 * {@code 10-profile.conf}; the unit file (copied or linked); and the image's
 * link in {@code /etc/portables} (or {@code /run/portables}).
 */
final class PortabledUnitFiles implements UnitInstaller {

	private final HostLayout layout;

	PortabledUnitFiles(HostLayout layout) {
		this.layout = layout;
	}

	@Override
	public Optional<String> existing(String name) throws IOException {
		for (String dir : HostLayout.UNIT_PATH) {
			String p = dir + "/" + name;
			TreeResolver.Resolved r = layout.resolve(p);
			if (r.entry().isPresent() || Files.isSymbolicLink(layout.real(p))) {
				return Optional.of(p);
			}
		}
		return Optional.empty();
	}

	@Override
	public List<ChangeDTO> install(Transaction tx, Plan plan) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		ImageResolver.OpenImage img = plan.image();
		Profiles.Profile profile = plan.profile();
		String attached = HostLayout.attachedDir(plan.runtime());
		String osReleaseSource = layout.osReleaseSource();
		tx.mkdirs(attached, changes);
		List<DropInWriter.Extension> extensions = new ArrayList<>();
		for (int i = 0; i < plan.layers().extensions().size(); i++) {
			ImageResolver.OpenImage e = plan.layers().extensions().get(i);
			extensions.add(new DropInWriter.Extension(e.path(), e.tree().rootKind() != psi.spi.format.RootKind.IMAGE,
				i < plan.layers().releases().size() ? plan.layers().releases().get(i) : Map.of()));
		}
		for (ImageReader.UnitFile u : plan.units()) {
			ImageResolver.OpenImage layer = plan.layers().of(img, u.name());
			String dropinDir = attached + "/" + u.name() + ".d";
			tx.mkdirs(dropinDir, changes);
			String conf = DropInWriter.portableConf(img.path(), img.tree().rootKind(), extensions, layer != img, plan.layers().relax(),
				u.name(), layer.fileName(), osReleaseSource, plan.style());
			tx.write(dropinDir + "/20-portable.conf", conf.getBytes(StandardCharsets.UTF_8), changes);
			if (u.name().endsWith(".service")) {
				if (profile.hostPath() != null && !plan.copy().equals("copy")) {
					tx.symlink(dropinDir + "/10-profile.conf", profile.hostPath(), changes);
				} else {
					tx.copy(dropinDir + "/10-profile.conf", profile.content(), profile.hostPath(), changes);
					if (profile.hostPath() != null) {
						// as portabled's copy_file_atomic(): the copy keeps the profile's mtime
						Files.setLastModifiedTime(layout.real(dropinDir + "/10-profile.conf"),
							Files.getLastModifiedTime(layout.host(layout.resolve(profile.hostPath()).path())));
					}
				}
				for (Profiles.Extension e : plan.policies()) {
					tx.write(dropinDir + "/" + e.fileName(), e.content(), changes);
				}
				if (plan.limits() != null) {
					tx.write(dropinDir + "/" + ResourceLimits.FILE, plan.limits(), changes);
				}
			}
			String unitPath = attached + "/" + u.name();
			Optional<Path> source = plan.copy().equals("symlink") && sameOnHost(layer, u) ? layer.tree().hostPath(u.path()) : Optional.empty();
			if (source.isPresent()) {
				tx.symlink(unitPath, layer.path() + u.path(), changes);
			} else {
				// portabled names the source only where the unit is a host file (directory images)
				String from = layer.tree().hostPath(u.path()).isPresent() ? layer.path() + u.path() : null;
				tx.copy(unitPath, u.content(), from, changes);
			}
		}
		// portabled links every attached image into /etc/portables (or /run/portables), pool images too:
		// the extensions first, then the image
		String linkDir = HostLayout.linkDir(plan.runtime());
		List<ImageResolver.OpenImage> linked = new ArrayList<>(plan.layers().extensions());
		linked.add(img);
		for (ImageResolver.OpenImage i : linked) {
			String link = linkDir + "/" + i.fileName();
			if (!i.path().equals(link) && layout.lstat(link).isEmpty()) {
				tx.mkdirs(linkDir, null);
				tx.symlink(link, i.path(), changes);
			}
		}
		return changes;
	}

	/**
	 * Whether linking a unit gives the host the file the image has: a link
	 * chain in the image (an absolute link, one through an absolute link)
	 * resolves on the host to another file than inside the image, and such a
	 * unit is copied, so that what is attached is what {@code inspect} shows.
	 * A relative link that stays inside the image is linked, as portabled does.
	 */
	private static boolean sameOnHost(ImageResolver.OpenImage img, ImageReader.UnitFile u) throws IOException {
		Optional<Path> linked = img.tree().hostPath(u.path());
		if (linked.isEmpty()) {
			return false;
		}
		TreeResolver.Resolved inImage = new TreeResolver(img.tree()::lstat, "image '" + img.path() + "'").resolve(u.path());
		Optional<Path> file = img.tree().hostPath(inImage.path());
		try {
			return file.isPresent() && linked.get().toRealPath().equals(file.get().toRealPath());
		} catch (IOException e) {
			return false; // the host does not reach it the same way: a copy is what the image has
		}
	}

	/** @return the file names of the policies' drop-ins in a unit's drop-in directory, sorted */
	List<String> policyDropIns(String dropinDir) throws IOException {
		TreeSet<String> out = new TreeSet<>();
		if (layout.lstat(dropinDir).map(e -> e.kind() == Entry.Kind.DIRECTORY).orElse(false)) {
			for (String n : layout.list(dropinDir)) {
				if (n.startsWith(Profiles.PREFIX) && n.endsWith(".conf")) {
					out.add(n);
				}
			}
		}
		return new ArrayList<>(out);
	}

	@Override
	public List<ChangeDTO> uninstall(Transaction tx, boolean runtime, Map<String, List<String>> units) throws IOException {
		String where = HostLayout.attachedDir(runtime);
		List<ChangeDTO> changes = new ArrayList<>();
		// as portabled: the links of every image a removed unit's marker names, its extensions' too
		TreeSet<String> markers = new TreeSet<>();
		for (Map.Entry<String, List<String>> u : units.entrySet()) {
			tx.unlink(where + "/" + u.getKey(), changes);
			for (String suffix : new String[] { "/10-profile.conf", "/20-portable.conf", "/" + ResourceLimits.FILE }) {
				tx.unlink(where + "/" + u.getKey() + ".d" + suffix, changes);
			}
			for (String policy : policyDropIns(where + "/" + u.getKey() + ".d")) {
				tx.unlink(where + "/" + u.getKey() + ".d/" + policy, changes);
			}
			tx.rmdir(where + "/" + u.getKey() + ".d", changes);
			u.getValue().stream().filter(p -> p.startsWith("/")).forEach(markers::add);
		}
		for (String m : markers) {
			String link = HostLayout.linkDir(runtime) + "/" + DropInWriter.lastComponent(m);
			if (layout.lstat(link).map(e -> e.kind() == Entry.Kind.SYMLINK).orElse(false)) {
				tx.unlink(link, changes);
			}
		}
		tx.rmdir(where, changes);
		return changes;
	}
}
