package psi.itest.parity;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

import psi.itest.parity.PortablectlParityIT.Case;
import psi.itest.parity.PortablectlParityIT.ErrorCase;
import psi.itest.parity.PortablectlParityIT.Result;

/**
 * psi as a drop-in systemd-portabled: the real portablectl 252 (and busctl,
 * dbus-send) in the throwaway systemd box, first against portabled as
 * shipped (phase A), then, with systemd-portabled.service masked and psi's
 * bus activation file installed, against psi's daemon, which the bus starts
 * (phase B). Every script runs in both phases from the same clean state:
 * the exit status, standard output, standard error (lines sorted:
 * portabled's order between units follows a hash table) and the tree of
 * attached files after each step must be the same.
 */
class Portable1ParityIT {

	static final String PCTL = "portablectl";
	static final String DEST = "--dest=org.freedesktop.portable1";
	static final String MANAGER = "/org/freedesktop/portable1 org.freedesktop.portable1.Manager.";
	/** a dbus-send call, its reply without the line naming serials and unique names */
	static final String SEND = "set -o pipefail; dbus-send --system --print-reply " + DEST + " ";
	static final String CLEAN = " 2>&1 | sed '/^method return/d'";

	static final PortablectlParityIT P = new PortablectlParityIT();
	static final String BEYOND = "beyond portabled: a naked squashfs .psi";
	/** what phase A (portabled) answered, by script name */
	static final Map<String, List<Step>> REFERENCE = new LinkedHashMap<>();

	/** A named list of shell command lines run in the box, after {@code setup}, then {@code teardown}. */
	record Script(String name, String setup, List<String> steps, String teardown) {
	}

	/** What one step did. */
	record Step(String command, int rc, String out, List<String> err, List<String> tree) {
		String show() {
			return "$ " + command + "  (exit " + rc + ")\n" + PortablectlParityIT.indent("stdout| ", out)
				+ PortablectlParityIT.indent("stderr| ", String.join("\n", err));
		}
	}

	static Script script(String name, String setup, String teardown, String... steps) {
		return new Script(name, setup, List.of(steps), teardown);
	}

	/** The parity cases of issue 2, each as portablectl attach ...; detach ... */
	static Script of(Case c) {
		List<String> steps = new ArrayList<>();
		c.steps().forEach(s -> steps.add(PCTL + " " + String.join(" ", s)));
		c.cleanup().forEach(s -> steps.add(PCTL + " " + String.join(" ", s)));
		return new Script(c.name(), c.setup(), steps, c.teardown());
	}

	static Script of(ErrorCase c) {
		return new Script("error: " + c.name(), c.setup(), List.of(PCTL + " " + String.join(" ", c.command())), c.teardown());
	}

