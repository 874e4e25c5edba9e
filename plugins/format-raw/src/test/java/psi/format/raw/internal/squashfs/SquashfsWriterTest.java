package psi.format.raw.internal.squashfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import psi.spi.format.ImageException;

/**
 * Images psi writes, read back by the real unsquashfs and by psi's reader:
 * the extracted tree equals the source file by file (content, type, mode,
 * owner, time, links, hard links, devices, xattrs), for every compressor.
 * Then reproducibility and bad trees.
 */
class SquashfsWriterTest {

	@TempDir
	static Path tmp;
	static Path src;
	static Map<String, Map<String, byte[]>> xattrs;

	@BeforeAll
	static void tree() throws Exception {
		src = tmp.resolve("src");
		xattrs = SquashfsFixtures.richTree(src);
	}

	private static SquashfsWriter.Options options(String comp, int blockSize, int threads) {
		return new SquashfsWriter.Options(comp, blockSize, false, -1, -1, true, threads);
	}

	@ParameterizedTest
	@CsvSource({ "gzip,131072", "xz,131072", "zstd,131072", "lz4,131072", "zstd,4096", "gzip,1048576" })
	void unsquashfsExtractsTheSourceTree(String comp, int blockSize) throws Exception {
		Path img = tmp.resolve("psi-" + comp + blockSize + ".squashfs");
		SquashfsWriter.Result r = SquashfsWriter.write(src, options(comp, blockSize, 2), img, null);
		assertEquals(Files.size(img), r.bytes());
		assertEquals(0, r.bytes() % 4096, "padded to 4 KiB");
		Path out = SquashfsFixtures.unsquashfs(img, tmp.resolve("out-" + comp + blockSize));
		assertEquals(describe(src), describe(out), "the tree unsquashfs extracts from psi's " + comp + " image");
		try (FileChannel ch = FileChannel.open(img); SquashfsReader reader = new SquashfsReader(ch, 0, ch.size(), "image '" + img + "'")) {
			assertEquals(comp, reader.superblock().compressor());
			int compared = SquashfsUnsquashfsTest.compare(reader, reader, out, "/", xattrs);
			assertTrue(compared > 5300, "the whole tree: " + compared);
		}
		String listing = SquashfsFixtures.run(List.of("unsquashfs", "-s", img.toString()));
		assertTrue(listing.contains("Compression " + comp), listing);
		assertTrue(listing.contains("Block size " + blockSize), listing);
	}

