package psi.portable1.internal;

import java.util.ArrayList;
import java.util.List;

import org.freedesktop.DBus.Error.InvalidArgs;

import psi.api.Portables;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ImageStatusDTO;
import psi.api.dto.PullRequestDTO;
import psi.api.dto.PullResultDTO;
import psi.api.dto.UnitStatusDTO;
import psi.api.dto.VerdictDTO;
import psi.api.dto.VerifyLevel;

/** {@code /io/psi/Portables1}: psi's own interface, authorized as portabled authorizes its methods. */
final class PsiObject implements Portables1 {

	static final String PATH = "/io/psi/Portables1";
	static final String INTERFACE = "io.psi.Portables1";

	private final Portables portables;
	private final Authorizer authorizer;

	PsiObject(Portables portables, Authorizer authorizer) {
		this.portables = portables;
		this.authorizer = authorizer;
	}

	@Override
	public String getObjectPath() {
		return PATH;
	}

	@Override
	public List<Change> Start(String image, List<String> matches, String profile, boolean runtime, String copyMode, String verify) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = image;
		r.prefixes = new ArrayList<>(matches);
		r.profile = profile.isEmpty() ? "default" : profile;
		r.runtime = runtime;
		r.copy = copyMode.isEmpty() ? "auto" : copyMode;
		r.verify = level(verify);
		r.now = true;
		authorizer.check(Authorizer.ATTACH);
		return Calls.changes(Calls.psi(() -> portables.start(r, psi.api.ProgressListener.NONE)));
	}

	@Override
	public List<Change> Stop(String image) {
		authorizer.check(Authorizer.ATTACH);
		return Calls.changes(Calls.psi(() -> portables.stop(null, image)));
	}

	@Override
	public List<Change> Restart(String image) {
		authorizer.check(Authorizer.ATTACH);
		return Calls.changes(Calls.psi(() -> portables.restart(null, image)));
	}

	@Override
	public Tuples.Four<String, String, String, List<UnitEntry>> Status(String image) {
		ImageStatusDTO s = Calls.psi(() -> portables.status(null, image));
		List<UnitEntry> units = new ArrayList<>();
		for (UnitStatusDTO u : s.units) {
			units.add(new UnitEntry(u.name, Calls.nz(u.loadState), Calls.nz(u.activeState), Calls.nz(u.subState), Calls.nz(u.statusText)));
		}
		return new Tuples.Four<>(Calls.nz(s.name), Calls.nz(s.path), s.state == null ? "" : s.state.label(), units);
	}

	@Override
	public Tuples.Four<String, String, String, String> Pull(String source, String name, String verify) {
		PullRequestDTO r = new PullRequestDTO();
		r.source = source;
		r.name = name.isEmpty() ? null : name;
		r.verify = level(verify);
		authorizer.check(Authorizer.MANAGE);
		PullResultDTO p = Calls.psi(() -> portables.pull(r, psi.api.ProgressListener.NONE));
		return new Tuples.Four<>(Calls.nz(p.image), Calls.nz(p.path), p.level == null ? "" : p.level.label(), Calls.nz(p.verified));
	}

	@Override
	public Tuples.Three<String, String, List<Change>> Verify(String source, String verify) {
		PullRequestDTO r = new PullRequestDTO();
		r.source = source;
		r.verify = level(verify);
		authorizer.check(Authorizer.INSPECT);
		PullResultDTO p = Calls.psi(() -> portables.verify(r, psi.api.ProgressListener.NONE));
		List<Change> verdicts = new ArrayList<>();
		for (VerdictDTO v : p.verdicts) {
			verdicts.add(new Change(Calls.nz(v.verifier), v.level == null ? "" : v.level.label(), Calls.nz(v.detail)));
		}
		return new Tuples.Three<>(p.level == null ? "" : p.level.label(), Calls.nz(p.verified), verdicts);
	}

	private static VerifyLevel level(String verify) {
		if (verify.isEmpty()) {
			return null;
		}
		try {
			return VerifyLevel.ofOption(verify);
		} catch (IllegalArgumentException e) {
			throw new InvalidArgs("Invalid verify level '" + verify + "' (one of no, checksum, signature, or empty for the default)");
		}
	}

}
