package psi.verify.sums.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real GnuPG, in a home directory of its own, making the keys and
 * signatures the tests check: what a publisher does.
 */
final class Gpg implements AutoCloseable {

	static final Path GPG = Path.of("/usr/bin/gpg");

	private final Path home;

	Gpg(Path home) throws IOException {
		this.home = Files.createDirectories(home);
		Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
	}

	static boolean available() {
		return Files.isExecutable(GPG);
	}

	/**
	 * Runs gpg, failing the test on a non-zero exit.
	 *
	 * @param fakedTime epoch seconds gpg takes for now, or {@code null}
	 * @return its standard output
	 */
	byte[] run(Long fakedTime, String... args) throws IOException {
		List<String> cmd = new ArrayList<>(List.of(GPG.toString(), "--homedir", home.toString(), "--batch", "--no-tty",
			"--passphrase", "", "--pinentry-mode", "loopback", "--quiet"));
		if (fakedTime != null) {
			cmd.add("--faked-system-time");
			cmd.add(fakedTime + "!");
		}
		cmd.addAll(List.of(args));
		Path err = Files.createTempFile(home, "stderr", ".txt");
		Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
			.start();
		byte[] out = p.getInputStream().readAllBytes();
		try {
			if (!p.waitFor(120, TimeUnit.SECONDS)) {
				p.destroyForcibly();
				throw new IOException("gpg hangs: " + cmd);
			}
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException(e);
		}
		assertEquals(0, p.exitValue(), () -> {
			try {
				return String.join(" ", cmd) + ": " + Files.readString(err);
			} catch (IOException e) {
				return String.join(" ", cmd);
			}
		});
		Files.delete(err);
		return out;
	}

	byte[] run(String... args) throws IOException {
		return run(null, args);
	}

	/**
	 * Makes a key as {@code gpg --quick-gen-key} does.
	 *
	 * @return its fingerprint
	 */
	String generate(Long fakedTime, String userId, String algorithm, String usage, String expire) throws IOException {
		run(fakedTime, "--quick-gen-key", userId, algorithm, usage, expire);
		return fingerprint(userId);
	}

	/** @return the primary key's fingerprint */
	String fingerprint(String userId) throws IOException {
		for (String line : new String(run("--with-colons", "--list-keys", "=" + userId), StandardCharsets.UTF_8).split("\n")) {
			if (line.startsWith("fpr:")) {
				return line.split(":")[9];
			}
		}
		throw new IOException("no key for " + userId);
	}

	/** @return the first fingerprint of a subkey of the key */
	String subkeyFingerprint(String primary) throws IOException {
		boolean sub = false;
		for (String line : new String(run("--with-colons", "--list-keys", primary), StandardCharsets.UTF_8).split("\n")) {
			sub |= line.startsWith("sub:");
			if (sub && line.startsWith("fpr:")) {
				return line.split(":")[9];
			}
		}
		throw new IOException("no subkey in " + primary);
	}

	/** @return the public keys, as {@code gpg --export} writes them */
	byte[] export(boolean armor, String... keys) throws IOException {
		List<String> args = new ArrayList<>(armor ? List.of("--armor", "--export") : List.of("--export"));
		args.addAll(List.of(keys));
		return run(args.toArray(String[]::new));
	}

	/**
	 * Makes a detached signature.
	 *
	 * @param signers the keys, as gpg names them ({@code FPR!} for exactly that key, else gpg picks a signing subkey)
	 * @param options more gpg options, e.g. {@code --digest-algo SHA1}
	 */
	void sign(Long fakedTime, Path file, Path signature, boolean armor, List<String> signers, String... options) throws IOException {
		List<String> args = new ArrayList<>();
		for (String s : signers) {
			args.add("--local-user");
			args.add(s);
		}
		args.addAll(List.of(options));
		if (armor) {
			args.add("--armor");
		}
		args.addAll(List.of("--yes", "--output", signature.toString(), "--detach-sign", file.toString()));
		run(fakedTime, args.toArray(String[]::new));
	}

	Path home() {
		return home;
	}

	/** Stops the agent gpg started for this home. */
	@Override
	public void close() throws IOException {
		try {
			new ProcessBuilder("gpgconf", "--homedir", home.toString(), "--kill", "gpg-agent").inheritIO().start().waitFor(30, TimeUnit.SECONDS);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}
}
