package psi.shell.internal;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import psi.api.dto.ChangeDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.UnitFileDTO;

/** Text as portablectl 252 prints it. */
final class Render {

	private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("EEE yyyy-MM-dd HH:mm:ss zzz", Locale.ENGLISH);

	private Render() {
	}

	/**
	 * portablectl's arrow: U+2192, or {@code ->} where the locale is
	 * explicitly C or POSIX (a set but empty {@code LANG} counts as C).
	 */
	static String arrow(Map<String, String> env) {
		for (String var : new String[] { "LC_ALL", "LC_CTYPE", "LANG" }) {
			String v = env.get(var);
			if (v == null) {
				continue;
			}
			if (v.isEmpty() && !var.equals("LANG")) {
				continue;
			}
			return v.isEmpty() || v.equals("C") || v.equals("POSIX") ? "->" : "\u2192";
		}
		return "\u2192";
	}

	static String changes(List<ChangeDTO> changes, String arrow) {
		StringBuilder sb = new StringBuilder();
		for (ChangeDTO c : changes) {
			switch (c.type) {
				case SYMLINK -> sb.append("Created symlink ").append(line(c.path)).append(' ').append(arrow).append(' ').append(line(c.source)).append(".\n");
				case COPY -> {
					if (c.source == null || c.source.isEmpty()) {
						sb.append("Copied ").append(line(c.path)).append(".\n");
					} else {
						sb.append("Copied ").append(line(c.source)).append(' ').append(arrow).append(' ').append(line(c.path)).append(".\n");
					}
				}
				case UNLINK -> sb.append("Removed ").append(line(c.path)).append(".\n");
				case WRITE -> sb.append("Written ").append(line(c.path)).append(".\n");
				case MKDIR -> sb.append("Created directory ").append(line(c.path)).append(".\n");
				case JOB -> {
					// as portablectl --now words it, with systemd's D-Bus method names
					String method = switch (c.job.kind) {
						case START -> "StartUnit";
						case STOP -> "StopUnit";
						case RESTART -> "RestartUnit";
						case RELOAD -> "ReloadUnit";
					};
					String result = c.job.result;
					if (c.job.job == null || c.job.job.isEmpty()) {
						// a manager without job objects (psi's own): what happened, in the words systemctl logs it
						String done = switch (c.job.kind) {
							case START -> "Started";
							case STOP -> "Stopped";
							case RESTART -> "Restarted";
							case RELOAD -> "Reloaded";
						};
						if (result == null || result.equals("done")) {
							sb.append(done).append(" portable service ").append(line(c.path)).append(".\n");
							continue;
						}
						sb.append("Could not ").append(method.replace("Unit", "").toLowerCase(java.util.Locale.ROOT)).append(" portable service ")
							.append(line(c.path)).append(" (").append(line(result)).append(").\n");
						continue;
					}
					sb.append("Queued ").append(c.job.job == null ? "" : c.job.job).append(" to call ").append(method)
						.append(" on portable service ").append(line(c.path)).append('.')
						.append(result != null && !result.equals("done") && !result.equals("queued") ? " (" + result + ")" : "").append('\n');
				}
				case RUNNING -> sb.append(line(c.path)).append(" is running already.\n");
				case FAILED -> sb.append(line(c.path)).append(" failed (").append(line(c.source))
					.append("); see psi status and psi logs.\n");
				case NOTICE -> sb.append(line(c.source)).append('\n');
			}
		}
		return sb.toString();
	}

	/** @return psi versions: one row per version, newest first */
	static String versions(List<psi.api.dto.VersionDTO> versions, boolean legend) {
		List<String[]> rows = new ArrayList<>();
		if (legend) {
			rows.add(new String[] { "VERSION", "NAME", "STATE", "ORIGIN", "VERIFIED", "PULLED", "ATTACHED" });
		}
		for (psi.api.dto.VersionDTO v : versions) {
			rows.add(new String[] { v.version == null ? "-" : line(v.version), line(v.name), v.state == null ? "" : v.state.label(),
				v.origin == null ? line(v.path) : line(v.origin), v.verified == null ? "-" : line(v.verified), instant(v.pulled), instant(v.attached) });
		}
		StringBuilder sb = new StringBuilder(table(rows));
		if (legend) {
			sb.append('\n').append(versions.size()).append(versions.size() == 1 ? " version" : " versions")
				.append(versions.stream().anyMatch(v -> v.held) ? "; held: psi update skips it" : "").append(".\n");
		}
		return sb.toString();
	}

