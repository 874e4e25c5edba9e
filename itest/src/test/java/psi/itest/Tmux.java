package psi.itest;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A program on a real pseudo-terminal, driven as a person at a keyboard
 * would: tmux on a server of its own, keys sent, the screen read back.
 * After the program ends the pane shows {@code EXIT=N} and the terminal's
 * settings ({@code stty -a}), to check that it was left as found.
 */
public final class Tmux implements AutoCloseable {

	private final String server;

	private Tmux(String server) {
		this.server = server;
	}

	/**
	 * @param cwd the directory it runs in
	 * @param env variables added to this JVM's environment
	 * @param command the program and its arguments (no shell quoting needed)
	 * @return the session, 120 by 40, its program started
	 */
	public static Tmux start(Path cwd, Map<String, String> env, String... command) throws IOException, InterruptedException {
		Tmux t = new Tmux("psi-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
		StringBuilder sh = new StringBuilder();
		for (String c : command) {
			sh.append('\'').append(c.replace("'", "'\\''")).append("' ");
		}
		sh.append("; echo EXIT=$?; stty -a; sleep 600");
		List<String> cmd = new ArrayList<>(List.of("tmux", "-L", t.server, "-f", "/dev/null", "new-session", "-d", "-s", "psi", "-x", "120", "-y", "40",
			"-c", cwd.toString(), "sh", "-c", sh.toString()));
		ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
		pb.environment().putAll(env);
		pb.environment().put("TERM", "xterm-256color");
		t.run(pb);
		return t;
	}

	/** Types text, as it is. */
	public void type(String text) throws IOException, InterruptedException {
		run(new ProcessBuilder("tmux", "-L", server, "send-keys", "-t", "psi", "-l", "--", text));
	}

	/** Presses keys by tmux's names: {@code Tab}, {@code Enter}, {@code C-c}, {@code C-d}. */
	public void keys(String... names) throws IOException, InterruptedException {
		List<String> cmd = new ArrayList<>(List.of("tmux", "-L", server, "send-keys", "-t", "psi"));
		cmd.addAll(List.of(names));
		run(new ProcessBuilder(cmd));
	}

	/**
	 * Types text, presses Tab, and waits until the prompt's line reads
	 * {@code psi> LINE} (the completion's trailing blank aside).
	 */
	public void tab(String text, String line, Duration within) throws IOException, InterruptedException {
		type(text);
		keys("Tab");
		await("^psi> " + Pattern.quote(line) + "$", within);
	}

	/** @return the screen, one line per row, trailing blanks cut */
	public String screen() throws IOException, InterruptedException {
		Process p = new ProcessBuilder("tmux", "-L", server, "capture-pane", "-p", "-J", "-t", "psi").redirectErrorStream(true).start();
		String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		p.waitFor(10, TimeUnit.SECONDS);
		return s.replaceAll("(?m)[ \\t]+$", "");
	}

	/**
	 * Waits until the screen matches.
	 *
	 * @param regex found anywhere in the screen (multi-line mode)
	 * @return the screen
	 */
	public String await(String regex, Duration within) throws IOException, InterruptedException {
		Pattern p = Pattern.compile(regex, Pattern.MULTILINE);
		long deadline = System.nanoTime() + within.toNanos();
		String s;
		while (!p.matcher(s = screen()).find()) {
			if (System.nanoTime() > deadline) {
				fail("the terminal did not show /" + regex + "/ in " + within.toSeconds() + " s; it shows:\n" + s);
			}
			Thread.sleep(50);
		}
		return s;
	}

	@Override
	public void close() throws IOException, InterruptedException {
		new ProcessBuilder("tmux", "-L", server, "kill-server").redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
	}

	private void run(ProcessBuilder pb) throws IOException, InterruptedException {
		Process p = pb.redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
			fail("tmux failed: " + pb.command() + ": " + out);
		}
	}
}
