package psi.core.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;

/**
 * Attach, detach and reattach as portabled 252 does them: the checks
 * (prefixes, os-release, {@code PORTABLE_PREFIXES}, units already on the
 * host), then the {@link UnitInstaller}'s changes inside the caller's
 * {@link Transaction}, which the caller commits once the service manager
 * took them. Made per operation; not thread safe.
 */
final class Attachments {

	/**
	 * Told which units an attach or detach is about to write or remove, before
	 * anything changes: the service manager's checks (an active unit) and
	 * steps (stop before detach) hook in here. Throwing refuses the operation.
	 */
	@FunctionalInterface
	interface Guard {
		/** A guard that lets everything through. */
		Guard NONE = units -> {
		};

		/** @param units the unit names, sorted */
		void check(List<String> units) throws IOException;
	}

	/** Verifies an image in place, as {@code psi verify} does, for the policies that ask how it is vouched for. */
	@FunctionalInterface
	interface Verification {
		/** @param path the image's path as the host sees it */
		psi.api.dto.PullResultDTO of(String path) throws IOException;
	}

	private final HostLayout layout;
	private final ImageResolver images;
	private final AttachmentIndex index;
	private final Profiles profiles;
	private final UnitInstaller installer;
	private final Verification verification;

	Attachments(HostLayout layout, ImageResolver images, AttachmentIndex index, Profiles profiles, UnitInstaller installer,
		Verification verification) {
		this.layout = layout;
		this.images = images;
		this.index = index;
		this.profiles = profiles;
		this.installer = installer;
		this.verification = verification;
	}

	/** @return how images are verified in place here, for psi lint */
	Verification verification() {
		return verification;
	}

	/** What a policy is told of an image about to be attached; verified once, when first asked. */
	private final class Subject implements psi.spi.sandbox.AttachSubject {
		private final ImageResolver.OpenImage img;
		private final String profile;
		private final Map<String, String> release;
		private final List<String> units;
		private Optional<psi.spi.verify.Level> verified;

		Subject(ImageResolver.OpenImage img, String profile, Map<String, String> release, List<String> units) {
			this.img = img;
			this.profile = profile;
			this.release = Map.copyOf(release);
			this.units = List.copyOf(units);
		}

		@Override
		public String name() {
			return ImageName.baseName(img.fileName());
		}

		@Override
		public String path() {
			return img.path();
		}

		@Override
		public String type() {
			return img.tree().type();
		}

		@Override
		public String profile() {
			return profile;
		}

		@Override
		public Map<String, String> osRelease() {
			return release;
		}

		@Override
		public List<String> units() {
			return units;
		}

		@Override
		public synchronized Optional<psi.spi.verify.Level> verified() throws IOException {
			if (verified == null) {
				psi.api.dto.VerifyLevel l = verification.of(img.path()).level;
				verified = l == null || l == psi.api.dto.VerifyLevel.NONE ? Optional.empty()
					: Optional.of(psi.spi.verify.Level.valueOf(l.name()));
			}
			return verified;
		}
	}

	/**
	 * The policies' drop-ins for units attached under a profile; refused when
	 * one may widen the sandbox and the admin did not name it.
	 */
	List<Profiles.Extension> policyExtensions(String profileName, List<String> named) throws IOException {
		List<Profiles.Extension> ext = profiles.extensions(profileName);
		for (Profiles.Extension e : ext) {
			if (!e.widening().isEmpty() && (named == null || !named.contains(e.policy()))) {
				throw new PsiException("Sandbox policy '" + e.policy() + "' may widen profile '" + profileName + "' ("
					+ String.join("; ", e.widening()) + "): name it to apply it anyway (--policy " + e.policy() + ")");
			}
		}
		return ext;
	}

