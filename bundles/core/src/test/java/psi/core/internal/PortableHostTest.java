package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.AttachState;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.sandbox.SandboxPolicy;

/** The engine on a scratch root with small fakes for the plugins. */
class PortableHostTest {

	static final byte[] PROFILE = "[Service]\nPrivateTmp=yes\n".getBytes(StandardCharsets.UTF_8);

	@TempDir
	Path root;

	TestHost host;

	@BeforeEach
	void setUp() {
		ImageFormat dirs = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
			? Optional.<ImageTree>of(new DirectoryTree(path, "directory"))
			: Optional.empty();
		SandboxPolicy policy = new SandboxPolicy() {
			@Override
			public Set<String> profiles() {
				return Set.of("default", "strict");
			}

			@Override
			public Optional<byte[]> serviceConf(String name) {
				return profiles().contains(name) ? Optional.of(PROFILE) : Optional.empty();
			}
		};
		host = new TestHost(new HostLayout(root), List.of(dirs), List.of(policy));
	}

	Path image(String name, String osRelease, String... units) throws IOException {
		Path img = root.resolve("var/lib/portables").resolve(name);
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		if (osRelease != null) {
			Files.writeString(img.resolve("usr/lib/os-release"), osRelease);
		}
		for (String u : units) {
			Files.writeString(img.resolve("usr/lib/systemd/system").resolve(u), "[Unit]\nDescription=" + u + "\n");
		}
		return img;
	}

