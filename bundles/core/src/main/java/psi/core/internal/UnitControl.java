package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import psi.api.PsiException;
import psi.api.dto.ChangeDTO;
import psi.api.dto.JobDTO;
import psi.api.dto.UnitStatusDTO;
import psi.spi.manager.ServiceManager;

/**
 * What the engine asks of the service manager around attach and detach, with
 * portablectl's meaning: refuse to attach over or detach an active unit,
 * reload after changes, enable, start and stop. Without a manager (a scratch
 * {@code --root}, or no systemd) the file changes happen alone and the steps
 * that need one are refused with the manager's reason.
 */
final class UnitControl {

	private final ServiceManager manager;
	private final ServiceManager journal;
	private final String unavailable;
	private final PluginCalls calls;

	/**
	 * @param manager the manager, or {@code null}
	 * @param unavailable why there is none, one line
	 */
	UnitControl(ServiceManager manager, String unavailable) {
		this(manager, unavailable, new PluginCalls(PluginCalls.Limits.DEFAULT));
	}

	/**
	 * @param manager the manager, or {@code null}
	 * @param unavailable why there is none, one line
	 * @param calls the guard every call to the manager goes through
	 */
	UnitControl(ServiceManager manager, String unavailable, PluginCalls calls) {
		this(manager, manager, unavailable, calls);
	}

	/**
	 * @param manager the manager, or {@code null}
	 * @param journal the manager whose journal is read, available or not; or {@code null}
	 * @param unavailable why there is no manager, one line
	 * @param calls the guard every call to the manager goes through
	 */
	UnitControl(ServiceManager manager, ServiceManager journal, String unavailable, PluginCalls calls) {
		this.manager = manager;
		this.journal = journal;
		this.unavailable = unavailable;
		this.calls = calls;
	}

	private <T> T call(String what, PluginCalls.Call<T> c) throws IOException {
		return PluginCalls.answer(calls.call(PluginCalls.Kind.MANAGER, manager, what, c), PluginCalls.Kind.MANAGER, manager, what);
	}

	boolean present() {
		return manager != null;
	}

	String unavailable() {
		return unavailable;
	}

	/** @return the manager, or a refusal naming what needed it */
	ServiceManager require(String what) {
		if (manager == null) {
			throw new PsiException(what + " needs the service manager: " + unavailable);
		}
		return manager;
	}

	/** A guard refusing units that are active, as portabled does. */
	Attachments.Guard refuseActive(String verb) {
		return units -> {
			if (manager == null) {
				return;
			}
			for (String u : units) {
				if (running(u)) {
					throw verb.equals("detach")
						? new PsiException(PsiException.Reason.UNIT_EXISTS, "Unit file '" + u + "' is active, can't detach.", "--now stops it first.")
						: new PsiException(PsiException.Reason.UNIT_EXISTS, "Unit file '" + u + "' is active already, refusing.", null);
				}
			}
		};
	}

	/** Reloads unless told not to; silently nothing without a manager. */
	void reload(boolean noReload) throws IOException {
		if (manager != null && !noReload) {
			call("reloading", () -> {
				manager.reload();
				return Boolean.TRUE;
			});
		}
	}

	/**
	 * After a change the manager may have seen was undone by a recovery: has it
	 * disable what it had been told to enable, and reload. Nothing without a manager.
	 */
	void undone(Journal.Recovery r) throws IOException {
		if (manager == null) {
			return;
		}
		if (!r.disable().isEmpty()) {
			disable(r.disable(), r.runtimeDisable());
		}
		reload(false);
	}

	/** Enables unit files as portable units; the changes as portabled reports them. */
	List<ChangeDTO> enable(String attachedDir, Collection<String> units, boolean runtime) throws IOException {
		List<Path> files = new ArrayList<>();
		for (String u : units) {
			files.add(Path.of(attachedDir, u));
		}
		require("--enable");
		return changes(call("enabling " + String.join(", ", units), () -> manager.enable(files, runtime)));
	}

	List<ChangeDTO> disable(Collection<String> units, boolean runtime) throws IOException {
		require("--enable");
		return changes(call("disabling " + String.join(", ", units), () -> manager.disable(new ArrayList<>(units), runtime)));
	}

	private static List<ChangeDTO> changes(List<String> lines) {
		List<ChangeDTO> out = new ArrayList<>();
		for (String l : lines) {
			String[] f = l.split(" ", 3);
			// systemd reports symlink and unlink changes; its notices (is-masked, ...) change nothing
			ChangeDTO.Type type = switch (f[0]) {
				case "symlink" -> ChangeDTO.Type.SYMLINK;
				case "unlink" -> ChangeDTO.Type.UNLINK;
				default -> null;
			};
			if (type != null) {
				out.add(ChangeDTO.of(type, f.length > 1 ? f[1] : "", f.length > 2 && !f[2].isEmpty() ? f[2] : null));
			}
		}
		return out;
	}

	/**
	 * Runs a job on each unit. A job that does not succeed is reported as a
	 * {@code failed} change (path = unit, source = the job's result) after its
	 * {@code job} change, so that the changes made before it are not lost.
	 */
	List<ChangeDTO> jobs(JobDTO.Kind kind, Collection<String> units, boolean wait) throws IOException {
		return jobs(kind, units, wait, false);
	}

