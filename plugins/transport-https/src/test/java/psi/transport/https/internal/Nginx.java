package psi.transport.https.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;


/**
 * A real nginx on 127.0.0.1, run by {@code itest/servers/nginx.sh}: serves
 * {@code dir/www}; its test PKI is in {@code dir/pki}.
 */
final class Nginx implements AutoCloseable {

	static final Path NGINX = Path.of("/usr/sbin/nginx");
	/** Surefire runs in the module's directory. */
	static final Path SCRIPT = Path.of("../../itest/servers/nginx.sh").toAbsolutePath().normalize();

	final Path dir;
	final int port;
	final int wrongNamePort;
	final int untrustedPort;
	final int httpPort;
	final long pid;

	private Nginx(Path dir, Map<String, String> vars) {
		this.dir = dir;
		this.port = Integer.parseInt(vars.get("PORT"));
		this.wrongNamePort = Integer.parseInt(vars.get("WRONGNAME_PORT"));
		this.untrustedPort = Integer.parseInt(vars.get("UNTRUSTED_PORT"));
		this.httpPort = Integer.parseInt(vars.get("HTTP_PORT"));
		this.pid = Long.parseLong(vars.get("PID"));
	}

	/**
	 * Starts nginx; fails the calling test class when nginx is not installed
	 * (these tests run everywhere psi is built: the README's set-up and CI install nginx-light).
	 *
	 * @param dir the work directory; {@code dir/www} and {@code dir/server.d} may be filled first
	 */
	static Nginx start(Path dir) throws IOException, InterruptedException {
		assertTrue(Files.isExecutable(NGINX), "nginx is not installed (" + NGINX + "): the https transport's tests run"
			+ " against a real nginx; apt-get install nginx-light (the README's set-up command does)");
		assertTrue(Files.isRegularFile(SCRIPT), SCRIPT + " is missing");
		String out = run("start", dir);
		Map<String, String> vars = new HashMap<>();
		for (String kv : out.strip().split("\\s+")) {
			int eq = kv.indexOf('=');
			if (eq > 0) {
				vars.put(kv.substring(0, eq), kv.substring(eq + 1));
			}
		}
		for (String k : List.of("PORT", "WRONGNAME_PORT", "UNTRUSTED_PORT", "HTTP_PORT", "PID")) {
			if (!vars.containsKey(k)) {
				fail("nginx.sh start printed no " + k + ": " + out);
			}
		}
		return new Nginx(dir, vars);
	}

	private static String run(String verb, Path dir) throws IOException, InterruptedException {
		Path err = Files.createTempFile("nginx-sh", ".err");
		try {
			Process p = new ProcessBuilder("bash", SCRIPT.toString(), verb, dir.toString())
				.redirectError(err.toFile()).start();
			String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!p.waitFor(60, TimeUnit.SECONDS)) {
				p.destroyForcibly();
				fail("nginx.sh " + verb + " did not finish");
			}
			if (p.exitValue() != 0) {
				fail("nginx.sh " + verb + " failed: " + Files.readString(err));
			}
			return out;
		} finally {
			Files.deleteIfExists(err);
		}
	}

	Path www() {
		return dir.resolve("www");
	}

	Path caCert() {
		return dir.resolve("pki/ca.crt");
	}

	Path untrustedCaCert() {
		return dir.resolve("pki/untrusted-ca.crt");
	}

	/** The access log lines so far. */
	List<String> accessLog() throws IOException {
		Path log = dir.resolve("logs/access.log");
		return Files.exists(log) ? Files.readAllLines(log) : List.of();
	}

	/** Waits until nginx logged a line containing {@code text} (it logs once a response is sent). */
	boolean logged(String text) throws IOException, InterruptedException {
		for (int i = 0; i < 100; i++) {
			if (accessLog().stream().anyMatch(l -> l.contains(text))) {
				return true;
			}
			Thread.sleep(20);
		}
		return false;
	}

	@Override
	public void close() throws IOException, InterruptedException {
		run("stop", dir);
	}
}
