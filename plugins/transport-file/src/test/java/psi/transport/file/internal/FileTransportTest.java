package psi.transport.file.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.transport.Transport.Fetched;
import psi.spi.transport.Transport.Progress;
import psi.spi.transport.Transport.Request;

class FileTransportTest {

	@TempDir
	Path dir;

	private final FileTransport transport = new FileTransport();

	/** Records what the transport reports. */
	static final class Recorder implements Progress {
		long total = -2;
		String validator;
		long resumedFrom = -1;
		int starts;
		final List<Long> updates = new ArrayList<>();

		@Override
		public void started(long total, String validator, long resumedFrom) {
			this.total = total;
			this.validator = validator;
			this.resumedFrom = resumedFrom;
			starts++;
		}

		@Override
		public void update(long bytes, long total) {
			assertEquals(this.total, total);
			updates.add(bytes);
		}
	}

	private Path source(int size) throws IOException {
		byte[] b = new byte[size];
		new Random(size).nextBytes(b);
		return Files.write(dir.resolve("image.raw"), b);
	}

	private static String sha256(byte[] b) throws NoSuchAlgorithmException {
		return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
	}

	@Test
	void copiesInChunksAndHashes() throws Exception {
		Path src = source(FileTransport.CHUNK * 2 + 12345);
		Path target = dir.resolve("staging");
		Recorder p = new Recorder();
		Fetched f = transport.fetch(new Request(src.toUri(), target, Long.MAX_VALUE), p);
		byte[] want = Files.readAllBytes(src);
		assertArrayEquals(want, Files.readAllBytes(target));
		assertEquals(want.length, f.size());
		assertEquals(sha256(want), f.sha256());
		assertFalse(f.unchanged());
		assertEquals(1, p.starts);
		assertEquals(want.length, p.total);
		assertEquals(0, p.resumedFrom);
		assertEquals(f.validator(), p.validator);
		assertEquals(List.of((long) FileTransport.CHUNK, 2L * FileTransport.CHUNK, (long) want.length), p.updates);
	}

	@Test
	void anEmptyFile() throws Exception {
		Path src = Files.createFile(dir.resolve("empty.raw"));
		Path target = dir.resolve("staging");
		Fetched f = transport.fetch(new Request(src.toUri(), target, 10), Progress.NONE);
		assertEquals(0, f.size());
		assertEquals(sha256(new byte[0]), f.sha256());
		assertEquals(0, Files.size(target));
	}

	@Test
	void theValidatorNamesSizeTimeAndInode() throws Exception {
		Path src = source(100);
		Files.setLastModifiedTime(src, FileTime.from(Instant.ofEpochSecond(1_700_000_000L, 123_456_789)));
		Fetched f = transport.fetch(new Request(src.toUri(), dir.resolve("t"), 1000), Progress.NONE);
		assertEquals("100-1700000000123456789-" + Files.getAttribute(src, "unix:ino"), f.validator());
		// rewritten in place: same size, new time
		Files.setLastModifiedTime(src, FileTime.from(Instant.ofEpochSecond(1_700_000_001L)));
		assertNotEquals(f.validator(), transport.fetch(new Request(src.toUri(), dir.resolve("t"), 1000),
			Progress.NONE).validator());
	}

	@Test
	void unchangedWritesNothing() throws Exception {
		Path src = source(5000);
		Path target = dir.resolve("staging");
		String v = transport.fetch(new Request(src.toUri(), target, 10_000), Progress.NONE).validator();
		Files.write(target, new byte[] { 1, 2, 3 });
		Recorder p = new Recorder();
		Fetched f = transport.fetch(new Request(src.toUri(), target, 10_000, v, null), p);
		assertTrue(f.unchanged());
		assertNull(f.sha256());
		assertEquals(5000, f.size());
		assertEquals(v, f.validator());
		assertEquals(0, p.starts);
		assertArrayEquals(new byte[] { 1, 2, 3 }, Files.readAllBytes(target), "the target is untouched");
	}

