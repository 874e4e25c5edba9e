package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.DetachRequestDTO;

/**
 * Every host change is all or nothing: attach, detach, reattach and remove
 * are run once to count their steps, then again with each step failing in
 * turn (a file that cannot be written, a rename that fails, a link, a
 * removal) and with the service manager failing; each failed run must leave
 * the host exactly as it was before, byte for byte, and each good run
 * exactly as after.
 */
class FaultInjectionTest {

	@TempDir
	Path scratch;

	/** A fresh host in its state before the operation. */
	private record Setup(Path root, PortablesEngine engine, UnitControlTest.FakeManager manager) {
	}

	private int hosts;

	private Setup host(String op) throws IOException {
		Path root = scratch.resolve("host" + hosts++);
		Files.createDirectories(root);
		UnitControlTest.FakeManager manager = new UnitControlTest.FakeManager();
		PortablesEngine engine = new PortablesEngine(HostLockWorker.config(root)) {
			@Override
			UnitControl control(String rootArg) {
				return new UnitControl(manager, "", calls);
			}
		};
		PortablesEngine plain = HostLockWorker.engine(root);
		engine.formats = plain.formats;
		engine.policies = plain.policies;
		image(root, "app_1", "app.service", "app.socket", "app-helper.service");
		image(root, "app_2", "app.service", "app-web.service");
		// a host profile, linked (not copied) by attach
		Path profile = root.resolve("usr/lib/systemd/portable/profile/default/service.conf");
		Files.createDirectories(profile.getParent());
		Files.writeString(profile, "[Service]\nDynamicUser=yes\n");
		switch (op) {
			case "detach", "reattach" -> engine.attach(attach("app_1"));
			case "remove" -> {
				// a pulled image's origin record, and an image outside the search path linked into it
				Path origin = root.resolve("var/lib/psi/images/app_1.origin");
				Files.createDirectories(origin.getParent());
				Files.writeString(origin, "source=https://h.test/app_1.raw\n");
				image(root, "../../../srv/other_1", "other.service");
				Files.createDirectories(root.resolve("etc/portables"));
				Files.createSymbolicLink(root.resolve("etc/portables/other_1"), Path.of("/srv/other_1"));
			}
			default -> {
			}
		}
		manager.calls.clear();
		return new Setup(root, engine, manager);
	}

	private static void image(Path root, String name, String... units) throws IOException {
		Path img = root.resolve("var/lib/portables").resolve(name);
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		for (String u : units) {
			Files.writeString(img.resolve("usr/lib/systemd/system").resolve(u), "[Service]\nExecStart=/bin/" + u + "\n");
		}
	}

