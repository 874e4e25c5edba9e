package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.dto.AttachRequestDTO;
import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.sandbox.SandboxPolicy;

/**
 * The drop-in follows the systemd installed under the root: 252's with
 * the os-release bound, 254 and later's with the version log fields
 * (fixtures in src/test/resources/dropins, see its README).
 */
class DropInStyleTest {

	@TempDir
	Path root;

	TestHost host;

	@BeforeEach
	void setUp() throws IOException {
		ImageFormat dirs = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? Optional.<ImageTree>of(new DirectoryTree(path, "directory"))
			: Optional.empty();
		SandboxPolicy none = new SandboxPolicy() {
			@Override
			public java.util.Set<String> profiles() {
				return java.util.Set.of("default");
			}

			@Override
			public Optional<byte[]> serviceConf(String name) {
				return Optional.of("[Service]\n".getBytes(StandardCharsets.UTF_8));
			}
		};
		host = new TestHost(new HostLayout(root), List.of(dirs), List.of(none));
		Files.createDirectories(root.resolve("etc"));
		Files.writeString(root.resolve("etc/os-release"), "ID=host\n");
		image("single", "ID=test\nVERSION_ID=1\n", "single.service");
		image("rt", "ID=test\nVERSION_ID=1\n", "rt.service");
		Path ext = root.resolve("var/lib/portables/app0");
		Files.createDirectories(ext.resolve("usr/lib/extension-release.d"));
		Files.writeString(ext.resolve("usr/lib/extension-release.d/extension-release.app0"), "ID=test\nVERSION_ID=1\nSYSEXT_ID=app\nSYSEXT_VERSION_ID=0.3\n");
		Files.createDirectories(ext.resolve("usr/lib/systemd/system"));
		Files.writeString(ext.resolve("usr/lib/systemd/system/app0.service"), "[Service]\nExecStart=/bin/true\n");
	}

	void image(String name, String osRelease, String unit) throws IOException {
		Path img = root.resolve("var/lib/portables").resolve(name);
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), osRelease);
		Files.writeString(img.resolve("usr/lib/systemd/system").resolve(unit), "[Service]\nExecStart=/bin/true\n");
	}

	void systemd(String library) throws IOException {
		Path d = Files.createDirectories(root.resolve("usr/lib/x86_64-linux-gnu/systemd"));
		Files.writeString(d.resolve(library), "");
	}

	static String fixture(String name) throws IOException {
		try (InputStream in = DropInStyleTest.class.getResourceAsStream("/dropins/" + name)) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
	}

	String attached(AttachRequestDTO r, String unit) throws IOException {
		host.attach(r, false);
		return Files.readString(root.resolve("etc/systemd/system.attached/" + unit + ".d/20-portable.conf"));
	}

	static AttachRequestDTO attach(String image, String... extensions) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = image;
		r.extensions = List.of(extensions);
		return r;
	}

	/** A configuration extension (its release file in /etc/extension-release.d): portabled 255 and later take it, 252 does not. */
	@Test
	void aConfigurationExtensionNeedsSystemd255() throws IOException {
		Path conf = root.resolve("var/lib/portables/conf0");
		Files.createDirectories(conf.resolve("etc/extension-release.d"));
		Files.writeString(conf.resolve("etc/extension-release.d/extension-release.conf0"), "ID=test\nVERSION_ID=1\nCONFEXT_ID=conf\nCONFEXT_VERSION_ID=2\n");
		Files.createDirectories(conf.resolve("usr/lib/systemd/system"));
		Files.writeString(conf.resolve("usr/lib/systemd/system/conf0.service"), "[Service]\nExecStart=/bin/true\n");
		AttachRequestDTO r = attach("rt", "conf0");
		r.prefixes = List.of("conf0");
		psi.api.PsiException e = org.junit.jupiter.api.Assertions.assertThrows(psi.api.PsiException.class, () -> host.attach(r, false));
		assertEquals("Image '/var/lib/portables/conf0' lacks extension-release data, refusing.", e.summary());
		systemd("libsystemd-shared-255.so");
		assertEquals(fixture("portabled-255-confext.conf"), attached(r, "conf0.service"));
	}

	@Test
	void noSystemdFoundWritesWhat252Writes() throws IOException {
		assertEquals(252, SystemdVersion.installed(new HostLayout(root)));
		assertEquals(fixture("portabled-252-single.conf"), attached(attach("single"), "single.service"));
	}

	@Test
	void systemd252WritesWhat252Writes() throws IOException {
		systemd("libsystemd-shared-252.so");
		assertEquals(fixture("portabled-252-single.conf"), attached(attach("single"), "single.service"));
	}

	@Test
	void systemd256WritesWhat256Writes() throws IOException {
		systemd("libsystemd-shared-256.7-1.so");
		assertEquals(256, SystemdVersion.installed(new HostLayout(root)));
		assertEquals(fixture("portabled-256-single.conf"), attached(attach("single"), "single.service"));
		AttachRequestDTO r = attach("rt", "app0");
		r.prefixes = List.of("app0");
		assertEquals(fixture("portabled-256-extension.conf"), attached(r, "app0.service"));
	}
}