	@Test
	void aStaleIfNoneMatchCopies() throws Exception {
		Path src = source(5000);
		Path target = dir.resolve("staging");
		Fetched f = transport.fetch(new Request(src.toUri(), target, 10_000, "1-2-3", null), Progress.NONE);
		assertFalse(f.unchanged());
		assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(target));
	}

	@Test
	void resumesAfterTheBytesThere() throws Exception {
		Path src = source(FileTransport.CHUNK + 777);
		byte[] want = Files.readAllBytes(src);
		Path target = dir.resolve("staging");
		String v = transport.fetch(new Request(src.toUri(), dir.resolve("first"), Long.MAX_VALUE), Progress.NONE)
			.validator();
		Files.write(target, Arrays.copyOf(want, 1000));
		Recorder p = new Recorder();
		Fetched f = transport.fetch(new Request(src.toUri(), target, Long.MAX_VALUE, null, v), p);
		assertEquals(1000, p.resumedFrom);
		assertEquals(want.length, p.total);
		assertEquals(sha256(want), f.sha256(), "the kept bytes are hashed too");
		assertArrayEquals(want, Files.readAllBytes(target));
	}

	@Test
	void resumeKeepsTheExistingBytesRatherThanRereadingThem() throws Exception {
		Path src = source(3000);
		byte[] want = Files.readAllBytes(src);
		String v = transport.fetch(new Request(src.toUri(), dir.resolve("first"), 10_000), Progress.NONE).validator();
		// the prefix in the target differs from the source: a resume appends to it and hashes what is there
		byte[] prefix = new byte[1000];
		Path target = Files.write(dir.resolve("staging"), prefix);
		Fetched f = transport.fetch(new Request(src.toUri(), target, 10_000, null, v), Progress.NONE);
		byte[] got = Files.readAllBytes(target);
		assertArrayEquals(prefix, Arrays.copyOf(got, 1000));
		assertArrayEquals(Arrays.copyOfRange(want, 1000, 3000), Arrays.copyOfRange(got, 1000, 3000));
		assertEquals(sha256(got), f.sha256());
	}

	@Test
	void aStaleResumeValidatorStartsOver() throws Exception {
		Path src = source(3000);
		Path target = Files.write(dir.resolve("staging"), new byte[5000]);
		Recorder p = new Recorder();
		Fetched f = transport.fetch(new Request(src.toUri(), target, 10_000, null, "3000-1-1"), p);
		assertEquals(0, p.resumedFrom);
		assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(target));
		assertEquals(sha256(Files.readAllBytes(src)), f.sha256());
	}

	@Test
	void aMissingSourceIsNoSuchFile() {
		Path target = dir.resolve("staging");
		NoSuchFileException e = assertThrows(NoSuchFileException.class,
			() -> transport.fetch(new Request(dir.resolve("nope.raw").toUri(), target, 10), Progress.NONE));
		assertEquals(dir.resolve("nope.raw").toUri().toString(), e.getMessage());
		assertFalse(Files.exists(target));
	}

	@Test
	void aDirectoryIsRefused() throws IOException {
		Path d = Files.createDirectory(dir.resolve("tree"));
		Path target = dir.resolve("staging");
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(d.toUri(), target, 10), Progress.NONE));
		assertEquals(d + ": not a regular file; psi pulls image files", e.getMessage());
		assertFalse(Files.exists(target));
	}

	@Test
	void aFifoIsRefusedWithoutBlocking() throws Exception {
		Path fifo = dir.resolve("fifo");
		Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
		assertEquals(0, mk.waitFor());
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(fifo.toUri(), dir.resolve("t"), 10), Progress.NONE));
		assertEquals(fifo + ": not a regular file; psi pulls image files", e.getMessage());
	}

	/** A link in a repository would publish any file of the host (its target) into the pool world-readable. */
	@Test
	void aSymlinkAtTheSourceIsRefusedButLinkedDirectoriesOnTheWayAreNot() throws Exception {
		Path secret = Files.writeString(dir.resolve("shadow"), "root:$6$secret");
		Path link = Files.createSymbolicLink(dir.resolve("link_1.raw"), secret);
		Path target = dir.resolve("t");
		IOException e = assertThrows(IOException.class, () -> transport.fetch(new Request(link.toUri(), target, 1000), Progress.NONE));
		assertEquals(link + ": a symbolic link, refusing; psi pulls regular files, not what a link in the repository points to",
			e.getMessage());
		assertFalse(Files.exists(target), "nothing written");

		Path src = source(100);
		Path linkedDir = Files.createSymbolicLink(dir.resolve("repo-link"), src.getParent());
		Fetched f = transport.fetch(new Request(linkedDir.resolve(src.getFileName()).toUri(), target, 1000), Progress.NONE);
		assertEquals(100, f.size());
	}

	@Test
	void moreThanMaxBytesIsRefusedBeforeWriting() throws Exception {
		Path src = source(2000);
		Path target = Files.write(dir.resolve("staging"), new byte[] { 7 });
		Recorder p = new Recorder();
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(src.toUri(), target, 1999), p));
		assertEquals(src + ": 2000 bytes, more than the 1999 accepted", e.getMessage());
		assertEquals(0, p.starts);
		assertArrayEquals(new byte[] { 7 }, Files.readAllBytes(target), "the target is as the caller left it");
		assertNotNull(transport.fetch(new Request(src.toUri(), target, 2000), Progress.NONE).sha256());
	}

	@Test
	void aSourceGrowingWhileCopiedIsRefusedAndUndone() throws Exception {
		Path src = source(FileTransport.CHUNK + 10);
		Path target = dir.resolve("staging");
		Progress grows = new Progress() {
			@Override
			public void started(long total, String validator, long resumedFrom) {
				try {
					Files.write(src, new byte[100], StandardOpenOption.APPEND);
				} catch (IOException e) {
					throw new UncheckedIOException(e);
				}
			}

			@Override
			public void update(long bytes, long total) {
			}
		};
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(src.toUri(), target, Long.MAX_VALUE), grows));
		assertEquals(src + ": changed while being copied: more than the " + (FileTransport.CHUNK + 10)
			+ " bytes it had when opened", e.getMessage());
		assertFalse(Files.exists(target), "the target this fetch created is gone");
	}

	@Test
	void aSourceShrinkingWhileCopiedIsRefusedAndUndone() throws Exception {
		Path src = source(3000);
		String v = transport.fetch(new Request(src.toUri(), dir.resolve("first"), 10_000), Progress.NONE).validator();
		byte[] prefix = Arrays.copyOf(Files.readAllBytes(src), 1000);
		Path target = Files.write(dir.resolve("staging"), prefix);
		Progress shrinks = new Progress() {
			@Override
			public void started(long total, String validator, long resumedFrom) {
				try (FileChannel ch = FileChannel.open(src,
					StandardOpenOption.WRITE)) {
					ch.truncate(2000);
				} catch (IOException e) {
					throw new UncheckedIOException(e);
				}
			}

			@Override
			public void update(long bytes, long total) {
			}
		};
		IOException e = assertThrows(IOException.class,
			() -> transport.fetch(new Request(src.toUri(), target, 10_000, null, v), shrinks));
		assertEquals(src + ": changed while being copied: 2000 bytes instead of the 3000 it had when opened",
			e.getMessage());
		assertArrayEquals(prefix, Files.readAllBytes(target), "cut back to the bytes it held");
	}

	@Test
	void onlyFileUrls() {
		IOException e = assertThrows(IOException.class, () -> transport.fetch(
			new Request(URI.create("https://127.0.0.1/x.raw"), dir.resolve("t"), 10), Progress.NONE));
		assertEquals("https://127.0.0.1/x.raw: not a file: URL", e.getMessage());
	}
}
