package psi.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import psi.api.PsiException;
import psi.api.dto.FindingDTO;
import psi.spi.format.Entry;
import psi.spi.format.RootKind;
import psi.spi.unit.ExecCommand;
import psi.spi.unit.UnitFile;

/**
 * {@code psi lint}: the pitfalls of portable services found in an image
 * before it ships, each with a one-line remedy. Reads the image only (and
 * the host's accounts): nothing is attached. The checks, by name:
 * <ul>
 * <li>{@code os-release}: no os-release, or no {@code ID=} (attach refuses);</li>
 * <li>{@code no-units}: no unit matches the prefixes (attach refuses);
 * {@code prefixes}: a unit outside {@code PORTABLE_PREFIXES}, which attach
 * never takes;</li>
 * <li>{@code exec-missing}: an {@code Exec*=} program the image lacks or
 * cannot execute;</li>
 * <li>{@code user}: {@code User=}/{@code Group=} naming an account of the
 * image's {@code /etc/passwd} (or none) that the host lacks, where neither
 * the unit nor the profile asks for {@code DynamicUser=yes} (which would
 * allocate it);</li>
 * <li>{@code host-files}: sysusers.d, tmpfiles.d, D-Bus policy and service
 * activation, polkit actions, udev rules in the image, which the host never
 * reads from it;</li>
 * <li>{@code bind-host}: {@code BindPaths=}/{@code BindReadOnlyPaths=} of
 * host paths;</li>
 * <li>{@code socket-service}: a socket without the service it starts;
 * {@code template}: a template service nothing instantiates;</li>
 * <li>{@code mount-points}: {@code /proc /sys /dev /run /tmp /var/tmp} and
 * {@code /etc/machine-id}, {@code /etc/resolv.conf} missing (the profiles
 * mount and bind onto them; a read-only image cannot get them);</li>
 * <li>{@code sandbox}: what attach would refuse under the profile
 * ({@link SandboxGuard});</li>
 * <li>{@code verify}: a raw image nothing signed vouches for, which a pull
 * or start over https or ssh refuses unless {@code --verify=no}.</li>
 * </ul>
 */
final class ImageLint {

	/** Where systemd looks for a command given without a path (systemd 252's default PATH). */
	private static final List<String> PATH = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin");
	private static final Set<String> EXEC = Set.of("ExecStart", "ExecStartPre", "ExecStartPost", "ExecCondition", "ExecReload", "ExecStop",
		"ExecStopPost");
	/** Directories whose files the host reads from its own tree only, never from an attached image. */
	private static final Map<String, String> HOST_FILES = new LinkedHashMap<>();
	static {
		String accounts = "the host never creates these accounts: use DynamicUser=yes, or ship the entry for the host's /etc/sysusers.d";
		HOST_FILES.put("/usr/lib/sysusers.d", accounts);
		HOST_FILES.put("/etc/sysusers.d", accounts);
		String tmp = "the host never applies them: use StateDirectory=, RuntimeDirectory=, CacheDirectory= in the unit instead";
		HOST_FILES.put("/usr/lib/tmpfiles.d", tmp);
		HOST_FILES.put("/etc/tmpfiles.d", tmp);
		String dbus = "the host's D-Bus never reads them: install the policy on the host, or do without the system bus name";
		HOST_FILES.put("/usr/share/dbus-1/system.d", dbus);
		HOST_FILES.put("/etc/dbus-1/system.d", dbus);
		HOST_FILES.put("/usr/share/dbus-1/system-services", "the host's D-Bus never activates them: start the service from a unit of the image");
		HOST_FILES.put("/usr/share/polkit-1/actions", "the host's polkit never reads them: install the actions on the host");
		String udev = "the host's udev never reads them: install the rules on the host";
		HOST_FILES.put("/usr/lib/udev/rules.d", udev);
		HOST_FILES.put("/etc/udev/rules.d", udev);
	}
	private static final List<String> MOUNT_POINTS = List.of("/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp");

	private final ImageResolver.OpenImage img;
	private final ImageReader reader;
	private final TreeResolver resolver;
	private final List<FindingDTO> out = new ArrayList<>();
	/** Whether the profile runs services as dynamic users: then a User= the host lacks is allocated, not missing. */
	private boolean profileDynamic;