	AttachRequestDTO attach(String image, String... prefixes) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = image;
		r.prefixes = List.of(prefixes);
		return r;
	}

	DetachRequestDTO detach(String image) {
		DetachRequestDTO r = new DetachRequestDTO();
		r.image = image;
		return r;
	}

	/** Every path under the root's etc and run, with link targets: what a change would show. */
	TreeMap<String, String> tree() throws IOException {
		TreeMap<String, String> out = new TreeMap<>();
		for (String top : new String[] { "etc", "run" }) {
			Path t = root.resolve(top);
			if (!Files.exists(t)) {
				continue;
			}
			try (Stream<Path> s = Files.walk(t)) {
				for (Path p : s.toList()) {
					String v = Files.isSymbolicLink(p) ? "-> " + Files.readSymbolicLink(p)
						: Files.isDirectory(p) ? "dir" : "file " + Files.size(p);
					out.put("/" + root.relativize(p), v);
				}
			}
		}
		return out;
	}

	@Test
	void aProfileMayBeGivenAsTheAbsolutePathOfItsFile() throws IOException {
		image("single", "ID=test\n", "single.service");
		Path conf = root.resolve("etc/my-profiles/tight.conf");
		Files.createDirectories(conf.getParent());
		Files.writeString(conf, "[Service]\nPrivateNetwork=yes\n");
		AttachRequestDTO r = attach("single");
		r.profile = "/etc/my-profiles/tight.conf";
		host.attach(r, false);
		Path attached = root.resolve("etc/systemd/system.attached");
		assertEquals("/etc/my-profiles/tight.conf", Files.readSymbolicLink(attached.resolve("single.service.d/10-profile.conf")).toString());
		host.detach(detach("single"));
		// relative, missing, or no regular file: refused, nothing written
		for (String bad : new String[] { "my-profiles/tight.conf", "/etc/my-profiles/none.conf", "/etc/my-profiles" }) {
			r.profile = bad;
			PsiException e = assertThrows(PsiException.class, () -> host.attach(r, false), bad);
			assertTrue(e.getMessage().contains(bad), e.getMessage());
			assertFalse(Files.exists(attached), bad);
		}
	}

	@Test
	void attachWritesWhatPortabledWritesAndDetachRemovesIt() throws IOException {
		image("sst", "ID=test\n", "sst.service", "sst.socket", "sst.timer", "other.service");
		List<ChangeDTO> changes = host.attach(attach("sst"), false);
		assertEquals(ChangeDTO.Type.MKDIR, changes.get(0).type);
		assertEquals("/etc/systemd/system.attached", changes.get(0).path);
		Path attached = root.resolve("etc/systemd/system.attached");
		assertEquals("[Unit]\nDescription=sst.service\n", Files.readString(attached.resolve("sst.service")));
		assertArrayEquals(PROFILE, Files.readAllBytes(attached.resolve("sst.service.d/10-profile.conf")));
		assertFalse(Files.exists(attached.resolve("sst.socket.d/10-profile.conf")));
		assertEquals("# Drop-in created for image '/var/lib/portables/sst', do not edit.\n",
			Files.readString(attached.resolve("sst.timer.d/20-portable.conf")));
		assertTrue(Files.readString(attached.resolve("sst.service.d/20-portable.conf")).contains("RootDirectory=/var/lib/portables/sst\n"));
		assertFalse(Files.exists(attached.resolve("other.service")));
		assertEquals("/var/lib/portables/sst", Files.readSymbolicLink(root.resolve("etc/portables/sst")).toString());
		assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(attached.resolve("sst.service"))));
		assertEquals(AttachState.ATTACHED, host.state("sst"));

		host.detach(detach("sst"));
		assertEquals(AttachState.DETACHED, host.state("sst"));
		assertEquals(new TreeMap<>(java.util.Map.of("/etc", "dir", "/etc/portables", "dir", "/etc/systemd", "dir")), tree());
	}

	@Test
	void imagesWithoutHostFilesGetRootImageAndSourcelessCopies() throws IOException {
		image("gpt_1.raw", "ID=test\n", "gpt.service");
		// a stand-in for a raw image: its files are no host files, and systemd roots it with RootImage=
		ImageFormat raw = path -> Optional.of(new DirectoryTree(path, "raw") {
			@Override
			public psi.spi.format.RootKind rootKind() {
				return psi.spi.format.RootKind.IMAGE;
			}

			@Override
			public Optional<Path> hostPath(String p) {
				return Optional.empty();
			}
		});
		host = new TestHost(new HostLayout(root), List.of(raw), List.of());
		AttachRequestDTO r = attach("/var/lib/portables/gpt_1.raw");
		r.copy = "symlink";
		r.profile = "default";
		Path profile = root.resolve("usr/lib/systemd/portable/profile/default/service.conf");
		Files.createDirectories(profile.getParent());
		Files.writeString(profile, "[Service]\n");
		List<ChangeDTO> changes = host.attach(r, false);
		ChangeDTO unit = changes.stream().filter(c -> c.path.equals("/etc/systemd/system.attached/gpt.service")).findFirst().orElseThrow();
		assertEquals(ChangeDTO.Type.COPY, unit.type, "a raw image's unit is copied even with --copy=symlink");
		assertEquals(null, unit.source);
		String conf = Files.readString(root.resolve("etc/systemd/system.attached/gpt.service.d/20-portable.conf"));
		assertTrue(conf.contains("RootImage=/var/lib/portables/gpt_1.raw\nEnvironment=PORTABLE=gpt_1.raw\n"), conf);
	}

	@Test
	void hostProfileWinsAndIsLinked() throws IOException {
		image("single", "ID=test\n", "single.service");
		Path p = root.resolve("usr/lib/systemd/portable/profile/strict/service.conf");
		Files.createDirectories(p.getParent());
		Files.writeString(p, "[Service]\n");
		AttachRequestDTO r = attach("single");
		r.profile = "strict";
		host.attach(r, false);
		assertEquals("/usr/lib/systemd/portable/profile/strict/service.conf",
			Files.readSymbolicLink(root.resolve("etc/systemd/system.attached/single.service.d/10-profile.conf")).toString());
	}

	@Test
	void runtimeSymlinkAndReattach() throws IOException {
		image("ver_1", "ID=test\n", "ver.service");
		image("ver_2", "ID=test\n", "ver.service");
		Files.writeString(root.resolve("var/lib/portables/ver_2/usr/lib/systemd/system/ver.service"), "[Unit]\nDescription=two\n");
		AttachRequestDTO r = attach("ver_1");
		r.runtime = true;
		r.copy = "symlink";
		host.attach(r, false);
		Path unit = root.resolve("run/systemd/system.attached/ver.service");
		assertEquals("/var/lib/portables/ver_1/usr/lib/systemd/system/ver.service", Files.readSymbolicLink(unit).toString());
		assertEquals(AttachState.ATTACHED_RUNTIME, host.state("ver_1"));

		AttachRequestDTO re = attach("ver_2");
		re.runtime = true;
		List<ChangeDTO> changes = host.attach(re, true);
		assertTrue(changes.stream().anyMatch(c -> c.type == ChangeDTO.Type.UNLINK && c.path.equals("/run/portables/ver_1")));
		assertFalse(Files.isSymbolicLink(unit));
		assertEquals("[Unit]\nDescription=two\n", Files.readString(unit));
		assertFalse(Files.exists(root.resolve("run/portables/ver_1"), LinkOption.NOFOLLOW_LINKS));
	}

	@Test
	void unitsBehindLinksAreReadInsideTheImage() throws IOException {
		Path img = image("lnk", "ID=test\n");
		Files.createDirectories(img.resolve("usr/share/lnk"));
		Files.writeString(img.resolve("usr/share/lnk/real.service"), "[Unit]\nDescription=inside\n");
		Files.createSymbolicLink(img.resolve("usr/lib/systemd/system/lnk.service"), Path.of("/usr/share/lnk/real.service"));
		Files.createSymbolicLink(img.resolve("usr/lib/systemd/system/lnk-rel.service"), Path.of("../../../share/lnk/real.service"));
		Files.writeString(img.resolve("usr/lib/systemd/system/lnk-empty.service"), "");
		host.attach(attach("lnk"), false);
		Path attached = root.resolve("etc/systemd/system.attached");
		assertEquals("[Unit]\nDescription=inside\n", Files.readString(attached.resolve("lnk.service")));
		assertEquals("[Unit]\nDescription=inside\n", Files.readString(attached.resolve("lnk-rel.service")));
		assertFalse(Files.exists(attached.resolve("lnk-empty.service")), "empty (masked) units are skipped");
	}

	/** What inspect shows is what --copy=symlink attaches: a unit that is a link in the image is copied, not linked. */
	@Test
	void withCopySymlinkAUnitThatIsALinkInTheImageIsCopied() throws IOException {
		Path img = image("lnk", "ID=test\n", "lnk-plain.service");
		Files.createDirectories(img.resolve("usr/share/lnk"));
		Files.writeString(img.resolve("usr/share/lnk/real.service"), "[Unit]\nDescription=inside\n");
		Files.createSymbolicLink(img.resolve("usr/lib/systemd/system/lnk.service"), Path.of("/usr/share/lnk/real.service"));
		AttachRequestDTO r = attach("lnk");
		r.copy = "symlink";
		List<ChangeDTO> changes = host.attach(r, false);
		Path attached = root.resolve("etc/systemd/system.attached");
		assertFalse(Files.isSymbolicLink(attached.resolve("lnk.service")), "linked, it would resolve to the host's /usr/share");
		assertEquals("[Unit]\nDescription=inside\n", Files.readString(attached.resolve("lnk.service")));
		assertTrue(changes.stream().anyMatch(c -> c.type == ChangeDTO.Type.COPY && c.path.endsWith("/lnk.service")), changes.toString());
		assertTrue(Files.isSymbolicLink(attached.resolve("lnk-plain.service")), "a plain unit file is still linked");
	}

	void refused(String expected, AttachRequestDTO r) throws IOException {
		TreeMap<String, String> before = tree();
		Exception e = assertThrows(Exception.class, () -> host.attach(r, false));
		assertTrue(e.getMessage().contains(expected), e.getMessage());
		assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
		assertEquals(before, tree(), "nothing written");
	}

	@Test
	void refusals() throws IOException {
		image("noosr", null, "noosr.service");
		refused("Image '/var/lib/portables/noosr' lacks os-release data", attach("noosr"));
		image("noid", "NAME=x\n", "noid.service");
		refused("Image /var/lib/portables/noid os-release metadata lacks the ID field", attach("noid"));
		image("nounit", "ID=test\n", "other.service");
		refused("Couldn't find any matching unit files in image '/var/lib/portables/nounit', refusing.", attach("nounit"));
		image("pfx", "ID=test\nPORTABLE_PREFIXES=\"pfx-a pfx-b\"\n", "pfx-a.service");
		refused("Selected matches 'pfx' are not compatible with portable service image '/var/lib/portables/pfx', refusing. (Acceptable prefix matches are: pfx-a, pfx-b)", attach("pfx"));
		refused("Selected matches 'pfx-a', 'zzz'", attach("pfx", "pfx-a", "zzz"));
		image("single", "ID=test\n", "single.service");
		AttachRequestDTO bogus = attach("single");
		bogus.profile = "bogus";
		refused("Profile 'bogus' not found", bogus);
		AttachRequestDTO slash = attach("single");
		slash.profile = "a/b";
		refused("Unit profile name not valid: a/b", slash);
		AttachRequestDTO copy = attach("single");
		copy.copy = "bogus";
		refused("Failed to parse --copy= argument: bogus", copy);
		refused("No image 'nosuch' found.", attach("nosuch"));
		refused("Cannot normalize specified image path '/srv/nosuch'", attach("/srv/nosuch"));
		refused("Failed to extract prefix of image name 'sin gle'", attach("sin gle"));
	}

	@Test
	void refusesASymlinkLeadingOutOfTheImage() throws IOException {
		Path img = image("esc", "ID=test\n");
		Files.createSymbolicLink(img.resolve("usr/lib/systemd/system/esc.service"), Path.of("../../../../../../../../etc/shadow"));
		refused("leads out of its root", attach("esc"));
		Path img2 = image("loop", "ID=test\n");
		Files.createSymbolicLink(img2.resolve("usr/lib/systemd/system/loop.service"), Path.of("loop.service"));
		refused("more than 40 symbolic links", attach("loop"));
	}

	@Test
	void refusesAUnitThatExistsOnTheHostUnlessForced() throws IOException {
		image("single", "ID=test\n", "single.service");
		Path hostUnit = root.resolve("etc/systemd/system/single.service");
		Files.createDirectories(hostUnit.getParent());
		Files.writeString(hostUnit, "[Unit]\n");
		refused("Unit file 'single.service' exists on the host already, refusing.", attach("single"));
		AttachRequestDTO forced = attach("single");
		forced.force = true;
		host.attach(forced, false);
		assertTrue(Files.exists(root.resolve("etc/systemd/system.attached/single.service")));
		assertEquals("[Unit]\n", Files.readString(hostUnit), "the host's unit is left alone");
	}

	@Test
	void aFailureHalfwayRollsEverythingBack() throws IOException {
		image("sst", "ID=test\n", "sst.service", "sst.socket", "sst.timer");
		// a directory where the last unit file must go: the first units are written, then the attach fails
		Path blocker = root.resolve("etc/systemd/system.attached/sst.timer");
		Files.createDirectories(blocker);
		TreeMap<String, String> before = tree();
		AttachRequestDTO r = attach("sst");
		r.force = true;
		Exception e = assertThrows(IOException.class, () -> host.attach(r, false));
		assertTrue(e.getMessage().contains("in the way"), e.getMessage());
		assertEquals(before, tree());
	}

	@Test
	void detachOfWhatIsNotAttachedIsRefused() throws IOException {
		image("sst", "ID=test\n", "sst.service");
		AttachRequestDTO r = attach("sst");
		r.runtime = true;
		host.attach(r, false);
		PsiException e = assertThrows(PsiException.class, () -> host.detach(detach("sst")));
		assertTrue(e.getMessage().startsWith("No unit files associated with 'sst' found attached to the system. Image not attached?"), e.getMessage());
		DetachRequestDTO d = detach("sst");
		d.runtime = true;
		assertEquals(new ArrayList<>(List.of(ChangeDTO.Type.UNLINK)), new ArrayList<>(List.of(host.detach(d).get(0).type)));
	}

	@Test
	void removeRefusesAttachedImages() throws IOException {
		image("single", "ID=test\n", "single.service");
		host.attach(attach("single"), false);
		PsiException e = assertThrows(PsiException.class, () -> host.remove(List.of("single")));
		assertTrue(e.getMessage().contains("is not detached, refusing."), e.getMessage());
		host.detach(detach("single"));
		host.remove(List.of("single"));
		assertFalse(Files.exists(root.resolve("var/lib/portables/single")));
	}

	@Test
	void listShowsImagesWithTheirState() throws IOException {
		image("a", "ID=test\n", "a.service");
		image("b_1", "ID=test\n", "b.service");
		host.attach(attach("b_1"), false);
		var list = host.list();
		assertEquals(List.of("a", "b_1"), list.stream().map(i -> i.name).toList());
		assertEquals(List.of(AttachState.DETACHED, AttachState.ATTACHED), list.stream().map(i -> i.state).toList());
		assertEquals("directory", list.get(0).type);
	}

	/** An image directory whose name would inject settings into the drop-in is refused, and nothing is written. */
	@Test
	void aNameThatWouldInjectSettingsIsRefused() throws IOException {
		Path img = image("x\n[Service]\nExecStartPre=/tmp/evil\n#", "ID=test\n", "x.service");
		PsiException e = assertThrows(PsiException.class, () -> host.attach(attach("/" + root.relativize(img), "x"), false));
		assertEquals("image path '/var/lib/portables/x\\n[Service]\\nExecStartPre=/tmp/evil\\n#' holds the control character \\x0a at offset 20; "
			+ "systemd would not read it back from a unit file, refusing", e.getMessage());
		assertFalse(Files.exists(root.resolve("etc")), "nothing written");
	}

	/**
	 * What psi purge would remove and keep: every version and link of the
	 * image (not of foobar), an attached version's units, the data its
	 * units name, psi's records and logs of them; a vendor's image and a
	 * linked file outside the pool are kept and said so.
	 */
	@Test
	void aPurgePlanTakesEveryVersionAndKeepsWhatIsNotPsis() throws Exception {
		image("foo_1", "ID=test\n", "foo.service");
		Files.writeString(root.resolve("var/lib/portables/foo_1/usr/lib/systemd/system/foo.service"), "[Service]\nStateDirectory=foo\n");
		image("foo_2", "ID=test\n", "foo.service");
		image("foobar_1", "ID=test\n", "foobar.service");
		host.attach(attach("foo_1"), false);
		Path vendor = root.resolve("usr/lib/portables/foo_0");
		Files.createDirectories(vendor);
		Path outside = Files.createDirectories(root.resolve("srv/foo_3"));
		Files.createSymbolicLink(root.resolve("etc/portables/foo_3"), Path.of("/srv/foo_3"));
		Files.createDirectories(root.resolve("var/lib/private/foo"));
		Files.createDirectories(root.resolve("var/lib/psi/images"));
		Files.writeString(root.resolve("var/lib/psi/images/foo_2.origin"), "source=x\n");
		Files.writeString(root.resolve("var/lib/psi/images/foobar_1.origin"), "source=x\n");
		Files.createDirectories(root.resolve("var/log/psi"));
		for (String l : List.of("foo.service.log", "foo.service.log.1", "foobar.service.log")) {
			Files.writeString(root.resolve("var/log/psi").resolve(l), "x\n");
		}
		for (String arg : List.of("foo", "foo_2", "/var/lib/portables/foo_1")) {
			Purge plan = Purge.plan(host.host, arg, false);
			assertEquals("foo", plan.base());
			assertEquals(java.util.Map.of("/etc/systemd/system.attached", List.of("foo.service")), plan.attached());
			assertEquals(List.of("/etc/portables/foo_1", "/etc/portables/foo_3", "/var/lib/portables/foo_1", "/var/lib/portables/foo_2"),
				plan.images());
			assertEquals(List.of("/var/lib/psi/images/foo_1.attached", "/var/lib/psi/images/foo_2.origin"), plan.records());
			assertEquals(List.of("/var/lib/private/foo"), plan.directories());
			assertEquals(List.of("/var/log/psi/foo.service.log", "/var/log/psi/foo.service.log.1"), plan.logs());
			assertEquals(List.of("/srv/foo_3: not in the pool (only the link /etc/portables/foo_3 goes)",
				"/usr/lib/portables/foo_0: a vendor's image (/usr/lib/portables), removed with what installed it"), plan.kept().stream().sorted().toList());
		}
		assertEquals(List.of(), Purge.plan(host.host, "foo", true).directories(), "--keep-data");
		PsiException none = assertThrows(PsiException.class, () -> Purge.plan(host.host, "nothing", false));
		assertTrue(none.getMessage().startsWith("No image 'nothing' found, nor anything attached or left of it."), none.getMessage());
		assertThrows(PsiException.class, () -> Purge.plan(host.host, "..", false));
		assertTrue(Files.isDirectory(outside) && Files.isDirectory(vendor), "planning changes nothing");
	}

	/**
	 * The versions of an image, newest first by systemd's order: from the
	 * file name, else the os-release's IMAGE_VERSION=, else VERSION_ID=;
	 * other images and odd os-release values are not taken.
	 */
	@Test
	void versionsComeFromTheNameElseTheOsRelease() throws Exception {
		image("foo_2", "ID=test\n", "foo.service");
		image("foo_10", "ID=test\n", "foo.service");
		image("foo", "ID=test\nIMAGE_VERSION=3\nVERSION_ID=12\n", "foo.service");
		image("foobar_99", "ID=test\n", "foobar.service");
		Path vendor = root.resolve("usr/lib/portables/foo_1");
		Files.createDirectories(vendor.resolve("usr/lib"));
		Files.writeString(vendor.resolve("usr/lib/os-release"), "ID=test\n");
		List<ImageVersions.Version> v = ImageVersions.of(host.host, "foo");
		assertEquals(List.of("foo_10:10", "foo:3", "foo_2:2", "foo_1:1"), v.stream().map(x -> x.name() + ":" + x.version()).toList());
		assertEquals("12", ImageVersions.versionOf(host.host, image("bar", "ID=test\nVERSION_ID=12\n").toString().substring(root.toString().length())));
		assertEquals(null, ImageVersions.versionOf(host.host, image("baz", "ID=test\nIMAGE_VERSION=\"1 2\"\n").toString().substring(root.toString().length())),
			"a version with a space is no version");
	}
}