	/**
	 * Attaches an image, or with {@code reattach} first detaches any version of it.
	 *
	 * @param detaching checks the units a reattach removes first
	 * @param attaching checks the units about to be attached
	 * @return the changes made in {@code tx}, as portabled reports them
	 */
	List<ChangeDTO> attach(Transaction tx, AttachRequestDTO req, boolean reattach, Guard detaching, Guard attaching) throws IOException {
		String copy = req.copy == null ? "auto" : req.copy;
		if (!List.of("auto", "copy", "symlink", "mixed").contains(copy)) {
			throw new PsiException("Failed to parse --copy= argument: " + copy + " (one of auto, copy, symlink, mixed)");
		}
		for (String p : req.prefixes == null ? List.<String>of() : req.prefixes) {
			if (!UnitNames.isValidPrefix(p)) {
				throw new PsiException("Unit name prefix not valid: " + p);
			}
		}
		String profileName = req.profile == null || req.profile.isEmpty() ? profiles.defaultName() : req.profile;
		Profiles.checkName(profileName);
		List<String> matches = ImageResolver.matches(req.image, req.prefixes);
		List<String> extArgs = req.extensions == null ? List.of() : req.extensions;
		// what the installed portabled writes, and whether it takes configuration extensions (255 and later)
		int systemd = SystemdVersion.installed(layout);
		boolean confext = systemd >= ExtensionRelease.CONFEXT_SINCE;
		try (ImageResolver.OpenImage img = images.open(req.image); ImageResolver.Extensions extensions = images.openExtensions(extArgs)) {
			// written into the drop-ins, the marker and the link's name: refused before anything is read
			UnitValues.checkPath(img.path());
			ImageReader reader = new ImageReader(img.tree(), img.path());
			OsRelease release = img.tree().reading("reading its os-release", reader::osRelease).release();
			TreeMap<String, ImageReader.UnitFile> units = img.tree().reading("reading its unit files", () -> reader.units(matches));
			if (release.get("ID") == null || release.get("ID").isEmpty()) {
				throw new PsiException(PsiException.Reason.NO_OS_RELEASE_ID, "Image " + img.path() + " os-release metadata lacks the ID field", null);
			}
			String portablePrefixes = release.get("PORTABLE_PREFIXES");
			List<String> valid = portablePrefixes == null ? null : new ArrayList<>(List.of(portablePrefixes.trim().split("\\s+")));
			// as portabled: each extension's units under the base's (the base wins, then the earlier extension), then its release checked
			Map<String, ImageResolver.OpenImage> origin = new LinkedHashMap<>();
			List<Map<String, String>> extReleases = new ArrayList<>();
			for (ImageResolver.OpenImage ext : extensions.images()) {
				ImageReader.Release extRelease = ExtensionRelease.layer(ext, matches, req.relaxExtensionRelease, confext, units, origin);
				extReleases.add(extRelease.release().fields());
				String mismatch = ExtensionRelease.mismatch(release, extRelease.release(), ExtensionRelease.hostArchitecture());
				if (mismatch != null) {
					throw new PsiException(PsiException.Reason.EXTENSION_MISMATCH,
						"Image " + ext.path() + " extension-release metadata does not match the root's", mismatch + "; --force does not skip this check");
				}
				String extPrefixes = extRelease.release().get("PORTABLE_PREFIXES");
				if (extPrefixes != null) {
					valid = valid == null ? new ArrayList<>() : valid;
					for (String p : extPrefixes.trim().split("\\s+")) {
						if (!valid.contains(p)) {
							valid.add(p);
						}
					}
				}
			}
			String named = img.path() + (extArgs.isEmpty() ? "" : "' or any of its extensions '" + String.join(", ", extArgs));
			if (valid != null) {
				if (!extArgs.isEmpty()) {
					java.util.Collections.sort(valid);
				}
				if (!valid.containsAll(matches)) {
					throw new PsiException(PsiException.Reason.INVALID, "Selected matches '" + String.join("', '", matches)
						+ "' are not compatible with portable service image '" + named
						+ "', refusing. (Acceptable prefix matches are: " + String.join(", ", valid) + ")", null);
				}
			}
			if (units.isEmpty()) {
				throw new PsiException(PsiException.Reason.INVALID, "Couldn't find any matching unit files in image '" + named + "', refusing.",
					null);
			}
			Profiles.Profile profile = profiles.profile(profileName);
			refuseEscapes(profileName, profile, units);
			List<String> namedPolicies = new ArrayList<>(req.policies == null ? List.of() : req.policies);
			if (reattach) {
				// a policy the admin named for the version attached now stays named for the next (psi start of another version, psi update)
				namedPolicies.addAll(namedBefore(req.runtime, units.keySet()));
			}
			List<Profiles.Extension> policies = policyExtensions(profileName, namedPolicies);
			Optional<String> refused = profiles.refusal(new Subject(img, profileName, release.fields(), new ArrayList<>(units.keySet())));
			if (refused.isPresent()) {
				throw new PsiException(PsiException.Reason.INVALID, "Image " + img.path() + ": " + refused.get(), null);
			}
			byte[] limits = ResourceLimits.dropIn(req);
			if (limits == null && reattach) {
				// another version keeps the admin's limits unless new ones are given
				limits = keptLimits(req.runtime, units.keySet());
			}
			List<ChangeDTO> detached = List.of();
			if (reattach) {
				// an image found through its own link in /etc/portables: the detach removes that link, the attach needs it
				Map<String, String> linkTargets = new LinkedHashMap<>();
				for (ImageResolver.OpenImage i : extensions.with(img)) {
					String t = linkTarget(i.path(), req.runtime);
					if (t != null) {
						linkTargets.put(i.path(), t);
					}
				}
				DetachRequestDTO d = new DetachRequestDTO();
				d.image = img.path();
				d.runtime = req.runtime;
				d.extensions = extensions.images().stream().map(ImageResolver.OpenImage::path).toList();
				detached = detach(tx, d, detaching);
				for (Map.Entry<String, String> l : linkTargets.entrySet()) {
					if (layout.lstat(l.getKey()).isEmpty()) {
						tx.symlink(l.getKey(), l.getValue(), null);
						detached = detached.stream().filter(c -> !c.path.equals(l.getKey())).toList();
					}
				}
			}
			if (!req.force) {
				attaching.check(new ArrayList<>(units.keySet()));
				for (String name : units.keySet()) {
					Optional<String> where = installer.existing(name);
					if (where.isPresent()) {
						throw new PsiException(PsiException.Reason.UNIT_EXISTS, "Unit file '" + name + "' exists on the host already, refusing.",
							where.get() + "; --force attaches anyway");
					}
				}
			}
			List<ChangeDTO> changes = installer.install(tx, new UnitInstaller.Plan(img, units.values(), profile, policies, limits, req.runtime, copy,
				new UnitInstaller.Layers(extensions.images(), origin, req.relaxExtensionRelease, extReleases),
				new DropInWriter.Style(systemd, release.fields())));
			ImagePool.recordAttached(tx, img.fileName());
			index.invalidate();
			List<String> extPaths = extensions.images().stream().map(ImageResolver.OpenImage::path).toList();
			String record = PortableLog.record(PortableLog.ATTACHED, "attached", req.runtime, img.path(), profile.name(), extPaths);
			tx.onCommit(() -> PortableLog.send(layout, record));
			if (!reattach) {
				return changes;
			}
			// as portabled: the removals the attach did not redo (by file name), then the attach's changes
			Set<String> redone = new HashSet<>();
			changes.forEach(c -> redone.add(DropInWriter.lastComponent(c.path)));
			List<ChangeDTO> all = new ArrayList<>();
			detached.stream().filter(c -> !redone.contains(DropInWriter.lastComponent(c.path))).forEach(all::add);
			all.addAll(changes);
			return all;
		}
	}