	private static AttachRequestDTO attach(String image) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = image;
		r.prefixes = List.of("app");
		return r;
	}

	private static Consumer<Setup> operation(String op) {
		return s -> {
			switch (op) {
				case "attach" -> {
					AttachRequestDTO r = attach("app_1");
					r.enable = true;
					s.engine().attach(r);
				}
				case "detach" -> {
					DetachRequestDTO d = new DetachRequestDTO();
					d.image = "app_1";
					s.engine().detach(d);
				}
				case "reattach" -> s.engine().reattach(attach("app_2"));
				case "remove" -> s.engine().remove(null, List.of("app_1", "other_1"));
				default -> throw new IllegalArgumentException(op);
			}
		};
	}

	@ParameterizedTest
	@ValueSource(strings = { "attach", "detach", "reattach", "remove" })
	void everyStepFailingLeavesTheHostAsItWas(String op) throws IOException {
		// a good run: count the steps, and see the state after
		Setup good = host(op);
		Map<String, String> before = snapshot(good.root());
		List<String> steps = new ArrayList<>();
		good.engine().faults = (step, path) -> steps.add(step + " " + good.root().relativize(path));
		operation(op).accept(good);
		Map<String, String> after = snapshot(good.root());
		assertNotEquals(before, after, op + " changed nothing");
		assertTrue(steps.size() >= 3, op + ": " + steps);

		for (int k = 0; k < steps.size(); k++) {
			Setup s = host(op);
			Map<String, String> b = snapshot(s.root());
			assertEquals(normalize(before, good.root()), normalize(b, s.root()), "the same host before each run");
			int failAt = k;
			int[] n = { 0 };
			s.engine().faults = (step, path) -> {
				if (n[0]++ == failAt) {
					throw new IOException("injected: " + step + " " + path.getFileName() + " fails");
				}
			};
			PsiException e = assertThrows(PsiException.class, () -> operation(op).accept(s), op + " with step " + steps.get(k) + " failing");
			assertTrue(e.getMessage().contains("injected"), e.getMessage());
			assertEquals(0, e.getSuppressed().length, "every undo worked");
			assertEquals(b, snapshot(s.root()), op + " with step " + k + " (" + steps.get(k) + ") failing changed the host");
		}

		// the service manager failing: the files go back as they were
		if (!op.equals("remove")) {
			Setup s = host(op);
			Map<String, String> b = snapshot(s.root());
			s.manager().broken.add("reload");
			PsiException e = assertThrows(PsiException.class, () -> operation(op).accept(s));
			assertTrue(e.getMessage().contains("reload failed"), e.getMessage());
			assertEquals(b, snapshot(s.root()), op + " with the manager's reload failing changed the host");
		}
		if (op.equals("attach")) {
			Setup s = host(op);
			Map<String, String> b = snapshot(s.root());
			s.manager().broken.add("enable");
			assertThrows(PsiException.class, () -> operation(op).accept(s));
			assertEquals(b, snapshot(s.root()), "attach --enable with enable failing changed the host");
			assertEquals("reload", s.manager().calls.get(s.manager().calls.size() - 1), "reloaded after undoing");
		}
		System.out.println(getClass().getSimpleName() + ": " + op + ": " + steps.size() + " steps failed in turn, host unchanged each time");
	}

	/** The same host state under another root compares equal. */
	private static Map<String, String> normalize(Map<String, String> snapshot, Path root) {
		Map<String, String> out = new TreeMap<>();
		snapshot.forEach((k, v) -> out.put(k, v.replace(root.toString(), "ROOT").replaceAll(" mtime [0-9]+", "")));
		return out;
	}

	/** Path → kind, mode, content hash and mtime (files) or target (links), of everything under the root but the lock. */
	static Map<String, String> snapshot(Path root) throws IOException {
		return snapshot(root, p -> false, (p, content) -> sha256(content) + " mtime "
			+ Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis());
	}

	/** How a snapshot shows a file's content. */
	@FunctionalInterface
	interface Content {
		String of(Path file, byte[] content) throws IOException;
	}

	/**
	 * Path → kind, mode and content (files, as {@code content} shows it) or
	 * target (links), of everything under the root but psi's lock, the
	 * journal's directory (a file left in it counts) and what {@code skip} says.
	 */
	static Map<String, String> snapshot(Path root, java.util.function.Predicate<Path> skip, Content content) throws IOException {
		Map<String, String> out = new TreeMap<>();
		try (Stream<Path> s = Files.walk(root)) {
			for (Path p : s.toList()) {
				String rel = root.relativize(p).toString();
				if (rel.equals("run") || rel.startsWith("run/psi") || skip.test(p)) {
					continue;
				}
				if ((rel.equals("var/lib/psi") || rel.equals(Journal.DIR.substring(1))) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
					continue;
				}
				if (Files.isSymbolicLink(p)) {
					out.put(rel, "link " + Files.readSymbolicLink(p));
				} else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
					out.put(rel, "dir " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)));
				} else {
					out.put(rel, "file " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)) + " "
						+ content.of(p, Files.readAllBytes(p)));
				}
			}
		}
		return out;
	}

	static String sha256(byte[] b) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
		} catch (java.security.NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
