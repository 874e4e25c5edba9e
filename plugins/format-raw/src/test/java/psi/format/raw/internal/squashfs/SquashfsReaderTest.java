package psi.format.raw.internal.squashfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.Entry;
import psi.spi.format.ImageException;

/** What the reader promises its callers, on a small image made by mksquashfs. */
class SquashfsReaderTest {

	@TempDir
	static Path tmp;
	static Path img;
	static Path src;

	@BeforeAll
	static void image() throws Exception {
		src = tmp.resolve("src");
		SquashfsFixtures.smallTree(src);
		img = SquashfsFixtures.mksquashfs(src, tmp.resolve("small.img"), "-comp", "xz", "-b", "4K", "-mkfs-time", "1700000000");
	}

	private static SquashfsReader open(FileChannel ch) throws IOException {
		return new SquashfsReader(ch, 0, ch.size(), "image '" + img + "'");
	}

	@Test
	void superblock() throws Exception {
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = open(ch)) {
			Superblock sb = r.superblock();
			assertEquals("xz", sb.compressor());
			assertEquals(4096, sb.blockSize());
			assertEquals(12, sb.blockLog());
			assertEquals(1700000000L, sb.mkfsTime());
			assertTrue(sb.bytesUsed() <= ch.size());
			assertTrue(sb.hasXattrs());
			assertTrue(sb.fragmentCount() > 0);
			assertTrue(sb.inodeCount() > 400);
		}
	}

	@Test
	void lstatDoesNotFollowLinks() throws Exception {
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = open(ch)) {
			assertEquals(Optional.of(new Entry(Entry.Kind.SYMLINK, 0777, 0, "a.txt")), r.lstat("/link"));
			assertEquals(Optional.of(new Entry(Entry.Kind.FILE, 0644, 6, null)), r.lstat("/a.txt"));
			assertEquals(Entry.Kind.DIRECTORY, r.lstat("/").orElseThrow().kind());
			assertEquals(Entry.Kind.DIRECTORY, r.lstat("/sub/deeper").orElseThrow().kind());
			assertEquals("y/".repeat(299) + "y", r.lstat("/sub/longlink").orElseThrow().linkTarget());
			// a link in the middle of a path is not followed: nothing is there
			assertEquals(Optional.empty(), r.lstat("/link/x"));
			// nor below a file
			assertEquals(Optional.empty(), r.lstat("/a.txt/x"));
			assertEquals(Optional.empty(), r.lstat("/missing"));
			assertEquals(Optional.empty(), r.lstat("/dir/entry-with-a-name-400"));
			assertEquals(Entry.Kind.FILE, r.lstat("/dir/entry-with-a-name-399").orElseThrow().kind());
			// redundant slashes are harmless
			assertEquals(r.lstat("/sub/deeper/file"), r.lstat("//sub///deeper/file/"));
		}
	}

	@Test
	void rejectsPathsThatAreNotNormalized() throws Exception {
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = open(ch)) {
			assertThrows(IllegalArgumentException.class, () -> r.lstat("a.txt"));
			assertThrows(IllegalArgumentException.class, () -> r.lstat("/sub/../a.txt"));
			assertThrows(IllegalArgumentException.class, () -> r.list("/./sub"));
		}
	}

	@Test
	void listsDirectories() throws Exception {
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = open(ch)) {
			List<String> names = r.list("/dir");
			assertEquals(400, names.size());
			assertEquals(names.stream().sorted().toList(), names, "stored sorted");
			assertEquals(List.of("deeper", "longlink"), r.list("/sub"));
			assertEquals(List.of(), r.list("/missing"));
			assertEquals(List.of(), r.list("/a.txt"));
			assertEquals(List.of(), r.list("/link"), "a link to a directory is not listed through");
			assertTrue(r.list("/").containsAll(List.of("a.txt", "big", "dir", "empty", "link", "noise", "sparse", "sub")));
		}
	}

	@Test
	void readsFiles() throws Exception {
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = open(ch)) {
			for (String f : List.of("a.txt", "big", "noise", "sparse", "empty", "dir/entry-with-a-name-3")) {
				byte[] want = Files.readAllBytes(src.resolve(f));
				assertArrayEquals(want, r.read("/" + f, want.length), f);
				try (InputStream in = r.open("/" + f)) {
					assertArrayEquals(want, in.readAllBytes(), f);
					assertEquals(-1, in.read());
				}
			}
			try (InputStream in = r.open("/big")) {
				byte[] want = Files.readAllBytes(src.resolve("big"));
				assertEquals(want[0] & 0xff, in.read());
				assertEquals(5000, in.skip(5000));
				byte[] rest = in.readAllBytes();
				assertEquals(want.length - 5001, rest.length);
				assertEquals(want[5001], rest[0]);
			}
		}
	}

	@Test
	void refusesWhatIsNotARegularFileOrTooLarge() throws Exception {
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = open(ch)) {
			ImageException e = assertThrows(ImageException.class, () -> r.read("/big", 1000));
			assertEquals("'/big' in squashfs in image '" + img + "' is larger than 1000 bytes (20000)", e.getMessage());
			assertThrows(NoSuchFileException.class, () -> r.read("/missing", 10));
			assertThrows(NoSuchFileException.class, () -> r.open("/missing"));
			IOException dir = assertThrows(IOException.class, () -> r.read("/sub", 10));
			assertTrue(dir.getMessage().contains("not a regular file (directory)"), dir.getMessage());
			assertThrows(IOException.class, () -> r.read("/link", 10), "a link is not followed");
		}
	}

	@Test
	void xattrsAndOwners() throws Exception {
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = open(ch)) {
			var x = r.xattrs("/a.txt");
			assertEquals(List.of("user.one", "user.shared"), List.copyOf(x.keySet()));
			assertArrayEquals("1".getBytes(StandardCharsets.UTF_8), x.get("user.one"));
			assertArrayEquals(r.xattrs("/big").get("user.shared"), x.get("user.shared"));
			assertEquals(300, x.get("user.shared").length);
			assertEquals(0, r.xattrs("/noise").size());
			assertFalse(r.stat("/noise").orElseThrow().xattrs());
			assertThrows(NoSuchFileException.class, () -> r.xattrs("/missing"));
			if (SquashfsFixtures.isRoot()) {
				Inode a = r.stat("/a.txt").orElseThrow();
				assertEquals(1000, a.uid());
				assertEquals(100, a.gid());
				Inode dev = r.stat("/null").orElseThrow();
				assertEquals(Inode.Type.CHAR_DEVICE, dev.type());
				assertEquals(1, dev.major());
				assertEquals(3, dev.minor());
				assertEquals(Entry.Kind.OTHER, r.lstat("/fifo").orElseThrow().kind());
			}
		}
	}

	/** A squashfs inside a larger file, as a partition: offsets count from the file's start. */
	@Test
	void readsASquashfsAtAnOffset() throws Exception {
		Path disk = tmp.resolve("disk.raw");
		byte[] fs = Files.readAllBytes(img);
		try (FileChannel out = FileChannel.open(disk, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
			out.write(java.nio.ByteBuffer.wrap(new byte[1 << 20]), 0);
			out.write(java.nio.ByteBuffer.wrap(fs), 1 << 20);
			out.write(java.nio.ByteBuffer.wrap(new byte[12345]), (1 << 20) + fs.length);
		}
		try (FileChannel ch = FileChannel.open(disk); SquashfsReader r = new SquashfsReader(ch, 1 << 20, fs.length, "image 'disk.raw' partition 2")) {
			assertArrayEquals(Files.readAllBytes(src.resolve("big")), r.read("/big", 1 << 20));
			long[] at = r.inodeLocation("/a.txt");
			assertTrue(at[0] > 1 << 20, "positions are of the file");
		}
		// the same squashfs given too few bytes: the superblock's size does not fit
		try (FileChannel ch = FileChannel.open(disk)) {
			ImageException e = assertThrows(ImageException.class, () -> new SquashfsReader(ch, 1 << 20, fs.length / 2, "image 'disk.raw' partition 2"));
			assertTrue(e.getMessage().startsWith("squashfs in image 'disk.raw' partition 2: superblock at byte 1048616: bytes used "), e.getMessage());
		}
	}

	@Test
	void closedReaderRefuses() throws Exception {
		try (FileChannel ch = FileChannel.open(img)) {
			SquashfsReader r = open(ch);
			InputStream in = r.open("/big");
			r.close();
			r.close();
			assertThrows(IOException.class, () -> r.lstat("/a.txt"));
			assertThrows(IOException.class, in::read);
			assertTrue(ch.isOpen(), "the shared channel stays open");
		}
	}

	/** Two readers on one channel, one decompressing ahead on a pool, each used by two threads at once. */
	@Test
	void readersShareOneChannelAcrossThreads() throws Exception {
		java.util.Map<String, byte[]> want = new java.util.TreeMap<>();
		for (String f : List.of("big", "noise", "sparse", "a.txt")) {
			want.put("/" + f, Files.readAllBytes(src.resolve(f)));
		}
		for (int i = 0; i < 400; i += 3) {
			want.put("/dir/entry-with-a-name-" + i, Files.readAllBytes(src.resolve("dir/entry-with-a-name-" + i)));
		}
		java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
		try (FileChannel ch = FileChannel.open(img); SquashfsReader one = open(ch);
			SquashfsReader two = new SquashfsReader(ch, 0, ch.size(), "image '" + img + "'", pool, 8)) {
			List<Thread> threads = new java.util.ArrayList<>();
			List<Throwable> failures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
			for (SquashfsReader r : List.of(one, two, one, two)) {
				Thread t = new Thread(() -> {
					try {
						for (int i = 0; i < 20; i++) {
							for (var e : want.entrySet()) {
								assertArrayEquals(e.getValue(), r.read(e.getKey(), 1 << 20), e.getKey());
							}
							assertEquals(400, r.list("/dir").size());
						}
					} catch (Throwable e) {
						failures.add(e);
					}
				});
				t.start();
				threads.add(t);
			}
			for (Thread t : threads) {
				t.join();
			}
			assertEquals(List.of(), failures);
		} finally {
			pool.shutdownNow();
		}
	}
}