	/** @return an ISO time as {@link #time(long)} shows times, {@code -} when none */
	private static String instant(String iso) {
		if (iso == null) {
			return "-";
		}
		try {
			java.time.Instant i = java.time.Instant.parse(iso);
			return time(i.getEpochSecond() * 1_000_000L + i.getNano() / 1000);
		} catch (java.time.format.DateTimeParseException e) {
			return line(iso);
		}
	}

	/** @return psi update: one row per image, what it has, what its origin offers, what happened */
	static String updates(List<psi.api.dto.UpdateDTO> updates) {
		if (updates.isEmpty()) {
			return "No image psi pulled.\n";
		}
		List<String[]> rows = new ArrayList<>();
		rows.add(new String[] { "NAME", "CURRENT", "AVAILABLE", "RESULT", "DETAIL" });
		for (psi.api.dto.UpdateDTO u : updates) {
			String more = u.detail != null ? u.detail : u.url != null ? u.url : "";
			rows.add(new String[] { line(u.name), u.current == null ? "-" : line(u.current), u.available == null ? "-" : line(u.available),
				u.outcome == null ? "" : u.outcome.label(), line(more) });
		}
		return table(rows);
	}

	/** @return a purge's plan: what goes, what it is, then what stays and why */
	static String purgePlan(List<ChangeDTO> plan) {
		List<String[]> rows = new ArrayList<>();
		for (ChangeDTO c : plan) {
			if (c.type == ChangeDTO.Type.UNLINK) {
				rows.add(new String[] { "remove", line(c.path), line(c.source) });
			}
		}
		for (ChangeDTO c : plan) {
			if (c.type == ChangeDTO.Type.FAILED) {
				rows.add(new String[] { "keep", line(c.path), line(c.source.startsWith("kept: ") ? c.source.substring(6) : c.source) });
			}
		}
		return table(rows);
	}

	/** @return the exit status for a list of changes: 1 when a unit failed */
	static int status(List<ChangeDTO> changes) {
		return changes.stream().anyMatch(c -> c.type == ChangeDTO.Type.FAILED) ? 1 : 0;
	}

	static String matching(List<String> prefixes, String defaultPrefix) {
		if (prefixes.isEmpty()) {
			return "(Matching unit files with prefix '" + defaultPrefix + "'.)\n";
		}
		return "(Matching unit files with prefixes '" + String.join("', '", prefixes) + "'.)\n";
	}

	static String images(List<ImageDTO> images, boolean legend) {
		if (images.isEmpty()) {
			return "No images.\n";
		}
		List<String[]> rows = new ArrayList<>();
		if (legend) {
			rows.add(new String[] { "NAME", "TYPE", "RO", "CRTIME", "MTIME", "USAGE", "STATE" });
		}
		for (ImageDTO i : images) {
			rows.add(new String[] { line(i.name), line(i.type), i.readOnly ? "yes" : "no", time(i.crtime), time(i.mtime),
				i.usage < 0 ? "" : bytes(i.usage), i.state == null ? "" : i.state.label() });
		}
		StringBuilder sb = new StringBuilder(table(rows));
		if (legend) {
			sb.append('\n').append(images.size()).append(images.size() == 1 ? " image listed.\n" : " images listed.\n");
		}
		return sb.toString();
	}

	/** @return the partial downloads, for {@code psi list --all} */
	static String partials(List<psi.api.dto.PartialDTO> partials, boolean legend) {
		if (partials.isEmpty()) {
			return legend ? "\nNo partial downloads.\n" : "";
		}
		List<String[]> rows = new ArrayList<>();
		if (legend) {
			rows.add(new String[] { "PARTIAL DOWNLOAD", "SIZE", "MTIME" });
		}
		for (psi.api.dto.PartialDTO p : partials) {
			rows.add(new String[] { line(p.path), bytes(p.size), time(p.mtime) });
		}
		StringBuilder sb = new StringBuilder(legend ? "\n" : "").append(table(rows));
		if (legend) {
			sb.append('\n').append(partials.size()).append(partials.size() == 1 ? " partial download" : " partial downloads")
				.append(" (psi remove --partial removes them).\n");
		}
		return sb.toString();
	}

	static String table(List<String[]> rows) {
		int cols = rows.get(0).length;
		int[] w = new int[cols];
		for (String[] r : rows) {
			for (int c = 0; c < cols; c++) {
				w[c] = Math.max(w[c], r[c].length());
			}
		}
		StringBuilder sb = new StringBuilder();
		for (String[] r : rows) {
			StringBuilder line = new StringBuilder();
			for (int c = 0; c < cols; c++) {
				line.append(r[c]);
				if (c < cols - 1) {
					line.append(" ".repeat(w[c] - r[c].length() + 1));
				}
			}
			sb.append(line.toString().stripTrailing()).append('\n');
		}
		return sb.toString();
	}