	static List<Script> scripts() {
		List<Script> s = new ArrayList<>();
		PortablectlParityIT.cases().forEach(c -> s.add(of(c)));
		PortablectlParityIT.errorCases().forEach(c -> s.add(of(c)));
		s.add(script("list", null, null, PCTL + " list", PCTL + " attach single", PCTL + " list", PCTL + " detach single"));
		s.add(script("inspect", null, null, PCTL + " inspect single", PCTL + " inspect --cat gpt_1", PCTL + " inspect --cat naked",
			PCTL + " inspect --force single", PCTL + " inspect pfx pfx-a", PCTL + " inspect /srv/images/single"));
		s.add(script("is-attached", null, null, PCTL + " is-attached single", PCTL + " attach single", PCTL + " is-attached single",
			PCTL + " is-attached /var/lib/portables/single", PCTL + " detach single", PCTL + " is-attached nosuchimage",
			PCTL + " attach --runtime gpt_1", PCTL + " is-attached gpt_1", PCTL + " detach --runtime gpt_1"));
		s.add(script("--now and --enable", null, null, PCTL + " attach --now --enable single", "systemctl is-active single.service",
			"systemctl is-enabled single.service", PCTL + " detach single", PCTL + " detach --now --enable single",
			"systemctl is-active single.service"));
		s.add(script("--force", null, null, PCTL + " attach --force sst", PCTL + " detach --force sst"));
		// (a directory's read-only is FS_IMMUTABLE_FL for portabled, which the box's overlayfs refuses: "Access denied"; psi's works)
		s.add(script("read-only", null, null, PCTL + " read-only gpt_1", PCTL + " list", PCTL + " read-only gpt_1 no", PCTL + " list"));
		s.add(script("remove", "cp -a /var/lib/portables/sst /var/lib/portables/sst2 && cp /var/lib/portables/naked.raw /var/lib/portables/naked2.raw",
			"rm -rf /var/lib/portables/sst2 /var/lib/portables/naked2.raw", PCTL + " attach sst2 sst", PCTL + " remove sst2",
			PCTL + " detach sst2", PCTL + " remove sst2 naked2", "ls -d /var/lib/portables/sst2 /var/lib/portables/naked2.raw"));
		s.add(script("set-limit", null, null, PCTL + " set-limit single 1G", PCTL + " set-limit 1G", PCTL + " set-limit gpt_1 -"));
		s.add(script("--profile=help", null, null, PCTL + " attach --profile=help"));
		// systemd 252's own integration test for portable services (test/units/testsuite-29.sh), on images with different unit sets
		s.add(script("TEST-29", null, null, PCTL + " attach --now --runtime app_1", "systemctl is-active app.service app-old.service",
			PCTL + " is-attached app_1", PCTL + " detach --runtime app_1", PCTL + " reattach --now --runtime app_2",
			"systemctl is-active app.service app-old.service app-new.service", PCTL + " is-attached app_2", PCTL + " detach --runtime app_2",
			PCTL + " detach --now --runtime app_2", "systemctl is-active app.service app-new.service"));
		// extensions: inspect (no check that they fit; a directory extension's release is sent without a path),
		// the state of a running attachment with and without its extensions, and the flags the *WithExtensions calls take
		s.add(script("extensions", null, null, PCTL + " inspect --extension app0 --extension /srv/ext/app1.raw rt rt app0 app1",
			PCTL + " inspect --cat --extension app0 --extension /srv/ext/app1.raw rt rt app0 app1",
			PCTL + " inspect --extension /srv/ext/app1.raw rtv app1", PCTL + " inspect --force --extension /srv/ext/app10.raw rtraw app1",
			PCTL + " inspect --extension /srv/ext/app10.raw rtraw app1",
			PCTL + " attach --now --extension app0 rt app0", PCTL + " is-attached --extension app0 rt", PCTL + " is-attached rt",
			PCTL + " is-attached --extension app1 rt", PCTL + " detach --extension app0 rt", PCTL + " detach --now --extension app0 rt app0",
			SEND + MANAGER + "GetImageStateWithExtensions string:rt array:string:app0 uint64:1" + CLEAN,
			SEND + MANAGER + "GetImageMetadataWithExtensions string:rt array:string:app0 array:string:app0 uint64:8" + CLEAN,
			SEND + MANAGER + "DetachImageWithExtensions string:rt array:string:app0 uint64:0" + CLEAN));
		s.add(script("detach refused while running", PCTL + " attach --now single", PCTL + " detach --now single", PCTL + " detach single"));
		// portable1 itself, as any client sees it
		s.add(script("D-Bus: images and errors", null, null,
			"busctl --json=short call org.freedesktop.portable1 /org/freedesktop/portable1 org.freedesktop.portable1.Manager GetImage s gpt_1",
			SEND + MANAGER + "GetImage string:nosuch" + CLEAN,
			SEND + MANAGER + "GetImage string:/srv/images/single" + CLEAN,
			SEND + MANAGER + "GetImageOSRelease string:rel/path" + CLEAN,
			SEND + MANAGER + "GetImageOSRelease string:/srv/images/../images/single" + CLEAN,
			SEND + MANAGER + "GetImageState string:nosuch" + CLEAN,
			SEND + MANAGER + "AttachImage string:single array:string: string:default boolean:false string:bogus" + CLEAN,
			SEND + MANAGER + "AttachImageWithExtensions string:single array:string: array:string: string:default string: uint64:8" + CLEAN,
			SEND + MANAGER + "AttachImage string:noid array:string: string:default boolean:false string:" + CLEAN,
			// no matches: every unit of the image (portablectl always sends its prefixes)
			SEND + MANAGER + "AttachImage string:nounit array:string: string:default boolean:false string:" + CLEAN,
			PCTL + " detach nounit",
			SEND + MANAGER + "DetachImage string:single boolean:false" + CLEAN,
			SEND + MANAGER + "SetPoolLimit uint64:9223372036854775808" + CLEAN,
			SEND + MANAGER + "SetImageLimit string:single uint64:9223372036854775808" + CLEAN,
			SEND + "/org/freedesktop/portable1/image/nosuch org.freedesktop.portable1.Image.GetState" + CLEAN,
			SEND + "/org/freedesktop/portable1/image/gpt_5f1 org.freedesktop.portable1.Image.GetState" + CLEAN,
			SEND + "/org/freedesktop/portable1 org.freedesktop.DBus.Properties.Get string:org.freedesktop.portable1.Manager string:Nope" + CLEAN,
			SEND + "/org/freedesktop/portable1 org.freedesktop.DBus.Properties.Set string:org.freedesktop.portable1.Manager string:PoolPath variant:string:/x"
				+ CLEAN,
			"busctl get-property org.freedesktop.portable1 /org/freedesktop/portable1 org.freedesktop.portable1.Manager PoolPath PoolUsage PoolLimit Profiles",
			"busctl get-property org.freedesktop.portable1 /org/freedesktop/portable1/image/gpt_5f1 org.freedesktop.portable1.Image Name Path Type ReadOnly "
				+ "Usage Limit UsageExclusive LimitExclusive ModificationTimestamp",
			PCTL + " attach gpt_1",
			"busctl get-property org.freedesktop.portable1 /org/freedesktop/portable1/image/gpt_5f1 org.freedesktop.portable1.Image Path",
			"busctl --json=short call org.freedesktop.portable1 /org/freedesktop/portable1/image/gpt_5f1 org.freedesktop.portable1.Image GetState",
			SEND + MANAGER + "RemoveImage string:gpt_1" + CLEAN,
			PCTL + " detach gpt_1"));
		s.add(script("D-Bus: introspection", null, null, "busctl introspect --no-pager org.freedesktop.portable1 /org/freedesktop/portable1",
			"busctl introspect --no-pager org.freedesktop.portable1 /org/freedesktop/portable1/image/single | awk '{print $1, $2, $3}'",
			"busctl introspect --no-pager org.freedesktop.portable1 /org/freedesktop/portable1/image/gpt_5f1 | grep -v Timestamp"));
		// what psi reads and portabled does not: a naked squashfs named .psi (compared in imagesPortabledCannotRead)
		s.add(script(BEYOND, "cp /var/lib/portables/naked.raw /srv/images/naked_7.psi", "rm -f /srv/images/naked_7.psi",
			PCTL + " inspect /srv/images/naked_7.psi", PCTL + " attach /srv/images/naked_7.psi", PCTL + " detach /srv/images/naked_7.psi"));
		// as nobody: reading by name is everyone's, reading by path and changing the host need polkit's yes (none without a rule)
		String nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
		s.add(script("authorization", null, "rm -f /etc/polkit-1/rules.d/50-psi-test.rules", nobody + PCTL + " list", nobody + PCTL + " inspect single",
			nobody + "busctl call org.freedesktop.portable1 /org/freedesktop/portable1 org.freedesktop.portable1.Manager GetImageMetadata sas /srv/images/single 0",
			nobody + PCTL + " --no-ask-password attach single", nobody + PCTL + " --no-ask-password read-only single",
			"mkdir -p /etc/polkit-1/rules.d && printf '%s\\n' 'polkit.addRule(function(action, subject) {' "
				+ "'  if (action.id == \"org.freedesktop.portable1.attach-images\" && subject.user == \"nobody\") return polkit.Result.YES;' '});' "
				+ "> /etc/polkit-1/rules.d/50-psi-test.rules && sleep 1",
			nobody + PCTL + " --no-ask-password --no-reload attach single", nobody + PCTL + " --no-ask-password --no-reload detach single",
			nobody + PCTL + " --no-ask-password remove single"));
		return s;
	}