	private ImageLint(ImageResolver.OpenImage img) {
		this.img = img;
		this.reader = new ImageReader(img.tree(), img.path());
		this.resolver = new TreeResolver(img.tree()::lstat, "image '" + img.path() + "'");
	}

	/**
	 * @param matches the prefixes attach would match ({@link ImageResolver#matches})
	 * @param profile the profile's name and {@code service.conf}, for what attach would refuse
	 * @param layout the host: its users and groups
	 * @param verification checks a raw image in place with the verifiers installed
	 * @return the findings, errors first, then by place
	 */
	static List<FindingDTO> check(ImageResolver.OpenImage img, List<String> matches, String profile, byte[] profileConf,
		HostLayout layout, Attachments.Verification verification) throws IOException {
		ImageLint l = new ImageLint(img);
		l.run(matches, profile, profileConf, SandboxGuard.Accounts.of(layout), layout);
		if (img.tree().rootKind() == RootKind.IMAGE) {
			l.verified(verification);
		}
		l.out.sort(Comparator.comparing((FindingDTO f) -> f.severity.equals("error") ? 0 : 1).thenComparing(f -> f.where)
			.thenComparingInt(f -> f.line));
		return l.out;
	}

	private void add(String severity, String check, String where, int line, String message, String remedy) {
		FindingDTO f = new FindingDTO();
		f.severity = severity;
		f.check = check;
		f.where = where;
		f.line = line;
		f.message = message;
		f.remedy = remedy;
		out.add(f);
	}

	private void run(List<String> matches, String profile, byte[] profileConf, SandboxGuard.Accounts accounts, HostLayout layout)
		throws IOException {
		boolean readOnly = img.tree().rootKind() == RootKind.IMAGE;
		profileDynamic = ProfileGuarantees.of(profile, profileConf).dynamicUser();
		Map<String, String> release = Map.of();
		try {
			release = reader.osRelease().release().fields();
			if (release.get("ID") == null || release.get("ID").isBlank()) {
				add("error", "os-release", "os-release", 0, "os-release has no ID=", "add ID= (the distribution the image is built from) to usr/lib/os-release");
			}
		} catch (PsiException noRelease) {
			add("error", "os-release", "/usr/lib/os-release", 0, "the image has no os-release", "add usr/lib/os-release with ID= and PORTABLE_PREFIXES=");
		}
		TreeMap<String, ImageReader.UnitFile> all = reader.units(List.of());
		TreeMap<String, ImageReader.UnitFile> units = matches.isEmpty() ? all : reader.units(matches);
		String prefixes = release.get("PORTABLE_PREFIXES");
		if (prefixes != null && !prefixes.isBlank()) {
			List<String> valid = List.of(prefixes.trim().split("\\s+"));
			for (String u : all.keySet()) {
				if (valid.stream().noneMatch(p -> UnitNames.matchesPrefix(u, p))) {
					add("warning", "prefixes", u, 0, "no prefix of PORTABLE_PREFIXES=" + prefixes + " matches it: attach never takes it",
						"add its prefix to PORTABLE_PREFIXES=, or rename the unit");
				}
			}
		}
		if (units.isEmpty()) {
			add("error", "no-units", "/usr/lib/systemd/system", 0, "no unit matches " + String.join(", ", matches) + ": attach refuses the image",
				"ship a unit named " + (matches.isEmpty() ? "after the image" : matches.get(0)) + ".service (or .socket, .timer) in usr/lib/systemd/system");
		}
		for (ImageReader.UnitFile u : units.values()) {
			unit(u, units, accounts);
		}
		Map<String, byte[]> files = new LinkedHashMap<>();
		units.values().forEach(u -> files.put(u.name(), u.content()));
		for (Map.Entry<String, List<String>> r : SandboxGuard.refusals(profile, profileConf, files, layout).entrySet()) {
			for (String line : r.getValue()) {
				add("error", "sandbox", r.getKey(), 0, line, "keep the unit inside the profile, or attach it with --profile trusted on purpose");
			}
		}
		for (Map.Entry<String, String> h : HOST_FILES.entrySet()) {
			Optional<String> dir = reader.directory(h.getKey());
			if (dir.isPresent() && !img.tree().list(dir.get()).isEmpty()) {
				add("warning", "host-files", h.getKey(), 0, h.getKey() + " holds files: " + h.getValue().substring(0, h.getValue().indexOf(':')),
					h.getValue().substring(h.getValue().indexOf(':') + 2));
			}
		}
		for (String m : MOUNT_POINTS) {
			if (!is(m, Entry.Kind.DIRECTORY)) {
				add(readOnly ? "error" : "warning", "mount-points", m, 0, m + " is missing: the service manager mounts onto it"
					+ (readOnly ? ", and cannot make it in a read-only image" : ""), "create the empty directory " + m + " in the image");
			}
		}
		for (String f : List.of("/etc/machine-id", "/etc/resolv.conf")) {
			if (!is(f, Entry.Kind.FILE)) {
				add(readOnly ? "error" : "warning", "mount-points", f, 0, f + " is missing: the profiles bind the host's onto it"
					+ (readOnly ? ", which fails in a read-only image" : ""), "create the empty file " + f + " in the image");
			}
		}
	}

