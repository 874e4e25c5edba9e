package psi.format.tar.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import psi.spi.format.Entry;
import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;

/**
 * Reading archives made by the real tar: what {@code lstat}, {@code list}
 * and {@code read} give against the tree archived, and the archives refused
 * at open.
 */
class TarImageTest {

	@TempDir
	static Path tmp;
	static Path src;
	static Path gnu;

	@BeforeAll
	static void archives() throws IOException {
		src = tmp.resolve("src");
		TarFixtures.imageTree(src);
		gnu = TarFixtures.tar(src, tmp.resolve("gnu.tar"), List.of(), ".");
	}

	static ImageTree open(Path archive) throws IOException {
		return new TarFormat(TarSettings.DEFAULT).open(archive).orElseThrow();
	}

	/** GNU and POSIX formats, with {@code ./} names and without, compressed with zstd. */
	@ParameterizedTest
	@ValueSource(strings = { "gnu-dot", "gnu-bare", "posix-dot", "posix-bare", "zstd" })
	void showsTheTree(String variant) throws IOException {
		Path archive;
		List<String> format = variant.startsWith("posix") ? List.of("--format=posix") : List.of();
		if (variant.equals("zstd")) {
			archive = TarFixtures.compress(gnu, "gnu.tar.zst");
		} else if (variant.endsWith("-dot")) {
			archive = TarFixtures.tar(src, tmp.resolve(variant + ".tar"), format, ".");
		} else {
			archive = TarFixtures.tar(src, tmp.resolve(variant + ".tar"), format, "usr", "etc", "var");
		}
		try (ImageTree image = open(archive)) {
			assertEquals(new TreeSet<>(List.of("usr", "etc", "var")), new TreeSet<>(image.list("/")));
			assertEquals(new TreeSet<>(List.of("os-release", "systemd")), new TreeSet<>(image.list("/usr/lib")));
			assertEquals(List.of(), image.list("/var/empty"));
			assertEquals(List.of(), image.list("/usr/lib/os-release"));
			assertEquals(List.of(), image.list("/nonexistent"));

			assertEquals(Optional.of(new Entry(Entry.Kind.FILE, 0644, TarFixtures.OS_RELEASE.length(), null)), image.lstat("/usr/lib/os-release"));
			assertEquals(Optional.of(new Entry(Entry.Kind.SYMLINK, 0777, 0, "../usr/lib/os-release")), image.lstat("/etc/os-release"));
			assertEquals(Optional.of(new Entry(Entry.Kind.FILE, 0755, 20, null)), image.lstat("/usr/bin/tool"));
			// a hard link is the regular file it links to
			assertEquals(image.lstat("/usr/bin/tool"), image.lstat("/usr/bin/tool-again"));
			assertEquals(Optional.of(new Entry(Entry.Kind.DIRECTORY, 0700, 0, null)), image.lstat("/var/empty"));
			assertEquals(Entry.Kind.DIRECTORY, image.lstat("/").orElseThrow().kind());
			assertEquals(Entry.Kind.DIRECTORY, image.lstat("/usr/lib/").orElseThrow().kind());
			assertEquals(Optional.empty(), image.lstat("/usr/lib/nonexistent"));
			assertEquals(Optional.of(new Entry(Entry.Kind.FILE, 0644, TarFixtures.BIG, null)), image.lstat("/usr/share/big.bin"));

			assertEquals(TarFixtures.OS_RELEASE, new String(image.read("/usr/lib/os-release", 1000), StandardCharsets.UTF_8));
			assertEquals("#!/bin/sh\necho tool\n", new String(image.read("/usr/bin/tool-again", 1000), StandardCharsets.UTF_8));
			assertEquals("long\n", new String(image.read("/" + TarFixtures.LONG_NAME, 1000), StandardCharsets.UTF_8));
			// larger than what is kept in memory: read from the archive again
			assertArrayEquals(TarFixtures.big(), image.read("/usr/share/big.bin", TarFixtures.BIG));
			assertArrayEquals(TarFixtures.big(), image.read("/usr/share/big.bin", TarFixtures.BIG));
		}
	}

