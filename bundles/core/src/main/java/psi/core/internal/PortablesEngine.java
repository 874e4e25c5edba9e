package psi.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import psi.api.Portables;
import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.ImageStatusDTO;
import psi.api.dto.PullRequestDTO;
import psi.api.dto.PullResultDTO;
import psi.api.dto.UnitStatusDTO;
import psi.spi.format.ImageFormat;
import psi.spi.manager.ServiceManager;
import psi.spi.sandbox.SandboxPolicy;
import psi.spi.transport.Transport;
import psi.spi.verify.Verifier;

/**
 * The psi engine: {@link Portables} over the image format and sandbox policy
 * plugins that DS hands it. Each operation takes its own copy of the plugin
 * lists; changes to the host are serialized.
 */
@Component(service = Portables.class, configurationPid = PortablesEngine.PID)
@Designate(ocd = PortablesEngine.Config.class)
public class PortablesEngine implements Portables {

	/** The configuration PID. */
	public static final String PID = "psi.engine";

	/** The engine's configuration. */
	@ObjectClassDefinition(name = "psi engine", description = "Where psi finds and attaches portable images")
	public @interface Config {
		/** @return the host root every host path is resolved under */
		@AttributeDefinition(description = "Directory every host path is resolved under, like systemctl --root")
		String root() default "/";
	}

	@Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<ImageFormat> formats = List.of();

	@Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<SandboxPolicy> policies = List.of();

	@Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<ServiceManager> managers = List.of();

