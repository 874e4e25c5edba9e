package psi.format.tar.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;

/**
 * Unpacking: the tree archived by the real tar comes back whole, and every
 * hostile entry is refused without anything written outside the target.
 */
class TarUnpackerTest {

	private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

	@TempDir
	static Path tmp;
	static Path src;
	static Path gnu;
	@TempDir
	Path work;

	@BeforeAll
	static void archives() throws IOException {
		src = tmp.resolve("src");
		TarFixtures.imageTree(src);
		gnu = TarFixtures.tar(src, tmp.resolve("gnu.tar"), List.of(), ".");
	}

	@ParameterizedTest
	@ValueSource(strings = { "gnu.tar", "image.tar.gz", "image.tar.zst", "image.tar.xz", "posix.tar" })
	void reproducesTheTree(String name) throws IOException {
		Path archive = name.equals("posix.tar") ? TarFixtures.tar(src, tmp.resolve(name), List.of("--format=posix"), ".")
			: name.equals("gnu.tar") ? gnu : TarFixtures.compress(gnu, name);
		Path target = Files.createDirectory(work.resolve("target"));
		try (ImageTree image = new TarFormat(TarSettings.DEFAULT).open(archive).orElseThrow()) {
			image.unpack(target);
		}
		assertEquals(snapshot(src), snapshot(target));
		assertEquals(Files.readAttributes(target.resolve("usr/bin/tool"), BasicFileAttributes.class).fileKey(),
			Files.readAttributes(target.resolve("usr/bin/tool-again"), BasicFileAttributes.class).fileKey(), "hard linked");
	}

