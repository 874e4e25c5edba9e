package psi.itest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.dto.ServiceReferenceDTO;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.SatisfiedReferenceDTO;
import org.slf4j.Logger;

import psi.shell.command.CommandOutput;
import psi.api.Portables;
import psi.api.PsiException;

/**
 * psi's shipped bundle set in Felix: DS wires the engine to its plugins, the
 * Gogo commands attach and detach on a throwaway root, refusals are
 * {@link PsiException}s that change nothing, and the engine survives a plugin
 * going away. One framework for the class; every test leaves it as it found
 * it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FrameworkIT {

	private static final String ENGINE = "psi.core.internal.PortablesEngine";
	private static final String DIRECTORY_FORMAT = "psi.format.directory.internal.DirectoryFormat";
	private static final Set<String> OTHER_FORMATS = Set.of("psi.format.subvolume/psi.format.subvolume.internal.SubvolumeFormat",
		"psi.format.raw/psi.format.raw.internal.RawFormat");
	private static final String SYSTEMD_PROFILES = "psi.policy.profiles.internal.SystemdProfiles";
	private static final Path HOST_DEFAULT_PROFILE = Path.of("/usr/lib/systemd/portable/profile/default/service.conf");

	@Inject
	BundleContext context;

	@Inject
	Portables portables;

	@Inject
	ServiceComponentRuntime scr;

	@Inject
	CommandProcessor gogo;

	private Path root;

	@Configuration
	public Option[] config() {
		// gogo.shell ships in the distribution; keep it off the console (failsafe talks to the forked JVM on stdin)
		return OptionUtils.combine(DistributionBundles.options("gosh.args=--nointeractive"), junitBundles(),
			// Pax Exam's own bundles log through slf4j: the test JVM's serves them (pax.exam.logging=none),
			// so that no logging bundle joins the distribution's
			systemPackage("org.slf4j;version=" + Logger.class.getPackage().getImplementationVersion()));
	}

	@Before
	public void makeRoot() throws IOException {
		root = Files.createTempDirectory("psi-itest-");
	}

	@After
	public void removeRoot() throws IOException {
		try (Stream<Path> s = Files.walk(root)) {
			for (Path p : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
				Files.delete(p);
			}
		}
	}

	// ---- the bundle set

	@Test
	public void theShippedBundlesAllStart() {
		assertEquals("the framework psi.jar embeds", context.getProperty(DistributionBundles.RUNFW_VERSION),
			context.getBundle(0).getVersion().toString());
		Set<String> names = new TreeSet<>();
		for (Bundle b : context.getBundles()) {
			names.add(b.getSymbolicName());
			boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
			assertEquals(b.getSymbolicName() + " is not " + (fragment ? "resolved" : "active"),
				fragment ? Bundle.RESOLVED : Bundle.ACTIVE, b.getState());
		}
		assertTrue(names.toString(), names.containsAll(List.of("org.apache.felix.scr", "org.osgi.service.component",
			"org.osgi.util.promise", "org.osgi.util.function", "org.apache.felix.gogo.runtime", "org.apache.felix.gogo.command",
			"org.apache.felix.gogo.shell", "org.apache.felix.configadmin", "org.apache.felix.log", "psi.api", "psi.core",
			"psi.shell", "psi.launcher", "psi.format.directory", "psi.policy.profiles")));
	}

	@Test
	public void theLauncherStaysIdleOutsideBndsLauncher() throws Exception {
		ComponentConfigurationDTO launcher = configuration("psi.launcher", "psi.launcher.internal.Launcher");
		assertEquals(ComponentConfigurationDTO.UNSATISFIED_REFERENCE, launcher.state);
		assertNull("no main.thread Callable to take over the framework",
			context.getServiceReferences(Callable.class.getName(), "(main.thread=true)"));
	}

	// ---- a. DS wiring

	@Test
	public void dsWiresTheEngineToThePlugins() {
		assertNotNull(portables);
		ComponentConfigurationDTO engine = configuration("psi.core", ENGINE);
		assertTrue("engine state " + engine.state,
			engine.state == ComponentConfigurationDTO.ACTIVE || engine.state == ComponentConfigurationDTO.SATISFIED);
		Set<String> formats = new java.util.HashSet<>(OTHER_FORMATS);
		formats.add("psi.format.directory/" + DIRECTORY_FORMAT);
		assertEquals(formats, bound(engine, "formats"));
		assertEquals(Set.of("psi.policy.profiles/" + SYSTEMD_PROFILES), bound(engine, "policies"));
	}

	/** psi plugins: each kind of plugin with what it serves, its bundle, ranking and state; a disabled one says so. */
	@Test
	public void pluginsListsEachPluginWithItsBundleRankingAndState() throws Exception {
		String out = expectOutput("psi:plugins --no-legend", 0).text();
		assertLine(out, "format +directory +" + DIRECTORY_FORMAT.replace(".", "\\.") + " +psi\\.format\\.directory +\\S+ +-100 +active");
		assertLine(out, "format +raw +\\S+ +psi\\.format\\.raw +\\S+ +-?[0-9]+ +active");
		assertLine(out, "transport +https http +psi\\.transport\\.https\\.internal\\.HttpsTransport +psi\\.transport\\.https +\\S+ +0 +active");
		assertLine(out, "transport +ssh sftp +\\S+ +psi\\.transport\\.ssh .*active");
		assertLine(out, "verifier +openpgp +\\S+ +psi\\.verify\\.sums +.*active");
		assertLine(out, "policy +default nonetwork strict trusted +" + SYSTEMD_PROFILES.replace(".", "\\.") + " +psi\\.policy\\.profiles +\\S+ +0 +active");
		assertLine(out, "manager +embedded +\\S+ +psi\\.manager\\.embedded +\\S+ +-10 +active");
		ComponentDescriptionDTO d = scr.getComponentDescriptionDTO(bundle("psi.format.directory"), DIRECTORY_FORMAT);
		scr.disableComponent(d).getValue();
		try {
			assertLine(expectOutput("psi:plugins --no-legend", 0).text(), "format +directory +\\S+ +psi\\.format\\.directory +\\S+ +-100 +disabled");
		} finally {
			scr.enableComponent(d).getValue();
		}
		String json = expectOutput("psi:plugins --json short", 0).text();
		assertTrue(json, json.startsWith("[{\"kind\":\"format\"") && json.contains("\"serves\":[\"https\",\"http\"]"));
	}

	private static void assertLine(String text, String regex) {
		assertTrue("no line matches " + regex + " in:\n" + text, text.lines().anyMatch(l -> l.strip().matches(regex)));
	}

	// ---- b. attach, is-attached, detach through Gogo

	@Test
	public void attachIsAttachedDetachThroughGogo() throws Exception {
		Path unit = image("single", true);
		assertEquals("detached\n", expectOutput("psi:isattached --root '" + root + "' single", 1).text());

		expectOutput("psi:attach --root '" + root + "' single", 0);

		Path attached = root.resolve("etc/systemd/system.attached");
		Path dropins = attached.resolve("single.service.d");
		assertEquals("# Drop-in created for image '/var/lib/portables/single', do not edit.\n" //
			+ "\n" //
			+ "[Service]\n" //
			+ "RootDirectory=/var/lib/portables/single\n" //
			+ "Environment=PORTABLE=single\n" //
			+ "BindReadOnlyPaths=/usr/lib/os-release:/run/host/os-release\n" //
			+ "LogExtraFields=PORTABLE=single\n", Files.readString(dropins.resolve("20-portable.conf")));
		// the root has no profiles: the policy bundle's copy of systemd's default profile is written
		Path profile = dropins.resolve("10-profile.conf");
		assertTrue(profile + " is not a regular file", Files.isRegularFile(profile, LinkOption.NOFOLLOW_LINKS));
		assertArrayEquals(Files.readAllBytes(HOST_DEFAULT_PROFILE), Files.readAllBytes(profile));
		Path unitCopy = attached.resolve("single.service");
		assertTrue(Files.isRegularFile(unitCopy, LinkOption.NOFOLLOW_LINKS));
		assertArrayEquals(Files.readAllBytes(unit), Files.readAllBytes(unitCopy));
		Path link = root.resolve("etc/portables/single");
		assertTrue(link + " is not a symlink", Files.isSymbolicLink(link));
		assertEquals(Path.of("/var/lib/portables/single"), Files.readSymbolicLink(link));

		assertEquals("attached\n", expectOutput("psi:isattached --root '" + root + "' single", 0).text());

		expectOutput("psi:detach --root '" + root + "' single", 0);
		// as portabled: the (now empty) link directory stays; so do the parents psi created for system.attached
		assertEquals(List.of("etc", "etc/portables", "etc/systemd"), under("etc"));
		assertEquals("detached\n", expectOutput("psi:isattached --root '" + root + "' single", 1).text());
	}

	// ---- c. a refusal

	@Test
	public void attachRefusesAnImageWithoutOsRelease() throws Exception {
		image("noosr", false);
		PsiException e = expectFailure("psi:attach --root '" + root + "' noosr");
		assertTrue(e.getMessage(), e.getMessage().contains("lacks os-release data"));
		assertFalse("nothing written", Files.exists(root.resolve("etc"), LinkOption.NOFOLLOW_LINKS));
	}

	// ---- d. hot undeploy of a plugin

	@Test
	public void theEngineOutlivesItsImageFormat() throws Exception {
		image("single", true);
		Bundle directory = bundle("psi.format.directory");
		ServiceReference<Portables> before = context.getServiceReference(Portables.class);
		directory.stop();
		try {
			assertEquals(OTHER_FORMATS, bound(configuration("psi.core", ENGINE), "formats"));
			PsiException e = expectFailure("psi:attach --root '" + root + "' single");
			assertTrue(e.getMessage(), e.getMessage().contains("no type psi knows"));
			assertFalse("nothing written", Files.exists(root.resolve("etc"), LinkOption.NOFOLLOW_LINKS));
			ServiceReference<Portables> during = context.getServiceReference(Portables.class);
			assertNotNull("the engine went away with its plugin", during);
			assertEquals("the engine was restarted, not kept", before.getProperty(Constants.SERVICE_ID),
				during.getProperty(Constants.SERVICE_ID));
		} finally {
			directory.start();
		}
		awaitBound("formats", "psi.format.directory/" + DIRECTORY_FORMAT);
		expectOutput("psi:attach --root '" + root + "' single", 0);
		assertTrue(Files.isRegularFile(root.resolve("etc/systemd/system.attached/single.service")));
		expectOutput("psi:detach --root '" + root + "' single", 0);
	}

	/**
	 * Hot deploy in the framework: the tar format's jar dropped into the plugin
	 * folder (FileInstall) reads a .tar.zst archive, and inspect names it;
	 * deleted, no format claims the file.
	 */
	@Test
	public void aFormatDroppedIntoThePluginFolderReadsArchivesUntilItIsDeleted() throws Exception {
		Path folder = Path.of(context.getProperty("felix.fileinstall.dir"));
		Path tree = root.resolve("srv/app_1");
		Files.createDirectories(tree.resolve("usr/lib/systemd/system"));
		Files.writeString(tree.resolve("usr/lib/os-release"), "ID=test\n");
		Files.writeString(tree.resolve("usr/lib/systemd/system/app.service"), "[Service]\nExecStart=/bin/true\n");
		Path archive = root.resolve("srv/app_1.tar.zst");
		Process tar = new ProcessBuilder("tar", "--zstd", "-C", tree.toString(), "-cf", archive.toString(), ".").inheritIO().start();
		assertEquals(0, tar.waitFor());
		String inspect = "psi:inspect --root '" + root + "' /srv/app_1.tar.zst";
		assertTrue(expectFailure(inspect).getMessage().contains("no type psi knows"));
		Path jar = DistributionBundles.basedir().resolve("plugins/format-tar/target/psi.format.tar-0.1.0-SNAPSHOT.jar");
		Files.copy(jar, folder.resolve("tar.jar"));
		try {
			long deadline = System.nanoTime() + 20_000_000_000L;
			while (context.getServiceReferences(psi.spi.format.ImageFormat.class, "(psi.format.type=tar)").isEmpty()) {
				assertTrue("FileInstall installed and started tar.jar", System.nanoTime() < deadline);
				Thread.sleep(100);
			}
			String out = expectOutput(inspect, 0).text();
			assertTrue(out, out.contains("Read by:\n\tpsi.format.tar 0.1.0") && out.contains("Unit files:\n\tapp.service\n"));
		} finally {
			Files.deleteIfExists(folder.resolve("tar.jar"));
		}
		long deadline = System.nanoTime() + 20_000_000_000L;
		while (!context.getServiceReferences(psi.spi.format.ImageFormat.class, "(psi.format.type=tar)").isEmpty()) {
			assertTrue("FileInstall uninstalled tar.jar", System.nanoTime() < deadline);
			Thread.sleep(100);
		}
		assertTrue(expectFailure(inspect).getMessage().contains("no type psi knows"));
	}

	// ---- helpers

	/** Writes a directory image under the root's {@code /var/lib/portables}; returns its unit file. */
	private Path image(String name, boolean osRelease) throws IOException {
		Path img = root.resolve("var/lib/portables").resolve(name);
		if (osRelease) {
			Files.createDirectories(img.resolve("usr/lib"));
			Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		}
		Path unit = img.resolve("usr/lib/systemd/system/" + name + ".service");
		Files.createDirectories(unit.getParent());
		Files.writeString(unit, "[Unit]\nDescription=psi itest " + name + "\n\n[Service]\nExecStart=/bin/true\n");
		return unit;
	}

	private Object execute(String command) throws Exception {
		ByteArrayOutputStream console = new ByteArrayOutputStream();
		PrintStream out = new PrintStream(console, true, UTF_8);
		try (CommandSession session = gogo.createSession(new ByteArrayInputStream(new byte[0]), out, out)) {
			return session.execute(command);
		}
	}

	private CommandOutput expectOutput(String command, int exitStatus) throws Exception {
		Object result = execute(command);
		assertTrue(command + " returned " + result, result instanceof CommandOutput);
		CommandOutput output = (CommandOutput) result;
		assertEquals(command + ": " + output.notice(), exitStatus, output.exitStatus());
		return output;
	}

	private PsiException expectFailure(String command) {
		Object result;
		try {
			result = execute(command);
		} catch (Exception e) {
			for (Throwable t = e; t != null; t = t.getCause()) {
				if (t instanceof PsiException) {
					return (PsiException) t;
				}
			}
			throw new AssertionError(command + " failed, but not with a PsiException", e);
		}
		fail(command + " succeeded: " + (result instanceof CommandOutput ? ((CommandOutput) result).notice() : result));
		return null;
	}

	/** Every path under the root's {@code dir}, relative to the root, sorted. */
	private List<String> under(String dir) throws IOException {
		try (Stream<Path> s = Files.walk(root.resolve(dir))) {
			return s.map(p -> root.relativize(p).toString()).sorted().collect(Collectors.toList());
		}
	}

	private Bundle bundle(String symbolicName) {
		return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
			.orElseThrow(() -> new AssertionError("no bundle " + symbolicName));
	}

	private ComponentConfigurationDTO configuration(String bundle, String component) {
		ComponentDescriptionDTO d = scr.getComponentDescriptionDTO(bundle(bundle), component);
		assertNotNull("no component " + component + " in " + bundle, d);
		List<ComponentConfigurationDTO> c = List.copyOf(scr.getComponentConfigurationDTOs(d));
		assertEquals(component + " configurations", 1, c.size());
		return c.get(0);
	}

	/** The services bound to a reference, as {@code bundle/component.name}. */
	private Set<String> bound(ComponentConfigurationDTO c, String reference) {
		Set<String> names = new TreeSet<>();
		for (SatisfiedReferenceDTO r : c.satisfiedReferences) {
			if (r.name.equals(reference)) {
				for (ServiceReferenceDTO s : r.boundServices) {
					names.add(context.getBundle(s.bundle).getSymbolicName() + "/" + s.properties.get("component.name"));
				}
			}
		}
		return names;
	}

	private void awaitBound(String reference, String expected) throws InterruptedException {
		long deadline = System.nanoTime() + 5_000_000_000L;
		Set<String> now;
		while (!(now = bound(configuration("psi.core", ENGINE), reference)).contains(expected)) {
			if (System.nanoTime() > deadline) {
				fail(reference + " never bound " + expected + " again: " + now);
			}
			Thread.sleep(20);
		}
	}
}