	@Test
	void readRefusesWhatIsNoFileOrTooLarge() throws IOException {
		try (ImageTree image = open(gnu)) {
			ImageException e = assertThrows(ImageException.class, () -> image.read("/usr/share/big.bin", TarFixtures.BIG - 1));
			assertEquals("'/usr/share/big.bin' in " + gnu + " is larger than " + (TarFixtures.BIG - 1) + " bytes", e.getMessage());
			assertThrows(ImageException.class, () -> image.read("/usr/lib/os-release", 3));
			e = assertThrows(ImageException.class, () -> image.read("/etc/os-release", 1000));
			assertEquals("'/etc/os-release' in " + gnu + " is not a regular file", e.getMessage());
			assertThrows(ImageException.class, () -> image.read("/usr", 1000));
			assertThrows(NoSuchFileException.class, () -> image.read("/usr/nonexistent", 1000));
		}
	}

	@Test
	void readOnlyAlways() throws IOException {
		try (ImageTree image = open(gnu)) {
			assertTrue(image.isReadOnly());
			image.setReadOnly(true);
			ImageException e = assertThrows(ImageException.class, () -> image.setReadOnly(false));
			assertEquals("tar image " + gnu + " is an archive, always read-only", e.getMessage());
			Map<String, String> d = image.describe();
			assertEquals("tar", d.get("Archive"));
			// ./ and every file and directory of the tree
			assertEquals(18, Integer.parseInt(d.get("Entries")));
		}
	}

	@Test
	void impliesMissingDirectories() throws IOException {
		Path archive = TarFixtures.tar(src, tmp.resolve("files-only.tar"), List.of("--no-recursion"), "usr/lib/os-release",
			"usr/bin/tool", "etc/os-release");
		try (ImageTree image = open(archive)) {
			assertEquals(Optional.of(new Entry(Entry.Kind.DIRECTORY, 0755, 0, null)), image.lstat("/usr"));
			assertEquals(Optional.of(new Entry(Entry.Kind.DIRECTORY, 0755, 0, null)), image.lstat("/usr/lib"));
			assertEquals(new TreeSet<>(List.of("lib", "bin")), new TreeSet<>(image.list("/usr")));
			assertEquals(TarFixtures.OS_RELEASE, new String(image.read("/usr/lib/os-release", 100), StandardCharsets.UTF_8));
			assertEquals(Optional.empty(), image.lstat("/var"));
		}
	}