	@Test
	void theSameTreeGivesTheSameBytes() throws Exception {
		Path a = tmp.resolve("repro-a.squashfs");
		Path b = tmp.resolve("repro-b.squashfs");
		SquashfsWriter.write(src, options("zstd", 131072, 1), a, null);
		SquashfsWriter.write(src, options("zstd", 131072, 4), b, null);
		assertArrayEquals(sha256(a), sha256(b), "one thread or four");

		// copies of a tree made at different times, times clamped: the same image
		Path t1 = tmp.resolve("clamp1");
		Path t2 = tmp.resolve("clamp2");
		for (Path t : List.of(t1, t2)) {
			SquashfsFixtures.write(t.resolve("usr/bin/tool"), "#!/bin/sh\necho hi\n");
			SquashfsFixtures.write(t.resolve("etc/os-release"), "ID=test\n");
		}
		try (Stream<Path> s = Files.walk(t2)) {
			for (Path p : s.toList()) {
				Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() + 86_400_000L * 3));
			}
		}
		SquashfsWriter.Options clamped = new SquashfsWriter.Options("zstd", 131072, true, 1_700_000_000L, -1, true, 2);
		Path c1 = tmp.resolve("c1.squashfs");
		Path c2 = tmp.resolve("c2.squashfs");
		SquashfsWriter.write(t1, clamped, c1, null);
		SquashfsWriter.write(t2, clamped, c2, null);
		assertArrayEquals(sha256(c1), sha256(c2), "SOURCE_DATE_EPOCH clamps every time, days apart");
		String s = SquashfsFixtures.run(List.of("unsquashfs", "-s", c1.toString()));
		assertTrue(s.contains("Number of ids 1\n"), "--owner=root: one id\n" + s);

		SquashfsFixtures.write(t2.resolve("etc/os-release"), "ID=changed\n");
		SquashfsWriter.write(t2, clamped, c2, null);
		assertFalse(MessageDigest.isEqual(sha256(c1), sha256(c2)), "a changed file changes the image");
	}

	@Test
	void badTreesFailWithOneLine() throws Exception {
		Path img = tmp.resolve("bad.squashfs");
		ImageException e = assertThrows(ImageException.class,
			() -> SquashfsWriter.write(tmp.resolve("missing"), options("gzip", 131072, 1), img, null));
		assertEquals(tmp.resolve("missing") + ": not a directory", e.getMessage());

		Path many = tmp.resolve("many");
		for (int i = 0; i < 20; i++) {
			SquashfsFixtures.write(many.resolve("f" + i), "x");
		}
		// the 2^32 inode limit, lowered: the check comes before anything is written
		e = assertThrows(ImageException.class, () -> SourceTree.scan(many, new SourceTree.Options(false, -1, false), 10));
		assertTrue(e.getMessage().endsWith(": the tree has more than 10 files, more than squashfs can number"), e.getMessage());
		assertFalse(e.getMessage().contains("\n"));

		// symbolic links are stored, never followed: a loop is two links
		Path loop = tmp.resolve("loop");
		Files.createDirectories(loop);
		Files.createSymbolicLink(loop.resolve("a"), Path.of("b"));
		Files.createSymbolicLink(loop.resolve("b"), Path.of("a"));
		Files.createSymbolicLink(loop.resolve("self"), Path.of("."));
		SquashfsWriter.write(loop, options("gzip", 131072, 1), img, null);
		Path out = SquashfsFixtures.unsquashfs(img, tmp.resolve("loop-out"));
		assertEquals(Path.of("b"), Files.readSymbolicLink(out.resolve("a")));
		assertEquals(Path.of("."), Files.readSymbolicLink(out.resolve("self")));
	}

	/**
	 * The longest name (255 bytes, multi-byte characters included) and the
	 * longest symbolic link target (4095 bytes) Linux makes are stored whole:
	 * squashfs allows 256 and 4096, so no tree on Linux exceeds them (the
	 * writer still checks both, and the inode count, before writing).
	 */
	@Test
	void theLongestNamesLinuxMakesAreStoredWhole() throws Exception {
		Path t = tmp.resolve("long");
		String name = "\u00e9".repeat(100) + "x".repeat(55); // 255 bytes in UTF-8
		SquashfsFixtures.write(t.resolve(name), "long name\n");
		String target = "t/".repeat(2047) + "e"; // 4095 bytes
		Files.createSymbolicLink(t.resolve("link"), Path.of(target));
		Path img = tmp.resolve("long.squashfs");
		SquashfsWriter.write(t, options("gzip", 131072, 1), img, null);
		Path out = SquashfsFixtures.unsquashfs(img, tmp.resolve("long-out"));
		assertEquals("long name\n", Files.readString(out.resolve(name)));
		assertEquals(target, Files.readSymbolicLink(out.resolve("link")).toString());
		assertEquals(describe(t), describe(out));
	}

	/**
	 * A file swapped for a symbolic link after the scan (say, to a file only
	 * the builder may read) is not followed: the build fails, naming it.
	 */
	@Test
	void aFileSwappedForALinkIsNotFollowed() throws Exception {
		Path t = tmp.resolve("swap");
		SquashfsFixtures.write(t.resolve("a-first"), "x".repeat(3 * 131072));
		SquashfsFixtures.write(t.resolve("b-victim"), "harmless\n");
		Path secret = tmp.resolve("secret");
		Files.writeString(secret, "the builder's secret\n");
		Path img = tmp.resolve("swap.squashfs");
		boolean[] swapped = { false };
		ImageException e = assertThrows(ImageException.class, () -> SquashfsWriter.write(t, options("gzip", 131072, 1), img, bytes -> {
			if (!swapped[0]) {
				swapped[0] = true;
				try {
					Files.delete(t.resolve("b-victim"));
					Files.createSymbolicLink(t.resolve("b-victim"), secret);
				} catch (IOException x) {
					throw new java.io.UncheckedIOException(x);
				}
			}
		}));
		assertTrue(swapped[0]);
		assertTrue(e.getMessage().startsWith(t.resolve("b-victim") + ": cannot read it: "), e.getMessage());
		assertTrue(e.getMessage().endsWith("(it became a symbolic link while psi read the tree)"), e.getMessage());
	}

	@Test
	void aDirectoryLoopIsRefused() throws Exception {
		if (!SquashfsFixtures.isRoot()) {
			throw new AssertionError("this test binds a directory into itself, which needs root; the tests run as root");
		}
		Path top = tmp.resolve("bindloop");
		Files.createDirectories(top.resolve("sub/inner"));
		SquashfsFixtures.run(List.of("mount", "--bind", top.toString(), top.resolve("sub/inner").toString()));
		try {
			ImageException e = assertThrows(ImageException.class,
				() -> SquashfsWriter.write(top, options("gzip", 131072, 1), tmp.resolve("bindloop.squashfs"), null));
			assertEquals(top + "/sub/inner: a directory loop (it contains itself, a bind mount?)", e.getMessage());
		} finally {
			SquashfsFixtures.run(List.of("umount", top.resolve("sub/inner").toString()));
		}
	}

	/** Every entry of a tree as lstat, readlink, the content and python's listxattr see it, by relative path. */
	static Map<String, String> describe(Path root) throws Exception {
		Map<String, String> out = new TreeMap<>();
		try (Stream<Path> s = Files.walk(root)) {
			for (Path p : s.toList()) {
				Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,rdev,nlink,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
				int mode = (Integer) a.get("mode");
				StringBuilder d = new StringBuilder();
				d.append(Integer.toOctalString(mode)).append(' ').append(a.get("uid")).append(':').append(a.get("gid"));
				d.append(" mtime ").append(((FileTime) a.get("lastModifiedTime")).toMillis() / 1000);
				switch (mode & 0170000) {
					case 0100000 -> d.append(" nlink ").append(a.get("nlink")).append(" sha256 ").append(HexFormat.of().formatHex(sha256(p)));
					case 0120000 -> d.append(" -> ").append(Files.readSymbolicLink(p));
					case 0060000, 0020000 -> d.append(" rdev ").append(Long.toHexString((Long) a.get("rdev")));
					default -> {
					}
				}
				out.put("/" + root.relativize(p), d.toString());
			}
		}
		String x = SquashfsFixtures.run(List.of("python3", "-c", """
			import os, sys
			root = sys.argv[1]
			for d, dirs, files in os.walk(root):
			    for n in sorted(dirs + files) + ['']:
			        p = os.path.join(d, n) if n else d
			        for k in sorted(os.listxattr(p, follow_symlinks=False)):
			            print(os.path.relpath(p, root), k, os.getxattr(p, k, follow_symlinks=False).hex())
			""", root.toString()));
		List<String> lines = new ArrayList<>(x.lines().toList());
		out.put("xattrs", String.join("\n", lines.stream().sorted().distinct().toList()));
		return out;
	}

	static byte[] sha256(Path p) throws IOException {
		try {
			MessageDigest md = MessageDigest.getInstance("SHA-256");
			try (var in = Files.newInputStream(p)) {
				byte[] b = new byte[1 << 16];
				for (int n; (n = in.read(b)) > 0;) {
					md.update(b, 0, n);
				}
			}
			return md.digest();
		} catch (java.security.NoSuchAlgorithmException e) {
			throw new AssertionError(e);
		}
	}
}
