package psi.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageStatusDTO;
import psi.api.dto.JobDTO;
import psi.api.dto.UnitStatusDTO;

/**
 * An image's life on a host with its service manager: attach, detach and
 * reattach each in one {@link Transaction} that commits only once the
 * manager took the change (reload, enable), and what follows
 * ({@code --now}); {@code psi start}, {@code psi stop} and {@code psi status}.
 * Made per operation, under the {@link HostLock} for changes.
 */
final class Lifecycle {

	/** Makes the transaction of a change. */
	@FunctionalInterface
	interface Transactions {
		/** @param operation what it does, for the message of a recovery: {@code attach foo} */
		Transaction open(String operation);
	}

	private final Host host;
	private final UnitControl control;
	private final Transactions transactions;

	Lifecycle(Host host, UnitControl control, Transactions transactions) {
		this.host = host;
		this.control = control;
		this.transactions = transactions;
	}

	/** Attach or reattach, then reload, enable and start as asked. */
	List<ChangeDTO> attach(AttachRequestDTO request, boolean reattach) throws IOException {
		return attach(request, reattach, tx -> {
		});
	}

	/** A step of its own in a change's transaction. */
	@FunctionalInterface
	interface TxStep {
		void run(Transaction tx) throws IOException;
	}

	/** As {@link #attach(AttachRequestDTO, boolean)}, with one more step in its transaction. */
	private List<ChangeDTO> attach(AttachRequestDTO request, boolean reattach, TxStep also) throws IOException {
		Map<String, Boolean> wasRunning = new LinkedHashMap<>();
		List<ChangeDTO> changes;
		try (Transaction tx = transactions.open((reattach ? "reattach of " : "attach of ") + request.image)) {
			changes = reattach
				? new ArrayList<>(host.attachments().attach(tx, request, true, units -> wasRunning.putAll(control.running(units)),
					Attachments.Guard.NONE))
				: new ArrayList<>(host.attachments().attach(tx, request, false, Attachments.Guard.NONE, control.refuseActive("attach")));
			also.run(tx);
			List<String> units = attachedUnits(changes, request.runtime);
			reloadAndCommit(tx, request.noReload, () -> {
				if (request.enable) {
					tx.enabling(HostLayout.attachedDir(request.runtime), request.runtime, units);
					changes.addAll(control.enable(HostLayout.attachedDir(request.runtime), units, request.runtime));
				}
			});
			if (request.now) {
				Map<String, String> where = new LinkedHashMap<>();
				units.forEach(u -> where.put(u, HostLayout.attachedDir(request.runtime)));
				changes.addAll(now(ordered(units, where), wasRunning, request.noBlock));
			}
		}
		return changes;
	}

	/** Disable and stop as asked (or refuse an active unit), then detach and reload. */
	List<ChangeDTO> detach(DetachRequestDTO request) throws IOException {
		List<ChangeDTO> jobs = new ArrayList<>();
		List<String> clean = new ArrayList<>();
		Attachments.Guard guard = units -> {
			if (request.clean) {
				// read before the detach removes the unit files
				clean.addAll(ServiceDirectories.of(host.layout(), HostLayout.attachedDir(request.runtime), units));
			}
			if (request.enable) {
				jobs.addAll(control.disable(units, request.runtime));
			}
			if (request.now || request.clean) {
				List<String> running = new ArrayList<>();
				for (String u : units) {
					if (control.running(u)) {
						running.add(u);
					}
				}
				jobs.addAll(control.jobs(JobDTO.Kind.STOP, running, true));
			} else if (!request.force) {
				control.refuseActive("detach").check(units);
			}
		};
		try (Transaction tx = transactions.open("detach of " + request.image)) {
			jobs.addAll(host.attachments().detach(tx, request, guard));
			reloadAndCommit(tx, request.noReload, Step.NONE);
		}
		if (!clean.isEmpty()) {
			// after the units stopped and went: what they kept on the host (never an image)
			List<String> kept = new ArrayList<>();
			jobs.addAll(ServiceDirectories.remove(host.layout(), clean, host.images().locateQuietly(request.image), kept));
			kept.forEach(k -> jobs.add(ChangeDTO.of(ChangeDTO.Type.FAILED, k.substring("kept ".length(), k.indexOf(':')),
				"not removed by --clean:" + k.substring(k.indexOf(':') + 1))));
		}
		return jobs;
	}

