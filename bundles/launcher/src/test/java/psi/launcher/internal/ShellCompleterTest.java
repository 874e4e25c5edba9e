package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

import org.jline.reader.Candidate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tab in the interactive shell: what it offers after each kind of word,
 * from the commands' annotations (those of {@link CommandReferenceTest})
 * and a small fake of the engine's lookups.
 */
class ShellCompleterTest {

	@TempDir
	Path dir;

	private ShellCompleter completer() {
		return new ShellCompleter(new ShellCompleter.Source() {
			@Override
			public List<CommandReference.Command> commands() {
				return CommandReferenceTest.commands();
			}

			@Override
			public Collection<String> otherCommands() {
				return List.of("gogo:echo", "felix:lb", "psi:attach", "psi:isattached");
			}

			@Override
			public List<String> images() {
				return List.of("app_1", "web_2");
			}

			@Override
			public List<String> attached() {
				return List.of("web_2");
			}

			@Override
			public List<String> profiles() {
				return List.of("default", "strict");
			}

			@Override
			public Path cwd() {
				return dir;
			}
		});
	}

	/** @return what Tab offers for the last word, kept as JLine keeps them: those starting with the word */
	private List<String> values(String... words) {
		List<String> before = List.of(words).subList(0, words.length - 1);
		String word = words[words.length - 1];
		return completer().complete(before, word).stream().map(Candidate::value).filter(v -> v.startsWith(word)).sorted().toList();
	}

	@Test
	void commandNamesAsAdminsTypeThemAndTheShellsOwn() {
		assertEquals(List.of("attach", "detach", "echo", "is-attached", "lb"), values(""));
		// psi:<Tab> keeps the scope the user typed
		assertTrue(values("psi:").contains("psi:isattached"), values("psi:").toString());
		// after a pipe, a command again
		assertTrue(values("attach", "x", "|", "").contains("echo"));
	}

	@Test
	void optionsOfTheCommandWithTheirDescriptions() {
		assertEquals(List.of("--copy", "--help", "--profile", "--runtime"), values("attach", "--"));
		assertEquals(List.of("--copy", "--help", "--profile", "--runtime", "-p"), values("attach", "-"));
		Candidate profile = completer().complete(List.of("attach"), "--").stream().filter(c -> c.value().equals("--profile")).findFirst().orElseThrow();
		assertEquals("Security profile", profile.descr());
		// psi:attach and the Gogo function name are the same command
		assertEquals(values("attach", "--"), values("psi:attach", "--"));
	}

	@Test
	void optionValuesFromTheirTableAndFromTheEngine() {
		assertEquals(List.of("default", "strict"), values("attach", "--profile", ""));
		assertEquals(List.of("default", "strict"), values("attach", "-p", ""));
		assertEquals(List.of("auto", "copy", "mixed", "symlink"), values("attach", "--copy", ""));
		// a flag takes no value: what follows it is the image
		assertTrue(values("attach", "--runtime", "").contains("app_1"));
	}

	@Test
	void imagesToAttachAndAttachedImages() throws Exception {
		Files.createDirectories(dir.resolve("images/sub"));
		Files.writeString(dir.resolve("images/app.raw"), "");
		Files.writeString(dir.resolve("images/.hidden"), "");
		// attach: the images psi knows, and files
		assertEquals(List.of("app_1", "images/", "web_2"), values("attach", ""));
		assertEquals(List.of("images/app.raw", "images/sub/"), values("attach", "images/"));
		assertEquals(List.of("images/.hidden"), values("attach", "images/.h"));
		// detach, is-attached: attached images only
		assertEquals(List.of("web_2"), values("detach", ""));
		assertEquals(List.of("web_2"), values("is-attached", ""));
		// a directory stays open for more; a file ends the word
		List<Candidate> c = completer().complete(List.of("attach"), "images/");
		assertTrue(c.stream().filter(x -> x.value().equals("images/sub/")).allMatch(x -> !x.complete()));
		assertTrue(c.stream().filter(x -> x.value().equals("images/app.raw")).allMatch(Candidate::complete));
	}

	@Test
	void aShellCommandGetsPaths() throws Exception {
		Files.writeString(dir.resolve("notes.txt"), "");
		assertEquals(List.of("notes.txt"), values("echo", "no"));
		assertEquals(List.of(), values("echo", "/nonexistent/x"));
	}
}
