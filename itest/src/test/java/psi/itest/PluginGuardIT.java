package psi.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;

import psi.api.Portables;
import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.PullRequestDTO;
import psi.spi.format.Entry;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.format.RootKind;
import psi.spi.manager.ServiceManager;
import psi.spi.sandbox.SandboxPolicy;
import psi.spi.transport.Transport;
import psi.spi.verify.Verifier;

/**
 * Every plugin call goes through one guarded place: for each SPI (format,
 * transport, verifier, policy, manager) a fake that throws and a fake that
 * hangs are registered above the shipped plugins; the operation fails with
 * one line naming the plugin and its bundle, within the configured limit,
 * nothing is written, and once the fake is gone the engine works as before.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PluginGuardIT {

	/** The limit every kind of plugin call gets here, in seconds. */
	static final int LIMIT = 2;

	@Inject
	BundleContext context;

	@Inject
	Portables portables;

	@Inject
	ConfigurationAdmin configAdmin;

	private Path root;
	private ServiceRegistration<?> fake;

	@Configuration
	public Option[] config() {
		return OptionUtils.combine(DistributionBundles.options("gosh.args=--nointeractive"), junitBundles(),
			systemPackage("org.slf4j;version=" + Logger.class.getPackage().getImplementationVersion()));
	}

	@Before
	public void setUp() throws Exception {
		root = Files.createTempDirectory("psi-guard-");
		Path img = root.resolve("var/lib/portables/single");
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/single.service"), "[Service]\nExecStart=/bin/true\n");
		Files.write(root.resolve("var/lib/portables/blob_1.raw"), new byte[4096]);
		org.osgi.service.cm.Configuration c = configAdmin.getConfiguration("psi.engine", "?");
		Dictionary<String, Object> p = new Hashtable<>();
		for (String k : List.of("formatTimeout", "policyTimeout", "verifierTimeout", "transportTimeout", "managerTimeout")) {
			p.put(k, Long.valueOf(LIMIT));
		}
		c.update(p);
		// @Modified: the limits apply without a restart of the engine
		Thread.sleep(500);
	}

	@After
	public void tearDown() throws Exception {
		if (fake != null) {
			fake.unregister();
		}
		try (Stream<Path> s = Files.walk(root)) {
			for (Path p : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
				Files.delete(p);
			}
		}
	}

	@AfterClass
	public static void noop() {
		// the framework goes with the class
	}

	private <T> void register(Class<T> spi, T service, Map<String, Object> properties) {
		Dictionary<String, Object> p = new Hashtable<>(properties);
		p.put(Constants.SERVICE_RANKING, Integer.valueOf(Integer.MAX_VALUE));
		fake = context.registerService(spi.getName(), service, p);
		sleep(300); // DS binds it (dynamic, greedy)
	}

	private static void sleep(long ms) {
		try {
			Thread.sleep(ms);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	/** Never answers. */
	static <T> T hang() {
		sleep(Long.MAX_VALUE);
		return null;
	}

	private AttachRequestDTO attach(String profile) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.root = root.toString();
		r.image = "single";
		r.profile = profile;
		return r;
	}

	/** The operation fails with one line naming the fake and its bundle, in time, and writes nothing. */
	private void refused(Supplier<?> op, String kind, String how) {
		long start = System.nanoTime();
		try {
			op.get();
			fail("succeeded with a " + how + " " + kind);
		} catch (PsiException e) {
			long seconds = (System.nanoTime() - start) / 1_000_000_000L;
			String m = e.getMessage();
			assertFalse("one line: " + m, m.contains("\n"));
			assertTrue("names the plugin: " + m, m.contains(kind + " psi.itest.PluginGuardIT$"));
			assertTrue("names its bundle: " + m, m.contains("(bundle PAXEXAM-PROBE"));
			assertTrue("says what went wrong: " + m, m.contains(how.equals("throwing") ? "failed while" : "did not answer in " + LIMIT + " s"));
			assertTrue("took " + seconds + " s", seconds < LIMIT + 10);
		}
		assertFalse("nothing written", Files.exists(root.resolve("etc"), LinkOption.NOFOLLOW_LINKS));
	}

	/** With the fake gone, the engine attaches and detaches as before. */
	private void engineStillWorks() {
		fake.unregister();
		fake = null;
		sleep(300);
		portables.attach(attach("default"));
		assertEquals(psi.api.dto.AttachState.ATTACHED, portables.state(root.toString(), "single"));
		psi.api.dto.DetachRequestDTO d = new psi.api.dto.DetachRequestDTO();
		d.root = root.toString();
		d.image = "single";
		portables.detach(d);
	}

	// ---- formats

	@Test
	public void aThrowingFormat() {
		register(ImageFormat.class, (ImageFormat) path -> {
			throw new NullPointerException("a bug in the plugin");
		}, Map.of());
		refused(() -> portables.attach(attach("default")), "image format", "throwing");
		engineStillWorks();
	}

	@Test
	public void aHangingFormat() {
		register(ImageFormat.class, (ImageFormat) path -> hang(), Map.of());
		refused(() -> portables.attach(attach("default")), "image format", "hanging");
		engineStillWorks();
	}

	/** A tree that opens, then throws on a later read: the reads are guarded too. */
	@Test
	public void aFormatWhoseTreeThrowsLater() {
		register(ImageFormat.class, (ImageFormat) path -> Optional.of(new BrokenTree(path)), Map.of());
		refused(() -> portables.attach(attach("default")), "image format", "throwing");
		engineStillWorks();
	}

	static final class BrokenTree implements ImageTree {
		private final Path path;

		BrokenTree(Path path) {
			this.path = path;
		}

		@Override
		public String type() {
			return "broken";
		}

		@Override
		public Path path() {
			return path;
		}

		@Override
		public RootKind rootKind() {
			return RootKind.DIRECTORY;
		}

		@Override
		public Optional<Entry> lstat(String p) {
			String s = null;
			return Optional.of(new Entry(Entry.Kind.valueOf(s), 0, 0, null)); // a NullPointerException
		}

		@Override
		public List<String> list(String dir) {
			return List.of();
		}

		@Override
		public byte[] read(String p, int maxBytes) {
			return new byte[0];
		}

		@Override
		public boolean isReadOnly() {
			return false;
		}

		@Override
		public void setReadOnly(boolean readOnly) {
		}
	}

	// ---- sandbox policies

	private static SandboxPolicy policy(Supplier<Optional<byte[]>> conf) {
		return new SandboxPolicy() {
			@Override
			public Set<String> profiles() {
				return Set.of("fake");
			}

			@Override
			public Optional<byte[]> serviceConf(String name) {
				return conf.get();
			}
		};
	}

	@Test
	public void aThrowingPolicy() {
		register(SandboxPolicy.class, policy(() -> {
			throw new IllegalStateException("a bug in the policy");
		}), Map.of(SandboxPolicy.PROFILES, "fake"));
		refused(() -> portables.attach(attach("fake")), "sandbox policy", "throwing");
		engineStillWorks();
	}

	@Test
	public void aHangingPolicy() {
		register(SandboxPolicy.class, policy(PluginGuardIT::hang), Map.of(SandboxPolicy.PROFILES, "fake"));
		refused(() -> portables.attach(attach("fake")), "sandbox policy", "hanging");
		engineStillWorks();
	}

	// ---- verifiers

	private PullRequestDTO verifyBlob() {
		PullRequestDTO r = new PullRequestDTO();
		r.root = root.toString();
		r.source = "/var/lib/portables/blob_1.raw";
		return r;
	}

	@Test
	public void aThrowingVerifier() {
		register(Verifier.class, (Verifier) s -> {
			throw new ArrayIndexOutOfBoundsException(7);
		}, Map.of(Verifier.NAME, "fake"));
		refused(() -> portables.verify(verifyBlob(), ProgressListener.NONE), "verifier", "throwing");
		engineStillWorks();
	}

	@Test
	public void aHangingVerifier() {
		register(Verifier.class, (Verifier) s -> hang(), Map.of(Verifier.NAME, "fake"));
		refused(() -> portables.verify(verifyBlob(), ProgressListener.NONE), "verifier", "hanging");
		engineStillWorks();
	}

	// ---- transports

	private PullRequestDTO pullFake() {
		PullRequestDTO r = new PullRequestDTO();
		r.root = root.toString();
		r.source = "fake://127.0.0.1/img/fake_1.raw";
		r.verify = psi.api.dto.VerifyLevel.NONE;
		return r;
	}

	@Test
	public void aThrowingTransport() {
		register(Transport.class, (Transport) (request, progress) -> {
			throw new UnsupportedOperationException("a bug in the transport");
		}, Map.of(Transport.SCHEMES, "fake"));
		refused(() -> portables.pull(pullFake(), ProgressListener.NONE), "transport", "throwing");
		engineStillWorks();
	}

	@Test
	public void aHangingTransport() {
		register(Transport.class, (Transport) (request, progress) -> hang(), Map.of(Transport.SCHEMES, "fake"));
		refused(() -> portables.pull(pullFake(), ProgressListener.NONE), "transport", "hanging");
		engineStillWorks();
	}

	// ---- service managers

	private static ServiceManager manager(Supplier<Boolean> available) {
		return new ServiceManager() {
			@Override
			public boolean available() {
				return available.get();
			}

			@Override
			public void reload() {
			}

			@Override
			public UnitStatus status(String unit) {
				return null;
			}

			@Override
			public JobResult start(String unit, boolean wait) {
				return null;
			}

			@Override
			public JobResult stop(String unit, boolean wait) {
				return null;
			}

			@Override
			public JobResult restart(String unit, boolean wait) {
				return null;
			}

			@Override
			public List<String> enable(List<Path> unitFiles, boolean runtime) {
				return List.of();
			}

			@Override
			public List<String> disable(List<String> units, boolean runtime) {
				return List.of();
			}

			@Override
			public List<String> listUnits(List<String> patterns) {
				return List.of();
			}

			@Override
			public void resetFailed(String unit) {
			}
		};
	}

	/** A manager is asked on the running host only: psi stop there of an image that does not exist needs it first. */
	private void refusedByManager(String how) {
		long start = System.nanoTime();
		try {
			portables.stop(null, "psi-itest-no-such-image");
			fail("psi stop succeeded");
		} catch (PsiException e) {
			String m = e.getMessage();
			assertFalse("one line: " + m, m.contains("\n"));
			assertTrue(m, m.startsWith("psi stop needs the service manager: service manager psi.itest.PluginGuardIT$"));
			assertTrue("names its bundle: " + m, m.contains("(bundle PAXEXAM-PROBE"));
			assertTrue(m, m.contains(how.equals("throwing") ? "failed while asking whether it is available" : "did not answer in " + LIMIT + " s"));
			assertTrue((System.nanoTime() - start) / 1_000_000_000L < LIMIT + 10);
		}
	}

	@Test
	public void aThrowingManager() throws IOException {
		register(ServiceManager.class, manager(() -> {
			throw new IllegalStateException("a bug in the manager");
		}), Map.of());
		refusedByManager("throwing");
		engineStillWorks();
	}

	@Test
	public void aHangingManager() throws IOException {
		register(ServiceManager.class, manager(PluginGuardIT::hang), Map.of());
		refusedByManager("hanging");
		engineStillWorks();
	}
}
