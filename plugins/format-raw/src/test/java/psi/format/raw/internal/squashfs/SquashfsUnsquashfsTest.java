package psi.format.raw.internal.squashfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import psi.spi.format.Entry;

/**
 * Every file of images made by the real mksquashfs, as psi reads it, against
 * the tree the real unsquashfs extracts from the same image: names, types,
 * modes, owners, times, sizes, contents, link targets, device numbers and
 * xattrs. One image per compressor and per layout option.
 */
class SquashfsUnsquashfsTest {

	@TempDir
	static Path tmp;
	static Path src;
	static Map<String, Map<String, byte[]>> xattrs;
	static ExecutorService pool;

	@BeforeAll
	static void tree() throws Exception {
		src = tmp.resolve("src");
		xattrs = SquashfsFixtures.richTree(src);
		pool = Executors.newFixedThreadPool(2, r -> {
			Thread t = new Thread(r, "squashfs-test-decompress");
			t.setDaemon(true);
			return t;
		});
	}

	@AfterAll
	static void stop() {
		pool.shutdownNow();
	}

	static Stream<List<String>> variants() {
		return Stream.of(
			List.of("-comp", "gzip"),
			List.of("-comp", "lzma"),
			List.of("-comp", "lzo"),
			List.of("-comp", "xz"),
			List.of("-comp", "lz4"),
			List.of("-comp", "zstd"),
			List.of("-comp", "xz", "-Xbcj", "x86", "-b", "1M"),
			List.of("-comp", "lz4", "-Xhc"),
			List.of("-comp", "zstd", "-b", "4K"),
			List.of("-comp", "gzip", "-b", "1M", "-no-exports"),
			List.of("-comp", "gzip", "-noI", "-noD", "-noF", "-noX"),
			List.of("-comp", "zstd", "-no-fragments"),
			List.of("-comp", "gzip", "-always-use-fragments", "-b", "4K"),
			List.of("-comp", "lzo", "-no-xattrs", "-no-sparse"));
	}

