package psi.transport.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH sshd on 127.0.0.1, run by {@code itest/servers/sshd.sh}
 * (see there for what its directory holds). Tests that need it fail where
 * sshd or ssh is not installed: the README's set-up command and CI install both.
 */
final class Sshd implements AutoCloseable {

	static final Path SCRIPT = Path.of("../../itest/servers/sshd.sh").toAbsolutePath().normalize();
	static final Path SSHD = Path.of("/usr/sbin/sshd");

	final Path dir;
	final int port;
	final int deniedPort;
	final String user;
	final long pid;

	private Sshd(Path dir, Map<String, String> vars) {
		this.dir = dir;
		this.port = Integer.parseInt(vars.get("PORT"));
		this.deniedPort = Integer.parseInt(vars.get("DENIED_PORT"));
		this.user = vars.get("USER");
		this.pid = Long.parseLong(vars.get("PID"));
	}

	/** Fails the calling test class unless sshd, ssh, ssh-agent and the script are there. */
	static void requireInstalled() {
		String missing = !Files.isExecutable(SSHD) ? SSHD + " is not installed"
			: which("ssh") == null ? "ssh is not installed"
			: which("ssh-agent") == null || which("ssh-add") == null ? "ssh-agent and ssh-add are not installed"
			: !Files.isRegularFile(SCRIPT) ? SCRIPT + " is missing" : null;
		assertNull(missing, "the ssh transport's tests run against a real sshd, but " + missing
			+ ": apt-get install openssh-server openssh-client (the README's set-up command does)");
	}

	static Path which(String program) {
		for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
			Path p = Path.of(d, program);
			if (Files.isExecutable(p)) {
				return p;
			}
		}
		return null;
	}

	/** Starts an sshd with its files in {@code dir}. */
	static Sshd start(Path dir) throws IOException, InterruptedException {
		String out = run("start", dir);
		Map<String, String> vars = new HashMap<>();
		String line = out.lines().filter(l -> l.startsWith("PORT=")).findFirst()
			.orElseThrow(() -> new IOException("sshd.sh start " + dir + " printed no PORT=...: " + out.strip()));
		for (String kv : line.strip().split("\\s+")) {
			int eq = kv.indexOf('=');
			if (eq > 0) {
				vars.put(kv.substring(0, eq), kv.substring(eq + 1));
			}
		}
		return new Sshd(dir, vars);
	}

	/** @return the client configuration {@code sshd.sh} wrote: Host psitest */
	Path config() {
		return dir.resolve("ssh_config");
	}

	/**
	 * Writes a variant of the client configuration.
	 *
	 * @param name the file name in {@link #dir}
	 * @param from a line of {@link #config()} ("IdentityFile ...")
	 * @param to its replacement, or "" to drop it
	 * @return the file
	 */
	Path configWith(String name, String from, String to) throws IOException {
		String text = Files.readString(config());
		if (!text.contains(from)) {
			throw new IllegalArgumentException(config() + " holds no '" + from + "'");
		}
		Path p = dir.resolve(name);
		Files.writeString(p, text.replace(from, to));
		return p;
	}

	@Override
	public void close() throws IOException {
		try {
			run("stop", dir);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException("interrupted while stopping sshd in " + dir, e);
		}
	}

	private static String run(String verb, Path dir) throws IOException, InterruptedException {
		Process p = new ProcessBuilder("bash", SCRIPT.toString(), verb, dir.toString()).redirectErrorStream(true).start();
		byte[] out = p.getInputStream().readAllBytes();
		if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
			p.destroyForcibly();
			throw new IOException("sshd.sh " + verb + " " + dir + " failed: " + new String(out, StandardCharsets.UTF_8).strip());
		}
		return new String(out, StandardCharsets.UTF_8);
	}
}