	static String time(long micros) {
		if (micros <= 0) {
			return "-";
		}
		return TIMESTAMP.format(Instant.ofEpochMilli(micros / 1000).atZone(ZoneId.systemDefault()));
	}

	/** @return what psi pull prints on standard output */
	static String pulled(psi.api.dto.PullResultDTO r) {
		return (r.unchanged ? "Unchanged: " : "Pulled: ") + r.path + " (" + bytes(r.size) + ", sha256 " + r.sha256 + ")\n"
			+ verdicts(r);
	}

	/** @return what psi verify prints on standard output */
	static String verified(psi.api.dto.PullResultDTO r) {
		return "Verified " + r.source + ": " + r.level.label() + "\n" + verdicts(r);
	}

	private static String verdicts(psi.api.dto.PullResultDTO r) {
		StringBuilder sb = new StringBuilder();
		for (psi.api.dto.VerdictDTO v : r.verdicts) {
			sb.append("  ").append(v.level.label()).append(": ").append(line(v.detail)).append(" [").append(v.verifier).append("]\n");
		}
		if (r.unchanged && r.verdicts.isEmpty()) {
			sb.append("  verified when pulled: ").append(r.verified).append('\n');
		} else if (r.verdicts.isEmpty()) {
			sb.append("  nothing verified").append(r.asked == psi.api.dto.VerifyLevel.NONE ? " (--verify=no)" : " (the image carries no checksum or signature)").append('\n');
		}
		return sb.toString();
	}

	/**
	 * A size as systemd shows it ({@code format_bytes()}): 1024-based, one
	 * decimal, truncated, not rounded (1,740,000 bytes are {@code 1.6M}).
	 */
	static String bytes(long n) {
		if (n < 1024) {
			return n + "B";
		}
		String[] units = { "K", "M", "G", "T", "P", "E" };
		long factor = 1024;
		int u = 0;
		while (u < units.length - 1 && n / factor >= 1024) {
			factor *= 1024;
			u++;
		}
		long digit = (n / (factor / 1024) * 10 / 1024) % 10;
		return n / factor + "." + digit + units[u];
	}

	/**
	 * Text from an image or another untrusted source, made safe for a
	 * terminal: control characters other than newline and tab, DEL and the C1
	 * controls are C-escaped ({@code \x1b}), as systemd's {@code cescape()}
	 * shows them, so that no escape sequence reaches the terminal.
	 */
	static String text(String s) {
		return escape(s, false);
	}

	/** As {@link #text(String)}, for one line: a newline or tab is escaped too. */
	static String line(String s) {
		return escape(s, true);
	}