	// ------------------------------------------------------------------

	@BeforeAll
	static void up() throws Exception {
		PortablectlParityIT.bootBox();
		// two versions of an app with different unit sets, for the TEST-29 flow
		P.sh("for v in 1 2; do d=/var/lib/portables/app_$v; cp -a /var/lib/portables/ver_1 $d && rm $d/usr/lib/systemd/system/ver.service"
			+ " && sed -i \"s/^VERSION_ID=.*/VERSION_ID=$v/\" $d/usr/lib/os-release; done"
			+ " && for u in app_1/app app_1/app-old app_2/app app_2/app-new; do"
			+ " sed \"s/ver version 1/${u#*/} of ${u%/*}/\" /var/lib/portables/ver_1/usr/lib/systemd/system/ver.service"
			+ " > /var/lib/portables/${u%/*}/usr/lib/systemd/system/${u#*/}.service; done");
		System.out.println("[portable1] phase A: portablectl against systemd-portabled");
		for (Script s : scripts()) {
			REFERENCE.put(s.name(), run(s));
		}
		switchToPsi();
	}

	@AfterAll
	static void down() throws Exception {
		PortablectlParityIT.stopBox();
	}

	/**
	 * Hands org.freedesktop.portable1 to psi as the README says: psi's units,
	 * systemd-portabled masked, psi's bus activation file. Before the mask,
	 * a psi daemon leaves the name alone.
	 */
	static void switchToPsi() throws Exception {
		Path dist = PortablectlParityIT.basedir.resolve("distribution");
		Path root = Paths.get("/proc", PortablectlParityIT.boxPid, "root");
		for (String unit : List.of("psi.socket", "psi.service")) {
			String text = Files.readString(dist.resolve("systemd").resolve(unit)).replace("ExecStart=/usr/bin/psi ", "ExecStart=" + PortablectlParityIT.PSI + " ");
			Files.writeString(root.resolve("etc/systemd/system").resolve(unit), text);
		}
		Files.createDirectories(root.resolve("usr/local/share/dbus-1/system-services"));
		Files.createDirectories(root.resolve("etc/dbus-1/system.d"));
		Files.copy(dist.resolve("dbus/org.freedesktop.portable1.psi.conf"), root.resolve("etc/dbus-1/system.d/org.freedesktop.portable1.psi.conf"));
		Files.copy(dist.resolve("dbus/org.freedesktop.portable1.service"), root.resolve("usr/local/share/dbus-1/system-services/org.freedesktop.portable1.service"));
		P.sh("systemctl daemon-reload && systemctl start psi.service");
		assertTrue(journalSays("not serving org.freedesktop.portable1: systemd-portabled is installed and not masked"),
			"with portabled in place, psi leaves its name alone");
		P.sh("systemctl stop psi.service systemd-portabled.service && systemctl mask systemd-portabled.service && systemctl reload dbus"
			+ " && systemctl enable --now psi.socket");
		Result none = PortablectlParityIT.inBox(List.of("busctl", "status", "org.freedesktop.portable1"));
		assertTrue(none.rc() != 0, "nobody owns the name before the first call: " + none);
		System.out.println("[portable1] phase B: portablectl against psi (bus activated)");
		Result first = PortablectlParityIT.inBox(List.of(PCTL, "list"));
		assertEquals(0, first.rc(), "the first call activates psi: " + first);
		String pid = PortablectlParityIT.inBox(List.of("systemctl", "show", "-P", "MainPID", "psi.service")).out().strip();
		String owner = PortablectlParityIT.inBox(List.of("busctl", "status", "--no-pager", "org.freedesktop.portable1")).out();
		assertTrue(owner.contains("PID=" + pid + "\n"), "psi.service (PID " + pid + ") owns org.freedesktop.portable1:\n" + owner);
		assertTrue(journalSays("serving org.freedesktop.portable1"), "psi says it serves the name");
	}

