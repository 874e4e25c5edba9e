package psi.itest;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

import org.ops4j.pax.exam.Option;

/**
 * The bundles psi ships, as Pax Exam options: the bundles and their order are
 * {@code launch.bundles} of the exported {@code distribution/target/psi.jar}
 * (the resolver's {@code -runbundles}), with its framework properties. psi's
 * own bundles are taken from their modules' {@code target/} (fresh from this
 * build, never a stale SNAPSHOT in {@code ~/.m2}); the others are extracted
 * from psi.jar, so the tests resolve nothing from a repository. Runs in the
 * test JVM, outside the framework.
 */
final class DistributionBundles {

	/** The system property naming the reactor root (set by failsafe). */
	static final String BASEDIR = "psi.basedir";
	/** The framework property carrying the version of the framework psi.jar embeds. */
	static final String RUNFW_VERSION = "psi.itest.runfw.version";

	private static final String FRAMEWORK_JAR_PREFIX = "jar/org.apache.felix.framework-";

	private DistributionBundles() {
	}

	static Path basedir() {
		String b = System.getProperty(BASEDIR);
		if (b == null) {
			throw new IllegalStateException("system property " + BASEDIR + " (the reactor root) is not set; run the tests through mvn verify");
		}
		return Path.of(b).toAbsolutePath().normalize();
	}

	/**
	 * @param frameworkProperties extra framework properties, {@code key=value}
	 * @return the bundles to install, in order, and the framework properties
	 */
	static Option[] options(String... frameworkProperties) {
		Path base = basedir();
		Path psiJar = base.resolve("distribution/target/psi.jar");
		if (!Files.isRegularFile(psiJar)) {
			throw new IllegalStateException(psiJar + " is missing: build the distribution first (mvn install -DskipTests)");
		}
		Path extracted = base.resolve("itest/target/distribution-bundles");
		List<Option> options = new ArrayList<>();
		try (JarFile jar = new JarFile(psiJar.toFile())) {
			Properties launch = new Properties();
			try (InputStream in = jar.getInputStream(entry(jar, "launcher.properties"))) {
				launch.load(in);
			}
			for (String name : launch.stringPropertyNames()) {
				// launch.* configure bnd's launcher; Pax Exam sets the start levels itself
				if (!name.startsWith("launch.") && !name.equals("org.osgi.framework.startlevel.beginning")) {
					options.add(frameworkProperty(name).value(launch.getProperty(name)));
				}
			}
			options.add(frameworkProperty(RUNFW_VERSION).value(frameworkVersion(jar)));
			// FileInstall watches ./load unless told (and makes it): a plugin folder of the test's own instead
			Path plugins = Files.createTempDirectory("psi-itest-plugins-");
			plugins.toFile().deleteOnExit();
			options.add(frameworkProperty("felix.fileinstall.dir").value(plugins.toString()));
			options.add(frameworkProperty("felix.fileinstall.filter").value(".*\\.jar"));
			Files.createDirectories(extracted);
			for (String path : launch.getProperty("launch.bundles").split(",")) {
				String fileName = path.substring(path.lastIndexOf('/') + 1);
				Path file = fileName.startsWith("psi.") ? moduleJar(base, fileName) : extract(jar, path, extracted.resolve(fileName));
				// a fragment (psi.wrap.dbus-java.transport) is attached to its host, never started
				options.add(bundle(file.toUri().toString()).start(!isFragment(file)));
			}
		} catch (IOException e) {
			throw new UncheckedIOException("cannot read " + psiJar, e);
		}
		for (String p : frameworkProperties) {
			int eq = p.indexOf('=');
			options.add(frameworkProperty(p.substring(0, eq)).value(p.substring(eq + 1)));
		}
		return options.toArray(Option[]::new);
	}

	private static boolean isFragment(Path bundle) throws IOException {
		try (JarFile j = new JarFile(bundle.toFile())) {
			return j.getManifest().getMainAttributes().getValue("Fragment-Host") != null;
		}
	}

	private static ZipEntry entry(JarFile jar, String name) throws IOException {
		ZipEntry e = jar.getEntry(name);
		if (e == null) {
			throw new IOException(jar.getName() + " has no " + name + "; is it bnd's executable jar?");
		}
		return e;
	}

	private static String frameworkVersion(JarFile jar) throws IOException {
		ZipEntry fw = jar.stream().filter(e -> e.getName().startsWith(FRAMEWORK_JAR_PREFIX)).findFirst()
			.orElseThrow(() -> new IOException(jar.getName() + " embeds no Felix framework"));
		try (JarInputStream in = new JarInputStream(jar.getInputStream(fw))) {
			Manifest m = in.getManifest();
			return m.getMainAttributes().getValue("Bundle-Version");
		}
	}

	/** psi's bundle of that file name in its module's {@code target/}, e.g. {@code bundles/api/target/psi.api-0.1.0-SNAPSHOT.jar}. */
	private static Path moduleJar(Path base, String fileName) throws IOException {
		try (Stream<Path> s = Files.find(base, 4, (p, a) -> a.isRegularFile() && p.getFileName().toString().equals(fileName)
			&& p.getParent().getFileName().toString().equals("target") && !p.startsWith(base.resolve("distribution"))
			&& !p.startsWith(base.resolve("itest")))) {
			List<Path> found = s.collect(Collectors.toList());
			if (found.size() != 1) {
				throw new IllegalStateException("psi.jar ships " + fileName + ", expected exactly one module target/ holding it under "
					+ base + ", found " + found + " (build the reactor first)");
			}
			return found.get(0);
		}
	}

	private static Path extract(JarFile jar, String path, Path to) throws IOException {
		try (InputStream in = jar.getInputStream(entry(jar, path))) {
			Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
		}
		return to;
	}
}