	@Test
	void readsSparseFiles() throws IOException {
		Path sparseSrc = tmp.resolve("sparse-src");
		Files.createDirectories(sparseSrc);
		Path f = sparseSrc.resolve("sparse.img");
		byte[] expected = new byte[3 << 20];
		try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
			raf.setLength(expected.length);
			for (int off : new int[] { 4096, 2 << 20 }) {
				raf.seek(off);
				raf.write("data here".getBytes(StandardCharsets.US_ASCII));
				System.arraycopy("data here".getBytes(StandardCharsets.US_ASCII), 0, expected, off, 9);
			}
		}
		for (String format : List.of("gnu", "posix")) {
			Path archive = TarFixtures.tar(sparseSrc, tmp.resolve("sparse-" + format + ".tar"), List.of("-S", "--format=" + format), ".");
			assertTrue(Files.size(archive) < 1 << 20, "tar -S stored the holes");
			try (ImageTree image = open(archive)) {
				assertEquals(expected.length, image.lstat("/sparse.img").orElseThrow().size());
				assertArrayEquals(expected, image.read("/sparse.img", expected.length));
			}
		}
	}

	@Test
	void userXattrsAreRead() throws IOException {
		Path archive = new CraftedTar()
			.file("usr/lib/extension-release.d/extension-release.x", "ID=_any\n", 0644, 0, 0,
				Map.of("SCHILY.xattr.user.extension-release.strict", "0", "SCHILY.xattr.security.capability", "cap"))
			.write(tmp.resolve("xattrs.tar"));
		try (ImageTree image = open(archive)) {
			assertArrayEquals("0".getBytes(StandardCharsets.UTF_8),
				image.xattr("/usr/lib/extension-release.d/extension-release.x", "user.extension-release.strict").orElseThrow());
			assertFalse(image.xattr("/usr/lib/extension-release.d/extension-release.x", "security.capability").isPresent());
			assertFalse(image.xattr("/usr/lib", "user.extension-release.strict").isPresent());
		}
	}

	@Test
	void refusesHostileArchivesAtOpen() throws IOException {
		assertRefused(new CraftedTar().file("../escape", "x", 0644), "entry '../escape': name has a '..' component");
		assertRefused(new CraftedTar().symlink("link", "/tmp").file("link/file", "x", 0644),
			"entry 'link/file': lies below '/link', which is a symbolic link in the archive");
		assertRefused(new CraftedTar().file("a", "x", 0644).file("a/b", "x", 0644),
			"entry 'a/b': lies below '/a', which is a regular file in the archive");
		assertRefused(new CraftedTar().hardlink("h", "/etc/passwd"),
			"entry 'h': hard link to '/etc/passwd', which is not a regular file earlier in the archive");
		assertRefused(new CraftedTar().hardlink("h", "../outside"), "entry 'h': hard link target has a '..' component");
		assertRefused(new CraftedTar().symlink("s", "x").hardlink("h", "s"),
			"entry 'h': hard link to 's', which is not a regular file earlier in the archive");
		assertRefused(new CraftedTar().symlink("a", "x").file("a", "y", 0644),
			"entry 'a': replaces a symbolic link of the same name earlier in the archive");
		assertRefused(new CraftedTar().dir("a", 0755).file("a", "y", 0644),
			"entry 'a': replaces a directory of the same name earlier in the archive");
		assertRefused(new CraftedTar().symlink(".", "/etc"), "entry '.': the root of the archive is a symbolic link, not a directory");
		assertRefused(new CraftedTar().file("d/", "x", 0644), "entry 'd/': a directory with content (corrupt archive)");
		assertRefused(new CraftedTar().typed("label", "b'V'"), "entry 'label': unsupported entry type 'V'");
		assertRefused(new CraftedTar().symlink("s", ""), "entry 's': symbolic link with an empty target");
		assertRefused(new CraftedTar().file("a/".repeat(2048) + "b", "x", 0644), "name longer than 4096 bytes");
		assertRefused(new CraftedTar().symlink("s", "x".repeat(4097)), "entry 's': symbolic link target longer than 4096 bytes");
	}

	@Test
	void keepsLaterCopiesAndDevicesAtOpen() throws IOException {
		Path archive = new CraftedTar().file("a", "old", 0644).hardlink("b", "a").file("a", "newer", 0600).dir("d", 0755)
			.dir("d", 0700).chardev("null", 1, 3).write(tmp.resolve("later.tar"));
		try (ImageTree image = open(archive)) {
			assertEquals("newer", new String(image.read("/a", 100), StandardCharsets.UTF_8));
			assertEquals(0600, image.lstat("/a").orElseThrow().mode());
			// the hard link keeps the content it linked to
			assertEquals("old", new String(image.read("/b", 100), StandardCharsets.UTF_8));
			assertEquals(0700, image.lstat("/d").orElseThrow().mode());
			assertEquals(Entry.Kind.OTHER, image.lstat("/null").orElseThrow().kind());
			assertEquals(Set.of("a", "b", "d", "null"), Set.copyOf(image.list("/")));
		}
	}

	@Test
	void refusesTruncatedArchives() throws IOException {
		long size = Files.size(gnu);
		byte[] all = Files.readAllBytes(gnu);
		// cut inside the content of the large file
		int big = indexOf(all, "big.bin".getBytes(StandardCharsets.US_ASCII));
		Path cut = Files.write(tmp.resolve("cut.tar"), java.util.Arrays.copyOf(all, big + 512 + 100_000));
		ImageException e = assertThrows(ImageException.class, () -> open(cut));
		assertTrue(e.getMessage().startsWith(cut + ": "), e.getMessage());
		assertTrue(e.getMessage().contains("big.bin") && e.getMessage().contains("runcated"), e.getMessage());

		// cut inside a header
		Path cutHeader = Files.write(tmp.resolve("cut-header.tar"), java.util.Arrays.copyOf(all, 512 + 200));
		e = assertThrows(ImageException.class, () -> open(cutHeader));
		assertTrue(e.getMessage().startsWith(cutHeader + ": corrupt or truncated after entry './'"), e.getMessage());

		// cut right after an entry, before the end-of-archive marker
		Path noEnd = new CraftedTar().file("a", "x", 0644).file("b", "y", 0644).withoutEnd().write(tmp.resolve("no-end.tar"));
		e = assertThrows(ImageException.class, () -> open(noEnd));
		assertEquals(noEnd + ": corrupt or truncated after entry 'b': the archive ends inside a header or without its end-of-archive marker",
			e.getMessage());

		// a compressed archive cut short
		Path zst = TarFixtures.compress(gnu, "whole.tar.zst");
		byte[] z = Files.readAllBytes(zst);
		Path zcut = Files.write(tmp.resolve("cut.tar.zst"), java.util.Arrays.copyOf(z, z.length / 2));
		e = assertThrows(ImageException.class, () -> open(zcut));
		assertTrue(e.getMessage().startsWith(zcut + ": "), e.getMessage());
		Path gz = TarFixtures.compress(gnu, "whole.tar.gz");
		byte[] g = Files.readAllBytes(gz);
		Path gcut = Files.write(tmp.resolve("cut.tar.gz"), java.util.Arrays.copyOf(g, g.length - 100));
		e = assertThrows(ImageException.class, () -> open(gcut));
		assertTrue(e.getMessage().startsWith(gcut + ": "), e.getMessage());
		assertTrue(size > 0);
	}

	@Test
	void refusesCorruptHeaders() throws IOException {
		byte[] all = Files.readAllBytes(gnu);
		all[512 * 2 + 10] ^= 0x55; // the name of the second entry: its checksum no longer matches
		Path corrupt = Files.write(tmp.resolve("corrupt.tar"), all);
		ImageException e = assertThrows(ImageException.class, () -> open(corrupt));
		assertTrue(e.getMessage().startsWith(corrupt + ": "), e.getMessage());
	}

	@Test
	void boundsEntriesAndBytesAtOpen() throws IOException {
		Path five = new CraftedTar().file("a", "1", 0644).file("b", "2", 0644).file("c", "3", 0644).file("d", "4", 0644)
			.file("e", "5", 0644).write(tmp.resolve("five.tar"));
		ImageException e = assertThrows(ImageException.class,
			() -> new TarFormat(new TarSettings(false, false, 1000, 4)).open(five));
		assertEquals(five + ": more than 4 entries (maxEntries)", e.getMessage());
		Path huge = new CraftedTar().file("a", "1", 0644).hugeHeader("huge", 10_000_000_000L).write(tmp.resolve("huge.tar"));
		e = assertThrows(ImageException.class, () -> new TarFormat(new TarSettings(false, false, 1 << 30, 100)).open(huge));
		assertEquals(huge + ": entry 'huge': the archive unpacks to more than " + (1 << 30) + " bytes (maxBytes)", e.getMessage());
	}

	static void assertRefused(CraftedTar crafted, String message) throws IOException {
		Path archive = crafted.write(Files.createTempFile(tmp, "hostile", ".tar"));
		ImageException e = assertThrows(ImageException.class, () -> open(archive));
		assertTrue(e.getMessage().startsWith(archive + ": ") && e.getMessage().endsWith(message), e.getMessage());
	}

	static int indexOf(byte[] hay, byte[] needle) {
		outer: for (int i = 0; i + needle.length <= hay.length; i++) {
			for (int j = 0; j < needle.length; j++) {
				if (hay[i + j] != needle[j]) {
					continue outer;
				}
			}
			return i;
		}
		throw new AssertionError("not found");
	}
}