	static boolean journalSays(String text) throws Exception {
		for (int i = 0; i < 100; i++) {
			if (PortablectlParityIT.inBox(List.of("journalctl", "-u", "psi.service", "--no-pager", "-o", "cat")).out().contains(text)) {
				return true;
			}
			Thread.sleep(100);
		}
		System.out.println("[portable1] psi.service's journal:\n" + PortablectlParityIT.inBox(List.of("journalctl", "-u", "psi.service", "--no-pager", "-o", "cat")).out());
		return false;
	}

	/**
	 * What may differ between runs: systemd's job numbers, and which of
	 * several active units a refused detach names (portabled takes the
	 * first its readdir() gives, psi the first by name).
	 */
	static String jobs(String text) {
		return text.replaceAll("/org/freedesktop/systemd1/job/[0-9]+", "/org/freedesktop/systemd1/job/N")
			.replaceAll("Unit file '[^']+' is active, can't detach\\.", "Unit file 'UNIT' is active, can't detach.");
	}

	static List<Step> run(Script s) throws Exception {
		PortablectlParityIT.Run clean = new PortablectlParityIT.Run(PCTL);
		P.cleanState(clean);
		if (!clean.problems.isEmpty()) {
			System.out.println("[portable1] " + clean.problems);
		}
		List<Step> steps = new ArrayList<>();
		if (s.setup() != null) {
			P.sh(s.setup());
		}
		try {
			for (String c : s.steps()) {
				Result r = PortablectlParityIT.inBox(List.of("bash", "-c", c));
				// systemd's job numbers differ from run to run
				Step step = new Step(c, r.rc(), jobs(r.out()), jobs(r.err()).lines().sorted().toList(), P.snapshot());
				System.out.print("[portable1] " + step.show());
				steps.add(step);
			}
		} finally {
			if (s.teardown() != null) {
				P.sh(s.teardown());
			}
		}
		Result reset = PortablectlParityIT.inBox(List.of(PortablectlParityIT.INBOX, "reset"));
		steps.add(new Step("(left behind)", reset.rc(), "", reset.err().lines().toList(), List.of()));
		PortablectlParityIT.inBox(List.of(PortablectlParityIT.INBOX, "reset", "--force"));
		return steps;
	}

