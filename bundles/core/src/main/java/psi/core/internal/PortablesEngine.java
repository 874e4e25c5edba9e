package psi.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.spi.format.ImageFormat;
import psi.spi.sandbox.SandboxPolicy;

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

	@Override
	public List<ChangeDTO> attach(AttachRequestDTO request) {
		return change(() -> host(request.root).attach(request, false));
	}

	@Override
	public List<ChangeDTO> detach(DetachRequestDTO request) {
		return change(() -> host(request.root).detach(request));
	}

	@Override
	public List<ChangeDTO> reattach(AttachRequestDTO request) {
		return change(() -> host(request.root).attach(request, true));
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
