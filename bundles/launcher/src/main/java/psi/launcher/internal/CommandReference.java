package psi.launcher.internal;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.metatype.AttributeDefinition;
import org.osgi.service.metatype.ObjectClassDefinition;

/**
 * psi's reference for the shell and for man, made from the commands' own
 * annotations ({@code @Descriptor}, {@code @Parameter}), the source
 * {@code --help} is made from: the man page {@code psi(1)} with every
 * command, and the bash and zsh completions. {@code psi --reference DIR}
 * writes them at build time, into the Debian package.
 */
final class CommandReference {

	/** Values an option takes, where they are a fixed set; {@code @profiles}, {@code @images}: asked of psi; {@code @files}: paths. */
	static final Map<String, String> VALUES = Map.ofEntries(Map.entry("--copy", "copy symlink auto mixed"),
		Map.entry("--format", "raw squashfs"), Map.entry("--compress", "zstd gzip xz lz4"), Map.entry("--owner", "keep root"),
		Map.entry("--json", "pretty short off"), Map.entry("--verify", "signature checksum no"), Map.entry("--profile", "@profiles"),
		Map.entry("--extension", "@images"), Map.entry("--root", "@dirs"), Map.entry("--output", "@files"), Map.entry("--sign", "@files"),
		Map.entry("--cert", "@files"));

	/** Commands whose arguments are images to attach (from the search path, or files); the others that take images take attached ones. */
	static final List<String> NEW_IMAGES = List.of("attach", "inspect", "lint", "start", "pull", "verify", "reattach");

	/**
	 * One command.
	 *
	 * @param name as typed ({@code is-attached})
	 * @param description its {@code @Descriptor}
	 * @param arguments its positional arguments: metavariable, description
	 * @param options its options, once each
	 */
	record Command(String name, String description, List<String[]> arguments, List<CommandLine.Option> options) {
	}

	private CommandReference() {
	}