	private void verified(Attachments.Verification verification) throws IOException {
		psi.api.dto.PullResultDTO r;
		try {
			r = verification.of(img.path());
		} catch (PsiException refused) {
			add("error", "verify", img.path(), 0, "it does not verify: " + refused.getMessage(), "rebuild or re-sign the image");
			return;
		}
		psi.api.dto.VerifyLevel level = r.level == null ? psi.api.dto.VerifyLevel.NONE : r.level;
		if (level != psi.api.dto.VerifyLevel.SIGNATURE) {
			add("warning", "verify", img.path(), 0, (level == psi.api.dto.VerifyLevel.NONE ? "nothing vouches for it" : (level == psi.api.dto.VerifyLevel.INTEGRITY ? "only its dm-verity hashes vouch for it, nothing signed" : "only a " + level.label() + " vouches for it"))
				+ ": psi pull and psi start over https or ssh refuse it unless --verify=no",
				"sign it: psi build --sign KEY --cert CERT (a dm-verity signature partition), a .roothash.p7s, or a signed SHA256SUMS beside it (psi build --sums DIR --gpg-key KEY)");
		}
	}

	private boolean is(String path, Entry.Kind kind) throws IOException {
		TreeResolver.Resolved r = resolver.resolve(path);
		return r.entry().isPresent() && r.entry().get().kind() == kind;
	}

	private void unit(ImageReader.UnitFile u, Map<String, ImageReader.UnitFile> units, SandboxGuard.Accounts accounts) throws IOException {
		List<UnitFile.Assignment> as = UnitFile.read(u.content());
		Map<String, String> last = new LinkedHashMap<>();
		for (UnitFile.Assignment a : as) {
			last.put(a.section() + "." + a.key(), a.value());
		}
		String name = u.name();
		if (name.endsWith(".service")) {
			for (UnitFile.Assignment a : as) {
				if (a.section().equals("Service") && EXEC.contains(a.key()) && !a.value().isBlank()) {
					exec(name, a);
				}
				if (a.section().equals("Service") && (a.key().equals("BindPaths") || a.key().equals("BindReadOnlyPaths")) && !a.value().isBlank()) {
					add("warning", "bind-host", name, a.line(), a.key() + "=" + a.value() + " reaches into the host: the image then depends on the host's files",
						"ship what it needs inside the image, or use StateDirectory= and friends");
				}
			}
			boolean dynamic = profileDynamic || ProfileGuarantees.isTrue(last.getOrDefault("Service.DynamicUser", "no"));
			for (String key : List.of("User", "Group")) {
				String v = last.get("Service." + key);
				if (v == null || v.isBlank() || dynamic || v.equals("root") || v.matches("[0-9]+") || v.contains("%")) {
					continue;
				}
				boolean onHost = key.equals("User") ? accounts.users().contains(v) : accounts.groups().contains(v);
				if (!onHost) {
					boolean inImage = names(key.equals("User") ? "/etc/passwd" : "/etc/group").contains(v);
					add("error", "user", name, line(as, key), key + "=" + v + (inImage ? " exists in the image's " : " exists neither in the image's nor in the host's ")
						+ (key.equals("User") ? "/etc/passwd" : "/etc/group") + (inImage ? " but not on the host: the service fails to start there" : ""),
						"use DynamicUser=yes, or ship a sysusers.d entry the host applies");
				}
			}
			if (name.contains("@") && name.indexOf('@') == name.length() - ".service".length() - 1) {
				String base = name.substring(0, name.indexOf('@'));
				boolean socket = units.containsKey(base + ".socket")
					&& ProfileGuarantees.isTrue(socketAccept(units.get(base + ".socket")));
				if (!socket && !last.containsKey("Install.DefaultInstance")) {
					add("warning", "template", name, 0, "a template no socket with Accept=yes and no DefaultInstance= instantiates: nothing starts it",
						"add DefaultInstance= to [Install], or start NAME@INSTANCE.service yourself");
				}
			}
		} else if (name.endsWith(".socket")) {
			String base = name.substring(0, name.length() - ".socket".length());
			String service = last.get("Socket.Service");
			boolean accept = ProfileGuarantees.isTrue(last.getOrDefault("Socket.Accept", "no"));
			String wanted = service != null ? service : accept ? base + "@.service" : base + ".service";
			if (!units.containsKey(wanted)) {
				add("error", "socket-service", name, 0, "the socket starts " + wanted + ", which the image lacks (or no prefix matches)",
					"ship " + wanted + " in usr/lib/systemd/system");
			}
		}
	}

