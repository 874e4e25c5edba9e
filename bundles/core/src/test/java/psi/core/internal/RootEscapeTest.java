package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.DetachRequestDTO;

/**
 * Nothing psi writes under {@code --root DIR} lands outside DIR: absolute
 * links inside DIR resolve inside it, as systemd's {@code chase()} with
 * {@code CHASE_PREFIX_ROOT} does, and a relative link climbing out of it is refused.
 */
class RootEscapeTest {

	@TempDir
	Path root;

	@TempDir
	Path outside;

	PortablesEngine engine() throws IOException {
		Path img = root.resolve("var/lib/portables/esc");
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/esc.service"), "[Service]\nExecStart=/bin/true\n");
		return HostLockWorker.engine(root);
	}

	AttachRequestDTO attach() {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = "esc";
		return r;
	}

	List<Path> under(Path dir) throws IOException {
		try (Stream<Path> s = Files.walk(dir)) {
			return s.filter(p -> !p.equals(dir)).toList();
		}
	}

	@Test
	void absoluteLinksInsideTheRootResolveInsideIt() throws IOException {
		PortablesEngine engine = engine();
		// the root's /etc/systemd, /etc/portables and /run are absolute links, as they might be in a copied tree
		Files.createDirectories(root.resolve("etc"));
		Files.createSymbolicLink(root.resolve("etc/systemd"), outside.resolve("systemd"));
		Files.createDirectories(outside.resolve("systemd"));
		Files.createSymbolicLink(root.resolve("etc/portables"), outside);
		Files.createSymbolicLink(root.resolve("run"), outside);

		engine.attach(attach());
		assertEquals(List.of(outside.resolve("systemd")), under(outside), "nothing written outside the root");
		Path inside = root.resolve(outside.toString().substring(1));
		assertTrue(Files.isRegularFile(inside.resolve("systemd/system.attached/esc.service.d/20-portable.conf")),
			"the drop-ins are where the link points, seen from the root");
		assertTrue(Files.isSymbolicLink(inside.resolve("esc")) || Files.exists(root.resolve("etc/portables")), "the image link");
		assertTrue(Files.isRegularFile(inside.resolve("psi/host.lock")), "the lock file is inside the root");
		assertEquals("attached", engine.state(null, "esc").label());

		DetachRequestDTO d = new DetachRequestDTO();
		d.image = "esc";
		engine.detach(d);
		assertEquals(List.of(outside.resolve("systemd")), under(outside), "nothing removed or written outside the root");
	}

	@Test
	void aRelativeLinkClimbingOutOfTheRootIsRefused() throws IOException {
		PortablesEngine engine = engine();
		Files.createDirectories(root.resolve("etc"));
		Path up = root.relativize(outside);
		Files.createSymbolicLink(root.resolve("etc/systemd"), Path.of("..").resolve(up));
		PsiException e = assertThrows(PsiException.class, () -> engine.attach(attach()));
		assertTrue(e.getMessage().contains("leads out of its root"), e.getMessage());
		assertEquals(List.of(), under(outside), "nothing written outside the root");
	}

	/** Where pulled images, origin records and staging files go: the pool resolved inside the root. */
	@Test
	void thePoolBehindAnAbsoluteLinkIsInsideTheRoot() throws IOException {
		Files.createDirectories(root.resolve("var/lib"));
		Files.createSymbolicLink(root.resolve("var/lib/portables"), outside);
		HostLayout layout = new HostLayout(root);
		Path inside = root.resolve(outside.toString().substring(1));
		assertEquals(inside.resolve("foo_1.raw"), layout.real("/var/lib/portables/foo_1.raw"));
		assertEquals(inside, layout.realDirectory("/var/lib/portables"));
		assertEquals(root.resolve("var/lib/portables"), layout.real("/var/lib/portables"), "the link itself, to read or replace");
		assertEquals(root.resolve("a/b/c"), layout.real("/a/b/c"), "missing directories as named");
		assertEquals(Path.of("/etc/x"), new HostLayout(Path.of("/")).real("/etc/x"), "the running host as it is");
	}
}