	/** @return the commands, from their methods, by name as typed, sorted */
	static List<Command> commands(Map<String, List<Method>> byName) {
		List<Command> out = new ArrayList<>();
		byName.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
			String description = "";
			List<String[]> arguments = new ArrayList<>();
			for (Method m : e.getValue()) {
				Descriptor d = m.getAnnotation(Descriptor.class);
				if (d != null && description.isEmpty()) {
					description = d.value();
				}
				if (!arguments.isEmpty()) {
					continue;
				}
				for (Parameter p : m.getParameters()) {
					if (p.isAnnotationPresent(org.apache.felix.service.command.Parameter.class)
						|| p.getType().getName().startsWith("org.apache.felix.service.command")) {
						continue;
					}
					Descriptor pd = p.getAnnotation(Descriptor.class);
					String meta = p.getName().toUpperCase(Locale.ROOT) + (p.getType().isArray() ? "..." : "");
					arguments.add(new String[] { meta, pd == null ? "" : pd.value() });
				}
			}
			List<CommandLine.Option> options = new ArrayList<>();
			for (CommandLine.Option o : CommandLine.options(e.getValue()).values()) {
				if (!options.contains(o)) {
					options.add(o);
				}
			}
			out.add(new Command(e.getKey(), description, arguments, options));
		});
		return out;
	}

	/** Writes psi.1, psi.conf.5, the bash completion (psi.bash) and the zsh one (_psi) into {@code dir}, each atomically. */
	static List<Path> write(Path dir, List<Command> commands, Map<String, ObjectClassDefinition> settings, String version) throws IOException {
		Files.createDirectories(dir);
		List<Path> out = new ArrayList<>();
		out.add(put(dir.resolve("psi.1"), man(commands, version)));
		out.add(put(dir.resolve("psi.conf.5"), conf(settings, version)));
		out.add(put(dir.resolve("psi.bash"), bash(commands)));
		out.add(put(dir.resolve("_psi"), zsh(commands)));
		return out;
	}

	private static Path put(Path p, String content) throws IOException {
		Path tmp = p.resolveSibling("." + p.getFileName() + ".tmp");
		Files.writeString(tmp, content, StandardCharsets.UTF_8);
		return Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
	}

	// ---- man

	/** @return psi(1) in man(7) roff: synopsis, the global options, then every command with its arguments and options */
	static String man(List<Command> commands, String version) {
		StringBuilder sb = new StringBuilder();
		sb.append(".\\\" psi(1), made from the commands' own descriptions by psi --reference; do not edit\n");
		sb.append(".TH PSI 1 \"\" \"psi ").append(roff(version)).append("\" \"psi\"\n");
		sb.append(".SH NAME\npsi \\- portable system services: attach, run, upgrade and remove service images\n");
		sb.append(".SH SYNOPSIS\n.B psi\n[\\fB\\-\\-root\\fR \\fIDIR\\fR] [\\fB\\-\\-no\\-daemon\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR...]\n");
		sb.append(".br\n.B psi \\-H\n\\fIHOST\\fR[,...] \\fICOMMAND\\fR ...\n.br\n.B psi\n");
		sb.append(".SH DESCRIPTION\n");
		sb.append("psi runs portable service images (directories, btrfs subvolumes, raw GPT disk images with squashfs, dm\\-verity "
			+ "and signatures), as \\fBportablectl\\fR(1) attaches them, and more: it fetches and verifies them, starts, upgrades, "
			+ "rolls back, stops and purges them, with systemd or, where systemd is not PID 1, its own service manager.\n");
		sb.append(".PP\nWhen a psi daemon listens on \\fI/run/psi/psi.sock\\fR (\\fIDIR\\fR/run/psi/psi.sock with \\fB\\-\\-root\\fR, "
			+ "or \\fB$PSI_SOCKET\\fR), it runs the command; else, and with \\fB\\-\\-no\\-daemon\\fR, the command runs in a process of its own. "
			+ "Without arguments (or with only \\fB\\-\\-root\\fR \\fIDIR\\fR or \\fB\\-\\-no\\-daemon\\fR), psi opens its interactive shell: a line editor with history "
			+ "(\\fI~/.psi_history\\fR) where Tab completes command names, options, option values, image names and paths. "
			+ "A line that is one psi command runs as it would on the command line; any other line is Gogo's language. "
			+ "Ctrl\\-C drops the line or interrupts the command; Ctrl\\-D or \\fBexit\\fR leaves.\n");
		sb.append(".SH GLOBAL OPTIONS\n");
		option(sb, "\\-\\-root \\fIDIR\\fR", "Operate on the host whose root is DIR (like systemctl \\-\\-root).");
		option(sb, "\\-\\-no\\-daemon", "Run the command in this process, not in the daemon.");
		option(sb, "\\-H \\fI[USER@]HOST[:PORT][,...]\\fR", "Run the command on other hosts over ssh, one after the other (\\-H @FILE: hosts from a file).");
		option(sb, "\\-h, \\-\\-help", "Show the commands; psi COMMAND \\-\\-help shows a command's options.");
		sb.append(".SH COMMANDS\n");
		for (Command c : commands) {
			sb.append(".SS \"psi ").append(roff(c.name()));
			if (!c.options().isEmpty()) {
				sb.append(" [OPTIONS]");
			}
			for (String[] a : c.arguments()) {
				sb.append(' ').append(roff(a[0]));
			}
			sb.append("\"\n").append(roff(sentence(c.description()))).append('\n');
			for (String[] a : c.arguments()) {
				option(sb, "\\fI" + roff(a[0]) + "\\fR", roff(sentence(a[1])));
			}
			for (CommandLine.Option o : c.options()) {
				StringBuilder names = new StringBuilder();
				for (String n : o.names()) {
					names.append(names.length() == 0 ? "" : ", ").append("\\fB").append(roff(n)).append("\\fR");
				}
				if (o.takesValue()) {
					names.append(" \\fI").append(roff(o.metavar())).append("\\fR");
				}
				if (o.repeatable()) {
					names.append(" ...");
				}
				option(sb, names.toString(), roff(sentence(o.description())));
			}
		}
		sb.append(".SH FILES\n");
		option(sb, "\\fI/etc/psi/*.cfg\\fR", "psi's settings, one file per component (psi config lists them); re\\-read before each command.");
		option(sb, "\\fI/var/lib/psi/plugins\\fR", "Plugin bundles dropped here are installed while psi runs.");
		option(sb, "\\fI/var/lib/portables\\fR", "The image pool, as for portablectl.");
		option(sb, "\\fI/run/psi/psi.sock\\fR", "The daemon's socket (psi.socket).");
		option(sb, "\\fI~/.psi_history\\fR", "The interactive shell's history, when it runs in psi's own process.");
		sb.append(".SH EXIT STATUS\n0 on success; 1 on a failure, which a one\\-line message on standard error names; "
			+ "psi status and is\\-attached answer as systemctl and portablectl do.\n");
		sb.append(".SH SEE ALSO\n\\fBpsi.conf\\fR(5), \\fBportablectl\\fR(1), \\fBsystemctl\\fR(1), \\fBsystemd.exec\\fR(5), \\fBsystemd-repart\\fR(8)\n");
		return sb.toString();
	}

	/** @return psi.conf(5): every setting of /etc/psi/PID.cfg, from the components' own metatype descriptions */
	static String conf(Map<String, ObjectClassDefinition> settings, String version) {
		StringBuilder sb = new StringBuilder();
		sb.append(".\\\" psi.conf(5), made from the components' metatype descriptions by psi --reference; do not edit\n");
		sb.append(".TH PSI.CONF 5 \"\" \"psi ").append(roff(version)).append("\" \"psi\"\n");
		sb.append(".SH NAME\npsi.conf \\- psi's settings: /etc/psi/PID.cfg\n");
		sb.append(".SH DESCRIPTION\nEach file \\fI/etc/psi/PID.cfg\\fR (\\fB$PSI_CONFIG_DIR\\fR when set) holds the settings of one psi "
			+ "component, as Java properties: \\fIkey\\fR=\\fIvalue\\fR lines, \\fB#\\fR comments. psi reads them again before every command; "
			+ "a value that is not valid is reported in one line and the old value stays. \\fBpsi config\\fR shows every setting, its value "
			+ "and where it comes from.\n");
		sb.append(".SH SETTINGS\n");
		settings.forEach((pid, ocd) -> {
			sb.append(".SS \"").append(roff(pid)).append(".cfg\"\n");
			if (ocd.getDescription() != null && !ocd.getDescription().isEmpty()) {
				sb.append(roff(sentence(ocd.getDescription()))).append('\n');
			}
			AttributeDefinition[] ads = ocd.getAttributeDefinitions(ObjectClassDefinition.ALL);
			for (AttributeDefinition ad : ads == null ? new AttributeDefinition[0] : ads) {
				StringBuilder term = new StringBuilder("\\fB").append(roff(ad.getID())).append("\\fR (").append(type(ad.getType()));
				String[] d = ad.getDefaultValue();
				if (d != null && d.length > 0) {
					term.append(", default ").append(roff(String.join(",", d).isEmpty() ? "empty" : String.join(",", d)));
				}
				term.append(')');
				String text = ad.getDescription() == null ? "" : sentence(ad.getDescription());
				String[] values = ad.getOptionValues();
				if (values != null && values.length > 0) {
					List<String> shown = new ArrayList<>();
					for (String v : values) {
						shown.add(v.isEmpty() ? "(empty)" : v);
					}
					text += " One of: " + String.join(", ", shown) + ".";
				}
				option(sb, term.toString(), roff(text));
			}
		});
		sb.append(".SH SEE ALSO\n\\fBpsi\\fR(1)\n");
		return sb.toString();
	}

	private static String type(int t) {
		return switch (t) {
			case AttributeDefinition.BOOLEAN -> "true or false";
			case AttributeDefinition.INTEGER, AttributeDefinition.LONG, AttributeDefinition.SHORT -> "a whole number";
			case AttributeDefinition.DOUBLE, AttributeDefinition.FLOAT -> "a number";
			default -> "text";
		};
	}

	private static void option(StringBuilder sb, String term, String text) {
		sb.append(".TP\n").append(term).append('\n').append(text.isEmpty() ? "\\&" : text).append('\n');
	}

	private static String sentence(String s) {
		return s.isEmpty() || s.endsWith(".") ? s : s + ".";
	}

	/** @return text safe in roff: backslashes and hyphens escaped, no line starting with a control character */
	static String roff(String s) {
		String t = s.replace("\\", "\\e").replace("-", "\\-").replace("\n", " ");
		return t.startsWith(".") || t.startsWith("'") ? "\\&" + t : t;
	}

	// ---- bash

	/** @return the bash completion: commands, their options, option values and images */
	static String bash(List<Command> commands) {
		StringBuilder sb = new StringBuilder();
		sb.append("# bash completion for psi, made from the commands' own descriptions by psi --reference; do not edit\n");
		sb.append("_psi_images() {\n");
		sb.append("\t# images psi knows (through the daemon when one answers), then image files here\n");
		sb.append("\tlocal root=()\n\t[ -n \"$_psi_root\" ] && root=(--root \"$_psi_root\")\n");
		sb.append("\tCOMPREPLY+=($(compgen -W \"$(psi \"${root[@]}\" list --no-legend 2>/dev/null | awk 'NF >= 5 {print $1}')\" -- \"$cur\"))\n");
		sb.append("}\n");
		sb.append("_psi_attached() {\n\tlocal root=()\n\t[ -n \"$_psi_root\" ] && root=(--root \"$_psi_root\")\n");
		sb.append("\tCOMPREPLY+=($(compgen -W \"$(psi \"${root[@]}\" list --no-legend 2>/dev/null | awk 'NF >= 5 && $NF != \"detached\" {print $1}')\" -- \"$cur\"))\n}\n");
		sb.append("_psi_value() {\n\tcase $1 in\n");
		Map<String, String> values = new LinkedHashMap<>();
		for (Command c : commands) {
			for (CommandLine.Option o : c.options()) {
				String v = VALUES.get(o.longest());
				if (o.takesValue() && v != null) {
					for (String n : o.names()) {
						values.put(n, v);
					}
				}
			}
		}
		values.put("--root", "@dirs");
		values.forEach((n, v) -> {
			sb.append("\t\t").append(n).append(") ");
			switch (v) {
				case "@profiles" -> sb.append("COMPREPLY=($(compgen -W \"$(psi profiles 2>/dev/null)\" -- \"$cur\")) ;;\n");
				case "@images" -> sb.append("COMPREPLY=(); _psi_images; compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- \"$cur\")) ;;\n");
				case "@dirs" -> sb.append("compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n");
				case "@files" -> sb.append("compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n");
				default -> sb.append("COMPREPLY=($(compgen -W \"").append(v).append("\" -- \"$cur\")) ;;\n");
			}
		});
		sb.append("\t\t*) return 1 ;;\n\tesac\n}\n");
		sb.append("_psi() {\n");
		sb.append("\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i _psi_root=\n");
		sb.append("\tCOMPREPLY=()\n");
		sb.append("\tfor ((i = 1; i < COMP_CWORD; i++)); do\n");
		sb.append("\t\tcase ${COMP_WORDS[i]} in\n\t\t\t--root) _psi_root=${COMP_WORDS[i+1]}; ((i++)) ;;\n\t\t\t-H | --host) ((i++)) ;;\n");
		sb.append("\t\t\t-*) ;;\n\t\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n\t\tesac\n\tdone\n");
		sb.append("\tif [ -z \"$cmd\" ]; then\n\t\tcase $prev in --root) _psi_value --root; return ;; esac\n");
		sb.append("\t\tif [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"--root --no-daemon -H --help\" -- \"$cur\"));\n");
		sb.append("\t\telse COMPREPLY=($(compgen -W \"");
		sb.append(String.join(" ", commands.stream().map(Command::name).toList()));
		sb.append("\" -- \"$cur\")); fi\n\t\treturn\n\tfi\n");
		sb.append("\tcase $cmd in\n");
		for (Command c : commands) {
			List<String> names = new ArrayList<>();
			List<String> valued = new ArrayList<>();
			for (CommandLine.Option o : c.options()) {
				names.addAll(o.names());
				if (o.takesValue()) {
					valued.addAll(o.names());
				}
			}
			names.add("--help");
			sb.append("\t\t").append(c.name()).append(")\n");
			if (!valued.isEmpty()) {
				sb.append("\t\t\tcase $prev in ").append(String.join(" | ", valued)).append(") _psi_value \"$prev\" || compopt -o default 2>/dev/null; return ;; esac\n");
			}
			sb.append("\t\t\tif [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"").append(String.join(" ", names)).append("\" -- \"$cur\")); return; fi\n");
			if (!c.arguments().isEmpty()) {
				if (NEW_IMAGES.contains(c.name())) {
					sb.append("\t\t\t_psi_images; compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- \"$cur\"))\n");
				} else if (c.arguments().stream().anyMatch(a -> a[0].startsWith("IMAGE"))) {
					sb.append("\t\t\t_psi_attached\n");
				} else {
					sb.append("\t\t\tcompopt -o default 2>/dev/null\n");
				}
			}
			sb.append("\t\t\t;;\n");
		}
		sb.append("\tesac\n}\ncomplete -F _psi psi\n");
		return sb.toString();
	}

	// ---- zsh

	/** @return the zsh completion (_arguments per command) */
	static String zsh(List<Command> commands) {
		StringBuilder sb = new StringBuilder();
		sb.append("#compdef psi\n# zsh completion for psi, made from the commands' own descriptions by psi --reference; do not edit\n");
		sb.append("_psi_images() { local -a i; i=(${(f)\"$(psi list --no-legend 2>/dev/null | awk 'NF >= 5 {print $1}')\"}); _describe image i; }\n");
		sb.append("_psi_profiles() { local -a p; p=(${(f)\"$(psi profiles 2>/dev/null)\"}); _describe profile p; }\n");
		sb.append("_psi() {\n\tlocal -a commands\n\tcommands=(\n");
		for (Command c : commands) {
			sb.append("\t\t'").append(c.name()).append(':').append(zq(firstSentence(c.description()))).append("'\n");
		}
		sb.append("\t)\n\t_arguments -C '--root[operate on the host whose root is DIR]:dir:_directories' '--no-daemon[run in this process]' "
			+ "'(-h --help)'{-h,--help}'[show help]' '1:command:->command' '*::arg:->args'\n");
		sb.append("\tcase $state in\n\t\tcommand) _describe command commands ;;\n\t\targs)\n\t\t\tcase $words[1] in\n");
		for (Command c : commands) {
			sb.append("\t\t\t\t").append(c.name()).append(") _arguments");
			for (CommandLine.Option o : c.options()) {
				String v = VALUES.get(o.longest());
				String action = !o.takesValue() ? "" : v == null ? ":" + o.metavar().toLowerCase(Locale.ROOT) + ": "
					: switch (v) {
						case "@profiles" -> ":profile:_psi_profiles";
						case "@images" -> ":image:_psi_images";
						case "@dirs" -> ":dir:_directories";
						case "@files" -> ":file:_files";
						default -> ":value:(" + v + ")";
					};
				String names = o.names().size() == 1 ? o.names().get(0) : "{" + String.join(",", o.names()) + "}";
				sb.append(" ").append(o.repeatable() ? "'*'" : "").append(names).append("'[").append(zq(firstSentence(o.description()))).append(']')
					.append(action).append("'");
			}
			if (!c.arguments().isEmpty()) {
				sb.append(NEW_IMAGES.contains(c.name()) || c.arguments().stream().anyMatch(a -> a[0].startsWith("IMAGE"))
					? " '*:image:_psi_images'" : " '*:arg:_files'");
			}
			sb.append(" ;;\n");
		}
		sb.append("\t\t\tesac ;;\n\tesac\n}\n_psi \"$@\"\n");
		return sb.toString();
	}

	private static String firstSentence(String s) {
		int i = s.indexOf(". ");
		String t = i > 0 ? s.substring(0, i) : s;
		int c = t.indexOf(':');
		return (c > 0 && c < 60 ? t : t).replace("\n", " ");
	}

	/** @return text safe inside a zsh single-quoted spec: no quote, no bracket, no colon */
	private static String zq(String s) {
		return s.replace("'", "").replace("[", "(").replace("]", ")").replace(":", " -");
	}
}