	@ParameterizedTest
	@MethodSource("variants")
	void readsWhatUnsquashfsExtracts(List<String> options) throws Exception {
		String name = String.join("", options).replaceAll("[^A-Za-z0-9]", "");
		Path img = SquashfsFixtures.mksquashfs(src, tmp.resolve(name + ".img"), options.toArray(String[]::new));
		Path out = SquashfsFixtures.unsquashfs(img, tmp.resolve(name + ".out"));
		boolean withXattrs = !options.contains("-no-xattrs");
		try (FileChannel ch = FileChannel.open(img); SquashfsReader r = new SquashfsReader(ch, 0, ch.size(), "image '" + img + "'");
			SquashfsReader parallel = new SquashfsReader(ch, 0, ch.size(), "image '" + img + "'", pool, 4)) {
			Superblock sb = r.superblock();
			assertEquals(options.get(1), sb.compressor());
			int compared = compare(r, parallel, out, "/", withXattrs ? xattrs : Map.of());
			assertEquals(count(out), compared, "entries compared");
			assertTrue(compared > 5300, "the whole tree was walked: " + compared);
			assertEquals(compared, sb.inodeCount() + 2, "every inode but the hard links' was seen");
			Set<Integer> types = new TreeSet<>();
			collectTypes(r, "/", types);
			if (!withXattrs) {
				assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9), types, "basic inodes, and extended for the index and hard links");
			} else if (SquashfsFixtures.isRoot() && SquashfsFixtures.hasPython3()) {
				assertEquals(14, types.size(), "all 14 inode types, basic and extended: " + types);
			}
		}
	}

	private static void collectTypes(SquashfsReader r, String dir, Set<Integer> types) throws IOException {
		types.add(r.inodeType(dir));
		for (String name : r.list(dir)) {
			String p = dir.equals("/") ? "/" + name : dir + "/" + name;
			types.add(r.inodeType(p));
			if (r.lstat(p).orElseThrow().kind() == Entry.Kind.DIRECTORY) {
				collectTypes(r, p, types);
			}
		}
	}

	private static long count(Path dir) throws IOException {
		try (Stream<Path> s = Files.walk(dir)) {
			return s.count();
		}
	}

	/**
	 * Compares what psi's reader sees in an image with the tree unsquashfs extracted from it.
	 *
	 * @param xattrs the xattrs expected, by image path
	 * @return the number of entries compared, the directory included
	 */
	static int compare(SquashfsReader r, SquashfsReader parallel, Path out, String dir, Map<String, Map<String, byte[]>> xattrs)
		throws Exception {
		int n = 1;
		compareEntry(r, parallel, out, dir, xattrs);
		List<String> names = r.list(dir);
		List<String> expected = new ArrayList<>();
		try (Stream<Path> s = Files.list(host(out, dir))) {
			s.forEach(p -> expected.add(p.getFileName().toString()));
		}
		assertEquals(new TreeSet<>(expected), new TreeSet<>(names), "names in " + dir);
		assertEquals(names.size(), new TreeSet<>(names).size(), "no duplicate names in " + dir);
		for (String name : names) {
			String p = dir.equals("/") ? "/" + name : dir + "/" + name;
			Entry e = r.lstat(p).orElseThrow();
			if (e.kind() == Entry.Kind.DIRECTORY) {
				n += compare(r, parallel, out, p, xattrs);
			} else {
				compareEntry(r, parallel, out, p, xattrs);
				n++;
			}
		}
		return n;
	}

	private static Path host(Path out, String p) {
		return p.equals("/") ? out : out.resolve(p.substring(1));
	}

	private static void compareEntry(SquashfsReader r, SquashfsReader parallel, Path out, String p, Map<String, Map<String, byte[]>> xattrs)
		throws Exception {
		Path h = host(out, p);
		Map<String, Object> a = Files.readAttributes(h, "unix:mode,uid,gid,size,rdev,nlink,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
		int mode = (Integer) a.get("mode");
		Inode i = r.stat(p).orElseThrow();
		Entry e = r.lstat(p).orElseThrow();
		assertEquals(i.entry(), e);
		assertEquals(typeOf(mode), i.type(), p + " type");
		assertEquals(mode & 07777, i.mode(), p + " mode");
		assertEquals(e.mode(), i.mode());
		assertEquals(((Integer) a.get("uid")).intValue(), i.uid(), p + " uid");
		assertEquals(((Integer) a.get("gid")).intValue(), i.gid(), p + " gid");
		assertEquals(((FileTime) a.get("lastModifiedTime")).toMillis() / 1000, i.mtime(), p + " mtime");
		switch (i.type()) {
			case FILE -> {
				byte[] want = Files.readAllBytes(h);
				assertEquals(want.length, e.size(), p + " size");
				assertArrayEquals(want, r.read(p, want.length), p + " content");
				try (InputStream in = r.open(p)) {
					assertArrayEquals(want, in.readAllBytes(), p + " streamed content");
				}
				try (InputStream in = parallel.open(p)) {
					assertArrayEquals(want, in.readAllBytes(), p + " content decompressed ahead");
				}
				assertEquals(((Integer) a.get("nlink")).longValue(), i.nlink(), p + " nlink");
			}
			case SYMLINK -> {
				String want = Files.readSymbolicLink(h).toString();
				assertEquals(want, e.linkTarget(), p + " target");
				assertEquals(want.length(), i.size());
				assertEquals(0, e.size());
			}
			case CHAR_DEVICE, BLOCK_DEVICE -> {
				long rdev = (Long) a.get("rdev");
				long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
				long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
				assertEquals(major, i.major(), p + " major");
				assertEquals(minor, i.minor(), p + " minor");
			}
			default -> {
			}
		}
		Map<String, byte[]> got = r.xattrs(p);
		assertEquals(!got.isEmpty(), i.xattrs(), p + " has xattrs");
		if (i.type() == Inode.Type.FILE || i.type() == Inode.Type.DIRECTORY) {
			UserDefinedFileAttributeView v = Files.getFileAttributeView(h, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
			Map<String, String> extracted = new TreeMap<>();
			for (String name : v.list()) {
				ByteBuffer b = ByteBuffer.allocate(v.size(name));
				v.read(name, b);
				extracted.put("user." + name, printable(b.array()));
			}
			Map<String, byte[]> user = new TreeMap<>(got);
			user.keySet().removeIf(k -> !k.startsWith("user."));
			assertEquals(extracted, printable(user), p + " user xattrs as unsquashfs extracts them");
		}
		Map<String, byte[]> want = xattrs.getOrDefault(p, Map.of());
		assertEquals(printable(want), printable(got), p + " xattrs as set on the source");
	}

	private static Map<String, String> printable(Map<String, byte[]> m) {
		Map<String, String> out = new TreeMap<>();
		m.forEach((k, v) -> out.put(k, printable(v)));
		return out;
	}

	/** @return a value short enough for a failure message */
	private static String printable(byte[] v) {
		return v.length + " bytes, hash " + Arrays.hashCode(v);
	}

	private static Inode.Type typeOf(int mode) {
		Inode.Type t = Inode.Type.ofMode(mode);
		assertNotNull(t, "mode " + Integer.toOctalString(mode));
		return t;
	}
}
