package psi.transport.ssh.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import psi.spi.transport.Transport;
import psi.spi.transport.TransportSchemes;

/**
 * Fetches {@code ssh://[user@]host[:port]/path} and {@code sftp://} URLs by
 * running OpenSSH's own {@code ssh} with the {@code sftp} subsystem and
 * speaking SFTP version 3 over its stdin and stdout. ssh does the
 * connection as the admin configured it (keys, agent, certificates,
 * known_hosts, ProxyJump), with host keys checked strictly and never a prompt
 * ({@link SshCommand}). {@code /~/rel} names {@code rel} under the remote
 * home.
 * <p>
 * The file is read with {@value #WINDOW} READ requests outstanding, of the
 * largest size the server allows (OpenSSH's {@code limits@openssh.com}) up to
 * {@value #CHUNK} bytes, hashed and written to the target as the bytes
 * arrive, and forced to disk at the end. The validator is {@code SIZE-MTIME}
 * from the open file's attributes (mtime in seconds, which is what SFTP
 * version 3 states). With {@link Request#ifNoneMatch()} equal to it nothing is
 * written and {@link Progress#started} is not called; with
 * {@link Request#resumeValidator()} equal to it the bytes already in the
 * target are hashed and the rest read from where they end.
 * <p>
 * What is left in the target on failure, as in the file transport: a refusal
 * (no such file, not a regular file, host key unknown or changed, larger than
 * {@link Request#maxBytes()}, changed while being read) leaves the target as
 * the caller left it, except that after writing began a target this fetch
 * created is deleted, and one that was there is cut back to the bytes kept
 * from an earlier fetch (empty when it started over); a lost connection or a failing
 * {@link Progress} leaves the bytes received so far, which a later fetch can
 * resume. ssh is ended and waited for on every path.
 * <p>
 * A server that sends less than {@code speedLimit} bytes a second over
 * {@code speedTime} seconds (as curl's {@code --speed-limit} and
 * {@code --speed-time}), or a fetch that outlasts {@code deadline}, is given
 * up: ssh is ended and the bytes received so far are kept for a later fetch
 * to resume.
 * <p>
 * Thread safe: each fetch runs its own ssh, watched by a thread of its own.
 */
@Component(configurationPid = SshTransport.PID)
@TransportSchemes(schemes = { "ssh", "sftp" })
@Designate(ocd = SshTransport.Config.class)
public class SshTransport implements Transport {

	/** The configuration PID. */
	public static final String PID = "psi.transport.ssh";

	/** READ requests outstanding at a time: what OpenSSH's sftp uses. */
	static final int WINDOW = 64;

	/** The longest READ asked for, when the server allows it. */
	static final int CHUNK = SftpPacket.MAX_READ;

	private static final long PROGRESS_STEP = 1 << 20;

	/** How psi runs ssh. */
	@ObjectClassDefinition(name = "psi ssh transport", description = "How psi runs OpenSSH's ssh to fetch ssh:// and sftp:// URLs")
	public @interface Config {
		/** @return the OpenSSH client program */
		@AttributeDefinition(description = "The OpenSSH client program")
		String command() default "ssh";

		/** @return an ssh_config file, or empty */
		@AttributeDefinition(description = "An ssh_config file, passed as ssh -F; empty: ssh's own (~/.ssh/config, /etc/ssh/ssh_config)")
		String configFile() default "";

		/** @return seconds */
		@AttributeDefinition(description = "Seconds ssh may take to connect and exchange keys (ssh ConnectTimeout)", min = "1")
		int connectTimeout() default 30;

		/** @return the lowest average rate, bytes a second over {@link #speedTime()}, below which a fetch fails */
		@AttributeDefinition(description = "Bytes a second a fetch must average over speedTime seconds, else it fails"
			+ " (curl's --speed-limit); 0: no limit", min = "0")
		long speedLimit() default 1024;

		/** @return the seconds over which {@link #speedLimit()} is measured */
		@AttributeDefinition(description = "Seconds over which speedLimit is measured (curl's --speed-time)", min = "1")
		int speedTime() default 60;

		/** @return seconds a whole fetch may take; 0 for no limit */
		@AttributeDefinition(description = "Seconds a whole fetch may take; 0: no limit", min = "0")
		int deadline() default 0;
	}

	/**
	 * When a fetch is given up.
	 *
	 * @param speedLimit bytes a second the fetch must average over {@code speedTime}; 0 for no limit
	 * @param speedTime the window the rate is measured over
	 * @param deadline how long the whole fetch may take, or {@code null}
	 */
	record Limits(long speedLimit, Duration speedTime, Duration deadline) {
		/** 1 KiB/s over 60 s, as the configuration's defaults; no deadline. */
		static final Limits DEFAULT = new Limits(1024, Duration.ofSeconds(60), null);
	}

	private final Map<String, String> environment;
	private final int chunk;
	private final int window;
	private volatile SshCommand ssh;
	private volatile Limits limits = Limits.DEFAULT;

