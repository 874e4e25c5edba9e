package psi.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

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
import org.osgi.service.metatype.annotations.Option;

import psi.api.LogFollower;
import psi.api.Portables;
import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.AttachState;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.InspectRequestDTO;
import psi.api.dto.ImageStatusDTO;
import psi.api.dto.PartialDTO;
import psi.api.dto.PullRequestDTO;
import psi.api.dto.PullResultDTO;
import psi.api.dto.VerifyLevel;
import psi.spi.format.ImageBuilder;
import psi.spi.format.ImageFormat;
import psi.spi.manager.ServiceManager;
import psi.spi.sandbox.SandboxPolicy;
import psi.spi.transport.Transport;
import psi.spi.verify.Verifier;

/**
 * The psi engine: {@link Portables} as a thin facade over the engine's parts
 * ({@link Host}), the plugins DS hands it, the {@link HostLock} every host
 * change takes, the {@link Transaction} that makes each change all or
 * nothing, and the {@link PluginCalls} guard every plugin call passes. Each
 * operation takes its own copy of the plugin lists.
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

		/** @return seconds an image format plugin's call may take */
		@AttributeDefinition(description = "Seconds a call to an image format plugin may take")
		long formatTimeout() default 120;

		/** @return seconds a sandbox policy plugin's call may take */
		@AttributeDefinition(description = "Seconds a call to a sandbox policy plugin may take")
		long policyTimeout() default 30;

		/** @return seconds a verifier (or an integrity check) may take */
		@AttributeDefinition(description = "Seconds a verifier or an image integrity check may take")
		long verifierTimeout() default 3600;

		/** @return seconds a transport may go without progress */
		@AttributeDefinition(description = "Seconds a transport may go without progress")
		long transportTimeout() default 300;

		/** @return days after which a partial download is removed by the next pull */
		@AttributeDefinition(description = "Days after which a partial download (an interrupted pull, kept to resume) is removed by the next pull")
		int partialMaxAge() default 7;

		/** @return seconds a service manager's call may take */
		@AttributeDefinition(description = "Seconds a call to the service manager may take (a job waited for included)")
		long managerTimeout() default 300;

		/** @return seconds the units of a new version must stay active before an upgrade counts as done */
		@AttributeDefinition(description = "Seconds the units of a new version (psi start of another version, psi rollback) must stay active; if one fails, psi goes back")
		int settle() default 10;

		/** @return the profile attach uses when none is named */
		@AttributeDefinition(description = "The profile attach, start and inspect use when --profile is not given (default, nonetwork, strict, trusted, or one of the host's)")
		String defaultProfile() default "default";

		/** @return what --verify is when not given */
		@AttributeDefinition(description = "What pull, start and verify check when --verify is not given: empty for psi's rule (a signature for https and ssh, whatever the image carries for file:), or signature, checksum, no for every source",
			options = { @Option(label = "psi's rule", value = ""), @Option(label = "signature", value = "signature"),
				@Option(label = "checksum", value = "checksum"), @Option(label = "no", value = "no") })
		String verify() default "";

		/** @return how many versions of an image the pool keeps after an upgrade */
		@AttributeDefinition(description = "Versions of an image kept in /var/lib/portables after a successful upgrade (older detached ones are removed); 0 keeps all")
		int keepVersions() default 3;
	}

	@Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<ImageFormat> formats = List.of();

	@Reference(service = SandboxPolicy.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<Map.Entry<Map<String, Object>, SandboxPolicy>> policies = List.of();

	@Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<ServiceManager> managers = List.of();

	@Reference(service = Transport.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<Map.Entry<Map<String, Object>, Transport>> transports = List.of();

	@Reference(service = Verifier.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<Map.Entry<Map<String, Object>, Verifier>> verifiers = List.of();

	@Reference(service = ImageBuilder.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
	volatile List<Map.Entry<Map<String, Object>, ImageBuilder>> builders = List.of();

	@Reference(service = LoggerFactory.class, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
	volatile Logger log;

	final PluginCalls calls = new PluginCalls(PluginCalls.Limits.DEFAULT);
	volatile Transaction.Faults faults = Transaction.Faults.NONE;
	private volatile Path root;
	private volatile java.time.Duration partialMaxAge = java.time.Duration.ofDays(7);
	private volatile int settle = 10;
	private volatile int keepVersions = 3;
	private volatile String defaultProfile = Profiles.DEFAULT;
	private volatile VerifyLevel defaultVerify;

	/** @param config the configuration */
	@Activate
	public PortablesEngine(Config config) {
		modified(config);
	}

	/** @param config the new configuration */
	@Modified
	void modified(Config config) {
		this.root = Path.of(config.root()).toAbsolutePath().normalize();
		this.partialMaxAge = java.time.Duration.ofDays(Math.max(0, config.partialMaxAge()));
		this.settle = Math.max(0, config.settle());
		this.keepVersions = Math.max(0, config.keepVersions());
		this.defaultProfile = config.defaultProfile() == null || config.defaultProfile().isBlank() ? Profiles.DEFAULT : config.defaultProfile().strip();
		this.defaultVerify = config.verify() == null || config.verify().isBlank() ? null : VerifyLevel.ofOption(config.verify().strip());
		calls.limits(new PluginCalls.Limits(config.formatTimeout(), config.policyTimeout(), config.verifierTimeout(),
			config.transportTimeout(), config.managerTimeout()));
	}

	private Path rootOf(String rootArg) {
		Path r = rootArg == null || rootArg.isEmpty() ? root : Path.of(rootArg).toAbsolutePath().normalize();
		if (!r.toFile().isDirectory()) {
			throw new PsiException("root directory " + r + " does not exist");
		}
		return r;
	}

	private Host host(String rootArg) {
		// DS keeps these lists lowest ranking first: the engine asks the highest first
		List<Profiles.Policy> p = new ArrayList<>();
		policies.forEach(e -> p.add(Profiles.Policy.of(e.getKey(), e.getValue())));
		Host[] made = new Host[1];
		made[0] = Host.of(new HostLayout(rootOf(rootArg)), highestFirst(formats), highestFirst(p), calls, defaultProfile,
			path -> {
				String real = made[0].layout().resolve(path).path();
				return delivery(made[0], ProgressListener.NONE).verifyLocal(path, made[0].layout().host(real), null,
					made[0].pool().originOf(real).orElse(null));
			});
		return made[0];
	}

	private static <T> List<T> highestFirst(List<T> dsOrder) {
		List<T> l = new ArrayList<>(dsOrder);
		Collections.reverse(l);
		return l;
	}

	Delivery delivery(Host h, ProgressListener listener) {
		Map<String, Transport> byScheme = new HashMap<>();
		// lowest ranking first: a higher ranked transport for the same scheme wins
		for (Map.Entry<Map<String, Object>, Transport> t : transports) {
			for (String scheme : strings(t.getKey().get(Transport.SCHEMES))) {
				byScheme.put(scheme.toLowerCase(Locale.ROOT), t.getValue());
			}
		}
		Map<String, Verifier> byName = new TreeMap<>();
		for (Map.Entry<Map<String, Object>, Verifier> v : verifiers) {
			Object n = v.getKey().get(Verifier.NAME);
			byName.put(n == null ? v.getValue().getClass().getName() : n.toString(), v.getValue());
		}
		ProgressListener l = listener == null ? ProgressListener.NONE : listener;
		Delivery d = new Delivery(h.pool(), byScheme, byName, l, calls, () -> {
			HostLock.Held held = lock(h.layout(), l);
			try {
				recovered(held, h.layout().root().toString(), l);
			} catch (IOException | RuntimeException e) {
				held.close();
				throw e;
			}
			return held;
		});
		d.partialMaxAge = partialMaxAge;
		return d;
	}

	static List<String> strings(Object o) {
		if (o instanceof String[] a) {
			return List.of(a);
		}
		if (o instanceof Collection<?> c) {
			return c.stream().map(String::valueOf).toList();
		}
		return o == null ? List.of() : List.of(o.toString());
	}

	@FunctionalInterface
	interface Op<T> {
		T run(Host h) throws IOException;
	}

	/** @param what the operation, for messages: {@code inspect} */
	<T> T read(String what, String rootArg, Op<T> op) {
		try {
			Host h = host(rootArg);
			recoverBeforeReading(h, rootArg);
			return op.run(h);
		} catch (IOException e) {
			throw failure(what, e);
		}
	}

	/** Runs a host change under the host lock. */
	private <T> T change(String what, String rootArg, ProgressListener listener, Op<T> op) {
		Host h = host(rootArg);
		ProgressListener l = listener == null ? ProgressListener.NONE : listener;
		try (HostLock.Held held = lock(h.layout(), l)) {
			recovered(held, rootArg, l);
			finishMoves(h, rootArg, l);
			return op.run(h);
		} catch (IOException e) {
			throw failure(what, e);
		}
	}

	/**
	 * Tells what taking the lock recovered and, when it undid a change the
	 * running host's manager had seen, has the manager disable what it had
	 * enabled and reload, so it forgets the undone units.
	 */
	private void recovered(HostLock.Held held, String rootArg, ProgressListener listener) throws IOException {
		Journal.Recovery r = held.recovered();
		if (r == null) {
			return;
		}
		listener.step(r.message());
		Logger lg = log;
		if (lg != null) {
			lg.info(r.message());
		}
		if (!r.committed()) {
			control(rootArg).undone(r);
		}
	}

	/**
	 * Before a read: an operation left half done by a killed psi is
	 * recovered first, so that what is read is a whole state. Where this
	 * user may not change the host, it is read as it is.
	 */
	private void recoverBeforeReading(Host h, String rootArg) {
		if (!Journal.pending(h.layout()) && !Moving.any(h.layout())) {
			return;
		}
		try (HostLock.Held held = lock(h.layout(), ProgressListener.NONE)) {
			recovered(held, rootArg, ProgressListener.NONE);
			finishMoves(h, rootArg, ProgressListener.NONE);
		} catch (IOException | PsiException e) {
			Logger lg = log;
			if (lg != null) {
				lg.debug("could not recover before reading", e);
			}
		}
	}

	private static HostLock.Held lock(HostLayout layout, ProgressListener listener) throws IOException {
		return HostLock.take(layout, listener::waiting);
	}

	/**
	 * @return one line saying what psi was doing, on what and why: {@code inspect: /var/lib/portables/x.raw: permission denied};
	 *         an image's or a plugin's own message as it is
	 */
	private PsiException failure(String what, IOException e) {
		Logger l = log;
		if (l != null) {
			l.debug(what + " failed", e);
		}
		String m = e.getMessage();
		PsiException p;
		if (e instanceof psi.spi.format.ImageException) {
			p = new PsiException(m, e);
		} else if (e instanceof java.nio.file.FileSystemException f) {
			p = new PsiException(what + ": " + UnitValues.show(String.valueOf(f.getFile()))
				+ (f.getOtherFile() == null ? "" : " \u2192 " + UnitValues.show(f.getOtherFile())) + ": " + reason(f), e);
		} else {
			p = new PsiException(what + ": " + (m == null ? e.getClass().getSimpleName() : m), e);
		}
		// what could not be undone is the admin's to know: front ends print these after the message
		for (Throwable t : e.getSuppressed()) {
			p.addSuppressed(t);
		}
		return p;
	}

	/** Why a file operation failed, as {@code strerror()} says it. */
	private static final Map<Class<?>, String> REASONS = Map.of(java.nio.file.AccessDeniedException.class, "permission denied",
		java.nio.file.NoSuchFileException.class, "no such file or directory", java.nio.file.NotDirectoryException.class,
		"not a directory", java.nio.file.FileAlreadyExistsException.class, "file exists",
		java.nio.file.DirectoryNotEmptyException.class, "directory not empty", java.nio.file.FileSystemLoopException.class,
		"too many levels of symbolic links");

	/** @return why a file operation failed, as {@code strerror()} says it */
	private static String reason(java.nio.file.FileSystemException f) {
		String r = REASONS.get(f.getClass());
		return r != null ? r : f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
	}


	/**
	 * The service manager for a root: the highest ranked available one whose
	 * root it is (systemd's is the running host's /; psi's own runs services
	 * for the root the daemon serves).
	 */
	UnitControl control(String rootArg) {
		Path r = rootArg == null || rootArg.isEmpty() ? root : Path.of(rootArg).toAbsolutePath().normalize();
		List<String> reasons = new ArrayList<>();
		for (ServiceManager sm : highestFirst(managers)) {
			try {
				if (!Boolean.TRUE.equals(calls.call(PluginCalls.Kind.MANAGER, sm, "asking whether it is available", sm::available))) {
					reasons.add(calls.call(PluginCalls.Kind.MANAGER, sm, "asking why it is not available", sm::unavailableReason));
					continue;
				}
				Path managed = calls.call(PluginCalls.Kind.MANAGER, sm, "asking for its root", sm::root);
				if (r.equals(managed)) {
					return new UnitControl(sm, "", calls);
				}
				reasons.add("the root is " + r + ", not " + (managed.toString().equals("/") ? "the running host's /" : managed + ", whose services psi runs"));
			} catch (IOException | PsiException e) {
				reasons.add(e.getMessage());
			}
		}
		String reason = reasons.isEmpty() ? "no service manager is installed"
			: String.join("; ", reasons.stream().filter(x -> x != null && !x.isEmpty()).distinct().toList());
		return new UnitControl(null, reason, calls);
	}

	@Override
	public List<ImageDTO> list(String root) {
		return read("list", root, h -> {
			List<ImageDTO> images = h.catalog().list();
			UnitControl c = null; // the manager is asked only about attached images
			for (ImageDTO i : images) {
				if (i.state != null && i.state != AttachState.DETACHED) {
					c = c != null ? c : control(root);
					try {
						i.state = h.catalog().state(i.name, c::running);
					} catch (IOException | PsiException e) {
						// detached or changed while listed (a change does not wait for readers): the files' state stands
					}
				}
			}
			return images;
		});
	}

	@Override
	public ImageDTO image(String root, String image) {
		return read("inspect", root, h -> h.catalog().image(image));
	}

	@Override
	public ImageMetadataDTO inspect(String root, String image, List<String> prefixes) {
		return inspect(root, image, prefixes, false);
	}

	@Override
	public ImageMetadataDTO inspect(String root, String image, List<String> prefixes, boolean verify) {
		return inspect(root, image, prefixes, verify, null);
	}

	@Override
	public ImageMetadataDTO inspect(String root, String image, List<String> prefixes, boolean verify, String profile) {
		return read("inspect", root, h -> h.catalog().inspect(image, prefixes, verify, profile));
	}

	@Override
	public ImageMetadataDTO inspect(InspectRequestDTO request) {
		return read("inspect", request.root, h -> h.catalog().inspect(request));
	}

	@Override
	public List<psi.api.dto.FindingDTO> lint(InspectRequestDTO request) {
		return read("lint", request.root, h -> h.catalog().lint(request, h.attachments().verification()));
	}

	@Override
	public psi.api.dto.BuildResultDTO build(psi.api.dto.BuildRequestDTO request, ProgressListener listener) {
		try {
			return ImageBuild.run(request, builders, (image, profile) -> {
				InspectRequestDTO r = new InspectRequestDTO();
				r.image = image.toString();
				r.profile = profile;
				return lint(r);
			}, listener == null ? ProgressListener.NONE : listener);
		} catch (IOException e) {
			throw failure("build", e);
		}
	}

	@Override
	public List<ChangeDTO> attach(AttachRequestDTO request, ProgressListener listener) {
		return attach(request, false, listener);
	}

	@Override
	public List<ChangeDTO> reattach(AttachRequestDTO request, ProgressListener listener) {
		return attach(request, true, listener);
	}

	private List<ChangeDTO> attach(AttachRequestDTO request, boolean reattach, ProgressListener listener) {
		UnitControl c = control(request.root);
		if (request.now || request.enable) {
			c.require(request.now ? "--now" : "--enable");
		}
		AttachRequestDTO req = unpacked(reattach ? "reattach" : "attach", request, listener);
		return change(reattach ? "reattach" : "attach", request.root, listener, h -> lifecycle(h, c).attach(req, reattach));
	}

	/**
	 * An archive image (a tar file, read by a format plugin) is unpacked into
	 * the pool first ({@link Delivery#unpackArchive}): the request then names
	 * that directory image.
	 */
	private AttachRequestDTO unpacked(String operation, AttachRequestDTO request, ProgressListener listener) {
		if (request.image == null || Delivery.isUrl(request.image)) {
			return request;
		}
		String dir = read(operation, request.root, h -> {
			try (ImageResolver.OpenImage img = h.images().open(request.image)) {
				return img.tree().isArchive() ? delivery(h, listener).unpackArchive(img) : null;
			}
		});
		if (dir == null) {
			return request;
		}
		AttachRequestDTO r = Lifecycle.copy(request);
		r.image = dir;
		return r;
	}

	@Override
	public List<ChangeDTO> detach(DetachRequestDTO request, ProgressListener listener) {
		UnitControl c = control(request.root);
		if (request.now || request.enable) {
			c.require(request.now ? "--now" : "--enable");
		}
		return change("detach", request.root, listener, h -> lifecycle(h, c).detach(request));
	}

	private Lifecycle lifecycle(Host h, UnitControl c) {
		return new Lifecycle(h, c, operation -> new Transaction(h.layout(), faults, operation));
	}

	@Override
	public PullResultDTO pull(PullRequestDTO request, ProgressListener listener) {
		request.verify = request.verify == null ? defaultVerify : request.verify;
		checkVerify(request.verify);
		if (!Delivery.isUrl(request.source)) {
			throw new PsiException("psi pull takes a URL (https://…, ssh://…, file:///…), not '" + request.source
				+ "'; a local image is attached where it is");
		}
		return read("pull", request.root, h -> pull(h, request, listener));
	}

	/** Fetches and verifies outside the host lock; only placing the image takes it. */
	private PullResultDTO pull(Host h, PullRequestDTO request, ProgressListener listener) throws IOException {
		String poolName = Delivery.poolName(Delivery.fileName(Delivery.parse(request.source)), request.name);
		String version = ImageName.version(poolName);
		if (!request.allowDowngrade && version != null) {
			for (ImageVersions.Version v : ImageVersions.of(h, Purge.baseOf(poolName))) {
				if (v.version() != null && Versions.compare(v.version(), version) > 0) {
					throw new PsiException(PsiException.Reason.DOWNGRADE, ImageName.stripSuffix(poolName) + " is older than " + v.name() + " ("
						+ v.path() + "): not pulled.", "--allow-downgrade pulls it anyway", 1, null);
				}
			}
		}
		return delivery(h, listener).pull(request.source, request.name, request.verify,
			file -> !h.index().units(ImageName.stripSuffix(file)).isEmpty());
	}

	@Override
	public PullResultDTO verify(PullRequestDTO request, ProgressListener listener) {
		request.verify = request.verify == null ? defaultVerify : request.verify;
		checkVerify(request.verify);
		return read("verify", request.root, h -> {
			Delivery d = delivery(h, listener);
			if (Delivery.isUrl(request.source)) {
				return d.verifyUrl(request.source, request.verify);
			}
			return verifyInPlace(h, d, request.source, request.verify);
		});
	}

	/** Verifies a local image where it is; a pulled one also against what verified it when it was pulled. */
	private static PullResultDTO verifyInPlace(Host h, Delivery d, String image, VerifyLevel verify) throws IOException {
		String path = h.images().locate(image);
		String real = h.layout().resolve(path).path();
		return d.verifyLocal(path, h.layout().host(real), verify, h.pool().originOf(real).orElse(null));
	}

	private static void checkVerify(VerifyLevel verify) {
		if (verify == VerifyLevel.INTEGRITY) {
			throw new PsiException("--verify=integrity cannot be asked for: ask for no, checksum or signature");
		}
	}

	@Override
	public List<ChangeDTO> start(AttachRequestDTO request, ProgressListener listener) {
		request.verify = request.verify == null ? defaultVerify : request.verify;
		checkVerify(request.verify);
		// before fetching anything: without a service manager nothing can start
		UnitControl c = control(request.root);
		c.require("psi start");
		AttachRequestDTO req = request;
		if (Delivery.isUrl(request.image)) {
			PullRequestDTO p = new PullRequestDTO();
			p.root = request.root;
			p.source = request.image;
			p.verify = request.verify;
			p.allowDowngrade = request.allowDowngrade;
			PullResultDTO r = read("start", request.root, h -> pull(h, p, listener));
			req = Lifecycle.copy(request);
			// the pool file that was verified, not whatever the name finds first in the search path
			req.image = r.path;
		} else {
			read("start", request.root, h -> {
				// not attached yet (this very version: another one may be, which start then replaces), or checks asked for:
				// what the image carries must hold before anything of it is attached
				String path = h.images().locate(request.image);
				boolean attached = !h.index().unitsOfPath(path).isEmpty() || !h.index().unitsOfPath(h.layout().resolve(path).path()).isEmpty();
				if (!attached || request.verify != null) {
					verifyInPlace(h, delivery(h, listener), request.image, request.verify);
				}
				return null;
			});
		}
		AttachRequestDTO attach = unpacked("start", req, listener);
		try (Moving moving = moving(request.root, attach.image)) {
			Lifecycle.Started s = change("start", request.root, listener, h -> lifecycle(h, c).start(attach));
			if (s.moved() == null) {
				return s.changes();
			}
			return settled(attach, c, s.changes(), s.moved(), listener);
		} catch (IOException e) {
			throw failure("start", e);
		}
	}

	/** @return the lock of a change of the image's version, held by this operation ({@link Moving}) */
	private Moving moving(String rootArg, String image) throws IOException {
		String base;
		try {
			base = Purge.baseOf(image);
		} catch (PsiException noName) {
			return null; // no image name to move between versions of: start says what is wrong
		}
		return Moving.begin(host(rootArg).layout(), base);
	}

	/**
	 * Finishes the changes of version whose psi died ({@link Moving}): keeps
	 * the new version when its units run, else goes back; says which. Under
	 * the host lock; nothing without a service manager to ask.
	 */
	private void finishMoves(Host h, String rootArg, ProgressListener listener) throws IOException {
		if (!Moving.any(h.layout())) {
			return;
		}
		UnitControl c = control(rootArg);
		if (!c.present()) {
			return;
		}
		for (Map.Entry<String, Lifecycle.Moved> o : Moving.orphans(h.layout())) {
			Lifecycle.Moved m = o.getValue();
			Lifecycle lc = lifecycle(h, c);
			String to = ImageName.stripSuffix(DropInWriter.lastComponent(m.to()));
			String from = ImageName.stripSuffix(DropInWriter.lastComponent(m.from()));
			String said;
			ChangeDTO failed;
			try {
				failed = lc.settle(m.to(), 0, null);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				return;
			}
			if (failed == null) {
				lc.keep(m, 0);
				said = "Finished an interrupted move of " + o.getKey() + " to " + to + ": its units run.";
			} else {
				lc.moveBack(m);
				said = "Undid an interrupted move of " + o.getKey() + " to " + to + " (" + failed.path + ": " + failed.source + "): back to " + from + ".";
			}
			listener.step(said);
			Logger lg = log;
			if (lg != null) {
				lg.info(said);
			}
		}
	}

	/**
	 * After a change of version: watches the new version's units for the
	 * settle time (outside the host lock); when they held, prunes old
	 * versions from the pool; else goes back to the version that ran, and
	 * says both.
	 */
	private List<ChangeDTO> settled(AttachRequestDTO request, UnitControl c, List<ChangeDTO> changes, Lifecycle.Moved moved, ProgressListener listener) {
		List<ChangeDTO> out = new ArrayList<>(changes);
		String to = ImageName.stripSuffix(DropInWriter.lastComponent(moved.to()));
		String from = ImageName.stripSuffix(DropInWriter.lastComponent(moved.from()));
		ChangeDTO failed = changes.stream().filter(ch -> ch.type == ChangeDTO.Type.FAILED).findFirst().orElse(null);
		if (failed == null) {
			int seconds = request.settle < 0 ? settle : request.settle;
			if (listener != null && seconds > 0) {
				listener.step("Watching " + to + " for " + seconds + " s");
			}
			failed = read("start", request.root, h -> {
				try {
					return lifecycle(h, c).settle(moved.to(), seconds * 1000L, request.healthCommand);
				} catch (InterruptedException e) {
					Thread.currentThread().interrupt();
					return ChangeDTO.of(ChangeDTO.Type.FAILED, to, "interrupted while watching it");
				}
			});
			if (failed != null) {
				out.add(failed);
			}
		}
		if (failed == null) {
			int keep = keepVersions;
			out.addAll(change("start", request.root, listener, h -> lifecycle(h, c).keep(moved, keep)));
			return out;
		}
		String failure = failed.path + ": " + failed.source;
		List<ChangeDTO> back = change("start", request.root, listener, h -> lifecycle(h, c).moveBack(moved));
		out.addAll(back);
		boolean runs = back.stream().noneMatch(ch -> ch.type == ChangeDTO.Type.FAILED);
		out.add(ChangeDTO.of(ChangeDTO.Type.NOTICE, from, to + " did not hold (" + failure + "): rolled back to " + from
			+ (runs ? ", which runs again." : ", which failed too: see psi status " + from + ".")));
		return out;
	}

	@Override
	public List<ChangeDTO> rollback(AttachRequestDTO request, String version, ProgressListener listener) {
		UnitControl c = control(request.root);
		c.require("psi rollback");
		try (Moving moving = moving(request.root, request.image)) {
			Lifecycle.Started s = change("rollback", request.root, listener, h -> {
				AttachRequestDTO r = Lifecycle.copy(request);
				r.image = ImageVersions.previous(h, request.image, version);
				r.allowDowngrade = true;
				return lifecycle(h, c).start(r);
			});
			if (s.moved() == null) {
				return s.changes();
			}
			return settled(request, c, s.changes(), s.moved(), listener);
		} catch (IOException e) {
			throw failure("rollback", e);
		}
	}

	@Override
	public List<psi.api.dto.UpdateDTO> update(psi.api.dto.UpdateRequestDTO request, ProgressListener listener) {
		checkVerify(request.verify);
		return new Updates(this).run(request, listener == null ? ProgressListener.NONE : listener);
	}

	@Override
	public void hold(String root, String image, boolean hold) {
		change(hold ? "hold" : "unhold", root, ProgressListener.NONE, h -> {
			String base = Purge.baseOf(image);
			if (ImageVersions.of(h, base).isEmpty()) {
				throw new PsiException(PsiException.Reason.NO_SUCH_IMAGE, "No image '" + base + "' found.", null);
			}
			try (Transaction tx = new Transaction(h.layout(), faults, (hold ? "hold of " : "unhold of ") + base)) {
				String f = ImagePool.ORIGINS + "/" + base + ".held";
				if (hold) {
					tx.mkdirs(ImagePool.ORIGINS, null);
					tx.write(f, ("# written by psi hold: psi update skips " + base + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8), 0644, null);
				} else {
					tx.unlink(f, null);
				}
				tx.commit();
			}
			return null;
		});
	}

	@Override
	public List<psi.api.dto.VersionDTO> versions(String root, String image) {
		UnitControl c = control(root);
		return read("versions", root, h -> ImageVersions.list(h, image, c));
	}

	@Override
	public List<ChangeDTO> purge(psi.api.dto.PurgeRequestDTO request, ProgressListener listener) {
		if (request.dryRun) {
			return read("purge", request.root, h -> Purge.plan(h, request.image, request.keepData).describe());
		}
		UnitControl c = control(request.root);
		return change("purge", request.root, listener, h -> lifecycle(h, c).purge(Purge.plan(h, request.image, request.keepData)));
	}

	@Override
	public List<ChangeDTO> stop(String root, String image) {
		UnitControl c = control(root);
		c.require("psi stop");
		return read("stop", root, h -> lifecycle(h, c).stop(image));
	}

	@Override
	public List<ChangeDTO> restart(String root, String image) {
		UnitControl c = control(root);
		c.require("psi restart");
		return read("restart", root, h -> lifecycle(h, c).restart(image));
	}

	@Override
	public List<ChangeDTO> reload(String root, String image) {
		UnitControl c = control(root);
		c.require("psi reload");
		return read("reload", root, h -> lifecycle(h, c).reload(image));
	}

	@Override
	public ImageStatusDTO status(String root, String image) {
		UnitControl c = control(root);
		return read("status", root, h -> lifecycle(h, c).status(image));
	}

	@Override
	public List<String> logs(String root, String image, int lines) {
		return read("logs", root, h -> journal(root).journal(portableOf(h, image), lines));
	}

	@Override
	public LogFollower followLogs(String root, String image, int lines, Consumer<String> sink) {
		ServiceManager.JournalFollower f = read("logs", root, h -> journal(root).follow(portableOf(h, image), lines, sink));
		return new LogFollower() {
			@Override
			public void await() throws InterruptedException {
				f.await();
			}

			@Override
			public void close() {
				f.close();
			}
		};
	}

	/** @return the image file name its journal lines carry in {@code PORTABLE=} */
	private static String portableOf(Host h, String image) throws IOException {
		try (ImageResolver.OpenImage img = h.images().open(image)) {
			return img.fileName();
		} catch (PsiException e) {
			return DropInWriter.lastComponent(image);
		}
	}

	/**
	 * The logs of a root's services: kept by the manager that runs them; else
	 * the running host's journal, read through the highest ranked manager,
	 * available or not.
	 */
	private UnitControl journal(String root) {
		UnitControl c = control(root);
		if (c.present()) {
			return c;
		}
		List<ServiceManager> m = highestFirst(managers);
		return new UnitControl(null, m.isEmpty() ? null : m.get(0), "", calls);
	}

	@Override
	public AttachState state(String root, String image) {
		return state(root, image, null);
	}

	@Override
	public AttachState state(String root, String image, List<String> extensions) {
		// the manager is asked only when something of the image is attached
		UnitControl[] c = new UnitControl[1];
		return read("is-attached", root,
			h -> h.catalog().state(image, extensions, u -> (c[0] != null ? c[0] : (c[0] = control(root))).running(u)));
	}

	@Override
	public void setLimit(String root, String image, long bytes) {
		change("set-limit", root, ProgressListener.NONE, h -> {
			h.catalog().setLimit(image, bytes);
			return null;
		});
	}

	@Override
	public void markReadOnly(String root, String image, boolean readOnly) {
		change("read-only", root, ProgressListener.NONE, h -> {
			h.catalog().markReadOnly(image, readOnly);
			return null;
		});
	}

	@Override
	public List<ChangeDTO> remove(String root, List<String> images, ProgressListener listener) {
		return change("remove", root, listener, h -> {
			try (Transaction tx = new Transaction(h.layout(), faults, "remove of " + String.join(", ", images))) {
				List<ChangeDTO> changes = h.pool().remove(tx, h.images(), h.index(), images);
				tx.commit();
				return changes;
			}
		});
	}

	@Override
	public List<PartialDTO> partials(String root) {
		return read("list", root, h -> {
			List<PartialDTO> out = new ArrayList<>();
			for (StagingArea.Partial p : new StagingArea(h.layout()).partials()) {
				out.add(partialDTO(p));
			}
			return out;
		});
	}

	@Override
	public List<ChangeDTO> removePartials(String root, ProgressListener listener) {
		return change("remove", root, listener, h -> {
			List<ChangeDTO> out = new ArrayList<>();
			for (StagingArea.Partial p : new StagingArea(h.layout()).dropPartials(null)) {
				out.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, p.path(), null));
			}
			return out;
		});
	}

	private static PartialDTO partialDTO(StagingArea.Partial p) {
		PartialDTO d = new PartialDTO();
		d.path = p.path();
		d.size = p.size();
		d.mtime = p.modified().toEpochMilli() * 1000;
		return d;
	}

	@Override
	public List<String> profiles(String root) {
		return read("profiles", root, h -> h.profiles().names());
	}

	@Override
	public List<String> matchPrefixes(String image, List<String> prefixes) {
		return ImageResolver.matches(image, prefixes == null ? List.of() : prefixes);
	}
}
