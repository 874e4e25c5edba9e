package psi.launcher.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

/**
 * {@code psi -H [user@]host[:port] COMMAND ...}: runs the command on other
 * hosts through OpenSSH, as {@code systemctl -H} does: the admin's own
 * {@code ssh} with their configuration, keys and agent, and
 * {@code StrictHostKeyChecking=yes} always (an unknown or changed host key
 * is refused, never accepted). The remote psi's output and exit status come
 * back as they are. A local image argument ({@code ./app.psi}) is first
 * copied to the remote host ({@link Copy}), then pulled there into its pool
 * as {@code psi pull file://} verifies an image, and the command is given
 * its place in the pool instead.
 * <p>
 * Several hosts ({@code -H a,b} or {@code -H @FILE}) run one after another,
 * stopping at the first that fails; {@code --parallel N} runs a read-only
 * command on N at a time, each line of output prefixed with its host.
 * <p>
 * Settings ({@code /etc/psi/psi.remote.cfg}): {@code ssh} the ssh program
 * (default {@code ssh}), {@code configFile} passed as {@code ssh -F},
 * {@code command} the psi command on the remote hosts (default {@code psi}).
 */
final class Remote {

	/** The configuration PID of the settings. */
	static final String PID = "psi.remote";

	/** The commands a local image argument is copied for: their first argument is the image. */
	static final Set<String> COPIES = Set.of("start", "attach", "reattach", "inspect", "verify");

	/** ssh's exit status for its own failures (connection, authentication, host key). */
	static final int SSH_FAILED = 255;

	/** A step on the remote host failed, and was said so; its exit status. */
	static final class Failed extends Exception {
		private static final long serialVersionUID = 1L;
		final int status;

		Failed(int status) {
			super("exit status " + status, null, false, false);
			this.status = status;
		}
	}

	/** A destination: what ssh takes, and a port or none. */
	record Target(String destination, String port) {

		/** Host names, IPv4, bracketed IPv6, user names: nothing a shell or ssh would read as more. */
		private static final Pattern VALID = Pattern.compile("(?:[A-Za-z0-9._][A-Za-z0-9._-]*@)?(?:[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.%a-z]+\\])(?::[0-9]{1,5})?");

		/** @return {@code [user@]host[:port]} parsed; refused when it could be read as an option or holds odd characters */
		static Target parse(String s) throws CommandLine.UsageException {
			String t = s.strip();
			if (t.isEmpty() || t.startsWith("-") || !VALID.matcher(t).matches()) {
				throw new CommandLine.UsageException("psi: -H: '" + CommandRunner.oneLine(s) + "' is not [user@]host[:port]");
			}
			int colon = t.lastIndexOf(':');
			int bracket = t.lastIndexOf(']');
			if (colon > bracket && t.indexOf(':') == colon) {
				String port = t.substring(colon + 1);
				int p = Integer.parseInt(port);
				if (p < 1 || p > 65535) {
					throw new CommandLine.UsageException("psi: -H: port " + port + " of '" + t + "' is not between 1 and 65535");
				}
				return new Target(t.substring(0, colon), port);
			}
			return new Target(t, null);
		}

		@Override
		public String toString() {
			return port == null ? destination : destination + ":" + port;
		}
	}

	/**
	 * A command line with its {@code -H} options taken out.
	 *
	 * @param hosts the hosts, in order; empty when none was asked for
	 * @param parallel how many at a time (1: one after another)
	 * @param rest the command line without them
	 */
	record Split(List<Target> hosts, int parallel, List<String> rest) {
	}