	/** @param config the configuration */
	@Activate
	public SshTransport(Config config) {
		this(command(config), Map.of(), CHUNK, WINDOW);
		this.limits = limits(config);
	}

	/**
	 * @param ssh how to run ssh
	 * @param environment changes to the environment ssh inherits ({@code null} values remove)
	 * @param chunk the longest READ asked for
	 * @param window READ requests outstanding at a time
	 */
	SshTransport(SshCommand ssh, Map<String, String> environment, int chunk, int window) {
		this.ssh = ssh;
		this.environment = environment;
		this.chunk = chunk;
		this.window = window;
	}

	/** @param config the new configuration, used from the next fetch on */
	@Modified
	void modified(Config config) {
		this.ssh = command(config);
		this.limits = limits(config);
	}

	private static Limits limits(Config c) {
		return new Limits(Math.max(0, c.speedLimit()), Duration.ofSeconds(Math.max(1, c.speedTime())),
			c.deadline() <= 0 ? null : Duration.ofSeconds(c.deadline()));
	}

	/** Sets the limits, for tests. */
	SshTransport limits(Limits l) {
		this.limits = l;
		return this;
	}

	private static SshCommand command(Config config) {
		return new SshCommand(config.command(), config.configFile(), config.connectTimeout());
	}

	@Override
	public Fetched fetch(Request request, Progress progress) throws IOException {
		String label = request.source().toString();
		SshUrl url = SshUrl.parse(request.source());
		SshProcess session;
		try {
			session = SshProcess.start(ssh.sftp(url), environment);
		} catch (IOException e) {
			throw new IOException(label + ": " + e.getMessage(), e);
		}
		Watchdog watchdog = new Watchdog(limits, session, label);
		try (session; watchdog) {
			return fetch(session, watchdog, url, label, request, progress);
		} catch (IOException e) {
			// a read that ended because the watchdog ended ssh fails for the watchdog's reason
			throw watchdog.gaveUp().orElse(e);
		}
	}

	private Fetched fetch(SshProcess session, Watchdog watchdog, SshUrl url, String label, Request request, Progress progress)
		throws IOException {
		// reads of up to a pipe's capacity: Process's own stream copies each read through a
		// native buffer as large as the read asked for, allocated per call
		SftpClient sftp = new SftpClient(new BufferedInputStream(watchdog.counting(session.stdout()), 64 * 1024), session.stdin());
		try {
			sftp.init();
		} catch (SftpClient.Disconnected e) {
			throw new IOException(label + ": " + session.failure());
		} catch (SftpException e) {
			throw new IOException(label + ": " + e.getMessage());
		}
		try {
			Fetched fetched = fetch(sftp, url, label, request, progress);
			session.finish();
			return fetched;
		} catch (SftpClient.Disconnected e) {
			throw new IOException(label + ": the connection ended: " + session.failure());
		} catch (SftpException e) {
			throw switch (e.status()) {
				case SftpPacket.NO_SUCH_FILE -> new NoSuchFileException(label);
				case SftpPacket.PERMISSION_DENIED -> new IOException(label + ": permission denied");
				default -> new IOException(label + ": " + e.getMessage());
			};
		}
	}

	private Fetched fetch(SftpClient sftp, SshUrl url, String label, Request request, Progress progress) throws IOException {
		// checked before opening too: the server's open of a FIFO would block
		if (sftp.stat(url.sftpPath()).notRegularFile()) {
			throw new IOException(label + ": not a regular file; psi pulls image files");
		}
		byte[] handle = sftp.open(url.sftpPath());
		// what was opened, not what the path named before
		SftpAttributes attrs = sftp.fstat(handle);
		if (attrs.notRegularFile()) {
			throw new IOException(label + ": not a regular file; psi pulls image files");
		}
		if (attrs.size() < 0) {
			throw new IOException(label + ": the server does not state the file's size");
		}
		long size = attrs.size();
		String validator = attrs.mtime() < 0 ? null : size + "-" + attrs.mtime();
		if (validator != null && validator.equals(request.ifNoneMatch())) {
			sftp.close(handle);
			return new Fetched(size, null, true, validator);
		}
		if (size > request.maxBytes()) {
			throw new IOException(label + ": " + size + " bytes, more than the " + request.maxBytes() + " accepted");
		}
		int readLength = Math.min(chunk, sftp.maxRead());
		Path target = request.target();
		MessageDigest sha = sha256();
		boolean created = !Files.exists(target);
		long before = created ? 0 : Files.size(target);
		long kept = validator != null && validator.equals(request.resumeValidator()) && before > 0 && before <= size ? before : 0;
		String refusal = null;
		try (FileChannel out = openTarget(target)) {
			if (kept > 0) {
				hash(out, target, kept, sha);
			}
			out.truncate(kept);
			progress.started(size, validator, kept);
			out.position(kept);
			long[] written = { kept, kept };
			long end = sftp.download(handle, kept, size, readLength, window, (bytes, offset, length) -> {
				ByteBuffer b = ByteBuffer.wrap(bytes, offset, length);
				while (b.hasRemaining()) {
					out.write(b);
				}
				sha.update(bytes, offset, length);
				written[0] += length;
				if (written[0] - written[1] >= PROGRESS_STEP) {
					written[1] = written[0];
					progress.update(written[0], size);
				}
			});
			if (end != size) {
				refusal = label + ": the file " + (end > size ? "grew beyond the " + size + " bytes announced"
					: "shrank to " + end + " bytes of the " + size + " announced");
				out.truncate(kept);
			} else {
				out.force(true);
				if (written[1] != size) {
					progress.update(size, size);
				}
			}
		}
		if (refusal != null) {
			if (created) {
				Files.deleteIfExists(target);
			}
			throw new IOException(refusal);
		}
		sftp.close(handle);
		return new Fetched(size, HexFormat.of().formatHex(sha.digest()), false, validator);
	}

