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
 * Thread safe: each fetch runs its own ssh; no threads are started.
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
	}

	private final Map<String, String> environment;
	private final int chunk;
	private final int window;
	private volatile SshCommand ssh;

	/** @param config the configuration */
	@Activate
	public SshTransport(Config config) {
		this(command(config), Map.of(), CHUNK, WINDOW);
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
		try (session) {
			// reads of up to a pipe's capacity: Process's own stream copies each read through a
			// native buffer as large as the read asked for, allocated per call
			SftpClient sftp = new SftpClient(new BufferedInputStream(session.stdout(), 64 * 1024), session.stdin());
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