	/**
	 * Takes {@code -H X}, {@code -HX}, {@code --host X}, {@code --host=X} and
	 * {@code --parallel N} out of a command line, anywhere before {@code --}.
	 * X is a comma-separated list of hosts, or {@code @FILE}: one host a line,
	 * {@code #} comments.
	 */
	static Split split(List<String> argv, Path cwd) throws CommandLine.UsageException {
		List<Target> hosts = new ArrayList<>();
		List<String> rest = new ArrayList<>();
		int parallel = 1;
		boolean parallelGiven = false;
		boolean options = true;
		for (int i = 0; i < argv.size(); i++) {
			String a = argv.get(i);
			if (!options) {
				rest.add(a);
				continue;
			}
			if (a.equals("--")) {
				options = false;
				rest.add(a);
				continue;
			}
			String value = null;
			boolean isHost = false;
			boolean isParallel = false;
			if (a.equals("-H") || a.equals("--host") || a.equals("--parallel")) {
				if (i + 1 >= argv.size()) {
					throw new CommandLine.UsageException("psi: option '" + a + "' needs a value");
				}
				value = argv.get(++i);
				isHost = !a.equals("--parallel");
				isParallel = !isHost;
			} else if (a.startsWith("--host=")) {
				value = a.substring("--host=".length());
				isHost = true;
			} else if (a.startsWith("--parallel=")) {
				value = a.substring("--parallel=".length());
				isParallel = true;
			} else if (a.startsWith("-H") && a.length() > 2) {
				value = a.substring(2);
				isHost = true;
			}
			if (isHost) {
				hosts.addAll(hosts(value, cwd));
			} else if (isParallel) {
				try {
					parallel = Integer.parseInt(value);
				} catch (NumberFormatException e) {
					parallel = 0;
				}
				if (parallel < 1 || parallel > 64) {
					throw new CommandLine.UsageException("psi: --parallel takes a number of hosts from 1 to 64, not '" + CommandRunner.oneLine(value) + "'");
				}
				parallelGiven = true;
			} else {
				rest.add(a);
			}
		}
		if (parallelGiven && hosts.isEmpty()) {
			throw new CommandLine.UsageException("psi: --parallel is for several hosts (-H host1,host2)");
		}
		return new Split(hosts, parallel, rest);
	}

