package psi.transport.file.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Component;

import psi.spi.transport.Transport;
import psi.spi.transport.TransportSchemes;

/**
 * Fetches {@code file:} URLs: copies a regular file into the staging file in
 * 1 MiB chunks, hashing while copying, and forces the copy to disk.
 * <p>
 * The validator is {@code SIZE-MTIME-INODE} (modification time in
 * nanoseconds; the inode number where the file system has one, else
 * {@code SIZE-MTIME}), so a file replaced or rewritten in place gets a new
 * one. With {@link Request#ifNoneMatch()} equal to it nothing is written and
 * {@link Progress#started} is not called. With
 * {@link Request#resumeValidator()} equal to it, the bytes already in the
 * target are hashed and the rest appended.
 * <p>
 * A source that is a symbolic link is refused, and the file is opened with
 * {@code O_NOFOLLOW}: a link in a repository must not publish a file of this
 * host into the pool. Directories on the way to it are the admin's choice
 * and may be links.
 * <p>
 * What is left in the target on failure: a refusal before copying (no such
 * file, a link, not a regular file, larger than {@link Request#maxBytes()}) does not
 * touch it; one while copying (the source changed) deletes a target this
 * fetch created, cuts one it appended to back to the bytes it held, and
 * leaves one it started over empty. An I/O error while copying leaves the
 * bytes copied so far, which a later fetch can resume. Thread safe: keeps no
 * state between calls.
 */
@Component
@TransportSchemes(schemes = "file")
public class FileTransport implements Transport {

	static final int CHUNK = 1 << 20;

	@Override
	public Fetched fetch(Request request, Progress progress) throws IOException {
		Path source = path(request.source());
		BasicFileAttributes attrs;
		try {
			attrs = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
		} catch (NoSuchFileException e) {
			throw new NoSuchFileException(request.source().toString());
		}
		// a link in the repository could publish any file of this host (/etc/shadow) into the pool
		if (attrs.isSymbolicLink()) {
			throw new IOException(source + ": a symbolic link, refusing; psi pulls regular files, not what a link in the repository points to");
		}
		// checked before opening: opening a FIFO would block
		if (!attrs.isRegularFile()) {
			throw new IOException(source + ": not a regular file; psi pulls image files");
		}
		// O_NOFOLLOW: a link put there since the check is refused by the kernel
		try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
			// read again once open: nearer to what is copied if the path was replaced meanwhile
			attrs = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
			if (!attrs.isRegularFile()) {
				throw new IOException(source + ": replaced while it was opened, refusing");
			}
			long size = attrs.size();
			String validator = validator(source, attrs);
			if (validator.equals(request.ifNoneMatch())) {
				return new Fetched(size, null, true, validator);
			}
			if (size > request.maxBytes()) {
				throw new IOException(source + ": " + size + " bytes, more than the " + request.maxBytes() + " accepted");
			}
			return copy(in, source, size, validator, request, progress);
		}
	}

	private static Fetched copy(FileChannel in, Path source, long size, String validator, Request request,
			Progress progress) throws IOException {
		Path target = request.target();
		MessageDigest sha = sha256();
		ByteBuffer buf = ByteBuffer.allocate(CHUNK);
		boolean created = !Files.exists(target);
		long before = created ? 0 : Files.size(target);
		long kept = validator.equals(request.resumeValidator()) && before > 0 && before <= size ? before : 0;
		try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.READ,
			StandardOpenOption.WRITE)) {
			if (kept > 0) {
				hash(out, kept, sha, buf);
			}
			out.truncate(kept);
			progress.started(size, validator, kept);
			long bytes = kept;
			in.position(kept);
			out.position(kept);
			for (int n; (n = in.read(buf.clear())) >= 0;) {
				if (bytes + n > size) {
					throw refuse(out, kept, created, target, source + ": changed while being copied: more than the "
						+ size + " bytes it had when opened");
				}
				sha.update(buf.array(), 0, n);
				buf.flip();
				while (buf.hasRemaining()) {
					out.write(buf);
				}
				bytes += n;
				progress.update(bytes, size);
			}
			if (bytes != size) {
				throw refuse(out, kept, created, target, source + ": changed while being copied: " + bytes
					+ " bytes instead of the " + size + " it had when opened");
			}
			out.force(true);
			return new Fetched(size, HexFormat.of().formatHex(sha.digest()), false, validator);
		}
	}

	/**
	 * Undoes this fetch's writes for a refusal: deletes a target this fetch
	 * created, else cuts it back to the bytes kept from an earlier fetch.
	 *
	 * @return the exception to throw
	 */
	private static IOException refuse(FileChannel out, long kept, boolean created, Path target, String message)
			throws IOException {
		if (created) {
			Files.deleteIfExists(target);
		} else {
			out.truncate(kept);
		}
		return new IOException(message);
	}

	/** Feeds the first {@code length} bytes of {@code ch} to {@code sha}. */
	private static void hash(FileChannel ch, long length, MessageDigest sha, ByteBuffer buf) throws IOException {
		long pos = 0;
		while (pos < length) {
			buf.clear().limit((int) Math.min(buf.capacity(), length - pos));
			int n = ch.read(buf, pos);
			if (n < 0) {
				throw new IOException(ch + ": shorter than " + length + " bytes");
			}
			sha.update(buf.array(), 0, n);
			pos += n;
		}
	}

	/** {@code SIZE-MTIME-INODE}, or {@code SIZE-MTIME} without inode numbers. */
	static String validator(Path path, BasicFileAttributes attrs) throws IOException {
		String v = attrs.size() + "-" + attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS);
		try {
			return v + "-" + Files.getAttribute(path, "unix:ino");
		} catch (UnsupportedOperationException | IllegalArgumentException e) {
			return v;
		}
	}

	private static Path path(URI uri) throws IOException {
		if (!"file".equalsIgnoreCase(uri.getScheme())) {
			throw new IOException(uri + ": not a file: URL");
		}
		try {
			return Path.of(uri);
		} catch (IllegalArgumentException | FileSystemNotFoundException e) {
			throw new IOException(uri + ": not a local file: " + e.getMessage());
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