	@TestFactory
	Stream<DynamicTest> portablectlAnswersAsAgainstPortabled() {
		return scripts().stream().filter(s -> !s.name().equals(BEYOND)).map(s -> DynamicTest.dynamicTest(s.name(), () -> {
			List<Step> ref = REFERENCE.get(s.name());
			List<Step> psi = run(s);
			List<Executable> checks = new ArrayList<>();
			for (int i = 0; i < ref.size(); i++) {
				Step a = ref.get(i), b = psi.get(i);
				String what = "step " + (i + 1) + " `" + a.command() + "`";
				checks.add(() -> assertEquals(a.rc(), b.rc(), what + ": exit status\nportabled:\n" + a.show() + "psi:\n" + b.show()));
				checks.add(() -> assertEquals(a.out(), b.out(), what + ": stdout"));
				checks.add(() -> assertEquals(a.err(), b.err(), what + ": stderr lines (sorted)"));
				checks.add(() -> PortablectlParityIT.same("tree after " + what, a.tree(), b.tree()));
			}
			assertAll(s.name(), checks);
		}));
	}

	/** psi's own interface, beside portable1's: start an image, see it run, stop it, as root; refused for nobody without polkit's yes. */
	@Test
	void psisOwnInterfaceStartsStatusesAndStops() throws Exception {
		PortablectlParityIT.Run clean = new PortablectlParityIT.Run(PCTL);
		P.cleanState(clean);
		String call = "busctl --json=short call org.freedesktop.portable1 /io/psi/Portables1 io.psi.Portables1 ";
		try {
			Result start = PortablectlParityIT.inBox(List.of("bash", "-c", call + "Start sassbss single 0 '' false '' ''"));
			assertEquals(0, start.rc(), start.toString());
			assertTrue(start.out().contains("[\"job\",\"single.service\",\"done\"]"), start.out());
			assertEquals("active\n", PortablectlParityIT.inBox(List.of("systemctl", "is-active", "single.service")).out());
			Result status = PortablectlParityIT.inBox(List.of("bash", "-c", call + "Status s single"));
			assertTrue(status.out().contains("\"running\",[[\"single.service\",\"loaded\",\"active\",\"running\",\"\"]]"), status.out());
			Result nobody = PortablectlParityIT.inBox(List.of("bash", "-c", "setpriv --reuid=65534 --regid=65534 --clear-groups " + call + "Stop s single"));
			assertTrue(nobody.rc() != 0 && nobody.err().contains("Interactive authentication required."), nobody.toString());
			Result stop = PortablectlParityIT.inBox(List.of("bash", "-c", call + "Stop s single"));
			assertEquals(0, stop.rc(), stop.toString());
			assertEquals("inactive\n", PortablectlParityIT.inBox(List.of("systemctl", "is-active", "single.service")).out());
		} finally {
			PortablectlParityIT.inBox(List.of(PCTL, "detach", "--now", "single"));
		}
		Result reset = PortablectlParityIT.inBox(List.of(PortablectlParityIT.INBOX, "reset"));
		assertEquals(0, reset.rc(), "nothing left: " + reset);
	}

