package psi.core.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.ImageStatusDTO;
import psi.api.dto.UnitStatusDTO;

/**
 * Running an attached image's units through the service manager: what
 * follows an attach ({@code --enable}, {@code --now}), {@code psi start},
 * {@code psi stop} and {@code psi status}. Made per operation.
 */
final class Lifecycle {

	private final Host host;
	private final UnitControl control;

	Lifecycle(Host host, UnitControl control) {
		this.host = host;
		this.control = control;
	}

	/** @return the attached units of the changes an attach made */
	static List<String> attachedUnits(List<ChangeDTO> changes, boolean runtime) {
		String attached = HostLayout.attachedDir(runtime);
		List<String> units = new ArrayList<>();
		for (ChangeDTO ch : changes) {
			if (!ch.type.equals("unlink") && ch.path.startsWith(attached + "/") && ch.path.indexOf('/', attached.length() + 1) < 0
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
	List<ChangeDTO> now(List<String> units, Map<String, Boolean> wasRunning, boolean noBlock) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		List<String> restart = new ArrayList<>();
		List<String> start = new ArrayList<>();
		for (String u : units.stream().filter(u -> !UnitControl.isTemplate(u)).sorted().toList()) {
			(Boolean.TRUE.equals(wasRunning.get(u)) ? restart : start).add(u);
		}
		List<String> gone = wasRunning.entrySet().stream().filter(e -> e.getValue() && !units.contains(e.getKey()))
			.map(Map.Entry::getKey).toList();
		changes.addAll(control.jobs("StopUnit", gone, !noBlock));
		changes.addAll(control.jobs("RestartUnit", restart, !noBlock));
		changes.addAll(control.jobs("StartUnit", start, !noBlock));
		return changes;
	}

	/** Starts the startable units of an attached image; what runs already is said to run. */
	List<ChangeDTO> start(AttachRequestDTO request) throws IOException {
		List<ChangeDTO> changes = new ArrayList<>();
		String key = host.images().key(request.image);
		List<String> toStart = new ArrayList<>();
		for (String u : UnitControl.startable(host.index().units(key).keySet())) {
			if (control.running(u)) {
				changes.add(ChangeDTO.of("running", u, null));
			} else {
				toStart.add(u);
			}
		}
		changes.addAll(control.jobs("StartUnit", toStart, true));
		// a service that fails at once has started (its job is done) and failed a moment later
		if (!toStart.isEmpty()) {
			try {
				Thread.sleep(300);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
			for (String u : host.index().units(key).keySet()) {
				UnitStatusDTO st = control.status(u);
				if ("failed".equals(st.activeState) && changes.stream().noneMatch(ch -> ch.type.equals("failed") && ch.path.equals(u))) {
					changes.add(ChangeDTO.of("failed", u, st.result + ", status " + st.execMainStatus));
				}
			}
		}
		return changes;
	}

	List<ChangeDTO> stop(String image) throws IOException {
		control.require("psi stop");
		var units = host.index().units(host.images().key(image));
		if (units.isEmpty()) {
			throw new PsiException("No unit files associated with '" + image + "' found attached to the system. Image not attached?", 4, null);
		}
		List<String> running = new ArrayList<>();
		for (String u : units.keySet()) {
			if (control.running(u)) {
				running.add(u);
			}
		}
		return control.jobs("StopUnit", running, true);
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
		dto.profile = host.profiles().of(units);
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
		if (control.present() && dto.units.stream().anyMatch(u -> UnitControl.RUNNING.contains(u.activeState))) {
			dto.state = dto.state.endsWith("-runtime") ? "running-runtime" : "running";
		}
		return dto;
	}
}