	/**
	 * {@code psi purge}: stops and disables the image's units, then in one
	 * transaction detaches them and moves aside everything the plan names,
	 * deleted once the manager took the detach; a failure leaves all of it.
	 *
	 * @return the stop and disable jobs, then the removals
	 */
	List<ChangeDTO> purge(Purge plan) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		if (control.present()) {
			for (Map.Entry<String, List<String>> a : plan.attached().entrySet()) {
				List<String> running = new ArrayList<>();
				for (String u : a.getValue()) {
					if (control.running(u)) {
						running.add(u);
					}
				}
				changes.addAll(control.jobs(JobDTO.Kind.STOP, running, true));
				changes.addAll(control.disable(a.getValue(), a.getKey().equals(HostLayout.attachedDir(true))));
			}
			if (changes.stream().anyMatch(c -> c.type == ChangeDTO.Type.FAILED)) {
				throw new PsiException("not purged: a unit of '" + plan.base() + "' did not stop (" + changes.stream()
					.filter(c -> c.type == ChangeDTO.Type.FAILED).map(c -> c.path + ": " + c.source).reduce((x, y) -> x + "; " + y).orElse("")
					+ "); nothing was removed");
			}
		}
		for (String ro : plan.readOnly()) {
			// a read-only mark (the immutable flag of a directory) would refuse the removal
			host.catalog().markReadOnly(ro, false);
		}
		try (Transaction tx = transactions.open("purge of " + plan.base())) {
			for (String dir : plan.attached().keySet()) {
				DetachRequestDTO d = new DetachRequestDTO();
				d.image = plan.base() + "_";
				d.runtime = dir.equals(HostLayout.attachedDir(true));
				changes.addAll(host.attachments().detach(tx, d, Attachments.Guard.NONE));
			}
			List<String> gone = new ArrayList<>();
			gone.addAll(plan.images());
			gone.addAll(plan.records());
			gone.addAll(plan.directories());
			gone.addAll(plan.logs());
			for (String path : gone) {
				if (changes.stream().noneMatch(c -> c.type == ChangeDTO.Type.UNLINK && c.path.equals(path))) {
					tx.removeTree(path, changes);
				}
			}
			reloadAndCommit(tx, false, Step.NONE);
		}
		return changes;
	}

	/**
	 * Where a change of version moved an image, to watch it and to go back.
	 *
	 * @param from the version that was attached (its path)
	 * @param to the version attached now (its path)
	 * @param profile the profile both are attached with
	 * @param runtime whether they are attached below /run
	 */
	record Moved(String from, String to, String profile, boolean runtime) {
	}

	/**
	 * What {@code psi start} did.
	 *
	 * @param changes the changes and jobs
	 * @param moved where it moved the image, when another version was attached; else {@code null}
	 */
	record Started(List<ChangeDTO> changes, Moved moved) {
	}

	/**
	 * {@code psi start}: attach the image when it is not, then start its
	 * units. When another version of it is attached, move to this one as
	 * {@code reattach --now} does (restart what changed, start the new, stop
	 * the gone), keeping the profile it was attached with unless one is
	 * asked for; an older version only with {@code allowDowngrade}. The
	 * caller then watches the units ({@link #settle}) and goes back
	 * ({@link #moveBack}) when they do not hold.
	 */
	Started start(AttachRequestDTO request) throws IOException {
		String target = host.images().locate(request.image);
		String targetFile = DropInWriter.lastComponent(target);
		String base = Purge.baseOf(targetFile);
		String current = null;
		boolean runtime = false;
		Map<String, String> currentUnits = new LinkedHashMap<>();
		for (boolean rt : new boolean[] { false, true }) {
			for (Map.Entry<String, List<String>> e : host.index().units(HostLayout.attachedDir(rt), base + "_").entrySet()) {
				if (current == null) {
					current = e.getValue().get(0);
					runtime = rt;
				}
				if (e.getValue().get(0).equals(current)) {
					currentUnits.putIfAbsent(e.getKey(), HostLayout.attachedDir(rt));
				}
			}
		}
		if (current == null || DropInWriter.lastComponent(current).equals(targetFile)) {
			List<ChangeDTO> changes = new ArrayList<>();
			if (current == null) {
				try (Transaction tx = transactions.open("attach of " + request.image)) {
					changes.addAll(host.attachments().attach(tx, request, false, Attachments.Guard.NONE, control.refuseActive("attach")));
					reloadAndCommit(tx, false, Step.NONE);
				}
			}
			changes.addAll(startUnits(request));
			return new Started(changes, null);
		}
		String from = ImageName.stripSuffix(DropInWriter.lastComponent(current));
		String to = ImageName.stripSuffix(targetFile);
		String vFrom = ImageVersions.versionOf(host, current);
		String vTo = ImageVersions.versionOf(host, target);
		boolean downgrade = vFrom != null && vTo != null && Versions.compare(vTo, vFrom) < 0;
		if (downgrade && !request.allowDowngrade) {
			throw new PsiException(PsiException.Reason.DOWNGRADE, to + " is older than the attached " + from + ": not started.",
				"--allow-downgrade moves to it anyway; psi rollback " + base + " goes back to the previous version", 1, null);
		}
		AttachRequestDTO r = copy(request);
		r.image = target;
		r.now = true;
		r.runtime = runtime;
		if (r.profile == null || r.profile.isEmpty()) {
			String p = host.profiles().of(currentUnits);
			r.profile = p == null || p.contains(" ") ? null : p;
		}
		List<ChangeDTO> changes = new ArrayList<>();
		changes.add(ChangeDTO.of(ChangeDTO.Type.NOTICE, to, (downgrade ? "Downgrading " : vFrom == null || vTo == null || Versions.compare(vTo, vFrom) > 0
			? "Upgrading " : "Replacing ") + from + " to " + to + (downgrade ? " (--allow-downgrade)." : ".")));
		Moved moved = new Moved(current, target, r.profile, runtime);
		changes.addAll(attach(r, true, tx -> Moving.record(tx, base, moved)));
		return new Started(changes, moved);
	}

	/** @return a copy of a request, for a change the engine makes of its own */
	static AttachRequestDTO copy(AttachRequestDTO a) {
		AttachRequestDTO c = new AttachRequestDTO();
		c.root = a.root;
		c.image = a.image;
		c.prefixes = a.prefixes == null ? null : new ArrayList<>(a.prefixes);
		c.profile = a.profile;
		c.runtime = a.runtime;
		c.copy = a.copy;
		c.force = a.force;
		c.now = a.now;
		c.enable = a.enable;
		c.noBlock = a.noBlock;
		c.noReload = a.noReload;
		c.verify = a.verify;
		c.allowUnsandboxed = a.allowUnsandboxed;
		c.allowDowngrade = a.allowDowngrade;
		c.settle = a.settle;
		c.healthCommand = a.healthCommand;
		c.policies = a.policies == null ? null : new ArrayList<>(a.policies);
		c.extensions = a.extensions == null ? null : new ArrayList<>(a.extensions);
		c.relaxExtensionRelease = a.relaxExtensionRelease;
		return c;
	}

	/**
	 * Watches the startable units of an attached image for a while: every
	 * one must be active (a oneshot service may have finished), and stay so
	 * without failing, stopping or restarting (entering the active state
	 * again).
	 *
	 * @param image the image's path
	 * @param millis how long
	 * @return {@code null} when they held, else a {@code failed} change: the unit that did not, and why
	 */
	ChangeDTO settle(String image, long millis, String health) throws IOException, InterruptedException {
		Map<String, String> units = host.index().units(host.images().key(image));
		List<String> watched = UnitControl.startable(units.keySet());
		Map<String, Long> entered = new LinkedHashMap<>();
		long end = System.nanoTime() + millis * 1_000_000L;
		while (true) {
			boolean last = System.nanoTime() >= end;
			for (String u : watched) {
				UnitStatusDTO st = control.status(u);
				String why = st.result == null || st.result.isEmpty() || st.result.equals("success") ? "" : st.result + ", ";
				String exit = why + "status " + st.execMainStatus;
				if ("failed".equals(st.activeState)) {
					return ChangeDTO.of(ChangeDTO.Type.FAILED, u, exit);
				}
				if ("auto-restart".equals(st.subState)) {
					return ChangeDTO.of(ChangeDTO.Type.FAILED, u, "exited and is being restarted: " + exit);
				}
				if ("active".equals(st.activeState) || "reloading".equals(st.activeState)) {
					// became active again since last seen: it stopped or crashed and was restarted in between
					Long before = entered.put(u, st.since);
					if (before != null && before != 0 && st.since != 0 && before != st.since) {
						return ChangeDTO.of(ChangeDTO.Type.FAILED, u, "restarted while watched");
					}
					continue;
				}
				if ("inactive".equals(st.activeState) && isOneshot(u, units.get(u)) && !"failed".equals(st.result)) {
					continue;
				}
				if (!"activating".equals(st.activeState) || last) {
					return ChangeDTO.of(ChangeDTO.Type.FAILED, u, st.activeState + (st.subState == null ? "" : " (" + st.subState + ")") + ", not active");
				}
			}
			if (last) {
				return healthCheck(units, watched, health);
			}
			Thread.sleep(Math.min(200, Math.max(1, (end - System.nanoTime()) / 1_000_000L)));
		}
	}

	/** How long a health command may run. */
	static final long HEALTH_SECONDS = 30;

	/**
	 * Runs the health commands once the units held: the one asked for
	 * ({@code --health-cmd}) in the first watched service that has a main
	 * process, else each service's own {@code X-Psi-HealthCheck=} (a key
	 * systemd ignores, as every {@code X-} key). A command is words as
	 * {@code ExecStart=} takes them, run inside the service's sandbox: in
	 * every namespace of its main process, with its user and group
	 * ({@code nsenter --all --setuid UID --setgid GID}), for at most
	 * {@value #HEALTH_SECONDS} s.
	 *
	 * @return {@code null} when each exited 0, else a {@code failed} change saying which and how
	 */
	private ChangeDTO healthCheck(Map<String, String> units, List<String> watched, String health) throws IOException, InterruptedException {
		for (String u : watched) {
			if (!u.endsWith(".service")) {
				continue;
			}
			String cmd = health != null && !health.isBlank() ? health : serviceSetting(u, units.get(u), "X-Psi-HealthCheck", null);
			if (cmd == null || cmd.isBlank()) {
				continue;
			}
			UnitStatusDTO st = control.status(u);
			if (st.mainPid <= 0) {
				if (health != null) {
					continue; // the next service with a main process takes the asked command
				}
				return ChangeDTO.of(ChangeDTO.Type.FAILED, u, "health check '" + cmd + "': no main process to run it beside");
			}
			List<String> words;
			try {
				words = psi.spi.unit.Words.split(cmd);
			} catch (IllegalArgumentException e) {
				return ChangeDTO.of(ChangeDTO.Type.FAILED, u, "health check '" + cmd + "' cannot be read: " + e.getMessage());
			}
			if (words.isEmpty()) {
				continue;
			}
			long[] ids = credentials(st.mainPid);
			if (ids == null) {
				return ChangeDTO.of(ChangeDTO.Type.FAILED, u, "health check '" + cmd + "': its main process " + st.mainPid + " is gone");
			}
			List<String> argv = new ArrayList<>(List.of("nsenter", "--target", Long.toString(st.mainPid), "--all", "--setuid", Long.toString(ids[0]),
				"--setgid", Long.toString(ids[1]), "--"));
			argv.addAll(words);
			Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
				.start();
			byte[] out;
			try (java.io.InputStream in = p.getInputStream()) {
				out = in.readNBytes(64 * 1024);
				if (!p.waitFor(HEALTH_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
					p.destroyForcibly();
					return ChangeDTO.of(ChangeDTO.Type.FAILED, u, "health check '" + cmd + "' did not end within " + HEALTH_SECONDS + " s");
				}
			} finally {
				p.destroyForcibly();
			}
			if (p.exitValue() != 0) {
				String said = new String(out, java.nio.charset.StandardCharsets.UTF_8).strip();
				String lastLine = said.isEmpty() ? "" : said.substring(said.lastIndexOf('\n') + 1);
				return ChangeDTO.of(ChangeDTO.Type.FAILED, u, "health check '" + cmd + "' exited " + p.exitValue() + (lastLine.isEmpty() ? "" : ": "
					+ UnitValues.show(lastLine)));
			}
			if (health != null) {
				return null; // the asked command ran once
			}
		}
		return null;
	}

	/**
	 * @return a process's effective user and group as seen inside its own
	 *         user namespace (what nsenter's --setuid and --setgid take once
	 *         it entered it), or {@code null} when the process is gone
	 */
	static long[] credentials(long pid) {
		try {
			long uid = -1;
			long gid = -1;
			for (String l : Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(pid), "status"))) {
				if (l.startsWith("Uid:")) {
					uid = Long.parseLong(l.substring(4).trim().split("\\s+")[1]);
				} else if (l.startsWith("Gid:")) {
					gid = Long.parseLong(l.substring(4).trim().split("\\s+")[1]);
				}
			}
			if (uid < 0 || gid < 0) {
				return null;
			}
			return new long[] { inside(pid, "uid_map", uid), inside(pid, "gid_map", gid) };
		} catch (IOException | RuntimeException e) {
			return null;
		}
	}

	/** @return an id of this namespace as the process's user namespace numbers it ({@code /proc/PID/uid_map}: inside, outside, count) */
	private static long inside(long pid, String map, long id) throws IOException {
		for (String l : Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(pid), map))) {
			String[] f = l.trim().split("\\s+");
			if (f.length == 3) {
				long in = Long.parseLong(f[0]);
				long out = Long.parseLong(f[1]);
				long count = Long.parseLong(f[2]);
				if (id >= out && id - out < count) {
					return in + (id - out);
				}
			}
		}
		return id;
	}

	/** @return whether an attached service is {@code Type=oneshot} (done when it has run) */
	private boolean isOneshot(String unit, String dir) {
		return unit.endsWith(".service") && "oneshot".equals(serviceSetting(unit, dir, "Type", "simple"));
	}

	/**
	 * @return the last value of a {@code [Service]} setting of an attached
	 *         unit, in its file and drop-ins (the attached ones, then the
	 *         admin's in /etc/systemd/system); an empty assignment resets it
	 */
	private String serviceSetting(String unit, String dir, String key, String otherwise) {
		if (dir == null) {
			return otherwise;
		}
		String value = otherwise;
		List<java.nio.file.Path> files = new ArrayList<>(unitFiles(unit, dir));
		List<java.nio.file.Path> admins = unitFiles(unit, "/etc/systemd/system");
		files.addAll(admins.subList(1, admins.size())); // the drop-ins only: the unit is the attached one
		for (java.nio.file.Path f : files) {
			try {
				if (Files.isRegularFile(f) && Files.size(f) <= MAX_UNIT) {
					for (psi.spi.unit.UnitFile.Assignment a : psi.spi.unit.UnitFile.read(Files.readAllBytes(f))) {
						if (a.section().equals("Service") && a.key().equals(key)) {
							value = a.isEmpty() ? otherwise : a.value().strip();
						}
					}
				}
			} catch (IOException e) {
				// unreadable: not known
			}
		}
		return value;
	}

	/**
	 * Goes back to the version a start moved from: reattached with the same
	 * profile, its units restarted.
	 */
	List<ChangeDTO> moveBack(Moved moved) throws IOException {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = moved.from();
		r.profile = moved.profile();
		r.runtime = moved.runtime();
		r.now = true;
		String base = Purge.baseOf(DropInWriter.lastComponent(moved.to()));
		return attach(r, true, tx -> Moving.clear(tx, base));
	}

	/**
	 * After a version held: keeps it (its record of the move goes) and
	 * removes the oldest detached versions of the image from the pool beyond
	 * the newest {@code keep} (0: none removed), in one transaction. The
	 * version it moved from stays (to go back to), and read-only ones.
	 */
	List<ChangeDTO> keep(Moved moved, int keep) throws IOException {
		String image = moved.to();
		String base = Purge.baseOf(DropInWriter.lastComponent(image));
		List<String> versions = new ArrayList<>();
		for (String entry : host.layout().list(ImagePool.POOL)) {
			if (Purge.isVersionOf(entry, base) && !Versions.isVersioned(entry) && ImageName.version(entry) != null) {
				versions.add(entry);
			}
		}
		versions.sort((a, b) -> Versions.compare(ImageName.version(b), ImageName.version(a)));
		List<String> gone = new ArrayList<>();
		for (String v : keep <= 0 ? List.<String>of() : versions.subList(Math.min(keep, versions.size()), versions.size())) {
			String path = ImagePool.POOL + "/" + v;
			if (!host.index().unitsOfPath(path).isEmpty() || path.equals(moved.from())
				|| host.layout().resolve(moved.from()).path().equals(path)) {
				continue;
			}
			try (ImageResolver.OpenImage img = host.images().openAt(path)) {
				if (img.tree().isReadOnly()) {
					continue;
				}
			} catch (IOException | RuntimeException unreadable) {
				// an image psi cannot read is still an old version
			}
			gone.add(path);
		}
		try (Transaction tx = transactions.open("keeping " + DropInWriter.lastComponent(image))) {
			Moving.clear(tx, base);
			List<ChangeDTO> changes = host.pool().removeFiles(tx, gone);
			tx.commit();
			return changes;
		}
	}

	/**
	 * Reloads the manager and commits, or, when the manager fails, lets the
	 * transaction roll the files back and reloads again so that the manager
	 * forgets what it saw.
	 */
	private void reloadAndCommit(Transaction tx, boolean noReload, Step then) throws IOException {
		try {
			control.reload(noReload);
			then.run();
		} catch (IOException | RuntimeException e) {
			try {
				tx.close();
			} catch (IOException undo) {
				e.addSuppressed(undo);
			}
			try {
				control.reload(noReload);
			} catch (IOException | RuntimeException again) {
				e.addSuppressed(again);
			}
			throw e;
		}
		tx.commit();
	}

	@FunctionalInterface
	private interface Step {
		void run() throws IOException;

		Step NONE = () -> {
		};
	}

	/** @return the attached units of the changes an attach made */
	static List<String> attachedUnits(List<ChangeDTO> changes, boolean runtime) {
		String attached = HostLayout.attachedDir(runtime);
		List<String> units = new ArrayList<>();
		for (ChangeDTO ch : changes) {
			if (ch.type != ChangeDTO.Type.UNLINK && ch.path.startsWith(attached + "/") && ch.path.indexOf('/', attached.length() + 1) < 0
				&& UnitNames.isValid(ch.path.substring(attached.length() + 1))) {
				units.add(ch.path.substring(attached.length() + 1));
			}
		}
		return units;
	}

	/**
	 * As {@code portablectl --now}: every attached unit but templates is
	 * started, the ones that ran before restarted, the ones gone stopped.
	 */
	private List<ChangeDTO> now(List<String> units, Map<String, Boolean> wasRunning, boolean noBlock) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		List<String> restart = new ArrayList<>();
		List<String> start = new ArrayList<>();
		for (String u : units.stream().filter(u -> !UnitControl.isTemplate(u)).toList()) {
			(Boolean.TRUE.equals(wasRunning.get(u)) ? restart : start).add(u);
		}
		List<String> gone = wasRunning.entrySet().stream().filter(e -> e.getValue() && !units.contains(e.getKey()))
			.map(Map.Entry::getKey).toList();
		changes.addAll(control.jobs(JobDTO.Kind.STOP, gone, !noBlock));
		changes.addAll(control.jobs(JobDTO.Kind.RESTART, restart, !noBlock));
		changes.addAll(control.jobs(JobDTO.Kind.START, start, !noBlock));
		return changes;
	}

	/** The largest attached unit file or drop-in read for its ordering. */
	private static final int MAX_UNIT = 1 << 20;

	/**
	 * The units of an image in the order their {@code After=} and
	 * {@code Before=} ask for among themselves (each start is waited for, so
	 * the order is what systemd's transaction would give), else by name; a
	 * cycle is broken where the name order puts it, as systemd breaks one by
	 * dropping an ordering.
	 *
	 * @param units the units to start, by name
	 * @param where each unit's attached directory
	 */
	List<String> ordered(List<String> units, Map<String, String> where) {
		Map<String, Set<String>> before = new LinkedHashMap<>(); // unit -> the units to start first
		for (String u : units) {
			before.put(u, new TreeSet<>());
		}
		for (String u : units) {
			for (String[] order : ordering(u, where.get(u))) {
				String first = order[0].equals("After") ? null : u;
				for (String other : order[1].split(" ")) {
					if (!before.containsKey(other) || other.equals(u)) {
						continue;
					}
					if (first == null) {
						before.get(u).add(other);
					} else {
						before.get(other).add(u);
					}
				}
			}
		}
		List<String> out = new ArrayList<>();
		Set<String> left = new TreeSet<>(units);
		while (!left.isEmpty()) {
			String next = null;
			for (String u : left) {
				if (out.containsAll(before.get(u))) {
					next = u;
					break;
				}
			}
			if (next == null) {
				next = left.iterator().next(); // a cycle: name order breaks it
			}
			out.add(next);
			left.remove(next);
		}
		return out;
	}

	/** @return an attached unit's file and its drop-ins, in the order the manager reads them */
	private List<java.nio.file.Path> unitFiles(String unit, String dir) {
		List<java.nio.file.Path> files = new ArrayList<>();
		files.add(host.layout().host(dir + "/" + unit));
		java.nio.file.Path dropIns = host.layout().host(dir + "/" + unit + ".d");
		if (Files.isDirectory(dropIns)) {
			try (var s = Files.list(dropIns)) {
				s.filter(p -> p.getFileName().toString().endsWith(".conf")).sorted().forEach(files::add);
			} catch (IOException e) {
				// no drop-ins to read: the fragment's own settings alone
			}
		}
		return files;
	}

	/** @return the After= and Before= values of an attached unit and its drop-ins, as {"After"|"Before", "a b"} */
	private List<String[]> ordering(String unit, String dir) {
		List<String[]> out = new ArrayList<>();
		if (dir == null) {
			return out;
		}
		for (java.nio.file.Path f : unitFiles(unit, dir)) {
			try {
				if (!Files.isRegularFile(f) || Files.size(f) > MAX_UNIT) {
					continue;
				}
				for (psi.spi.unit.UnitFile.Assignment a : psi.spi.unit.UnitFile.read(Files.readAllBytes(f))) {
					if (a.section().equals("Unit") && (a.key().equals("After") || a.key().equals("Before")) && !a.isEmpty()) {
						try {
							out.add(new String[] { a.key(), String.join(" ", psi.spi.unit.Words.split(a.value())) });
						} catch (IllegalArgumentException bad) {
							// the manager refuses the line as it stands; no order from it
						}
					}
				}
			} catch (IOException e) {
				// unreadable: no order from it
			}
		}
		return out;
	}

	/** Starts the startable units of an attached image; what runs already is said to run. */
	private List<ChangeDTO> startUnits(AttachRequestDTO request) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		String key = host.images().key(request.image);
		refuseEscapes(host.index().units(key));
		List<String> toStart = new ArrayList<>();
		for (String u : ordered(UnitControl.startable(host.index().units(key).keySet()), host.index().units(key))) {
			if (control.running(u)) {
				changes.add(ChangeDTO.of(ChangeDTO.Type.RUNNING, u, null));
			} else {
				toStart.add(u);
			}
		}
		changes.addAll(control.jobs(JobDTO.Kind.START, toStart, true, request.allowUnsandboxed));
		// a service that fails at once has started (its job is done) and failed a moment later
		if (!toStart.isEmpty()) {
			try {
				Thread.sleep(300);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
			for (String u : host.index().units(key).keySet()) {
				UnitStatusDTO st = control.status(u);
				if ("failed".equals(st.activeState) && changes.stream().noneMatch(ch -> ch.type == ChangeDTO.Type.FAILED && ch.path.equals(u))) {
					changes.add(ChangeDTO.of(ChangeDTO.Type.FAILED, u, st.result + ", status " + st.execMainStatus));
				}
			}
		}
		return changes;
	}

	/**
	 * Units attached before psi guarded sandboxes (or by portablectl) are
	 * checked again at start: one that would run outside the profile it was
	 * attached with is not started ({@link SandboxGuard}).
	 *
	 * @param units attached unit → its attached directory
	 */
	private void refuseEscapes(Map<String, String> units) throws IOException {
		HostLayout layout = host.layout();
		String profile = null;
		byte[] conf = null;
		for (Map.Entry<String, String> u : units.entrySet()) {
			String p = u.getValue() + "/" + u.getKey() + ".d/10-profile.conf";
			if (layout.lstat(p).isPresent()) {
				profile = host.profiles().of(Map.of(u.getKey(), u.getValue()));
				conf = Files.readAllBytes(layout.host(layout.resolve(p).path()));
				break;
			}
		}
		if (conf == null) {
			return;
		}
		Map<String, byte[]> files = new LinkedHashMap<>();
		for (Map.Entry<String, String> u : units.entrySet()) {
			files.put(u.getKey(), Files.readAllBytes(layout.host(layout.resolve(u.getValue() + "/" + u.getKey()).path())));
		}
		String refused = SandboxGuard.joined(SandboxGuard.refusals(profile, conf, files, layout));
		if (!refused.isEmpty()) {
			throw new PsiException(refused + "\nNot started: attached before psi refused this (by portablectl or an older psi)."
				+ " Detach the image, or attach it again with --profile trusted");
		}
	}

	List<ChangeDTO> stop(String image) throws IOException {
		control.require("psi stop");
		var units = attachedUnits(image);
		List<String> running = new ArrayList<>();
		for (String u : units.keySet()) {
			if (control.running(u)) {
				running.add(u);
			}
		}
		return control.jobs(JobDTO.Kind.STOP, running, true);
	}

	/** Restarts the startable units of an attached image, in their order: as systemctl restart, what does not run is started. */
	List<ChangeDTO> restart(String image) throws IOException {
		control.require("psi restart");
		var units = attachedUnits(image);
		refuseEscapes(units);
		return control.jobs(JobDTO.Kind.RESTART, ordered(UnitControl.startable(units.keySet()), units), true);
	}

	/** Reloads the running services of an attached image that can reload; the others are left as they are. */
	List<ChangeDTO> reload(String image) throws IOException {
		control.require("psi reload");
		var units = attachedUnits(image);
		List<ChangeDTO> out = new ArrayList<>();
		List<String> cannot = new ArrayList<>();
		for (String u : units.keySet()) {
			if (!u.endsWith(".service") || !control.running(u)) {
				continue;
			}
			try {
				out.addAll(control.jobs(JobDTO.Kind.RELOAD, List.of(u), true));
			} catch (IOException | PsiException e) {
				if (e.getMessage() == null || !e.getMessage().contains("not applicable")) {
					throw e;
				}
				cannot.add(u);
			}
		}
		if (out.isEmpty()) {
			throw new PsiException(cannot.isEmpty() ? "No unit of '" + image + "' runs: nothing to reload."
				: "Job type reload is not applicable for " + String.join(", ", cannot) + " (no ExecReload=).", 1, null);
		}
		return out;
	}

	/** @return the attached units of an image; refused (exit status 4) when it has none, as portablectl says it */
	private Map<String, String> attachedUnits(String image) throws IOException {
		var units = host.index().units(host.images().key(image));
		if (units.isEmpty()) {
			throw new PsiException("No unit files associated with '" + image + "' found attached to the system. Image not attached?", 4, null);
		}
		return units;
	}

	ImageStatusDTO status(String image) throws IOException {
		ImageStatusDTO dto = new ImageStatusDTO();
		var units = host.index().units(host.images().key(image));
		try (ImageResolver.OpenImage img = host.images().open(image)) {
			dto.path = img.path();
			dto.type = img.tree().type();
			dto.portable = img.fileName();
			dto.version = ImageName.version(img.fileName());
			dto.name = ImageName.stripSuffix(img.fileName());
		} catch (PsiException e) {
			if (units.isEmpty()) {
				throw new PsiException(e.getMessage(), 4, e);
			}
			dto.name = image;
			dto.portable = DropInWriter.lastComponent(image);
		}
		dto.state = AttachmentIndex.stateOf(units);
		try {
			dto.moving = Moving.describe(host.layout(), Purge.baseOf(dto.portable == null ? image : dto.portable)).orElse(null);
		} catch (PsiException noName) {
			dto.moving = null;
		}
		dto.profile = host.profiles().of(units);
		if (dto.profile != null && !dto.profile.contains(" ") && host.profiles().names().contains(dto.profile)
			&& !host.profiles().confines(dto.profile)) {
			dto.profile += " (no sandbox: the image's units run as they ask)";
		}
		dto.policies = host.profiles().attached(units);
		if (dto.path != null) {
			host.pool().originOf(host.layout().resolve(dto.path).path()).ifPresent(o -> {
				dto.origin = o.source();
				dto.verified = o.verified();
			});
		}
		dto.units = new ArrayList<>();
		if (!control.present()) {
			dto.managerProblem = control.unavailable();
		}
		for (String u : units.keySet()) {
			if (control.present()) {
				dto.units.add(control.status(u));
				if (UnitControl.isTemplate(u)) {
					for (String i : control.instances(u)) {
						dto.units.add(control.status(i));
					}
				}
			} else {
				UnitStatusDTO st = new UnitStatusDTO();
				st.name = u;
				st.loadState = "unknown";
				st.activeState = "unknown";
				st.subState = "unknown";
				dto.units.add(st);
			}
		}
		if (control.present() && dto.units.stream().anyMatch(u -> u.running)) {
			dto.state = dto.state.asRunning();
		}
		return dto;
	}
}
