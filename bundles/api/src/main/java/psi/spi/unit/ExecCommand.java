package psi.spi.unit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One command of an {@code Exec*=} line, as systemd's
 * {@code config_parse_exec()} reads it: prefixes, the executable, argv with
 * quotes and escapes resolved and specifiers expanded per word. Environment
 * variables ({@code $NAME}, {@code ${NAME}}) are expanded when the command
 * runs: {@link #argv(Map)}.
 *
 * @param path the executable: an absolute path, or a file name to look up in the service's root
 * @param argv the arguments, argv[0] first, environment variables not yet expanded
 * @param prefixes its prefixes
 */
public record ExecCommand(String path, List<String> argv, Set<Prefix> prefixes) {

	/** The prefixes of an {@code Exec*=} command. */
	public enum Prefix {
		/** {@code -}: a failure exit status counts as success */
		IGNORE_FAILURE,
		/** {@code @}: the second word is argv[0] */
		ARGV0,
		/** {@code :}: no environment variable expansion */
		NO_ENV_EXPANSION,
		/** {@code +}: runs with full privileges, outside the sandbox */
		FULL_PRIVILEGES,
		/** {@code !}: runs without the user switch ({@code User=} credentials not applied) */
		NO_SETUID,
		/** {@code !!}: as {@code !}, only where ambient capabilities are missing */
		AMBIENT_FALLBACK
	}

	/** The compact constructor: the lists are kept unmodifiable. */
	public ExecCommand {
		argv = List.copyOf(argv);
		prefixes = prefixes.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(prefixes));
	}

	/**
	 * Parses an {@code Exec*=} value: one or more commands separated by a lone {@code ;}.
	 *
	 * @param value the value, not empty (an empty assignment resets the list, the caller's business)
	 * @param specifiers expands the specifiers of one word
	 * @return the commands
	 * @throws IllegalArgumentException with a one-line reason where systemd refuses the line
	 */
	public static List<ExecCommand> parse(String value, UnaryOperator<String> specifiers) {
		List<ExecCommand> out = new ArrayList<>();
		Words.Cursor c = new Words.Cursor(value);
		while (c.hasNext()) {
			String first = c.next();
			Set<Prefix> p = EnumSet.noneOf(Prefix.class);
			int i = 0;
			for (; i < first.length(); i++) {
				char ch = first.charAt(i);
				if (ch == '-' && !p.contains(Prefix.IGNORE_FAILURE)) {
					p.add(Prefix.IGNORE_FAILURE);
				} else if (ch == '@' && !p.contains(Prefix.ARGV0)) {
					p.add(Prefix.ARGV0);
				} else if (ch == ':' && !p.contains(Prefix.NO_ENV_EXPANSION)) {
					p.add(Prefix.NO_ENV_EXPANSION);
				} else if (ch == '+' && !p.contains(Prefix.FULL_PRIVILEGES) && !p.contains(Prefix.NO_SETUID) && !p.contains(Prefix.AMBIENT_FALLBACK)) {
					p.add(Prefix.FULL_PRIVILEGES);
				} else if (ch == '!' && !p.contains(Prefix.FULL_PRIVILEGES) && !p.contains(Prefix.AMBIENT_FALLBACK)) {
					if (p.remove(Prefix.NO_SETUID)) {
						p.add(Prefix.AMBIENT_FALLBACK);
					} else {
						p.add(Prefix.NO_SETUID);
					}
				} else {
					break;
				}
			}
			String path = specifiers.apply(first.substring(i));
			if (path.isEmpty()) {
				throw new IllegalArgumentException("empty executable name or path in " + Values.show(value));
			}
			if (!path.startsWith("/") && (path.contains("/") || path.equals(".") || path.equals(".."))) {
				throw new IllegalArgumentException("neither a valid executable name nor an absolute path: " + Values.show(path));
			}
			if (path.indexOf('\0') >= 0) {
				throw new IllegalArgumentException("a NUL in the executable path " + Values.show(path));
			}
			List<String> argv = new ArrayList<>();
			if (!p.contains(Prefix.ARGV0)) {
				argv.add(path);
			}
			boolean semicolon = false;
			while (c.hasNext()) {
				String rest = c.rest();
				if (rest.equals(";") || rest.startsWith(";") && Character.isWhitespace(rest.charAt(1))) {
					c.next();
					semicolon = true;
					break;
				}
				if (rest.equals("\\;") || rest.startsWith("\\;") && Character.isWhitespace(rest.charAt(2))) {
					c.drop(2);
					argv.add(";");
					continue;
				}
				argv.add(specifiers.apply(c.next()));
			}
			if (argv.isEmpty()) {
				throw new IllegalArgumentException("@ asks for argv[0] but there is none in " + Values.show(value));
			}
			out.add(new ExecCommand(normalize(path), argv, p));
			if (semicolon && !c.hasNext()) {
				break;
			}
		}
		if (out.isEmpty()) {
			throw new IllegalArgumentException("no command in " + Values.show(value));
		}
		return out;
	}

	private static String normalize(String path) {
		if (!path.startsWith("/")) {
			return path;
		}
		String s = path.replaceAll("/+", "/").replaceAll("(/\\.)+(/|$)", "/");
		return s.length() > 1 && s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
	}

	/** @return whether the prefix is there */
	public boolean has(Prefix p) {
		return prefixes.contains(p);
	}

	/**
	 * The arguments with environment variables expanded, as systemd's
	 * {@code replace_env_argv()} does: a word that is exactly {@code $NAME}
	 * becomes the value's whitespace-separated words (none when unset);
	 * {@code ${NAME}} inside a word is replaced by the value (empty when unset);
	 * {@code $$} is {@code $}. Nothing expanded with {@link Prefix#NO_ENV_EXPANSION}.
	 *
	 * @param env the service's environment
	 * @return the arguments to run
	 */
	public List<String> argv(Map<String, String> env) {
		if (has(Prefix.NO_ENV_EXPANSION)) {
			return argv;
		}
		List<String> out = new ArrayList<>();
		for (String a : argv) {
			if (a.length() > 1 && a.charAt(0) == '$' && isName(a.substring(1))) {
				String v = env.get(a.substring(1));
				if (v != null) {
					for (String w : v.trim().split("[ \t\n\r]+")) {
						if (!w.isEmpty()) {
							out.add(w);
						}
					}
				}
				continue;
			}
			out.add(expandBraces(a, env));
		}
		return out;
	}

	private static String expandBraces(String a, Map<String, String> env) {
		StringBuilder b = new StringBuilder();
		for (int i = 0; i < a.length(); i++) {
			char ch = a.charAt(i);
			if (ch == '$' && i + 1 < a.length() && a.charAt(i + 1) == '$') {
				b.append('$');
				i++;
			} else if (ch == '$' && i + 1 < a.length() && a.charAt(i + 1) == '{') {
				int end = a.indexOf('}', i + 2);
				if (end < 0 || !isName(a.substring(i + 2, end))) {
					b.append(ch);
					continue;
				}
				b.append(env.getOrDefault(a.substring(i + 2, end), ""));
				i = end;
			} else {
				b.append(ch);
			}
		}
		return b.toString();
	}

	private static boolean isName(String n) {
		if (n.isEmpty() || Character.isDigit(n.charAt(0))) {
			return false;
		}
		for (int i = 0; i < n.length(); i++) {
			char c = n.charAt(i);
			if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')) {
				return false;
			}
		}
		return true;
	}
}