	/** Every path below {@code root}: type, mode, size, content, link target and time. */
	static Map<String, String> snapshot(Path root) throws IOException {
		Map<String, String> m = new TreeMap<>();
		try (Stream<Path> s = Files.walk(root)) {
			for (Path p : (Iterable<Path>) s::iterator) {
				BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
				StringBuilder d = new StringBuilder();
				if (a.isSymbolicLink()) {
					d.append("link -> ").append(Files.readSymbolicLink(p));
				} else {
					d.append(a.isDirectory() ? "dir " : "file ").append(Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW) & 07777));
					if (a.isRegularFile()) {
						d.append(" size ").append(a.size()).append(" hash ").append(Arrays.hashCode(Files.readAllBytes(p)));
					}
				}
				d.append(" mtime ").append(a.lastModifiedTime().toMillis() / 1000);
				d.append(" owner ").append(Files.getAttribute(p, "unix:uid", NOFOLLOW)).append(':').append(Files.getAttribute(p, "unix:gid", NOFOLLOW));
				m.put(root.relativize(p).toString(), d.toString());
			}
		}
		return m;
	}

	Path unpack(CraftedTar crafted, TarSettings settings) throws IOException {
		Path archive = crafted.write(work.resolve("crafted.tar"));
		Path target = Files.createDirectory(work.resolve("target"));
		new TarUnpacker(new TarArchive(archive, Compression.NONE), settings).unpack(target);
		return target;
	}

	ImageException refused(CraftedTar crafted, TarSettings settings) throws IOException {
		return assertThrows(ImageException.class, () -> unpack(crafted, settings));
	}

	@Test
	void refusesDotDot() throws IOException {
		Path target = work.resolve("target");
		ImageException e = refused(new CraftedTar().file("ok", "x", 0644).file("../escape", "x", 0644), TarSettings.DEFAULT);
		assertEquals(work.resolve("crafted.tar") + ": entry '../escape': name has a '..' component", e.getMessage());
		assertFalse(Files.exists(work.resolve("escape"), NOFOLLOW));
		assertTrue(Files.exists(target.resolve("ok")));
	}

	@Test
	void absoluteNamesLandInside() throws IOException {
		Path target = unpack(new CraftedTar().file("/etc/x", "inside", 0644).file("//usr///y", "too", 0600), TarSettings.DEFAULT);
		assertEquals("inside", Files.readString(target.resolve("etc/x")));
		assertEquals("too", Files.readString(target.resolve("usr/y")));
		assertEquals(0600, (Integer) Files.getAttribute(target.resolve("usr/y"), "unix:mode") & 07777);
	}

	@Test
	void refusesEntriesBelowAnEarlierSymlink() throws IOException {
		Path outside = Files.createDirectory(work.resolve("outside"));
		ImageException e = refused(new CraftedTar().symlink("link", outside.toString()).file("link/file", "x", 0644),
			TarSettings.DEFAULT);
		assertEquals(work.resolve("crafted.tar") + ": entry 'link/file': lies below 'link', which is a symbolic link unpacked before it",
			e.getMessage());
		try (Stream<Path> s = Files.list(outside)) {
			assertEquals(0, s.count(), "nothing written outside");
		}
		// the same through a relative link and a deeper path, and as a directory entry
		Files.delete(work.resolve("crafted.tar"));
		deleteTarget();
		e = refused(new CraftedTar().dir("a", 0755).symlink("a/up", "../../outside").dir("a/up/sub", 0755), TarSettings.DEFAULT);
		assertTrue(e.getMessage().endsWith("entry 'a/up/sub/': lies below 'a/up', which is a symbolic link unpacked before it"), e.getMessage());
		try (Stream<Path> s = Files.list(outside)) {
			assertEquals(0, s.count(), "nothing written outside");
		}
	}

	@Test
	void refusesHardLinksToAnythingButAnEarlierFile() throws IOException {
		Files.writeString(work.resolve("secret"), "secret");
		String[][] cases = { { "/etc/passwd", "hard link to '/etc/passwd', which is not a regular file unpacked before it" },
			{ work.resolve("secret").toString(), "which is not a regular file unpacked before it" },
			{ "../secret", "hard link target has a '..' component" }, { "nonexistent", "which is not a regular file unpacked before it" },
			{ "s", "hard link to 's', which is not a regular file unpacked before it" },
			{ "s/secret", "hard link to 's/secret', which is not a regular file unpacked before it" },
			{ "d", "hard link to 'd', which is not a regular file unpacked before it" } };
		for (String[] c : cases) {
			Files.deleteIfExists(work.resolve("crafted.tar"));
			deleteTarget();
			ImageException e = refused(new CraftedTar().symlink("s", work.toString()).dir("d", 0755).hardlink("h", c[0]),
				TarSettings.DEFAULT);
			assertTrue(e.getMessage().endsWith(c[1]), e.getMessage());
			assertTrue(e.getMessage().contains("entry 'h'"), e.getMessage());
			assertFalse(Files.exists(work.resolve("target/h"), NOFOLLOW));
		}
		assertEquals("secret", Files.readString(work.resolve("secret")));
	}

	@Test
	void hardLinksToEarlierFiles() throws IOException {
		Path target = unpack(new CraftedTar().file("usr/a", "content", 0644).hardlink("b", "./usr/a").hardlink("usr/c", "/usr/a"),
			TarSettings.DEFAULT);
		Object key = Files.readAttributes(target.resolve("usr/a"), BasicFileAttributes.class).fileKey();
		assertEquals(key, Files.readAttributes(target.resolve("b"), BasicFileAttributes.class).fileKey());
		assertEquals(key, Files.readAttributes(target.resolve("usr/c"), BasicFileAttributes.class).fileKey());
	}

	@Test
	void replacesOnlyRegularFiles() throws IOException {
		// a later copy replaces a file; the hard link made to the earlier one keeps its content
		Path target = unpack(new CraftedTar().file("a", "old", 0644).hardlink("b", "a").file("a", "new", 0600).dir("d", 0755).dir("d", 0700),
			TarSettings.DEFAULT);
		assertEquals("new", Files.readString(target.resolve("a")));
		assertEquals("old", Files.readString(target.resolve("b")));
		assertEquals(0700, (Integer) Files.getAttribute(target.resolve("d"), "unix:mode") & 07777);

		String[][] cases = { { "symlink", "would replace a symbolic link unpacked before it" },
			{ "dir", "would replace a directory unpacked before it" } };
		for (String[] c : cases) {
			deleteTarget();
			Files.delete(work.resolve("crafted.tar"));
			CraftedTar t = c[0].equals("symlink") ? new CraftedTar().symlink("x", "/etc/passwd") : new CraftedTar().dir("x", 0755);
			ImageException e = refused(t.file("x", "overwritten?", 0644), TarSettings.DEFAULT);
			assertTrue(e.getMessage().endsWith("entry 'x': " + c[1]), e.getMessage());
		}
		deleteTarget();
		Files.delete(work.resolve("crafted.tar"));
		ImageException e = refused(new CraftedTar().file("x", "file", 0644).symlink("x", "/etc/passwd"), TarSettings.DEFAULT);
		assertTrue(e.getMessage().endsWith("entry 'x': would replace a regular file unpacked before it"), e.getMessage());
		assertEquals("file", Files.readString(work.resolve("target/x")));
	}

	@Test
	void refusesDevicesUnlessAllowed() throws IOException {
		ImageException e = refused(new CraftedTar().chardev("dev/null", 1, 3), TarSettings.DEFAULT);
		assertEquals(work.resolve("crafted.tar") + ": entry 'dev/null': is a device node; device nodes and FIFOs are refused (allowDevices)",
			e.getMessage());
		assertFalse(Files.exists(work.resolve("target/dev/null"), NOFOLLOW));
		deleteTarget();
		Files.delete(work.resolve("crafted.tar"));
		e = refused(new CraftedTar().fifo("run/fifo"), TarSettings.DEFAULT);
		assertTrue(e.getMessage().endsWith("entry 'run/fifo': is a FIFO; device nodes and FIFOs are refused (allowDevices)"), e.getMessage());
	}

	@Test
	void makesDevicesWhenAllowed() throws IOException {
		// never skipped: the tests run as root (README, .ci/run); a device node takes root to make
		assertTrue(FileAttributes.runningAsRoot(), "run the tests as root: mknod of a device takes root");
		Path target = unpack(new CraftedTar().chardev("dev/null", 1, 3).fifo("run/fifo"), new TarSettings(true, false, 1 << 20, 100));
		BasicFileAttributes a = Files.readAttributes(target.resolve("dev/null"), BasicFileAttributes.class, NOFOLLOW);
		assertTrue(a.isOther());
		assertEquals(0666, (Integer) Files.getAttribute(target.resolve("dev/null"), "unix:mode", NOFOLLOW) & 07777);
		assertEquals(0x103L, ((Number) Files.getAttribute(target.resolve("dev/null"), "unix:rdev", NOFOLLOW)).longValue());
		assertTrue(Files.readAttributes(target.resolve("run/fifo"), BasicFileAttributes.class, NOFOLLOW).isOther());
	}

	@Test
	void stripsSetuidUnlessAllowed() throws IOException {
		CraftedTar t = new CraftedTar().file("usr/bin/su", "x", 04755).file("usr/bin/wall", "x", 02755).file("sticky", "x", 01644)
			.dir("tmp", 01777).dir("shared", 02775);
		Path target = unpack(t, TarSettings.DEFAULT);
		assertEquals(0755, mode(target.resolve("usr/bin/su")));
		assertEquals(0755, mode(target.resolve("usr/bin/wall")));
		assertEquals(0644, mode(target.resolve("sticky")));
		assertEquals(01777, mode(target.resolve("tmp")));
		assertEquals(0775, mode(target.resolve("shared")));
		deleteTarget();
		Files.delete(work.resolve("crafted.tar"));
		target = unpack(t, new TarSettings(false, true, 1 << 20, 100));
		assertEquals(04755, mode(target.resolve("usr/bin/su")));
		assertEquals(02755, mode(target.resolve("usr/bin/wall")));
		assertEquals(01644, mode(target.resolve("sticky")));
		assertEquals(02775, mode(target.resolve("shared")));
	}

	@Test
	void boundsBytesBeforeWriting() throws IOException {
		ImageException e = refused(new CraftedTar().file("a", "x".repeat(1000), 0644).file("b", "y".repeat(1000), 0644),
			new TarSettings(false, false, 1500, 100));
		assertEquals(work.resolve("crafted.tar") + ": entry 'b': the archive unpacks to more than 1500 bytes (maxBytes)", e.getMessage());
		assertTrue(Files.exists(work.resolve("target/a")));
		assertFalse(Files.exists(work.resolve("target/b"), NOFOLLOW));
		// a header claiming 10 GB is refused before its content is read: the archive has none
		deleteTarget();
		Files.delete(work.resolve("crafted.tar"));
		e = refused(new CraftedTar().hugeHeader("huge", 10_000_000_000L), new TarSettings(false, false, 1L << 30, 100));
		assertEquals(work.resolve("crafted.tar") + ": entry 'huge': the archive unpacks to more than " + (1L << 30) + " bytes (maxBytes)",
			e.getMessage());
		assertFalse(Files.exists(work.resolve("target/huge"), NOFOLLOW));
	}

	@Test
	void boundsEntries() throws IOException {
		ImageException e = refused(new CraftedTar().file("a", "1", 0644).file("b", "2", 0644).file("c", "3", 0644).file("d", "4", 0644),
			new TarSettings(false, false, 1000, 3));
		assertEquals(work.resolve("crafted.tar") + ": more than 3 entries (maxEntries)", e.getMessage());
		assertTrue(Files.exists(work.resolve("target/c")));
		assertFalse(Files.exists(work.resolve("target/d"), NOFOLLOW));
	}

	@Test
	void refusesTruncatedArchives() throws IOException {
		byte[] all = Files.readAllBytes(gnu);
		int big = TarImageTest.indexOf(all, "big.bin".getBytes(StandardCharsets.US_ASCII));
		Path cut = Files.write(work.resolve("cut.tar"), Arrays.copyOf(all, big + 512 + 100_000));
		Path target = Files.createDirectory(work.resolve("target"));
		ImageException e = assertThrows(ImageException.class,
			() -> new TarUnpacker(new TarArchive(cut, Compression.NONE), TarSettings.DEFAULT).unpack(target));
		assertTrue(e.getMessage().startsWith(cut + ": entry './usr/share/big.bin': corrupt or truncated"), e.getMessage());

		Path noEnd = new CraftedTar().file("a", "x", 0644).withoutEnd().write(work.resolve("no-end.tar"));
		deleteTarget();
		Files.createDirectory(target);
		e = assertThrows(ImageException.class,
			() -> new TarUnpacker(new TarArchive(noEnd, Compression.NONE), TarSettings.DEFAULT).unpack(target));
		assertTrue(e.getMessage().endsWith("without its end-of-archive marker"), e.getMessage());
	}

	@Test
	void setsOwnersWhenRoot() throws IOException {
		assertTrue(FileAttributes.runningAsRoot(), "run the tests as root: chown takes root");
		Path target = unpack(new CraftedTar().file("f", "x", 0644, 1234, 5678, Map.of()).symlink("l", "/nonexistent", 4321, 8765),
			TarSettings.DEFAULT);
		assertEquals(1234, Files.getAttribute(target.resolve("f"), "unix:uid"));
		assertEquals(5678, Files.getAttribute(target.resolve("f"), "unix:gid"));
		assertEquals(4321, Files.getAttribute(target.resolve("l"), "unix:uid", NOFOLLOW));
		assertEquals(8765, Files.getAttribute(target.resolve("l"), "unix:gid", NOFOLLOW));
		assertEquals(CraftedTar.MTIME, Files.getLastModifiedTime(target.resolve("l"), NOFOLLOW).toMillis() / 1000);
	}

	@Test
	void readOnlyDirectoriesGetTheirModeLast() throws IOException {
		Path target = unpack(new CraftedTar().dir("ro", 0555).file("ro/f", "x", 0444).dir("ro/sub", 0500).file("ro/sub/g", "y", 0400),
			TarSettings.DEFAULT);
		assertEquals(0555, mode(target.resolve("ro")));
		assertEquals(0500, mode(target.resolve("ro/sub")));
		assertEquals("y", Files.readString(target.resolve("ro/sub/g")));
		assertEquals(CraftedTar.MTIME, Files.getLastModifiedTime(target.resolve("ro")).toMillis() / 1000);
	}

	@Test
	void writesUserXattrsOnly() throws IOException {
		Path target = unpack(new CraftedTar().file("f", "x", 0644, 0, 0,
			Map.of("SCHILY.xattr.user.extension-release.strict", "0", "SCHILY.xattr.security.capability", "cap")), TarSettings.DEFAULT);
		UserDefinedFileAttributeView v = Files.getFileAttributeView(target.resolve("f"), UserDefinedFileAttributeView.class);
		assertEquals(List.of("extension-release.strict"), v.list());
		java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
		v.read("extension-release.strict", b);
		assertArrayEquals("0".getBytes(StandardCharsets.UTF_8), Arrays.copyOf(b.array(), b.position()));
	}

	@Test
	void refusesATargetThatIsNotEmpty() throws IOException {
		Path archive = new CraftedTar().file("a", "x", 0644).write(work.resolve("crafted.tar"));
		Path target = Files.createDirectory(work.resolve("target"));
		Files.writeString(target.resolve("a"), "there");
		IOException e = assertThrows(IOException.class,
			() -> new TarUnpacker(new TarArchive(archive, Compression.NONE), TarSettings.DEFAULT).unpack(target));
		assertTrue(e.getMessage().endsWith("not empty"), e.getMessage());
		assertEquals("there", Files.readString(target.resolve("a")));
	}

	static int mode(Path p) throws IOException {
		return (Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW) & 07777;
	}

	void deleteTarget() throws IOException {
		Path target = work.resolve("target");
		if (!Files.exists(target, NOFOLLOW)) {
			return;
		}
		try (Stream<Path> s = Files.walk(target)) {
			for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
				Files.delete(p);
			}
		}
	}
}
