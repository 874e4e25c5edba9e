package psi.core.internal;

import java.util.ArrayList;
import java.util.List;

import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.PullRequestDTO;

/**
 * {@code psi update}: for each image psi pulled (or those named), asks its
 * origin for a newer version and, unless held or only checking, pulls it,
 * or, for an attached image, starts it in the old one's place with the
 * health check and rollback of {@code psi start}. Every image gets an
 * outcome; one that fails does not stop the others.
 */
final class Updates {

	private final PortablesEngine engine;

	Updates(PortablesEngine engine) {
		this.engine = engine;
	}

	/**
	 * @param request what to update, its {@code verify} already checked
	 * @param l progress
	 * @return one outcome per image, in the order of the pool
	 */
	List<psi.api.dto.UpdateDTO> run(psi.api.dto.UpdateRequestDTO request, ProgressListener l) {
		record Candidate(String base, String current, String origin, boolean held, boolean attached) {
		}
		List<Candidate> candidates = engine.read("update", request.root, h -> {
			List<String> bases = new ArrayList<>();
			if (request.images == null || request.images.isEmpty()) {
				// every image psi pulled: the pool's images with an origin record
				for (String entry : h.layout().list(ImagePool.POOL).stream().sorted().toList()) {
					if (!entry.startsWith(".") && ImageName.isValidName(entry) && h.pool().origin(entry).isPresent()
						&& !bases.contains(Purge.baseOf(entry))) {
						bases.add(Purge.baseOf(entry));
					}
				}
			} else {
				for (String i : request.images) {
					if (!bases.contains(Purge.baseOf(i))) {
						bases.add(Purge.baseOf(i));
					}
				}
			}
			List<Candidate> out = new ArrayList<>();
			for (String base : bases) {
				List<ImageVersions.Version> versions = ImageVersions.of(h, base);
				if (versions.isEmpty()) {
					throw new PsiException(PsiException.Reason.NO_SUCH_IMAGE, "No image '" + base + "' found.", null);
				}
				String origin = null;
				for (ImageVersions.Version v : versions) {
					java.util.Optional<ImagePool.Origin> o = h.pool().originOf(h.layout().resolve(v.path()).path());
					if (o.isPresent()) {
						origin = o.get().source();
						break;
					}
				}
				boolean attached = !h.index().units(base + "_").isEmpty();
				out.add(new Candidate(base, versions.get(0).version(), origin, h.pool().held(base), attached));
			}
			return out;
		});
		List<psi.api.dto.UpdateDTO> out = new ArrayList<>();
		for (Candidate c : candidates) {
			psi.api.dto.UpdateDTO u = new psi.api.dto.UpdateDTO();
			u.name = c.base();
			u.current = c.current();
			out.add(u);
			if (c.held()) {
				u.outcome = psi.api.dto.UpdateDTO.Outcome.HELD;
				continue;
			}
			if (c.origin() == null) {
				u.outcome = psi.api.dto.UpdateDTO.Outcome.NO_ORIGIN;
				u.detail = "psi did not pull it: no origin to ask";
				continue;
			}
			if (c.origin().startsWith("file:") && !originDirectoryExists(c.origin())) {
				// a copy psi -H brought here (its staging directory went after the pull), or a directory since removed
				u.outcome = psi.api.dto.UpdateDTO.Outcome.NO_ORIGIN;
				u.detail = "the directory it was pulled from is gone: " + c.origin();
				continue;
			}
			try {
				l.step("Asking " + c.origin() + " for a newer " + c.base());
				List<String> offered = engine.read("update", request.root, h -> engine.delivery(h, l).offered(c.origin()));
				String newest = null;
				for (String f : offered) {
					String v = ImageName.version(f);
					boolean image = f.endsWith(".raw") || f.endsWith(".psi");
					if (image && v != null && Purge.isVersionOf(f, c.base()) && (newest == null || Versions.compare(v, ImageName.version(newest)) > 0)) {
						newest = f;
					}
				}
				u.available = newest == null ? null : ImageName.version(newest);
				if (newest == null || c.current() != null && Versions.compare(u.available, c.current()) <= 0) {
					u.outcome = psi.api.dto.UpdateDTO.Outcome.UP_TO_DATE;
					continue;
				}
				// beside the origin, spelled as it is (URI.resolve would drop an empty authority: file:///x becomes file:/x)
				u.url = c.origin().substring(0, c.origin().lastIndexOf('/') + 1) + new java.net.URI(null, null, newest, null).getRawPath();
				if (request.check) {
					u.outcome = psi.api.dto.UpdateDTO.Outcome.AVAILABLE;
					continue;
				}
				if (c.attached()) {
					AttachRequestDTO a = new AttachRequestDTO();
					a.root = request.root;
					a.image = u.url;
					a.profile = "";
					a.settle = request.settle;
					a.verify = request.verify;
					u.changes.addAll(engine.start(a, l));
					boolean back = u.changes.stream().anyMatch(ch -> ch.type == ChangeDTO.Type.NOTICE && ch.source.contains(" did not hold "));
					u.outcome = back ? psi.api.dto.UpdateDTO.Outcome.ROLLED_BACK
						: u.changes.stream().anyMatch(ch -> ch.type == ChangeDTO.Type.FAILED) ? psi.api.dto.UpdateDTO.Outcome.FAILED
						: psi.api.dto.UpdateDTO.Outcome.UPDATED;
				} else {
					PullRequestDTO p = new PullRequestDTO();
					p.root = request.root;
					p.source = u.url;
					p.verify = request.verify;
					engine.pull(p, l);
					u.outcome = psi.api.dto.UpdateDTO.Outcome.PULLED;
				}
			} catch (PsiException | java.net.URISyntaxException e) {
				u.outcome = psi.api.dto.UpdateDTO.Outcome.FAILED;
				u.detail = e.getMessage();
			}
		}
		return out;
	}

	/** @return whether the directory of a file: URL is there */
	private static boolean originDirectoryExists(String url) {
		try {
			java.nio.file.Path p = java.nio.file.Path.of(Delivery.parse(url)).getParent();
			return p != null && java.nio.file.Files.isDirectory(p);
		} catch (RuntimeException e) {
			return true; // not a path: let the transport say what is wrong
		}
	}
}
