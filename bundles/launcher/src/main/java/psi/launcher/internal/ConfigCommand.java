package psi.launcher.internal;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import psi.shell.command.CommandOutput;

/**
 * {@code psi config}: every setting of psi's components (their metatype
 * descriptions), the value in force and where it comes from, the file in
 * {@code /etc/psi} or the default; then what is wrong in the files.
 */
@Component(service = ConfigCommand.class, property = { "osgi.command.scope=psi", "osgi.command.function=config" })
public class ConfigCommand {

	private final Settings settings;

	/** @param settings psi's settings */
	@Activate
	public ConfigCommand(@Reference Settings settings) {
		this.settings = settings;
	}

	/** psi config. */
	@Descriptor("Show psi's settings: each value in force and where it comes from (a file in /etc/psi, PSI_CONFIG_DIR, or the default); a file changed there takes effect at the next command, a wrong value is refused with one line")
	public CommandOutput config(//
		@Descriptor("The root directory whose psi (its daemon, or this process) is asked") @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Print no header and no footer") @Parameter(names = "--no-legend", presentValue = "true", absentValue = "false") boolean noLegend,
		@Descriptor("Print JSON (pretty or short): an array of settings with pid, key, value, source, description") @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("Only the settings of these PIDs (psi.engine, psi.daemon, ...)") String... pids) {
		List<Settings.Row> rows = new ArrayList<>();
		for (Settings.Row r : settings.rows()) {
			if (pids.length == 0 || List.of(pids).contains(r.pid())) {
				rows.add(r);
			}
		}
		List<String> problems = settings.problems();
		if (!json.isEmpty()) {
			if (!json.equals("pretty") && !json.equals("short")) {
				throw new psi.api.PsiException("--json takes pretty or short, not " + CommandRunner.oneLine(json));
			}
			boolean pretty = json.equals("pretty");
			StringBuilder sb = new StringBuilder("[");
			for (int i = 0; i < rows.size(); i++) {
				Settings.Row r = rows.get(i);
				sb.append(i == 0 ? "" : ",").append(pretty ? "\n  " : "").append("{\"pid\":").append(quote(r.pid())).append(",\"key\":")
					.append(quote(r.key())).append(",\"value\":").append(quote(r.value())).append(",\"source\":").append(quote(r.source()))
					.append(",\"description\":").append(quote(r.description())).append('}');
			}
			// JSON stays JSON: the refusals went to standard error, and the exit status says there were some
			String text = sb.append(pretty && !rows.isEmpty() ? "\n]\n" : "]\n").toString();
			return new CommandOutput() {
				@Override
				public String text() {
					return text;
				}

				@Override
				public int exitStatus() {
					return problems.isEmpty() ? 0 : 1;
				}
			};
		}
		int w0 = "PID".length();
		int w1 = "KEY".length();
		int w2 = "VALUE".length();
		for (Settings.Row r : rows) {
			w0 = Math.max(w0, r.pid().length());
			w1 = Math.max(w1, r.key().length());
			w2 = Math.max(w2, Math.min(40, CommandRunner.oneLine(r.value()).length()));
		}
		StringBuilder sb = new StringBuilder();
		String f = "%-" + w0 + "s %-" + w1 + "s %-" + w2 + "s %s%n";
		if (!noLegend) {
			sb.append(String.format(f, "PID", "KEY", "VALUE", "SOURCE"));
		}
		for (Settings.Row r : rows) {
			sb.append(String.format(f, r.pid(), r.key(), CommandRunner.oneLine(r.value()), r.source()));
		}
		if (!noLegend) {
			sb.append('\n').append(rows.size()).append(rows.size() == 1 ? " setting" : " settings").append(" listed; psi config --json shows what each is for.\n");
		}
		return output(sb.toString(), problems);
	}

	/** What is wrong in the files is said on standard error by the command that first read them; here it is part of the answer. */
	private static CommandOutput output(String text, List<String> problems) {
		String all = text + (problems.isEmpty() ? "" : "\nRefused in the files:\n" + String.join("\n", problems) + "\n");
		return new CommandOutput() {
			@Override
			public String text() {
				return all;
			}

			@Override
			public int exitStatus() {
				return problems.isEmpty() ? 0 : 1;
			}
		};
	}

	static String quote(String s) {
		StringBuilder sb = new StringBuilder("\"");
		for (char c : s.toCharArray()) {
			switch (c) {
				case '"' -> sb.append("\\\"");
				case '\\' -> sb.append("\\\\");
				case '\n' -> sb.append("\\n");
				case '\t' -> sb.append("\\t");
				default -> {
					if (c < 0x20) {
						sb.append(String.format("\\u%04x", (int) c));
					} else {
						sb.append(c);
					}
				}
			}
		}
		return sb.append('"').toString();
	}
}