	@Reference(service = Transport.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<Map.Entry<Map<String, Object>, Transport>> transports = List.of();

	@Reference(service = Verifier.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<Map.Entry<Map<String, Object>, Verifier>> verifiers = List.of();

	@Reference(service = LoggerFactory.class, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
	volatile Logger log;

	private final ReentrantLock changes = new ReentrantLock();
	private volatile Path root;

	/** @param config the configuration */
	@Activate
	public PortablesEngine(Config config) {
		modified(config);
	}

	/** @param config the new configuration */
	@Modified
	void modified(Config config) {
		this.root = Path.of(config.root()).toAbsolutePath().normalize();
	}

	private PortableHost host(String rootArg) {
		Path r = rootArg == null || rootArg.isEmpty() ? root : Path.of(rootArg).toAbsolutePath().normalize();
		if (!r.toFile().isDirectory()) {
			throw new PsiException("root directory " + r + " does not exist");
		}
		// DS keeps these lists lowest ranking first: the engine asks the highest first
		List<ImageFormat> f = new ArrayList<>(formats);
		Collections.reverse(f);
		List<SandboxPolicy> p = new ArrayList<>(policies);
		Collections.reverse(p);
		return new PortableHost(new HostLayout(r), f, p, Path.of("").toAbsolutePath());
	}

	private Delivery delivery(String rootArg, ProgressListener listener) {
		Map<String, Transport> byScheme = new java.util.HashMap<>();
		// lowest ranking first: a higher ranked transport for the same scheme wins
		for (Map.Entry<Map<String, Object>, Transport> t : transports) {
			for (String scheme : strings(t.getKey().get(Transport.SCHEMES))) {
				byScheme.put(scheme.toLowerCase(java.util.Locale.ROOT), t.getValue());
			}
		}
		Map<String, Verifier> byName = new java.util.TreeMap<>();
		for (Map.Entry<Map<String, Object>, Verifier> v : verifiers) {
			Object n = v.getKey().get(Verifier.NAME);
			byName.put(n == null ? v.getValue().getClass().getName() : n.toString(), v.getValue());
		}
		return new Delivery(host(rootArg).layout(), byScheme, byName, listener == null ? ProgressListener.NONE : listener);
	}

	private static List<String> strings(Object o) {
		if (o instanceof String[] a) {
			return List.of(a);
		}
		if (o instanceof java.util.Collection<?> c) {
			return c.stream().map(String::valueOf).toList();
		}
		return o == null ? List.of() : List.of(o.toString());
	}

	@FunctionalInterface
	private interface Op<T> {
		T run() throws IOException;
	}

	private <T> T read(Op<T> op) {
		try {
			return op.run();
		} catch (IOException e) {
			throw failure(e);
		}
	}

	private <T> T change(Op<T> op) {
		changes.lock();
		try {
			return op.run();
		} catch (IOException e) {
			throw failure(e);
		} finally {
			changes.unlock();
		}
	}

	private PsiException failure(IOException e) {
		Logger l = log;
		if (l != null) {
			l.debug("operation failed", e);
		}
		String m = e.getMessage();
		if (e instanceof psi.spi.format.ImageException || e instanceof java.nio.file.FileSystemException && m != null) {
			return new PsiException(m, e);
		}
		return new PsiException(e.getClass().getSimpleName() + (m == null ? "" : ": " + m), e);
	}

	@Override
	public List<ImageDTO> list(String root) {
		return read(() -> host(root).list());
	}

	@Override
	public ImageMetadataDTO inspect(String root, String image, List<String> prefixes) {
		return inspect(root, image, prefixes, false);
	}

	@Override
	public ImageMetadataDTO inspect(String root, String image, List<String> prefixes, boolean verify) {
		return read(() -> host(root).inspect(image, prefixes == null ? List.of() : prefixes, verify));
	}

	/**
	 * The service manager for a root: the highest ranked available one, and
	 * only for the running host's root (a scratch --root has no running systemd).
	 */
	UnitControl control(String rootArg) {
		Path r = rootArg == null || rootArg.isEmpty() ? root : Path.of(rootArg).toAbsolutePath().normalize();
		if (!r.toString().equals("/")) {
			return new UnitControl(null, "the root is " + r + ", not the running host's /");
		}
		List<ServiceManager> m = new ArrayList<>(managers);
		Collections.reverse(m);
		String reason = "no service manager is installed";
		for (ServiceManager sm : m) {
			try {
				if (sm.available()) {
					return new UnitControl(sm, "");
				}
				reason = sm.unavailableReason();
			} catch (RuntimeException e) {
				reason = "service manager " + sm.getClass().getName() + " failed: " + e;
			}
		}
		return new UnitControl(null, reason);
	}

	@Override
	public List<ChangeDTO> attach(AttachRequestDTO request) {
		return change(() -> {
			UnitControl c = control(request.root);
			if (request.now || request.enable) {
				c.require(request.now ? "--now" : "--enable");
			}
			PortableHost h = host(request.root);
			List<ChangeDTO> changes = new ArrayList<>(h.attach(request, false, PortableHost.Guard.NONE, c.refuseActive("attach")));
			afterAttach(c, h, request, changes, Map.of());
			return changes;
		});
	}

	private void afterAttach(UnitControl c, PortableHost h, AttachRequestDTO request, List<ChangeDTO> changes,
		Map<String, Boolean> wasRunning) throws IOException {
		c.reload(request.noReload);
		String attached = HostLayout.attachedDir(request.runtime);
		List<String> units = new ArrayList<>();
		for (ChangeDTO ch : changes) {
			if (!ch.type.equals("unlink") && ch.path.startsWith(attached + "/") && ch.path.indexOf('/', attached.length() + 1) < 0
				&& UnitNames.isValid(ch.path.substring(attached.length() + 1))) {
				units.add(ch.path.substring(attached.length() + 1));
			}
		}
		if (request.enable) {
			changes.addAll(c.enable(attached, units, request.runtime));
		}
		if (request.now) {
			List<String> restart = new ArrayList<>();
			List<String> start = new ArrayList<>();
			// as portablectl --now: every attached unit but templates (psi start is the one that picks)
			for (String u : units.stream().filter(u -> !UnitControl.isTemplate(u)).sorted().toList()) {
				(Boolean.TRUE.equals(wasRunning.get(u)) ? restart : start).add(u);
			}
			List<String> gone = wasRunning.entrySet().stream().filter(e -> e.getValue() && !units.contains(e.getKey()))
				.map(Map.Entry::getKey).toList();
			changes.addAll(c.jobs("StopUnit", gone, !request.noBlock));
			changes.addAll(c.jobs("RestartUnit", restart, !request.noBlock));
			changes.addAll(c.jobs("StartUnit", start, !request.noBlock));
		}
	}

	@Override
	public List<ChangeDTO> detach(DetachRequestDTO request) {
		return change(() -> {
			UnitControl c = control(request.root);
			if (request.now || request.enable) {
				c.require(request.now ? "--now" : "--enable");
			}
			List<ChangeDTO> jobs = new ArrayList<>();
			PortableHost.Guard guard = units -> {
				if (request.enable) {
					jobs.addAll(c.disable(units, request.runtime));
				}
				if (request.now) {
					List<String> running = new ArrayList<>();
					for (String u : units) {
						if (c.running(u)) {
							running.add(u);
						}
					}
					jobs.addAll(c.jobs("StopUnit", running, true));
				} else {
					c.refuseActive("detach").check(units);
				}
			};
			List<ChangeDTO> changes = new ArrayList<>(host(request.root).detach(request, guard));
			c.reload(request.noReload);
			jobs.addAll(changes);
			return jobs;
		});
	}

	@Override
	public List<ChangeDTO> reattach(AttachRequestDTO request) {
		return change(() -> {
			UnitControl c = control(request.root);
			if (request.now || request.enable) {
				c.require(request.now ? "--now" : "--enable");
			}
			Map<String, Boolean> wasRunning = new java.util.LinkedHashMap<>();
			PortableHost h = host(request.root);
			List<ChangeDTO> changes = new ArrayList<>(h.attach(request, true, units -> wasRunning.putAll(c.running(units)),
				PortableHost.Guard.NONE));
			afterAttach(c, h, request, changes, wasRunning);
			return changes;
		});
	}

	@Override
	public PullResultDTO pull(PullRequestDTO request, ProgressListener listener) {
		checkVerify(request.verify);
		if (!Delivery.isUrl(request.source)) {
			throw new PsiException("psi pull takes a URL (https://…, ssh://…, file:///…), not '" + request.source
				+ "'; a local image is attached where it is");
		}
		return change(() -> pullLocked(request, listener));
	}

	private PullResultDTO pullLocked(PullRequestDTO request, ProgressListener listener) throws IOException {
		PortableHost h = host(request.root);
		return delivery(request.root, listener).pull(request.source, request.name, request.verify, new Origins(h.layout()),
			file -> {
				try {
					return !h.attachedUnits(ImageName.stripSuffix(file)).isEmpty();
				} catch (IOException e) {
					return true;
				}
			});
	}

	@Override
	public PullResultDTO verify(PullRequestDTO request, ProgressListener listener) {
		checkVerify(request.verify);
		return read(() -> {
			Delivery d = delivery(request.root, listener);
			if (Delivery.isUrl(request.source)) {
				return d.verifyUrl(request.source, request.verify);
			}
			return verifyInPlace(host(request.root), d, request.source, request.verify);
		});
	}

	/** Verifies a local image where it is; a pulled one also against what verified it when it was pulled. */
	private static PullResultDTO verifyInPlace(PortableHost h, Delivery d, String image, String verify) throws IOException {
		String path = h.locate(image);
		String real = h.layout().resolve(path).path();
		Origins.Origin pulled = real.startsWith(Delivery.POOL + "/")
			? new Origins(h.layout()).read(DropInWriter.lastComponent(real)).orElse(null)
			: null;
		return d.verifyLocal(path, h.layout().host(real), verify, pulled);
	}

	private static void checkVerify(String verify) {
		if (verify != null && !List.of("no", "checksum", "signature").contains(verify)) {
			throw new PsiException("--verify=" + verify + " is not one of no, checksum, signature");
		}
	}

	@Override
	public List<ChangeDTO> start(AttachRequestDTO request, ProgressListener listener) {
		checkVerify(request.verify);
		return change(() -> {
			// before fetching anything: without a service manager nothing can start
			control(request.root).require("psi start");
			AttachRequestDTO req = request;
			if (Delivery.isUrl(request.image)) {
				PullRequestDTO p = new PullRequestDTO();
				p.root = request.root;
				p.source = request.image;
				p.verify = request.verify;
				PullResultDTO r = pullLocked(p, listener);
				req = copy(request);
				// the pool file that was verified, not whatever the name finds first in the search path
				req.image = r.path;
				java.util.Set<String> other = new java.util.TreeSet<>(host(request.root).attachedImageFiles(r.path));
				other.remove(r.image);
				if (!other.isEmpty()) {
					throw new PsiException("another version is attached (" + String.join(", ", other) + "); psi reattach --now "
						+ ImageName.stripSuffix(r.image) + " moves to " + r.image);
				}
			} else {
				PortableHost h = host(request.root);
				// not attached yet, or checks asked for: what the image carries must hold before anything of it is attached
				if (h.attachedUnits(request.image).isEmpty() || request.verify != null) {
					verifyInPlace(h, delivery(request.root, listener), request.image, request.verify);
				}
			}
			return startLocked(req);
		});
	}

	private static AttachRequestDTO copy(AttachRequestDTO a) {
		AttachRequestDTO c = new AttachRequestDTO();
		c.root = a.root;
		c.image = a.image;
		c.prefixes = new ArrayList<>(a.prefixes);
		c.profile = a.profile;
		c.runtime = a.runtime;
		c.copy = a.copy;
		c.force = a.force;
		c.now = a.now;
		c.enable = a.enable;
		c.noBlock = a.noBlock;
		c.noReload = a.noReload;
		c.verify = a.verify;
		return c;
	}

	@Override
	public List<ChangeDTO> start(AttachRequestDTO request) {
		return change(() -> startLocked(request));
	}

	private List<ChangeDTO> startLocked(AttachRequestDTO request) throws IOException {
		{
			UnitControl c = control(request.root);
			c.require("psi start");
			PortableHost h = host(request.root);
			List<ChangeDTO> changes = new ArrayList<>();
			if (h.attachedUnits(request.image).isEmpty()) {
				changes.addAll(h.attach(request, false, PortableHost.Guard.NONE, c.refuseActive("attach")));
				c.reload(false);
			}
			List<String> toStart = new ArrayList<>();
			for (String u : UnitControl.startable(h.attachedUnits(request.image).keySet())) {
				if (c.running(u)) {
					changes.add(ChangeDTO.of("running", u, null));
				} else {
					toStart.add(u);
				}
			}
			changes.addAll(c.jobs("StartUnit", toStart, true));
			// a service that fails at once has started (its job is done) and failed a moment later
			if (!toStart.isEmpty()) {
				try {
					Thread.sleep(300);
				} catch (InterruptedException e) {
					Thread.currentThread().interrupt();
				}
				for (String u : h.attachedUnits(request.image).keySet()) {
					UnitStatusDTO st = c.status(u);
					if ("failed".equals(st.activeState) && changes.stream().noneMatch(ch -> ch.type.equals("failed") && ch.path.equals(u))) {
						changes.add(ChangeDTO.of("failed", u, st.result + ", status " + st.execMainStatus));
					}
				}
			}
			return changes;
		}
	}

	@Override
	public List<ChangeDTO> stop(String root, String image) {
		return change(() -> {
			UnitControl c = control(root);
			c.require("psi stop");
			PortableHost h = host(root);
			var units = h.attachedUnits(image);
			if (units.isEmpty()) {
				throw new PsiException("No unit files associated with '" + image + "' found attached to the system. Image not attached?", 4, null);
			}
			List<String> running = new ArrayList<>();
			for (String u : units.keySet()) {
				if (c.running(u)) {
					running.add(u);
				}
			}
			return c.jobs("StopUnit", running, true);
		});
	}

	@Override
	public ImageStatusDTO status(String root, String image) {
		return read(() -> {
			PortableHost h = host(root);
			ImageStatusDTO dto = new ImageStatusDTO();
			var units = h.attachedUnits(image);
			try (PortableHost.OpenImage img = h.open(image)) {
				dto.path = img.path();
				dto.type = img.tree().type();
				dto.portable = img.fileName();
				dto.version = ImageName.version(img.fileName());
				dto.name = ImageName.stripSuffix(img.fileName());
			} catch (PsiException e) {
				if (units.isEmpty()) {
					throw new PsiException(e.getMessage(), 4, e);
				}
				dto.name = image;
				dto.portable = DropInWriter.lastComponent(image);
			}
			dto.state = PortableHost.stateOf(units);
			dto.profile = h.profileOf(units);
			String real = dto.path == null ? "" : h.layout().resolve(dto.path).path();
			if (real.startsWith(Delivery.POOL + "/")) {
				new Origins(h.layout()).read(DropInWriter.lastComponent(real)).ifPresent(o -> {
					dto.origin = o.source();
					dto.verified = o.verified();
				});
			}
			dto.units = new ArrayList<>();
			UnitControl c = control(root);
			if (!c.present()) {
				dto.managerProblem = c.unavailable();
			}
			for (String u : units.keySet()) {
				if (c.present()) {
					dto.units.add(c.status(u));
					if (UnitControl.isTemplate(u)) {
						for (String i : c.instances(u)) {
							dto.units.add(c.status(i));
						}
					}
				} else {
					UnitStatusDTO st = new UnitStatusDTO();
					st.name = u;
					st.loadState = "unknown";
					st.activeState = "unknown";
					st.subState = "unknown";
					dto.units.add(st);
				}
			}
			if (c.present() && dto.units.stream().anyMatch(u -> List.of("active", "reloading", "activating", "deactivating").contains(u.activeState))) {
				dto.state = dto.state.endsWith("-runtime") ? "running-runtime" : "running";
			}
			return dto;
		});
	}

	@Override
	public List<String> logs(String root, String image, int lines) {
		return read(() -> {
			String portable;
			try (PortableHost.OpenImage img = host(root).open(image)) {
				portable = img.fileName();
			} catch (PsiException e) {
				portable = DropInWriter.lastComponent(image);
			}
			return UnitControl.journal(portable, lines);
		});
	}

	@Override
	public String state(String root, String image) {
		return read(() -> host(root).state(image));
	}

	@Override
	public void markReadOnly(String root, String image, boolean readOnly) {
		change(() -> {
			host(root).markReadOnly(image, readOnly);
			return null;
		});
	}

	@Override
	public List<ChangeDTO> remove(String root, List<String> images) {
		return change(() -> host(root).remove(images));
	}

	@Override
	public List<String> profiles(String root) {
		return read(() -> host(root).profiles());
	}

	@Override
	public List<String> matchPrefixes(String image, List<String> prefixes) {
		return PortableHost.matches(image, prefixes == null ? List.of() : prefixes);
	}
}
