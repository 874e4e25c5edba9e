package psi.core.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import psi.api.dto.AttachRequestDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.PullRequestDTO;
import psi.api.dto.VerifyLevel;
import psi.spi.transport.Transport;

/**
 * One psi process of {@link CrashConsistencyTest}: a fresh engine (as each
 * {@code psi} command is) runs one operation on a root; it prints
 * {@code ready} just before the operation and {@code done} after it. Each
 * step of the operation is preceded by a short random pause, so that a kill
 * at a random instant lands anywhere in it, between steps and within them
 * (between a temporary file and its rename), not only at its start.
 */
public final class CrashWorker {

	/** The image a pull fetches, and its size. */
	static final String URL = "https://h.test/images/app_3.raw";
	static final int PULLED_SIZE = 4 << 20;

	private CrashWorker() {
	}

	/** @param args root, operation (attach, detach, reattach, remove, pull, purge, upgrade, rollback), seed */
	public static void main(String[] args) throws Exception {
		Path root = Path.of(args[0]);
		Random random = new Random(Long.parseLong(args[2]));
		PortablesEngine engine = engine(root, args[1]);
		engine.faults = (step, path) -> {
			try {
				Thread.sleep(random.nextInt(3));
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		};
		System.out.println("ready");
		System.out.flush();
		run(engine, args[1]);
		System.out.println("done");
		System.out.flush();
		System.exit(0);
	}

	/** An engine for a root, with the directory format, a policy and a transport serving {@link #URL}. */
	static PortablesEngine engine(Path root) {
		PortablesEngine engine = HostLockWorker.engine(root);
		DeliveryTest.FakeTransport t = new DeliveryTest.FakeTransport();
		byte[] image = new byte[PULLED_SIZE];
		new Random(3).nextBytes(image);
		t.files.put(URL, image);
		engine.transports = List.of(Map.entry(Map.of(Transport.SCHEMES, "https"), t));
		return engine;
	}

	/**
	 * @return {@link #engine(Path)}, with a service manager for the operations that run units
	 *         (a fake whose units run from their start in this process until stopped)
	 */
	static PortablesEngine engine(Path root, String op) {
		PortablesEngine engine = engine(root);
		if (!op.equals("upgrade") && !op.equals("rollback")) {
			return engine;
		}
		UnitControlTest.FakeManager manager = new UnitControlTest.FakeManager();
		PortablesEngine withManager = new PortablesEngine(HostLockWorker.config(root)) {
			@Override
			UnitControl control(String rootArg) {
				return new UnitControl(manager, "", calls);
			}
		};
		withManager.formats = engine.formats;
		withManager.policies = engine.policies;
		withManager.transports = engine.transports;
		return withManager;
	}

	static void run(PortablesEngine engine, String op) {
		switch (op) {
			case "attach" -> {
				AttachRequestDTO r = attach("app_1");
				engine.attach(r);
			}
			case "detach" -> {
				DetachRequestDTO d = new DetachRequestDTO();
				d.image = "app_1";
				engine.detach(d);
			}
			case "reattach" -> engine.reattach(attach("app_2"));
			case "remove" -> engine.remove(null, List.of("app_1", "other_1"));
			case "upgrade" -> {
				AttachRequestDTO r = attach("app_2");
				r.settle = 1;
				engine.start(r);
			}
			case "rollback" -> {
				AttachRequestDTO r = attach("app");
				r.settle = 1;
				engine.rollback(r, null, null);
			}
			case "purge" -> {
				psi.api.dto.PurgeRequestDTO r = new psi.api.dto.PurgeRequestDTO();
				r.image = "app";
				engine.purge(r, null);
			}
			case "pull" -> {
				PullRequestDTO p = new PullRequestDTO();
				p.source = URL;
				p.verify = VerifyLevel.NONE;
				engine.pull(p, null);
			}
			default -> throw new IllegalArgumentException(op);
		}
	}

	private static AttachRequestDTO attach(String image) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = image;
		r.prefixes = List.of("app");
		return r;
	}
}