	/** portabled refuses a naked squashfs named .psi; through psi, portablectl inspects, attaches and detaches it. */
	@Test
	void imagesPortabledCannotRead() throws Exception {
		Script s = scripts().stream().filter(x -> x.name().equals(BEYOND)).findFirst().orElseThrow();
		List<Step> ref = REFERENCE.get(BEYOND);
		assertEquals(1, ref.get(0).rc(), ref.get(0).show());
		assertTrue(String.join("\n", ref.get(0).err()).contains("Type of image '/srv/images/naked_7.psi' not recognized"), ref.get(0).show());
		List<Step> psi = run(s);
		assertEquals(0, psi.get(0).rc(), psi.get(0).show());
		assertTrue(psi.get(0).out().contains("Unit files:\n\tnaked.service\n"), psi.get(0).show());
		assertEquals(0, psi.get(1).rc(), psi.get(1).show());
		assertTrue(psi.get(1).tree().stream().anyMatch(l -> l.startsWith("/etc/portables/naked_7.psi\tl\t") && l.endsWith("-> /srv/images/naked_7.psi")),
			String.join("\n", psi.get(1).tree()));
		assertEquals(0, psi.get(2).rc(), psi.get(2).show());
		assertEquals(0, psi.get(3).rc(), "nothing left: " + psi.get(3).show());
	}

	@Test
	void theReferenceRanAgainstPortabled() {
		// guards against a phase A that never reached portabled: it answered, and the flows did something
		List<Step> list = REFERENCE.get("list");
		assertEquals(0, list.get(0).rc(), list.get(0).show());
		assertTrue(list.get(0).out().contains("single"), list.get(0).show());
		List<Step> t29 = REFERENCE.get("TEST-29");
		assertEquals("active\nactive\n", t29.get(1).out(), t29.get(1).show());
		assertTrue(REFERENCE.values().stream().flatMap(List::stream).map(Step::command).collect(Collectors.toSet()).size() > 100);
		if (REFERENCE.isEmpty()) {
			fail("phase A did not run");
		}
	}
}