	private static String escape(String s, boolean oneLine) {
		if (s == null) {
			return null;
		}
		StringBuilder sb = null;
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			boolean control = c < 0x20 && (oneLine || c != '\n' && c != '\t') || c >= 0x7f && c <= 0x9f;
			if (control && sb == null) {
				sb = new StringBuilder(s.length() + 8).append(s, 0, i);
			}
			if (sb != null) {
				if (!control) {
					sb.append(c);
				} else if (c == '\n') {
					sb.append("\\n");
				} else if (c == '\t') {
					sb.append("\\t");
				} else {
					sb.append(String.format("\\x%02x", (int) c));
				}
			}
		}
		return sb == null ? s : sb.toString();
	}

	static String inspect(ImageMetadataDTO m, boolean cat) {
		StringBuilder sb = new StringBuilder();
		if (cat) {
			sb.append("-- OS Release: --\n").append(text(m.osReleaseText));
			for (psi.api.dto.ExtensionDTO e : m.extensions == null ? List.<psi.api.dto.ExtensionDTO>of() : m.extensions) {
				sb.append("\n-- Extension Release: ").append(line(e.path)).append(" --\n").append(text(e.releaseText));
			}
			for (UnitFileDTO u : m.units) {
				sb.append("\n-- Unit file: ").append(line(u.name)).append(" --\n").append(text(u.content));
			}
			return sb.toString();
		}
		String portable = m.osRelease.getOrDefault("PORTABLE_PRETTY_NAME", "");
		String os = m.osRelease.getOrDefault("PRETTY_NAME", "");
		sb.append("Image:\n\t").append(line(m.path)).append('\n');
		sb.append("Type:\n\t").append(m.type).append(m.version == null ? "" : ", version " + m.version).append('\n');
		if (m.readBy != null) {
			sb.append("Read by:\n\t").append(line(m.readBy)).append('\n');
		}
		if (m.details != null) {
			m.details.forEach((k, v) -> sb.append(line(k)).append(":\n\t").append(line(v)).append('\n'));
		}
		sb.append("Portable Service:\n\t").append(portable.isEmpty() ? "n/a" : line(portable)).append('\n');
		sb.append("Operating System:\n\t").append(os.isEmpty() ? "n/a" : line(os)).append('\n');
		// as portablectl prints each extension
		for (psi.api.dto.ExtensionDTO e : m.extensions == null ? List.<psi.api.dto.ExtensionDTO>of() : m.extensions) {
			java.util.function.Function<String, String> f = k -> {
				String v = e.release.get(k);
				return v == null ? "n/a" : line(v);
			};
			sb.append("Extension:\n\t").append(line(e.path)).append('\n');
			sb.append("\tExtension Scope:\n\t\t").append(f.apply("SYSEXT_SCOPE")).append('\n');
			sb.append("\tExtension Compatibility Level:\n\t\t").append(f.apply("SYSEXT_LEVEL")).append('\n');
			sb.append("\tPortable Service:\n\t\t").append(f.apply("PORTABLE_PRETTY_NAME")).append('\n');
			sb.append("\tPortable Prefixes:\n\t\t").append(f.apply("PORTABLE_PREFIXES")).append('\n');
			sb.append("\tOperating System:\n\t\t").append(f.apply("PRETTY_NAME")).append(" (").append(f.apply("ID")).append(' ')
				.append(f.apply("VERSION_ID")).append(")\n");
		}
		sb.append("Unit files:\n");
		for (UnitFileDTO u : m.units) {
			sb.append('\t').append(line(u.name)).append('\n');
		}
		if (m.policies != null && !m.policies.isEmpty()) {
			sb.append("Sandbox policies (extending profile ").append(line(String.valueOf(m.profile))).append("):\n");
			m.policies.forEach(p -> sb.append('\t').append(line(p)).append('\n'));
		}
		// only for an image that would step out of its sandbox: what portablectl prints stays as it is otherwise
		List<String> refused = m.units.stream().filter(u -> u.refused != null).flatMap(u -> u.refused.stream()).toList();
		if (!refused.isEmpty()) {
			sb.append("Refused by psi attach --profile ").append(line(String.valueOf(m.profile))).append(" (outside the sandbox):\n");
			refused.forEach(r -> sb.append('\t').append(line(r)).append('\n'));
		}
		return sb.toString();
	}

	/** @return psi lint's findings as a compiler prints them: {@code WHERE:LINE: SEVERITY: MESSAGE [CHECK]}, then the remedy; then the count */
	static String findings(List<psi.api.dto.FindingDTO> fs) {
		StringBuilder sb = new StringBuilder();
		long errors = fs.stream().filter(f -> f.severity.equals("error")).count();
		for (psi.api.dto.FindingDTO f : fs) {
			sb.append(line(f.where)).append(f.line > 0 ? ":" + f.line : "").append(": ").append(f.severity).append(": ").append(line(f.message))
				.append(" [").append(f.check).append("]\n");
			sb.append("    remedy: ").append(line(f.remedy)).append('\n');
		}
		sb.append(fs.isEmpty() ? "No findings.\n" : errors + (errors == 1 ? " error, " : " errors, ") + (fs.size() - errors)
			+ (fs.size() - errors == 1 ? " warning.\n" : " warnings.\n"));
		return sb.toString();
	}

	/** What psi build made, or why it made nothing. */
	static String built(psi.api.dto.BuildResultDTO r) {
		StringBuilder sb = new StringBuilder();
		if (r.output == null) {
			sb.append("Not built: psi lint found errors in the image; nothing was written (fix them, or build with --no-lint):\n");
			return sb.append(findings(r.findings)).toString();
		}
		sb.append("Built ").append(line(r.output)).append(": ").append(r.format.equals("raw") ? "raw disk image" : "squashfs").append(", ")
			.append(r.bytes).append(" bytes; ").append(r.files).append(r.files == 1 ? " file of " : " files of ").append(r.dataBytes)
			.append(" bytes, ").append(r.inodes).append(" inodes, ").append(r.compression).append('\n');
		for (String p : r.partitions) {
			sb.append("    Partition: ").append(line(p)).append('\n');
		}
		if (r.rootHash != null) {
			sb.append("    Root hash: ").append(r.rootHash).append(r.signed ? " (signed)" : " (not signed)").append('\n');
		}
		for (String s : r.sidecars) {
			sb.append("    Sidecar: ").append(line(s)).append('\n');
		}
		if (!r.findings.isEmpty()) {
			sb.append("Lint:\n").append(findings(r.findings));
		}
		return sb.toString();
	}

	static String status(psi.api.dto.ImageStatusDTO s, List<String> log) {
		StringBuilder sb = new StringBuilder();
		boolean running = s.state.running();
		sb.append(running ? "\u25cf " : "\u25cb ").append(line(s.name));
		if (s.type != null) {
			sb.append(" (").append(s.type).append(s.version == null ? "" : ", version " + s.version).append(')');
		}
		sb.append(" - ").append(s.path == null ? "image gone, units still attached" : line(s.path)).append('\n');
		sb.append("     State: ").append(s.state.label()).append('\n');
		if (s.moving != null) {
			sb.append("    Moving: ").append(line(s.moving)).append('\n');
		}
		if (s.profile != null) {
			sb.append("   Profile: ").append(s.profile).append('\n');
		}
		if (s.policies != null && !s.policies.isEmpty()) {
			sb.append("  Policies: ").append(line(String.join(", ", s.policies))).append('\n');
		}
		if (s.origin != null) {
			sb.append("    Origin: ").append(s.origin).append('\n');
			sb.append("  Verified: ").append(s.verified).append(" (when pulled)\n");
		}
		if (s.managerProblem != null) {
			sb.append("     Units: state unknown: ").append(s.managerProblem).append('\n');
		}
		for (psi.api.dto.UnitStatusDTO u : s.units) {
			boolean up = u.running;
			sb.append('\n').append(up ? "  \u25cf " : "failed".equals(u.activeState) ? "  \u00d7 " : "  \u25cb ").append(u.name);
			if (u.description != null && !u.description.isEmpty()) {
				sb.append(" - ").append(line(u.description));
			}
			sb.append('\n');
			sb.append("       Loaded: ").append(u.loadState).append('\n');
			sb.append("       Active: ").append(u.activeState).append(" (").append(u.subState).append(')');
			if (u.since > 0) {
				sb.append(" since ").append(time(u.since));
			}
			if ("failed".equals(u.activeState) || u.result != null && !u.result.equals("success") && !u.result.isEmpty() && !up) {
				sb.append("; result ").append(u.result).append(", status ").append(u.execMainStatus);
			}
			sb.append('\n');
			if (u.nextElapse > 0) {
				sb.append("      Trigger: ").append(time(u.nextElapse)).append('\n');
			}
			if (u.mainPid > 0) {
				sb.append("     Main PID: ").append(u.mainPid).append('\n');
			}
			if (u.statusText != null && !u.statusText.isEmpty()) {
				sb.append("       Status: \"").append(line(u.statusText)).append("\"\n");
			}
			if (u.tasks >= 0 && up) {
				sb.append("        Tasks: ").append(u.tasks).append('\n');
			}
			if (u.memory >= 0 && up) {
				sb.append("       Memory: ").append(bytes(u.memory)).append('\n');
			}
			if (u.cpuNanos >= 0 && up) {
				sb.append("          CPU: ").append(cpu(u.cpuNanos)).append('\n');
			}
			if (u.ipInBytes >= 0 && up) {
				// as systemctl status: "IP: 1.2K in, 3.4K out", with the packets
				sb.append("           IP: ").append(bytes(u.ipInBytes)).append(" in (").append(u.ipInPackets).append(" packets), ")
					.append(bytes(u.ipOutBytes)).append(" out (").append(u.ipOutPackets).append(" packets)\n");
			}
			if (u.warnings != null) {
				for (String w : u.warnings) {
					sb.append("      Warning: ").append(line(w)).append('\n');
				}
			}
		}
		if (!log.isEmpty()) {
			sb.append('\n');
			// a service's own words: control characters escaped, so that no image writes to the admin's terminal
			log.forEach(l -> sb.append(text(l)).append('\n'));
		}
		return sb.toString();
	}

	/** CPU time as systemctl status shows it: {@code 12ms}, {@code 1.204s}, {@code 2min 3.100s}. */
	static String cpu(long nanos) {
		long ms = nanos / 1_000_000;
		if (ms < 1000) {
			return ms + "ms";
		}
		if (ms < 60_000) {
			return String.format(java.util.Locale.ROOT, "%.3fs", ms / 1000.0);
		}
		return (ms / 60_000) + "min " + String.format(java.util.Locale.ROOT, "%.3fs", (ms % 60_000) / 1000.0);
	}
}
