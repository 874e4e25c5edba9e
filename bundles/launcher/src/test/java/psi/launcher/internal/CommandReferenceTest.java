package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * psi(1) and the completions, made from command annotations as psi's own
 * are: groff renders the page without a warning, and the real bash,
 * driven as its completion machinery drives it, completes command names,
 * options and option values.
 */
class CommandReferenceTest {

	@TempDir
	Path dir;

	/** Commands as the shell's are annotated. */
	public static class Commands {
		@Descriptor("Attach an image's units. A second sentence, with a - and a \\ and .dots")
		public Object attach(@Descriptor("Security profile") @Parameter(names = { "-p", "--profile" }, absentValue = "") String profile,
			@Descriptor("How units get there: copy, symlink") @Parameter(names = "--copy", absentValue = "") String copy,
			@Descriptor("Until the next reboot") @Parameter(names = "--runtime", presentValue = "true", absentValue = "false") boolean runtime,
			@Descriptor("Image name or path") String image, @Descriptor("Prefixes") String... prefixes) {
			return null;
		}

		@Descriptor("Detach an image")
		public Object detach(@Descriptor("Image name") String image) {
			return null;
		}

		@Descriptor("Answer whether it is attached")
		public Object isattached(@Descriptor("Image name") String image) {
			return null;
		}
	}

	static List<CommandReference.Command> commands() {
		Map<String, List<Method>> m = new TreeMap<>();
		for (String f : List.of("attach", "detach", "isattached")) {
			m.put(CommandLine.typed(f), CommandRunner.methods(new Commands(), f));
		}
		return CommandReference.commands(m);
	}

	@Test
	void theManPageRendersWithoutAWarning() throws Exception {
		CommandReference.write(dir, commands(), Map.of(), "1.2.3");
		Process p = new ProcessBuilder("groff", "-man", "-Tutf8", "-ww", dir.resolve("psi.1").toString()).redirectErrorStream(false).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
		assertEquals(0, p.waitFor(), err);
		assertEquals("", err, "groff warns");
		String plain = out.replaceAll(".\b", "");
		assertTrue(plain.contains("psi attach [OPTIONS] IMAGE PREFIXES..."), plain);
		assertTrue(plain.contains("-p, --profile PROFILE"), plain);
		assertTrue(plain.contains("A second sentence, with a - and a \\ and .dots."), plain);
		assertTrue(plain.contains("psi is-attached IMAGE"), plain);
	}

	@Test
	void bashCompletesCommandsOptionsAndValues() throws Exception {
		CommandReference.write(dir, commands(), Map.of(), "1.2.3");
		String script = "source " + dir.resolve("psi.bash") + "\n"
			+ "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _psi; echo \"${COMPREPLY[*]}\"; }\n"
			+ "t psi at; t psi i; t psi attach --p; t psi attach --copy s; t psi attach -p ''; t psi --root /x det\n";
		// psi itself is a stub here that knows two profiles and no image
		Path bin = Files.createDirectories(dir.resolve("bin"));
		Path stub = bin.resolve("psi");
		Files.writeString(stub, "#!/bin/sh\ncase \"$*\" in profiles) printf 'default\\nstrict\\n' ;; *) echo 'No images.' ;; esac\n");
		stub.toFile().setExecutable(true);
		ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true);
		pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
		Process p = pb.start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertEquals(0, p.waitFor(), out);
		assertEquals(List.of("attach", "is-attached", "--profile", "symlink", "default strict", "detach"), out.lines().toList(), out);
	}

	/** zsh, interactive in a real terminal (tmux), completes with the _psi written: a command, an option, the option's values. */
	@Test
	void zshCompletesInATerminal() throws Exception {
		CommandReference.write(dir, commands(), Map.of(), "1.2.3");
		assertEquals("", run("zsh", "-n", dir.resolve("_psi").toString()), "zsh -n");
		Path bin = Files.createDirectories(dir.resolve("bin"));
		Path stub = bin.resolve("psi");
		Files.writeString(stub, "#!/bin/sh\ncase \"$*\" in profiles) printf 'default\\nstrict\\n' ;; *) echo 'No images.' ;; esac\n");
		stub.toFile().setExecutable(true);
		Files.writeString(dir.resolve(".zshrc"), "fpath=(" + dir + " $fpath)\nautoload -U compinit\ncompinit -u -D\nPATH=" + bin
			+ ":$PATH\nPS1='> '\n");
		String session = "psi-ref-" + ProcessHandle.current().pid();
		run("tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "20", "env ZDOTDIR=" + dir + " zsh -i");
		try {
			String screen = "";
			for (String[] keys : new String[][] { { "psi att", "Tab" }, { " --pro", "Tab" }, { " ", "Tab" } }) {
				Thread.sleep(700);
				run("tmux", "send-keys", "-t", session, keys[0], keys[1]);
			}
			for (int i = 0; i < 50 && !screen.contains("strict"); i++) {
				Thread.sleep(100);
				screen = run("tmux", "capture-pane", "-t", session, "-p");
			}
			assertTrue(screen.contains("> psi attach --profile"), screen);
			assertTrue(screen.contains("default") && screen.contains("strict"), screen);
		} finally {
			new ProcessBuilder("tmux", "kill-session", "-t", session).start().waitFor();
		}
	}

	private static String run(String... cmd) throws Exception {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
		return out;
	}
}
