package psi.launcher.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/**
 * Tab in psi's interactive shell: command names, a command's options, an
 * option's values, image names, paths. It knows what the man page and the
 * bash completion know (the commands' own annotations, through
 * {@link CommandReference}), and asks the engine for what changes: the
 * images, the attached ones, the profiles.
 */
final class ShellCompleter implements Completer {

	/** At most this many entries of a directory are offered. */
	static final int MAX_PATHS = 1000;

	/** What the completer asks of psi while the shell runs; each call may be slow, none may throw. */
	interface Source {
		/** @return psi's commands, by name as typed */
		List<CommandReference.Command> commands();

		/** @return Gogo's other commands, as {@code scope:name} */
		Collection<String> otherCommands();

		/** @return the images psi knows (the search path, the attached ones) */
		List<String> images();

		/** @return the attached images */
		List<String> attached();

		/** @return the profiles */
		List<String> profiles();

		/** @return the directory relative paths start from */
		Path cwd();
	}

	private final Source source;

	ShellCompleter(Source source) {
		this.source = source;
	}

	@Override
	public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
		candidates.addAll(complete(line.words().subList(0, line.wordIndex()), line.word().substring(0, line.wordCursor())));
	}

	/**
	 * @param before the words before the one completed
	 * @param word the word completed, up to the cursor
	 * @return the candidates
	 */
	List<Candidate> complete(List<String> before, String word) {
		// the statement the cursor is in: after the last pipe or semicolon
		int start = 0;
		for (int i = 0; i < before.size(); i++) {
			String w = before.get(i);
			if (w.equals("|") || w.equals(";") || w.equals("{") || w.equals("(")) {
				start = i + 1;
			}
		}
		List<String> words = before.subList(start, before.size());
		List<Candidate> out = new ArrayList<>();
		if (words.isEmpty()) {
			commandNames(word, out);
			return out;
		}
		CommandReference.Command command = psiCommand(words.get(0));
		if (command == null) {
			paths(word, false, out);
			return out;
		}
		String prev = words.get(words.size() - 1);
		CommandLine.Option valued = words.size() > 1 ? option(command, prev) : null;
		if (valued != null && valued.takesValue()) {
			values(CommandReference.VALUES.get(valued.longest()), word, out);
			return out;
		}
		if (word.startsWith("-")) {
			for (CommandLine.Option o : command.options()) {
				for (String n : o.names()) {
					out.add(new Candidate(n, n, null, firstSentence(o.description()), null, null, true));
				}
			}
			out.add(new Candidate("--help", "--help", null, "show the command's options", null, null, true));
			return out;
		}
		if (command.arguments().isEmpty()) {
			return out;
		}
		if (CommandReference.NEW_IMAGES.contains(command.name())) {
			words(source.images(), "image", out);
			paths(word, false, out);
		} else if (command.arguments().stream().anyMatch(a -> a[0].startsWith("IMAGE"))) {
			words(source.attached(), "attached image", out);
		} else {
			paths(word, false, out);
		}
		return out;
	}

	private void commandNames(String word, List<Candidate> out) {
		Set<String> seen = new LinkedHashSet<>();
		for (CommandReference.Command c : source.commands()) {
			seen.add(c.name());
			out.add(new Candidate(c.name(), c.name(), "psi commands", firstSentence(c.description()), null, null, true));
		}
		for (String scoped : source.otherCommands()) {
			int colon = scoped.indexOf(':');
			String bare = scoped.substring(colon + 1);
			// what the user typed decides the form: psi:li<Tab> keeps the scope
			String value = word.contains(":") ? scoped : bare;
			if (scoped.startsWith(CommandRunner.SCOPE + ":") && !word.contains(":")) {
				continue; // psi's own, offered above by the names admins type
			}
			if (seen.add(value)) {
				out.add(new Candidate(value, value, "Gogo shell commands", null, null, null, true));
			}
		}
	}

	/** @return the psi command a shell word names ({@code list}, {@code psi:list}, {@code isattached}, {@code is-attached}), or null */
	private CommandReference.Command psiCommand(String word) {
		String w = word.startsWith(CommandRunner.SCOPE + ":") ? word.substring(CommandRunner.SCOPE.length() + 1) : word;
		for (CommandReference.Command c : source.commands()) {
			if (c.name().equals(w) || CommandLine.function(c.name()).equals(w)) {
				return c;
			}
		}
		return null;
	}

	private static CommandLine.Option option(CommandReference.Command command, String word) {
		for (CommandLine.Option o : command.options()) {
			if (o.names().contains(word)) {
				return o;
			}
		}
		return null;
	}

	private void values(String values, String word, List<Candidate> out) {
		if (values == null) {
			return; // free text: nothing to offer
		}
		switch (values) {
			case "@profiles" -> words(source.profiles(), "profile", out);
			case "@images" -> {
				words(source.images(), "image", out);
				paths(word, false, out);
			}
			case "@dirs" -> paths(word, true, out);
			case "@files" -> paths(word, false, out);
			default -> words(List.of(values.split(" ")), null, out);
		}
	}

	private static void words(Collection<String> words, String group, List<Candidate> out) {
		for (String w : words) {
			out.add(new Candidate(w, w, group, null, null, null, true));
		}
	}

	/** Offers the entries of the directory {@code word} names (relative to the shell's), directories with a slash and not yet complete. */
	private void paths(String word, boolean dirsOnly, List<Candidate> out) {
		int slash = word.lastIndexOf('/');
		String dirPart = slash < 0 ? "" : word.substring(0, slash + 1);
		String prefix = word.substring(slash + 1);
		Path dir;
		try {
			dir = dirPart.isEmpty() ? source.cwd() : source.cwd().resolve(dirPart.startsWith("~/") ? home() + dirPart.substring(1) : dirPart);
		} catch (RuntimeException e) {
			return; // not a path
		}
		int n = 0;
		try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
			for (Path p : entries) {
				String name = p.getFileName().toString();
				if (!name.startsWith(prefix) || (name.startsWith(".") && !prefix.startsWith("."))) {
					continue;
				}
				boolean isDir = Files.isDirectory(p);
				if (dirsOnly && !isDir) {
					continue;
				}
				String value = dirPart + name + (isDir ? "/" : "");
				out.add(new Candidate(value, name + (isDir ? "/" : ""), null, null, null, null, !isDir));
				if (++n >= MAX_PATHS) {
					break;
				}
			}
		} catch (IOException | RuntimeException e) {
			// no such directory, or not readable: nothing to offer
		}
	}

	private static String home() {
		return System.getProperty("user.home", "/");
	}

	static String firstSentence(String s) {
		if (s == null) {
			return null;
		}
		int i = s.indexOf(". ");
		String t = (i > 0 ? s.substring(0, i) : s).replace('\n', ' ');
		int colon = t.indexOf(": ");
		t = colon > 0 ? t.substring(0, colon) : t;
		return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
	}

}