	/**
	 * Gives a fetch up when the server sends too little for too long, or the
	 * fetch outlasts its deadline: it ends ssh, so the blocked read ends, and
	 * {@link #gaveUp()} says why.
	 */
	private static final class Watchdog implements AutoCloseable {
		private final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
		private final Limits limits;
		private final SshProcess session;
		private final String label;
		private final Thread thread;
		private volatile String reason;

		Watchdog(Limits limits, SshProcess session, String label) {
			this.limits = limits;
			this.session = session;
			this.label = label;
			this.thread = limits.speedLimit() > 0 || limits.deadline() != null ? new Thread(this::watch, "psi-ssh-watchdog") : null;
			if (thread != null) {
				thread.setDaemon(true);
				thread.start();
			}
		}

		/** @return {@code in}, counting what it reads */
		java.io.InputStream counting(java.io.InputStream in) {
			return new java.io.FilterInputStream(in) {
				@Override
				public int read() throws IOException {
					int b = super.read();
					if (b >= 0) {
						received.incrementAndGet();
					}
					return b;
				}

				@Override
				public int read(byte[] b, int off, int len) throws IOException {
					int n = super.read(b, off, len);
					if (n > 0) {
						received.addAndGet(n);
					}
					return n;
				}
			};
		}

		private void watch() {
			long started = System.nanoTime();
			long windowStart = started;
			long atWindowStart = 0;
			try {
				while (true) {
					Thread.sleep(Math.min(1000, limits.speedTime().toMillis()));
					long now = System.nanoTime();
					if (limits.deadline() != null && now - started > limits.deadline().toNanos()) {
						giveUp("not done within " + limits.deadline().toSeconds() + " s (deadline of psi.transport.ssh)");
						return;
					}
					if (limits.speedLimit() > 0 && now - windowStart >= limits.speedTime().toNanos()) {
						long inWindow = received.get() - atWindowStart;
						if (inWindow < limits.speedLimit() * limits.speedTime().toSeconds()) {
							giveUp("too slow: " + inWindow + " bytes in the last " + limits.speedTime().toSeconds() + " s, less than "
								+ limits.speedLimit() + " bytes a second (speedLimit, speedTime of psi.transport.ssh); what arrived is kept to resume");
							return;
						}
						windowStart = now;
						atWindowStart = received.get();
					}
				}
			} catch (InterruptedException e) {
				// the fetch is over
			}
		}

		private void giveUp(String why) {
			reason = why;
			session.close();
		}

		/** @return why the fetch was given up, as the fetch's failure; empty when it was not */
		java.util.Optional<IOException> gaveUp() {
			String r = reason;
			return r == null ? java.util.Optional.empty() : java.util.Optional.of(new IOException(label + ": " + r));
		}

		@Override
		public void close() {
			if (thread != null) {
				thread.interrupt();
				try {
					thread.join();
				} catch (InterruptedException e) {
					Thread.currentThread().interrupt();
				}
			}
		}
	}

	/** Opens the target; a missing directory is not a missing source. */
	private static FileChannel openTarget(Path target) throws IOException {
		try {
			return FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
		} catch (NoSuchFileException e) {
			throw new IOException(target + ": cannot create the file: its directory does not exist", e);
		}
	}

	/** Feeds the first {@code length} bytes of {@code ch} to {@code sha}. */
	private static void hash(FileChannel ch, Path target, long length, MessageDigest sha) throws IOException {
		ByteBuffer buf = ByteBuffer.allocate(1 << 20);
		long pos = 0;
		while (pos < length) {
			buf.clear().limit((int) Math.min(buf.capacity(), length - pos));
			int n = ch.read(buf, pos);
			if (n < 0) {
				throw new IOException(target + ": shorter than the " + length + " bytes kept");
			}
			sha.update(buf.array(), 0, n);
			pos += n;
		}
	}

	private static MessageDigest sha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
		}
	}
}