	/** @return the names of the policies whose drop-ins the services of these names have now and that may widen: named before */
	private List<String> namedBefore(boolean runtime, Set<String> units) throws IOException {
		Map<String, String> where = new LinkedHashMap<>();
		units.forEach(u -> where.put(u, HostLayout.attachedDir(runtime)));
		return profiles.attachedExtensions(where).stream().filter(e -> !e.widening().isEmpty()).map(Profiles.Extension::policy).toList();
	}

	/** @return the admin's limits drop-in a service of these names has now, or {@code null} */
	private byte[] keptLimits(boolean runtime, Set<String> units) throws IOException {
		for (String u : units) {
			java.nio.file.Path f = layout.real(HostLayout.attachedDir(runtime) + "/" + u + ".d/" + ResourceLimits.FILE);
			if (u.endsWith(".service") && java.nio.file.Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)
				&& java.nio.file.Files.size(f) <= 64 * 1024) {
				return java.nio.file.Files.readAllBytes(f);
			}
		}
		return null;
	}

	/**
	 * Refuses units that would run outside the profile's sandbox, one line per
	 * setting ({@link SandboxGuard}), before anything is written.
	 */
	private void refuseEscapes(String profileName, Profiles.Profile profile, Map<String, ImageReader.UnitFile> units) {
		Map<String, byte[]> files = new LinkedHashMap<>();
		units.values().forEach(u -> files.put(u.name(), u.content()));
		String refused = SandboxGuard.joined(SandboxGuard.refusals(profileName, profile.content(), files, layout));
		if (!refused.isEmpty()) {
			throw new PsiException(refused);
		}
	}

	/** @return where the link {@code path} in the image link directory points, or {@code null} when it is no such link */
	private String linkTarget(String path, boolean runtime) throws IOException {
		if (!path.startsWith(HostLayout.linkDir(runtime) + "/")) {
			return null;
		}
		return layout.lstat(path).filter(e -> e.kind() == psi.spi.format.Entry.Kind.SYMLINK).map(psi.spi.format.Entry::linkTarget)
			.orElse(null);
	}

	/**
	 * Detaches an image's units found by their drop-in marker.
	 *
	 * @param guard told the units first; the manager's steps (stop, disable) and checks
	 * @return the changes made in {@code tx}
	 */
	List<ChangeDTO> detach(Transaction tx, DetachRequestDTO req, Guard guard) throws IOException {
		String key = images.key(req.image);
		List<String> extensions = ImageResolver.extensionKeys(req.extensions);
		Map<String, List<String>> units = index.units(HostLayout.attachedDir(req.runtime), key, extensions);
		if (units.isEmpty()) {
			String what = req.image + (extensions == null || extensions.isEmpty() ? "" : "' or any of its extensions '" + String.join(", ", req.extensions));
			throw new PsiException(PsiException.Reason.NOT_ATTACHED,
				"No unit files associated with '" + what + "' found attached to the system. Image not attached?",
				req.runtime ? null : "To detach from " + HostLayout.attachedDir(true) + ", use --runtime.", 1, null);
		}
		guard.check(new ArrayList<>(units.keySet()));
		List<ChangeDTO> changes = installer.uninstall(tx, req.runtime, units);
		index.invalidate();
		String record = PortableLog.record(PortableLog.DETACHED, "detached", req.runtime, req.image, null,
			req.extensions == null ? List.of() : req.extensions);
		tx.onCommit(() -> PortableLog.send(layout, record));
		return changes;
	}
}
