package psi.launcher.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;

/**
 * One psi command line, checked against the Gogo command's own annotations
 * ({@code @Descriptor}, {@code @Parameter}): the command name in the spelling
 * admins type ({@code is-attached}), {@code --option=value} split as Gogo
 * wants it, unknown options refused, and help text made from the same
 * annotations, so that usage and behaviour cannot drift apart.
 */
final class CommandLine {

	/** Options that may come before the command and apply to it. */
	static final List<String> GLOBAL_VALUE_OPTIONS = List.of("--root");

	/** The global option that makes the client run the command in-process rather than in the daemon. */
	static final String NO_DAEMON = "--no-daemon";

	/** portablectl's options psi has nothing to do for (it pages nothing and asks for no password): taken anywhere, ignored. */
	static final List<String> IGNORED = List.of("--no-pager", "--no-ask-password");

	private CommandLine() {
	}

	/** @return the Gogo function name of a command as typed: dashes dropped, lower case */
	static String function(String command) {
		return command.replace("-", "").toLowerCase(Locale.ROOT);
	}

	/** @return the command as admins type it, from a Gogo function name */
	static String typed(String function) {
		return switch (function) {
			case "isattached" -> "is-attached";
			case "readonly" -> "read-only";
			case "setlimit" -> "set-limit";
			default -> function;
		};
	}

	/** A usage error: the message names the bad argument. */
	static final class UsageException extends Exception {
		private static final long serialVersionUID = 1L;

		UsageException(String message) {
			super(message);
		}
	}

	/** An option of a command, from its {@code @Parameter}. */
	record Option(List<String> names, boolean takesValue, String description, String metavar, boolean repeatable) {

		Option(List<String> names, boolean takesValue, String description, String metavar) {
			this(names, takesValue, description, metavar, false);
		}

		/** @return the longest of its names: {@code --profile} of {@code -p, --profile} */
		String longest() {
			return names.stream().max(java.util.Comparator.comparingInt(String::length)).orElseThrow();
		}
	}

	/** @return the options of the command's methods, by every name */
	static Map<String, Option> options(List<Method> methods) {
		Map<String, Option> out = new LinkedHashMap<>();
		for (Method m : methods) {
			for (Parameter p : m.getParameters()) {
				org.apache.felix.service.command.Parameter a = p.getAnnotation(org.apache.felix.service.command.Parameter.class);
				if (a == null) {
					continue;
				}
				boolean value = org.apache.felix.service.command.Parameter.UNSPECIFIED.equals(a.presentValue());
				Descriptor d = p.getAnnotation(Descriptor.class);
				// an option typed Object may be given several times: the command gets the values as a list
				Option o = new Option(List.of(a.names()), value, d == null ? "" : d.value(), p.getName().toUpperCase(Locale.ROOT),
					value && p.getType() == Object.class);
				for (String n : a.names()) {
					out.putIfAbsent(n, o);
				}
			}
		}
		return out;
	}

	/**
	 * Splits {@code --opt=value}, refuses unknown options and options missing their value.
	 *
	 * @param command the command as typed
	 * @param args the arguments after the command
	 * @param options the command's options
	 * @return the arguments as Gogo takes them
	 */
	static List<Object> normalize(String command, List<String> args, Map<String, Option> options) throws UsageException {
		return parse(command, args, options).gogo();
	}

	/**
	 * A command's arguments, parsed.
	 *
	 * @param gogo as Gogo takes them: strings, and for a repeatable option the list of its values
	 * @param options each option given, by its longest name ({@code --profile} for {@code -p}), with its value
	 *            ({@code "true"} for a flag); the last one wins
	 * @param lists the values of each repeatable option given, by its longest name, in order
	 * @param positional the arguments that are no option, in order
	 */
	record Parsed(List<Object> gogo, Map<String, String> options, Map<String, List<String>> lists, List<String> positional) {

		Parsed(List<Object> gogo, Map<String, String> options, List<String> positional) {
			this(gogo, options, Map.of(), positional);
		}
	}