	private static String socketAccept(ImageReader.UnitFile socket) {
		String v = "no";
		for (UnitFile.Assignment a : UnitFile.read(socket.content())) {
			if (a.section().equals("Socket") && a.key().equals("Accept")) {
				v = a.value();
			}
		}
		return v;
	}

	private static int line(List<UnitFile.Assignment> as, String key) {
		int l = 0;
		for (UnitFile.Assignment a : as) {
			if (a.section().equals("Service") && a.key().equals(key)) {
				l = a.line();
			}
		}
		return l;
	}

	/** An {@code Exec*=} program: present in the image and executable, looked up in PATH when given without a path. */
	private void exec(String unit, UnitFile.Assignment a) throws IOException {
		List<ExecCommand> cmds;
		try {
			cmds = ExecCommand.parse(a.value(), s -> s);
		} catch (RuntimeException bad) {
			add("error", "exec-missing", unit, a.line(), a.key() + "= does not parse: " + bad.getMessage(), "write it as systemd.service(5) says");
			return;
		}
		for (ExecCommand c : cmds) {
			String p = c.path();
			if (p == null || p.isEmpty() || p.contains("%") || p.contains("$")) {
				continue;
			}
			List<String> candidates = p.startsWith("/") ? List.of(p) : PATH.stream().map(d -> d + "/" + p).toList();
			Optional<Entry> found = Optional.empty();
			String where = candidates.get(0);
			for (String cand : candidates) {
				TreeResolver.Resolved r = resolver.resolve(cand);
				if (r.entry().isPresent()) {
					found = r.entry();
					where = cand;
					break;
				}
			}
			if (found.isEmpty()) {
				add("error", "exec-missing", unit, a.line(), a.key() + "= runs " + p + ", which the image lacks" + (p.startsWith("/") ? "" : " in " + String.join(":", PATH))
					+ ": the service fails to start", "ship " + p + " in the image, or fix the path");
			} else if (found.get().kind() != Entry.Kind.FILE || (found.get().mode() & 0111) == 0) {
				add("error", "exec-missing", unit, a.line(), a.key() + "= runs " + where + ", which is not an executable file in the image",
					"chmod +x " + where + " in the image");
			}
		}
	}

	/** @return the names of an account file of the image */
	private Set<String> names(String path) throws IOException {
		Set<String> out = new HashSet<>();
		Optional<byte[]> b;
		try {
			b = reader.readFile(path, 4 << 20);
		} catch (IOException | PsiException e) {
			return out;
		}
		if (b.isPresent()) {
			for (String line : new String(b.get(), StandardCharsets.UTF_8).split("\n")) {
				int colon = line.indexOf(':');
				if (colon > 0) {
					out.add(line.substring(0, colon));
				}
			}
		}
		return out;
	}
}