	/** As {@link #jobs(JobDTO.Kind, Collection, boolean)}, starts allowed without the sandbox directives the manager lacks. */
	List<ChangeDTO> jobs(JobDTO.Kind kind, Collection<String> units, boolean wait, boolean allowUnsandboxed) throws IOException {
		ServiceManager m = require(switch (kind) {
			case START -> "starting units (--now)";
			case STOP -> "stopping units";
			case RESTART -> "restarting units";
			case RELOAD -> "reloading units";
		});
		List<ChangeDTO> out = new ArrayList<>();
		for (String u : units) {
			ServiceManager.JobResult r = call(kind.name().toLowerCase(java.util.Locale.ROOT) + " " + u, () -> switch (kind) {
				case START -> allowUnsandboxed ? m.start(u, wait, true) : m.start(u, wait);
				case STOP -> m.stop(u, wait);
				case RESTART -> m.restart(u, wait);
				case RELOAD -> m.reloadUnit(u, wait);
			});
			ChangeDTO c = ChangeDTO.of(ChangeDTO.Type.JOB, u, null);
			c.job = new JobDTO();
			c.job.kind = kind;
			c.job.unit = u;
			c.job.job = r.job();
			c.job.result = r.result();
			out.add(c);
			if (!r.ok()) {
				out.add(ChangeDTO.of(ChangeDTO.Type.FAILED, u, "job " + r.result()));
			}
		}
		return out;
	}

	/** The units to start for an image: sockets, timers and paths activate their own services; no templates. */
	static List<String> startable(Collection<String> units) {
		Set<String> all = new TreeSet<>(units);
		List<String> out = new ArrayList<>();
		for (String u : all) {
			String stem = u.substring(0, u.lastIndexOf('.'));
			if (stem.endsWith("@")) {
				continue; // a template: only its instances run
			}
			if (u.endsWith(".service") && (all.contains(stem + ".socket") || all.contains(stem + ".timer") || all.contains(stem + ".path"))) {
				continue;
			}
			if (u.endsWith(".target")) {
				continue;
			}
			out.add(u);
		}
		return out;
	}

	/** @return whether a unit name is a template ({@code foo@.service}): only its instances run */
	static boolean isTemplate(String unit) {
		return unit.contains("@.");
	}

	/**
	 * @return the running instances of a template ({@code foo@a.service} of {@code foo@.service})
	 */
	List<String> instances(String template) throws IOException {
		int at = template.indexOf("@.");
		require("status");
		List<String> patterns = List.of(template.substring(0, at + 1) + "*" + template.substring(at + 1));
		return call("listing " + patterns.get(0), () -> manager.listUnits(patterns));
	}

	UnitStatusDTO status(String unit) throws IOException {
		if (isTemplate(unit)) {
			UnitStatusDTO d = new UnitStatusDTO();
			d.name = unit;
			d.loadState = "template";
			d.activeState = "inactive";
			d.subState = "template";
			d.memory = -1;
			d.tasks = -1;
			return d;
		}
		require("status");
		ServiceManager.UnitStatus s = status0(unit);
		UnitStatusDTO d = new UnitStatusDTO();
		d.name = s.name;
		d.description = s.description;
		d.loadState = s.loadState;
		d.activeState = s.activeState;
		d.subState = s.subState;
		d.mainPid = s.mainPid;
		d.execMainStatus = s.execMainStatus;
		d.memory = s.memoryCurrent;
		d.tasks = s.tasksCurrent;
		d.since = s.activeEnterTimestamp;
		d.result = s.result;
		d.running = s.isRunning();
		d.cpuNanos = s.cpuUsageNSec;
		d.ipInBytes = s.ipIngressBytes;
		d.ipInPackets = s.ipIngressPackets;
		d.ipOutBytes = s.ipEgressBytes;
		d.ipOutPackets = s.ipEgressPackets;
		d.nextElapse = s.nextElapse;
		d.statusText = s.statusText == null ? "" : s.statusText;
		d.warnings = s.warnings == null ? new ArrayList<>() : new ArrayList<>(s.warnings);
		return d;
	}

	boolean running(String unit) throws IOException {
		if (manager == null) {
			return false;
		}
		if (isTemplate(unit)) {
			for (String i : instances(unit)) {
				if (status0(i).isRunning()) {
					return true;
				}
			}
			return false;
		}
		String state = call("asking the state of " + unit, () -> manager.activeState(unit));
		psi.spi.manager.ActiveState s = psi.spi.manager.ActiveState.of(state);
		return s != null && s.running();
	}

	private ServiceManager.UnitStatus status0(String unit) throws IOException {
		return call("asking the state of " + unit, () -> manager.status(unit));
	}

	/** @return the newest journal lines of an image, through the manager (present or not: the journal is read anyway) */
	List<String> journal(String portable, int lines) throws IOException {
		if (journal == null) {
			throw new PsiException("no service manager is installed to read the journal");
		}
		return call("reading the journal of " + portable, () -> journal.journal(portable, lines));
	}

	/** Follows the journal lines of an image through the manager. */
	ServiceManager.JournalFollower follow(String portable, int lines, java.util.function.Consumer<String> sink) throws IOException {
		if (journal == null) {
			throw new PsiException("no service manager is installed to read the journal");
		}
		return call("following the journal of " + portable, () -> journal.followJournal(portable, lines, sink));
	}

	/** @return unit → running, for the units given */
	Map<String, Boolean> running(Collection<String> units) throws IOException {
		Map<String, Boolean> out = new java.util.LinkedHashMap<>();
		for (String u : units) {
			out.put(u, running(u));
		}
		return out;
	}
}