	/** As {@link #normalize}, also telling options from positional arguments. */
	static Parsed parse(String command, List<String> args, Map<String, Option> options) throws UsageException {
		List<Object> out = new ArrayList<>();
		Map<String, String> given = new LinkedHashMap<>();
		Map<String, List<String>> lists = new LinkedHashMap<>();
		List<String> positional = new ArrayList<>();
		boolean positionalOnly = false;
		for (int i = 0; i < args.size(); i++) {
			String a = args.get(i);
			if (positionalOnly && a.startsWith("-") && !a.equals("-")) {
				// Gogo has no "--": it would read the argument as an option of the command
				throw new UsageException("psi " + command + ": '" + a + "' after -- would still be read as an option; for a file of that name give ./" + a);
			}
			if (positionalOnly || !a.startsWith("-") || a.equals("-")) {
				out.add(a);
				positional.add(a);
				continue;
			}
			if (a.equals("--")) {
				positionalOnly = true;
				continue;
			}
			if (IGNORED.contains(a)) {
				continue;
			}
			String name = a;
			String value = null;
			int eq = a.indexOf('=');
			if (a.startsWith("--") && eq > 0) {
				name = a.substring(0, eq);
				value = a.substring(eq + 1);
			}
			Option o = options.get(name);
			if (o == null) {
				throw new UsageException("psi " + command + ": unknown option '" + name + "'; see psi " + command + " --help");
			}
			if (o.takesValue()) {
				if (value == null) {
					if (i + 1 >= args.size()) {
						throw new UsageException("psi " + command + ": option '" + name + "' needs a value");
					}
					value = args.get(++i);
				}
				if (o.repeatable()) {
					if (!lists.containsKey(o.longest())) {
						List<String> values = new ArrayList<>();
						lists.put(o.longest(), values);
						out.add(o.longest());
						out.add(values);
					}
					lists.get(o.longest()).add(value);
					continue;
				}
				out.add(name);
				out.add(value);
				given.put(o.longest(), value);
			} else if (value != null) {
				throw new UsageException("psi " + command + ": option '" + name + "' takes no value");
			} else {
				out.add(name);
				given.put(o.longest(), "true");
			}
		}
		return new Parsed(out, given, lists, positional);
	}

	/** @return a Gogo command line running {@code scope:function} with each argument quoted */
	static String gogo(String scope, String function, List<?> args) {
		StringBuilder sb = new StringBuilder(scope).append(':').append(function);
		for (Object a : args) {
			sb.append(' ');
			if (a instanceof List<?> l) {
				// a Gogo list literal: the values of a repeated option
				sb.append('[').append(String.join(" ", l.stream().map(v -> quote(String.valueOf(v))).toList())).append(']');
			} else {
				sb.append(quote(String.valueOf(a)));
			}
		}
		return sb.toString();
	}

	/** Quotes for Gogo: single quotes are literal; double quotes escape what Gogo expands. */
	static String quote(String a) {
		if (a.indexOf('\'') < 0) {
			return "'" + a + "'";
		}
		StringBuilder sb = new StringBuilder("\"");
		for (char c : a.toCharArray()) {
			if (c == '"' || c == '\\' || c == '$') {
				sb.append('\\');
			}
			sb.append(c);
		}
		return sb.append('"').toString();
	}

	/** @return the help of one command, from its annotations */
	static String help(String command, List<Method> methods) {
		StringBuilder sb = new StringBuilder();
		for (Method m : methods) {
			Descriptor d = m.getAnnotation(Descriptor.class);
			StringBuilder usage = new StringBuilder("Usage: psi ").append(command);
			List<String[]> args = new ArrayList<>();
			boolean hasOptions = false;
			for (Parameter p : m.getParameters()) {
				if (p.isAnnotationPresent(org.apache.felix.service.command.Parameter.class)) {
					hasOptions = true;
					continue;
				}
				if (p.getType().getName().startsWith("org.apache.felix.service.command")) {
					continue;
				}
				String meta = p.getName().toUpperCase(Locale.ROOT);
				usage.append(p.getType().isArray() ? " [" + meta + "...]" : " " + meta);
				Descriptor pd = p.getAnnotation(Descriptor.class);
				args.add(new String[] { meta, pd == null ? "" : pd.value() });
			}
			if (hasOptions) {
				usage.insert(("Usage: psi " + command).length(), " [OPTIONS]");
			}
			sb.append(usage).append("\n\n");
			if (d != null) {
				sb.append(d.value()).append(".\n");
			}
			if (!args.isEmpty()) {
				sb.append("\nArguments:\n");
				for (String[] a : args) {
					sb.append(String.format("  %-22s %s%n", a[0], a[1]));
				}
			}
			if (hasOptions) {
				sb.append("\nOptions:\n");
				List<Option> seen = new ArrayList<>();
				for (Option o : options(List.of(m)).values()) {
					if (seen.contains(o)) {
						continue;
					}
					seen.add(o);
					String names = String.join(", ", o.names()) + (o.takesValue() ? " " + o.metavar() : "") + (o.repeatable() ? " ..." : "");
					sb.append(String.format("  %-22s %s%n", names, o.description()));
				}
				sb.append(String.format("  %-22s %s%n", "-h, --help", "Show this help"));
			}
		}
		return sb.toString();
	}
}