	private static List<Target> hosts(String value, Path cwd) throws CommandLine.UsageException {
		List<String> names = new ArrayList<>();
		if (value.startsWith("@")) {
			Path f = cwd.resolve(value.substring(1));
			try {
				if (Files.size(f) > 1 << 20) {
					throw new CommandLine.UsageException("psi: -H " + value + ": the file is larger than 1 MiB");
				}
				for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
					String l = line.strip();
					if (!l.isEmpty() && !l.startsWith("#")) {
						names.add(l);
					}
				}
			} catch (IOException e) {
				throw new CommandLine.UsageException("psi: -H " + value + ": cannot read " + f + ": " + e.getMessage());
			}
			if (names.isEmpty()) {
				throw new CommandLine.UsageException("psi: -H " + value + ": " + f + " names no host");
			}
		} else {
			for (String n : value.split(",", -1)) {
				names.add(n);
			}
		}
		List<Target> out = new ArrayList<>();
		for (String n : names) {
			out.add(Target.parse(n));
		}
		return out;
	}

	/** @return a word the remote POSIX shell reads back as exactly {@code s} */
	static String shellQuote(String s) {
		if (!s.isEmpty() && s.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || "-_./=:@%+,".indexOf(c) >= 0))) {
			return s;
		}
		return "'" + s.replace("'", "'\\''") + "'";
	}

	private final Map<String, String> config;
	private final Caller caller;

	/**
	 * @param config the {@value #PID} settings
	 * @param caller who runs it (its own user: this runs in-process only)
	 */
	Remote(Map<String, String> config, Caller caller) {
		this.config = config;
		this.caller = caller;
	}

	/** @return the ssh command line up to the destination */
	List<String> ssh(Target t, boolean tty) {
		List<String> cmd = new ArrayList<>(List.of(config.getOrDefault("ssh", "ssh").trim().split("\\s+")));
		String cf = config.get("configFile");
		if (cf != null && !cf.isBlank()) {
			cmd.add("-F");
			cmd.add(cf.trim());
		}
		// never accept a host key that known_hosts does not hold, whatever the admin's configuration says
		cmd.add("-o");
		cmd.add("StrictHostKeyChecking=yes");
		cmd.add(tty ? "-t" : "-T");
		if (t.port() != null) {
			cmd.add("-p");
			cmd.add(t.port());
		}
		cmd.add("--");
		cmd.add(t.destination());
		return cmd;
	}

	/** @return the remote psi command line, quoted for the remote shell */
	String remoteLine(List<String> args) {
		StringBuilder sb = new StringBuilder(config.getOrDefault("command", "psi").trim());
		for (String a : args) {
			sb.append(' ').append(shellQuote(a));
		}
		return sb.toString();
	}

	/**
	 * Runs the command on every host.
	 *
	 * @param split the hosts and the command line
	 * @param image where the local image argument is in {@code split.rest()} ({@code -1}: none to copy)
	 * @param verify the {@code --verify} value to pull a copied image with, or {@code null}
	 * @param readOnly whether the command changes nothing (may run in parallel)
	 * @return the exit status: the first failure's, else 0
	 */
	int run(Split split, int image, String verify, boolean readOnly) {
		if (split.parallel() > 1) {
			if (!readOnly || image >= 0) {
				caller.err().println("psi: --parallel runs only commands that change nothing (" + String.join(", ", new java.util.TreeSet<>(Access.READ_ONLY)
					.stream().map(CommandLine::typed).toList()) + ");"
					+ " a change runs on one host after another, stopping at the first that fails");
				return 1;
			}
			return parallel(split);
		}
		List<Target> hosts = split.hosts();
		for (int i = 0; i < hosts.size(); i++) {
			Target t = hosts.get(i);
			if (hosts.size() > 1) {
				caller.err().println("psi: on " + t + ":");
			}
			int status = one(t, split.rest(), image, verify);
			if (status != 0) {
				if (i + 1 < hosts.size()) {
					caller.err().println("psi: stopped at " + t + " (exit status " + status + "); not run on "
						+ String.join(", ", hosts.subList(i + 1, hosts.size()).stream().map(Target::toString).toList()));
				}
				return status;
			}
		}
		return 0;
	}

	private int parallel(Split split) {
		ExecutorService pool = Executors.newFixedThreadPool(Math.min(split.parallel(), split.hosts().size()));
		try {
			List<Future<Integer>> results = new ArrayList<>();
			for (Target t : split.hosts()) {
				results.add(pool.submit(() -> {
					Process p = start(ssh(t, false), remoteLine(split.rest()), false);
					p.getOutputStream().close();
					Thread err = pump(p.getErrorStream(), caller.err(), t + ": ", null);
					pump(p.getInputStream(), caller.out(), t + ": ", null).join();
					err.join();
					return explain(t, p.waitFor(), null);
				}));
			}
			int status = 0;
			for (Future<Integer> f : results) {
				int s = f.get();
				if (status == 0) {
					status = s;
				}
			}
			return status;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return CommandRunner.INTERRUPTED;
		} catch (java.util.concurrent.ExecutionException e) {
			caller.err().println("psi: " + CommandRunner.oneLine(String.valueOf(e.getCause().getMessage())));
			return 1;
		} finally {
			pool.shutdownNow();
		}
	}

	/** Runs the command on one host, first copying the local image when there is one. */
	private int one(Target t, List<String> rest, int image, String verify) {
		List<String> args = new ArrayList<>(rest);
		try {
			if (image >= 0) {
				Copy c = new Copy(t, caller.cwd().resolve(args.get(image)).normalize());
				args.set(image, c.run(globals(args), verify));
			}
			boolean tty = caller.terminal() && System.console() != null;
			Process p = start(ssh(t, tty), remoteLine(args), true);
			List<String> sshSaid = new ArrayList<>();
			Thread err = pump(p.getErrorStream(), caller.err(), "", sshSaid);
			pump(p.getInputStream(), caller.out(), "", null).join();
			err.join();
			return explain(t, p.waitFor(), sshSaid);
		} catch (Failed e) {
			return e.status;
		} catch (IOException e) {
			caller.err().println("psi: " + t + ": " + CommandRunner.oneLine(String.valueOf(e.getMessage())));
			return 1;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return CommandRunner.INTERRUPTED;
		}
	}

	/** @return the global options at the front of a command line ({@code --root DIR}), for the remote pull */
	private static List<String> globals(List<String> args) {
		List<String> out = new ArrayList<>();
		for (int i = 0; i < args.size(); i++) {
			String a = args.get(i);
			if (CommandLine.GLOBAL_VALUE_OPTIONS.contains(a) && i + 1 < args.size()) {
				out.add(a);
				out.add(args.get(++i));
			} else if (CommandLine.GLOBAL_VALUE_OPTIONS.stream().anyMatch(g -> a.startsWith(g + "="))) {
				out.add(a);
			} else {
				break;
			}
		}
		return out;
	}

	/**
	 * @param interactive whether standard input is the caller's (a terminal's questions); else nothing is read
	 */
	private Process start(List<String> ssh, String remote, boolean interactive) throws IOException {
		List<String> cmd = new ArrayList<>(ssh);
		cmd.add(remote);
		ProcessBuilder pb = new ProcessBuilder(cmd);
		pb.directory(caller.cwd().toFile());
		if (interactive && caller.terminal() && System.console() != null) {
			pb.redirectInput(ProcessBuilder.Redirect.INHERIT);
		}
		return pb.start();
	}

	/** Copies a stream to the caller's, line by line, each with a prefix; remembers the last lines when asked. */
	private static Thread pump(InputStream in, PrintStream to, String prefix, List<String> last) {
		Thread th = new Thread(() -> {
			if (prefix.isEmpty() && last == null) {
				try {
					in.transferTo(to);
				} catch (IOException e) {
					// the process went away
				}
				to.flush();
				return;
			}
			try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
				for (String line = r.readLine(); line != null; line = r.readLine()) {
					synchronized (to) {
						to.println(prefix + line);
					}
					if (last != null) {
						synchronized (last) {
							last.add(line);
							if (last.size() > 20) {
								last.remove(0);
							}
						}
					}
				}
			} catch (IOException e) {
				// the process went away
			}
			to.flush();
		}, "psi-remote-output");
		th.setDaemon(true);
		th.start();
		return th;
	}

	/**
	 * Adds one line saying what went wrong when ssh itself failed, or when
	 * the remote host has no psi.
	 *
	 * @return the status
	 */
	private int explain(Target t, int status, List<String> said) {
		String all = said == null ? "" : String.join("\n", said);
		if (status == SSH_FAILED) {
			String why;
			if (all.contains("Host key verification failed") || all.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
				|| all.contains("No ED25519 host key is known") || all.contains("host key is known")) {
				why = "its host key is not the one known_hosts holds for it (unknown or changed): refused; check the key, then add it to known_hosts";
			} else if (all.contains("Permission denied")) {
				why = "it refused the login (the key, or the user)";
			} else if (all.contains("Could not resolve hostname")) {
				why = "no such host name";
			} else if (all.contains("Connection refused") || all.contains("timed out") || all.contains("No route to host")) {
				why = "it cannot be reached over ssh";
			} else {
				why = "ssh failed";
			}
			caller.err().println("psi: " + t + ": " + why + " (ssh exit status 255)");
		} else if (status == 127 && (all.contains("not found") || all.contains("No such file"))) {
			caller.err().println("psi: " + t + ": psi is not installed there (the remote command '" + config.getOrDefault("command", "psi").trim()
				+ "' was not found)");
		}
		return status;
	}

	/**
	 * Copies a local image file, with the files beside it that verifiers
	 * read, to a remote host, resumably: into
	 * {@code /var/tmp/psi-incoming-UID/SHA256/} there (the remote user's,
	 * mode 0700), continuing a partial copy of the same content, checked by
	 * size and SHA-256 on arrival; then the remote psi pulls it
	 * ({@code psi pull file://...}), which verifies it and places it in the
	 * pool, and the staging directory goes. A directory image (or a
	 * subvolume's tree) goes the same way as one tar file, unpacked there
	 * and pulled as a directory (a read-only snapshot where the remote pool
	 * is on btrfs).
	 */
	final class Copy {
		/** The files beside an image that verifiers read, besides {@code NAME.roothash} and the like. */
		static final List<String> SIDECARS = List.of("SHA256SUMS", "SHA256SUMS.gpg");
		static final List<String> SIDECAR_SUFFIXES = List.of(".roothash", ".roothash.p7s", ".usrhash", ".usrhash.p7s", ".verity");

		private final Target target;
		private final Path file;

		Copy(Target target, Path file) {
			this.target = target;
			this.file = file;
		}

		/**
		 * @return the image's path in the remote pool
		 * @throws Failed after saying why
		 */
		String run(List<String> globals, String verify) throws IOException, InterruptedException, Failed {
			boolean tree = Files.isDirectory(file);
			if (!tree && !Files.isRegularFile(file)) {
				caller.err().println("psi: -H copies image files (.raw, .psi) and directory images; " + file + " is neither");
				throw new Failed(1);
			}
			String name = file.getFileName().toString();
			if (!name.matches("[A-Za-z0-9][A-Za-z0-9._+-]*") || name.length() > 200) {
				caller.err().println("psi: -H: the image name '" + CommandRunner.oneLine(name) + "' is not a plain image name (letters, digits, . _ + -)");
				throw new Failed(1);
			}
			Path tar = null;
			try {
				Path send = file;
				String sent = name;
				if (tree) {
					// a directory (or subvolume) goes as one tar file, so that it is resumed and checked as an image file is:
					// sorted and with numeric owners, extended attributes and ACLs, the same bytes for the same tree
					tar = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "psi-copy-", ".tar");
					caller.err().println("psi: packing " + file + " to copy it");
					runLocal(List.of("tar", "--sort=name", "--numeric-owner", "--xattrs", "--acls", "-C", file.getParent().toString(), "-cf", tar.toString(), name));
					send = tar;
					sent = name + ".tar";
				}
				String sha = sha256(send);
				send(send, sent, sha);
				if (tree) {
					String unpack = "d=/var/tmp/psi-incoming-$(id -u)/" + sha + "; cd \"$d\" && rm -rf .tree " + name + " && mkdir .tree"
						+ " && tar --numeric-owner --xattrs --acls -C .tree -xpf " + sent + " && mv .tree/" + name + " " + name + " && rmdir .tree && rm " + sent;
					step(unpack);
				}
				return pull(globals, verify, sha, name, tree);
			} finally {
				if (tar != null) {
					Files.deleteIfExists(tar);
				}
			}
		}

		/** Sends one file into the staging directory named by its SHA-256, resuming what is there, checked on arrival. */
		private void send(Path file, String name, String sha) throws IOException, InterruptedException, Failed {
			long size = Files.size(file);
			String dir = "d=/var/tmp/psi-incoming-$(id -u)/" + sha;
			// the user's own staging directory, or nothing: in /var/tmp another user could have made it first (a link, or
			// a directory of theirs) to swap the image between its check and its pull
			String probe = dir + "; b=/var/tmp/psi-incoming-$(id -u); mkdir -p -m 0700 \"$b\" 2>/dev/null;"
				+ " if [ -L \"$b\" ] || [ ! -d \"$b\" ] || [ \"$(stat -c %u:%a \"$b\")\" != \"$(id -u):700\" ]; then"
				+ " echo \"psi: $b is not this user's own directory of mode 0700: refused (remove it)\" >&2; exit 5; fi;"
				+ " mkdir -p -m 0700 \"$d\" && if [ -f \"$d\"/" + name + " ]; then echo complete; else stat -c %s \"$d\"/" + name
				+ ".part 2>/dev/null || echo 0; fi";
			String have = capture(probe).strip();
			if (have.equals("complete")) {
				return;
			}
			long offset;
			try {
				offset = Long.parseLong(have);
			} catch (NumberFormatException e) {
				throw new IOException("cannot prepare the copy there: " + have);
			}
			if (offset > size) {
				offset = 0; // not ours: start again
			}
			caller.err().println("psi: copying " + name + " to " + target + " (" + size + " bytes" + (offset > 0 ? ", resuming at " + offset : "") + ")");
			String receive = dir + "; f=\"$d\"/" + name + ".part; " + (offset == 0 ? ": > \"$f\" && " : "") + "cat >> \"$f\" && s=$(stat -c %s \"$f\")"
				+ " && if [ \"$s\" -lt " + size + " ]; then echo \"psi: the copy stopped at $s of " + size + " bytes; run the command again to resume\" >&2; exit 3; fi"
				+ " && if [ \"$s\" -ne " + size + " ] || ! echo '" + sha + "  " + name + ".part' | (cd \"$d\" && sha256sum -c --status); then rm -f \"$f\";"
				+ " echo \"psi: the copy arrived damaged (not the SHA-256 sent); run the command again\" >&2; exit 4; fi"
				+ " && mv \"$f\" \"$d\"/" + name;
			Process p = start(ssh(target, false), receive, false);
			Thread err = pump(p.getErrorStream(), caller.err(), "", null);
			try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); OutputStream out = p.getOutputStream()) {
				ch.position(offset);
				Channels.newInputStream(ch).transferTo(out);
			} catch (IOException e) {
				// the remote end went away: its status says why
			}
			int status = p.waitFor();
			err.join();
			if (status != 0) {
				throw new Failed(explain(target, status, List.of()));
			}
		}

		/**
		 * Copies the files verifiers read beside an image file, then has the remote psi pull the image into its pool.
		 *
		 * @param sha the SHA-256 of what was sent (the image file, or a directory's tar): its staging directory
		 * @return the image's path in the remote pool
		 */
		private String pull(List<String> globals, String verify, String sha, String name, boolean tree) throws IOException, InterruptedException, Failed {
			String dir = "d=/var/tmp/psi-incoming-$(id -u)/" + sha;
			String stem = name.replaceAll("\\.(raw|psi)$", "");
			for (Path side : tree ? List.<Path>of() : sidecars(file.getParent(), name, stem)) {
				String put = dir + "; cat > \"$d\"/" + side.getFileName();
				Process p = start(ssh(target, false), put, false);
				Thread err = pump(p.getErrorStream(), caller.err(), "", null);
				try (OutputStream out = p.getOutputStream()) {
					Files.copy(side, out);
				}
				int status = p.waitFor();
				err.join();
				if (status != 0) {
					caller.err().println("psi: " + target + ": cannot copy " + side.getFileName() + " (exit status " + status + ")");
					throw new Failed(status);
				}
			}
			List<String> pull = new ArrayList<>(globals);
			pull.add("pull");
			if (verify != null) {
				pull.add("--verify=" + verify);
			}
			String line = dir + "; " + remoteLine(pull) + " \"file://$d/" + name + "\" && rm -rf \"$d\"";
			step(line);
			return "/var/lib/portables/" + (tree ? name : stem + ".raw");
		}

		/** Runs one step of the copy there, its output to the caller's standard error; its failure said and thrown. */
		private void step(String remote) throws IOException, InterruptedException, Failed {
			Process p = start(ssh(target, false), remote, false);
			p.getOutputStream().close();
			List<String> said = new ArrayList<>();
			Thread err = pump(p.getErrorStream(), caller.err(), "", said);
			pump(p.getInputStream(), caller.err(), "", null).join();
			err.join();
			int status = p.waitFor();
			if (status != 0) {
				throw new Failed(explain(target, status, said));
			}
		}

		/** @return the files beside the image that verifiers read, that exist */
		private static List<Path> sidecars(Path dir, String name, String stem) throws IOException {
			List<Path> out = new ArrayList<>();
			for (String s : SIDECARS) {
				Path p = dir.resolve(s);
				if (Files.isRegularFile(p)) {
					out.add(p);
				}
			}
			for (String base : new String[] { name, stem }) {
				for (String suffix : SIDECAR_SUFFIXES) {
					Path p = dir.resolve(base + suffix);
					if (Files.isRegularFile(p) && !out.contains(p)) {
						out.add(p);
					}
				}
			}
			return out;
		}

		/** @return what a remote shell command printed; its failure as an exception with its words */
		private String capture(String remote) throws IOException, InterruptedException, Failed {
			Process p = start(ssh(target, false), remote, false);
			p.getOutputStream().close();
			List<String> said = new ArrayList<>();
			Thread err = pump(p.getErrorStream(), caller.err(), "", said);
			String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			err.join();
			int status = p.waitFor();
			if (status != 0) {
				throw new Failed(explain(target, status, said));
			}
			return out;
		}
	}

	/** Runs a command here; its failure, with its last line, as an exception. */
	static void runLocal(List<String> cmd) throws IOException, InterruptedException {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
		String out = new String(p.getInputStream().readNBytes(8192), StandardCharsets.UTF_8).strip();
		if (p.waitFor() != 0) {
			throw new IOException(String.join(" ", cmd.subList(0, 1)) + " failed: " + (out.isEmpty() ? "exit status " + p.exitValue() : out.lines().reduce((a, b) -> b).orElse(out)));
		}
	}

	/** @return the hex SHA-256 of a file */
	static String sha256(Path f) throws IOException {
		try (InputStream in = Files.newInputStream(f)) {
			MessageDigest md = MessageDigest.getInstance("SHA-256");
			byte[] buf = new byte[1 << 16];
			for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
				md.update(buf, 0, n);
			}
			return HexFormat.of().formatHex(md.digest());
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
