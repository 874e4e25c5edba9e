package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.dto.ChangeDTO;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.AttachState;
import psi.api.dto.DetachRequestDTO;
import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.manager.ServiceManager;

/** The engine's use of a service manager, with a small fake for it. */
class UnitControlTest {

	/** Records calls; units it started run until stopped. */
	static final class FakeManager implements ServiceManager {
		final List<String> calls = new ArrayList<>();
		final Set<String> running = new HashSet<>();
		final Set<String> failing = new HashSet<>();
		/** calls that throw, by name ({@code reload}, {@code enable}) */
		final Set<String> broken = new HashSet<>();

		@Override
		public boolean available() {
			return true;
		}

		@Override
		public void reload() throws java.io.IOException {
			calls.add("reload");
			if (broken.contains("reload")) {
				throw new java.io.IOException("fake manager: reload failed");
			}
		}

		@Override
		public UnitStatus status(String unit) {
			String active = running.contains(unit) ? "active" : failing.contains(unit) ? "failed" : "inactive";
			UnitStatus s = new UnitStatus();
			s.name = unit;
			s.loadState = "loaded";
			s.activeState = active;
			s.subState = running.contains(unit) ? "running" : "dead";
			s.mainPid = running.contains(unit) ? 42 : 0;
			s.execMainStatus = failing.contains(unit) ? 1 : 0;
			s.result = failing.contains(unit) ? "exit-code" : "success";
			return s;
		}

		@Override
		public JobResult start(String unit, boolean wait) {
			calls.add("start " + unit);
			if (!failing.contains(unit)) {
				running.add(unit);
			}
			return new JobResult(unit, "/job/1", "done");
		}

		@Override
		public JobResult stop(String unit, boolean wait) {
			calls.add("stop " + unit);
			running.remove(unit);
			return new JobResult(unit, "/job/2", "done");
		}

		@Override
		public JobResult restart(String unit, boolean wait) {
			calls.add("restart " + unit);
			running.add(unit);
			return new JobResult(unit, "/job/3", "done");
		}

		@Override
		public List<String> enable(List<Path> unitFiles, boolean runtime) throws java.io.IOException {
			calls.add("enable " + unitFiles + (runtime ? " runtime" : ""));
			if (broken.contains("enable")) {
				throw new java.io.IOException("fake manager: enable failed");
			}
			return List.of("symlink /etc/systemd/system.attached/multi-user.target.wants/x.service /etc/systemd/system.attached/x.service");
		}

		@Override
		public List<String> disable(List<String> units, boolean runtime) {
			calls.add("disable " + units);
			return List.of();
		}

		@Override
		public List<String> listUnits(List<String> patterns) {
			return List.of();
		}

		@Override
		public void resetFailed(String unit) {
			calls.add("reset-failed " + unit);
		}
	}

	@TempDir
	Path root;

	FakeManager manager = new FakeManager();
	PortablesEngine engine;

	@BeforeEach
	void setUp() throws IOException {
		PortablesEngine.Config config = HostLockWorker.config(root);
		engine = new PortablesEngine(config) {
			@Override
			UnitControl control(String rootArg) {
				return new UnitControl(manager, "");
			}
		};
		ImageFormat dirs = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
			? Optional.<ImageTree>of(new DirectoryTree(path, "directory"))
			: Optional.empty();
		engine.formats = List.of(dirs);
		engine.policies = List.of(java.util.Map.entry(java.util.Map.<String, Object>of(), new psi.spi.sandbox.SandboxPolicy() {
			@Override
			public Set<String> profiles() {
				return Set.of("default");
			}

			@Override
			public Optional<byte[]> serviceConf(String name) {
				return Optional.of("[Service]\n".getBytes());
			}
		}));
		Path img = root.resolve("var/lib/portables/sst");
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		for (String u : List.of("sst.service", "sst.socket", "sst-web.service", "sst@.service")) {
			Files.writeString(img.resolve("usr/lib/systemd/system").resolve(u), "[Unit]\n");
		}
	}

	AttachRequestDTO attach() {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = "sst";
		return r;
	}

	DetachRequestDTO detach() {
		DetachRequestDTO r = new DetachRequestDTO();
		r.image = "sst";
		return r;
	}

	@Test
	void attachNowReloadsThenStartsEveryUnitButTemplates() {
		AttachRequestDTO r = attach();
		r.now = true;
		r.enable = true;
		var changes = engine.attach(r);
		assertEquals("reload", manager.calls.get(0));
		assertTrue(manager.calls.get(1).startsWith("enable ["), manager.calls.toString());
		// as portablectl --now: every unit but the template
		assertEquals(List.of("start sst-web.service", "start sst.service", "start sst.socket"), manager.calls.subList(2, manager.calls.size()));
		assertTrue(changes.stream().anyMatch(c -> c.type == ChangeDTO.Type.JOB && c.path.equals("sst.socket")));
		assertEquals(AttachState.RUNNING, engine.status(null, "sst").state);
	}

	@Test
	void refusesToAttachOverOrDetachAnActiveUnit() {
		manager.running.add("sst-web.service");
		PsiException e = assertThrows(PsiException.class, () -> engine.attach(attach()));
		assertEquals("Unit file 'sst-web.service' is active already, refusing.", e.getMessage());
		assertFalse(Files.exists(root.resolve("etc/systemd/system.attached")));

		manager.running.clear();
		engine.attach(attach());
		manager.running.add("sst.socket");
		e = assertThrows(PsiException.class, () -> engine.detach(detach()));
		assertTrue(e.getMessage().startsWith("Unit file 'sst.socket' is active, can't detach."), e.getMessage());
		assertTrue(Files.exists(root.resolve("etc/systemd/system.attached/sst.socket")), "nothing removed");

		DetachRequestDTO now = detach();
		now.now = true;
		engine.detach(now);
		assertTrue(manager.calls.contains("stop sst.socket"));
		assertFalse(Files.exists(root.resolve("etc/systemd/system.attached/sst.socket")));
	}

	@Test
	void startAttachesOnceAndIsIdempotent() {
		engine.start(attach());
		assertTrue(Files.exists(root.resolve("etc/systemd/system.attached/sst.socket")));
		manager.calls.clear();
		var again = engine.start(attach());
		assertTrue(again.stream().allMatch(c -> c.type == ChangeDTO.Type.RUNNING), again.toString());
		assertFalse(manager.calls.stream().anyMatch(c -> c.startsWith("start")), manager.calls.toString());
		engine.stop(null, "sst");
		assertEquals(AttachState.ATTACHED, engine.status(null, "sst").state);
	}

	@Test
	void aServiceThatFailsAtOnceFailsTheStart() {
		manager.failing.add("sst-web.service");
		var changes = engine.start(attach());
		assertTrue(changes.stream().anyMatch(c -> c.type == ChangeDTO.Type.COPY), "the attach is reported too: " + changes);
		var failed = changes.stream().filter(c -> c.type == ChangeDTO.Type.FAILED).toList();
		assertEquals(1, failed.size(), changes.toString());
		assertEquals("sst-web.service", failed.get(0).path);
		assertEquals("exit-code, status 1", failed.get(0).source);
	}

	@Test
	void statusOfNoSuchImageIsFour() {
		PsiException e = assertThrows(PsiException.class, () -> engine.status(null, "nosuch"));
		assertEquals(4, e.exitStatus());
	}

	@Test
	void startableUnits() {
		assertEquals(List.of("a.socket", "b.service", "c.timer"),
			UnitControl.startable(List.of("a.service", "a.socket", "b.service", "c.service", "c.timer", "t@.service", "x.target")));
	}
}
