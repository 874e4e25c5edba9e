package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.dto.FindingDTO;
import psi.api.dto.InspectRequestDTO;
import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;

/** psi lint: a clean image has no finding; each check has an image that triggers it. */
class ImageLintTest {

	@TempDir
	Path root;
	TestHost host;

	@BeforeEach
	void setUp() throws IOException {
		ImageFormat dirs = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? Optional.<ImageTree>of(new DirectoryTree(path, "directory"))
			: Optional.empty();
		host = new TestHost(new HostLayout(root), List.of(dirs), List.of(PolicyTest.profiles()));
		Files.createDirectories(root.resolve("etc"));
		Files.writeString(root.resolve("etc/passwd"), "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n");
		Files.writeString(root.resolve("etc/group"), "root:x:0:\n");
	}

	/** A clean image: os-release with prefixes, the mount points, an executable program and its unit. */
	Path image(String name, String unit, String content) throws IOException {
		Path img = root.resolve("var/lib/portables").resolve(name);
		for (String d : List.of("usr/bin", "usr/lib/systemd/system", "etc", "proc", "sys", "dev", "run", "tmp", "var/tmp")) {
			Files.createDirectories(img.resolve(d));
		}
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\nPORTABLE_PREFIXES=" + name + "\n");
		Files.writeString(img.resolve("etc/machine-id"), "");
		Files.writeString(img.resolve("etc/resolv.conf"), "");
		Path bin = img.resolve("usr/bin/app");
		Files.writeString(bin, "#!/bin/sh\n");
		Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
		if (unit != null) {
			Files.writeString(img.resolve("usr/lib/systemd/system/" + unit), content);
		}
		return img;
	}

	List<FindingDTO> lint(String image) {
		return lint(image, null);
	}

	List<FindingDTO> lint(String image, String profile) {
		InspectRequestDTO r = new InspectRequestDTO();
		r.image = image;
		r.profile = profile;
		try {
			return host.host.catalog().lint(r, path -> {
				psi.api.dto.PullResultDTO v = new psi.api.dto.PullResultDTO();
				v.level = psi.api.dto.VerifyLevel.CHECKSUM;
				return v;
			});
		} catch (IOException e) {
			throw new java.io.UncheckedIOException(e);
		}
	}

	static String checks(List<FindingDTO> fs) {
		return String.join(",", fs.stream().map(f -> f.severity + ":" + f.check).toList());
	}

	@Test
	void aCleanImageHasNoFinding() throws IOException {
		image("good", "good.service", "[Service]\nExecStart=/usr/bin/app\n");
		assertEquals(List.of(), lint("good"));
	}

	@Test
	void eachCheckHasAnImageThatTriggersIt() throws IOException {
		Path img = image("bad", "bad.service", "[Service]\nExecStart=/usr/bin/missing --flag\nExecStartPre=app\nUser=imageonly\n"
			+ "BindPaths=/etc/ssl\n");
		Files.writeString(img.resolve("etc/passwd"), "root:x:0:0::/root:/bin/sh\nimageonly:x:999:999::/:/bin/false\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/bad.socket"), "[Socket]\nListenStream=/run/bad.sock\nAccept=yes\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/bad-worker@.service"), "[Service]\nExecStart=/usr/bin/app %i\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/other.service"), "[Service]\nExecStart=/usr/bin/app\n");
		Files.createDirectories(img.resolve("usr/lib/sysusers.d"));
		Files.writeString(img.resolve("usr/lib/sysusers.d/bad.conf"), "u imageonly - -\n");
		Files.createDirectories(img.resolve("usr/share/dbus-1/system.d"));
		Files.writeString(img.resolve("usr/share/dbus-1/system.d/bad.conf"), "<busconfig/>\n");
		Files.delete(img.resolve("var/tmp"));
		Files.delete(img.resolve("etc/resolv.conf"));
		List<FindingDTO> fs = lint("bad");
		String c = checks(fs);
		for (String want : List.of("error:exec-missing", "error:socket-service", "warning:template", "warning:prefixes",
			"warning:host-files", "warning:mount-points", "warning:bind-host", "error:sandbox")) {
			assertTrue(c.contains(want), want + " in " + c + "\n" + fs);
		}
		// under the default profile (DynamicUser=yes) the account is allocated; under trusted it is missing
		assertTrue(!c.contains("user"), c);
		fs = lint("bad", "trusted");
		c = checks(fs);
		for (String want : List.of("error:exec-missing", "error:user")) {
			assertTrue(c.contains(want), want + " in " + c + "\n" + fs);
		}
		FindingDTO exec = fs.stream().filter(f -> f.check.equals("exec-missing")).findFirst().get();
		assertEquals("bad.service", exec.where);
		assertEquals(2, exec.line);
		assertEquals("ExecStart= runs /usr/bin/missing, which the image lacks: the service fails to start", exec.message);
		FindingDTO user = fs.stream().filter(f -> f.check.equals("user")).findFirst().get();
		assertEquals("User=imageonly exists in the image's /etc/passwd but not on the host: the service fails to start there", user.message);
		assertEquals("use DynamicUser=yes, or ship a sysusers.d entry the host applies", user.remedy);
		assertTrue(fs.get(0).severity.equals("error"), "errors first: " + c);
		// ExecStartPre=app is found in the image's PATH: no finding for it
		assertEquals(1, fs.stream().filter(f -> f.check.equals("exec-missing")).count(), fs.toString());
	}

	@Test
	void noOsReleaseAndNoUnit() throws IOException {
		Path img = image("empty", null, null);
		Files.delete(img.resolve("usr/lib/os-release"));
		assertEquals("error:os-release,error:no-units", checks(lint("empty")));
	}

	/** A raw image (here a directory read as one) only a checksum vouches for: pulled over the network, it is refused. */
	@Test
	void aRawImageNothingSignedVouchesFor() throws IOException {
		image("raw", "raw.service", "[Service]\nExecStart=/usr/bin/app\n");
		ImageFormat asRaw = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
			? Optional.<ImageTree>of(new DirectoryTree(path, "raw") {
				@Override
				public psi.spi.format.RootKind rootKind() {
					return psi.spi.format.RootKind.IMAGE;
				}
			})
			: Optional.empty();
		host = new TestHost(new HostLayout(root), List.of(asRaw), List.of(PolicyTest.profiles()));
		List<FindingDTO> fs = lint("raw");
		assertEquals("warning:verify", checks(fs));
		assertEquals("only a checksum vouches for it: psi pull and psi start over https or ssh refuse it unless --verify=no", fs.get(0).message);
	}

	@Test
	void aProgramThatIsNotExecutable() throws IOException {
		Path img = image("noexec", "noexec.service", "[Service]\nExecStart=/usr/bin/app\n");
		Files.setPosixFilePermissions(img.resolve("usr/bin/app"), PosixFilePermissions.fromString("rw-r--r--"));
		List<FindingDTO> fs = lint("noexec");
		assertEquals("error:exec-missing", checks(fs));
		assertEquals("chmod +x /usr/bin/app in the image", fs.get(0).remedy);
	}
}
