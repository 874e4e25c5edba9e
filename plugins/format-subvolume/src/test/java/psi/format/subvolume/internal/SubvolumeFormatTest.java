package psi.format.subvolume.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;
import psi.spi.format.RootKind;

/**
 * Against real btrfs: a loop-mounted file system made for the test class. Needs
 * root and btrfs-progs; fails (does not skip) without them.
 */
class SubvolumeFormatTest {

	private static LoopFileSystems fs;
	private static Path btrfs;
	/** A directory with inode 256 on ext4: passes the inode test, must fail the file system test. */
	private static Path ext4Inode256;

	private final SubvolumeFormat format = new SubvolumeFormat();

	@BeforeAll
	static void mountFileSystems() throws IOException {
		String missing = LoopFileSystems.missingPrerequisite();
		if (missing != null) {
			fail(missing);
		}
		fs = new LoopFileSystems();
		btrfs = fs.mount("btrfs", "btrfs", 300, List.of("-q"), "");
		// mke2fs -d hands out inode numbers in order, so one of 300 directories gets 256
		Path src = Files.createDirectory(fs.dir.resolve("ext4-src"));
		for (int i = 0; i < 300; i++) {
			Files.createDirectory(src.resolve(String.format("d%03d", i)));
		}
		Path ext4 = fs.mount("ext4", "ext4", 16, List.of("-q", "-d", src.toString()), "ro");
		try (Stream<Path> dirs = Files.list(ext4)) {
			for (Path d : dirs.toList()) {
				if (LoopFileSystems.inode(d) == 256) {
					ext4Inode256 = d;
				}
			}
		}
		if (ext4Inode256 == null || !Files.isDirectory(ext4Inode256)) {
			fail("mkfs.ext4 -d gave inode 256 to no directory of " + ext4 + "; the test needs one");
		}
	}

	@AfterAll
	static void cleanUp() throws IOException {
		if (fs != null) {
			fs.close();
		}
	}

	private static Path subvolume(String path) throws IOException {
		Path p = btrfs.resolve(path);
		LoopFileSystems.run(List.of("btrfs", "subvolume", "create", p.toString()));
		return p;
	}

	/** Fills {@code dir} as a minimal portable image. */
	private static Path fillImage(Path dir, String id) throws IOException {
		Files.createDirectories(dir.resolve("usr/lib/systemd/system"));
		Files.writeString(dir.resolve("usr/lib/os-release"), "ID=" + id + "\n");
		Files.writeString(dir.resolve("usr/lib/systemd/system/" + id + ".service"), "[Service]\nExecStart=/bin/true\n");
		return dir;
	}

	private static String roProperty(Path p) throws IOException {
		return LoopFileSystems.run(List.of("btrfs", "property", "get", "-ts", p.toString(), "ro")).strip();
	}

	/** Relative path to content ("/" for directories) of every entry below {@code root}. */
	private static Map<String, String> content(Path root) throws IOException {
		Map<String, String> m = new TreeMap<>();
		try (Stream<Path> all = Files.walk(root)) {
			for (Path p : all.toList()) {
				m.put(root.relativize(p).toString(), Files.isDirectory(p) ? "/" : Files.readString(p));
			}
		}
		return m;
	}

	@Test
	void claimsSubvolumeButNotPlainDirectoryBesideIt() throws IOException {
		Path img = fillImage(subvolume("img"), "img");
		Path plain = fillImage(Files.createDirectory(btrfs.resolve("plain")), "plain");

		ImageTree t = format.open(img).orElseThrow(() -> new AssertionError("subvolume " + img + " not claimed"));
		assertEquals("subvolume", t.type());
		assertEquals(img, t.path());
		assertEquals(RootKind.DIRECTORY, t.rootKind());
		assertArrayEquals("ID=img\n".getBytes(StandardCharsets.UTF_8), t.read("/usr/lib/os-release", 4096));
		assertEquals(Path.of(img + "/usr/lib/os-release"), t.hostPath("/usr/lib/os-release").orElseThrow());
		assertEquals(-1, t.usage());
		assertTrue(t.describe().get("Subvolume").matches("ID \\d+"), t.describe().toString());

		assertTrue(format.open(plain).isEmpty(), "plain directory on btrfs claimed");
		assertTrue(format.open(img.resolve("usr/lib/os-release")).isEmpty(), "a file claimed");
	}

	@Test
	void declinesDirectoriesOffBtrfs(@TempDir Path tmp) throws IOException {
		assertTrue(format.open(fillImage(tmp, "tmp")).isEmpty(), "directory in " + tmp + " claimed");
		assertTrue(format.open(ext4Inode256).isEmpty(), "inode-256 directory on ext4 claimed");
	}

	@Test
	void declinesFileSystemMountedOverBtrfsMountPoint() throws IOException {
		// /proc/mounts lists btrfs first at this mount point, ext4 on top; Files.getFileStore(...).type() says btrfs here
		Path over = Files.createDirectory(fs.dir.resolve("over"));
		LoopFileSystems.run(List.of("mount", "--bind", btrfs.toString(), over.toString()));
		LoopFileSystems.run(List.of("mount", "--bind", ext4Inode256.getParent().toString(), over.toString()));
		try {
			assertTrue(format.open(over.resolve(ext4Inode256.getFileName())).isEmpty(), "ext4 directory over a btrfs mount point claimed");
		} finally {
			LoopFileSystems.run(List.of("umount", over.toString()));
			LoopFileSystems.run(List.of("umount", over.toString()));
		}
	}

	/** set-limit: the subvolume's quota group gets the limit, and loses it again; without quotas on, btrfs's refusal. */
	@Test
	void sizeLimitIsTheSubvolumesQuota() throws IOException {
		Path img = fillImage(subvolume("limited"), "limited");
		ImageTree t = format.open(img).orElseThrow();
		LoopFileSystems.run(List.of("btrfs", "quota", "enable", btrfs.toString()));
		try {
			t.setLimit(1L << 30);
			String id = LoopFileSystems.run(List.of("btrfs", "inspect-internal", "rootid", img.toString())).strip();
			assertEquals("1073741824", maxReferenced(id));
			t.setLimit(-1);
			assertEquals("none", maxReferenced(id));
		} finally {
			LoopFileSystems.run(List.of("btrfs", "quota", "disable", btrfs.toString()));
		}
		assertThrows(psi.spi.format.ImageException.class, () -> t.setLimit(1L << 30), "no quotas on: btrfs refuses");
	}

	/** @return the max referenced size of qgroup 0/ID as btrfs qgroup show prints it in bytes */
	static String maxReferenced(String id) throws IOException {
		String out = LoopFileSystems.run(List.of("btrfs", "qgroup", "show", "-r", "--raw", btrfs.toString()));
		for (String line : out.lines().toList()) {
			String[] f = line.trim().split("\\s+");
			if (f.length >= 4 && f[0].equals("0/" + id)) {
				return f[3];
			}
		}
		throw new AssertionError("no qgroup 0/" + id + " in:\n" + out);
	}

	@Test
	void readOnlyRoundTrip() throws IOException {
		Path img = fillImage(subvolume("ro"), "ro");
		ImageTree t = format.open(img).orElseThrow();
		assertFalse(t.isReadOnly());

		t.setReadOnly(true);
		assertEquals("ro=true", roProperty(img));
		assertTrue(t.isReadOnly());
		assertThrows(FileSystemException.class, () -> Files.writeString(img.resolve("new"), "x"));
		assertThrows(FileSystemException.class, () -> Files.writeString(img.resolve("usr/lib/os-release"), "ID=changed\n"));
		assertEquals("ID=ro\n", Files.readString(img.resolve("usr/lib/os-release")));
		assertTrue(format.open(img).orElseThrow().isReadOnly(), "a fresh open sees the flag");

		t.setReadOnly(false);
		assertEquals("ro=false", roProperty(img));
		assertFalse(t.isReadOnly());
		Files.writeString(img.resolve("new"), "x");
	}

	@Test
	void snapshotIsReadOnlyCopyAndRefusesExistingTarget() throws IOException {
		Path img = fillImage(subvolume("snapsrc"), "snapsrc");
		Files.createSymbolicLink(img.resolve("usr/lib/link"), Path.of("os-release"));
		ImageTree t = format.open(img).orElseThrow();

		Path snap = btrfs.resolve("snapsrc_2");
		t.snapshot(snap);
		ImageTree s = format.open(snap).orElseThrow(() -> new AssertionError("snapshot " + snap + " not claimed as a subvolume"));
		assertTrue(s.isReadOnly());
		assertEquals("ro=true", roProperty(snap));
		assertEquals(content(img), content(snap));
		assertEquals("os-release", Files.readSymbolicLink(snap.resolve("usr/lib/link")).toString());
		assertFalse(t.isReadOnly(), "the source stays writable");
		assertTrue(s.describe().get("Subvolume").matches("ID \\d+, read-only"), s.describe().toString());

		ImageException e = assertThrows(ImageException.class, () -> t.snapshot(snap));
		assertTrue(e.getMessage().contains("already exists"), e.getMessage());
		Path dir = Files.createDirectory(btrfs.resolve("existing-dir"));
		assertThrows(ImageException.class, () -> t.snapshot(dir));
		try (Stream<Path> inside = Files.list(dir)) {
			assertEquals(0, inside.count(), "btrfs put a snapshot inside the existing directory");
		}
	}

	@Test
	void nestedSubvolumeClaimedDirectoryInSubvolumeNot() throws IOException {
		Path outer = subvolume("outer");
		Path inner = fillImage(subvolume("outer/inner"), "inner");
		Path dir = fillImage(Files.createDirectory(outer.resolve("dir")), "dir");

		assertEquals("subvolume", format.open(inner).orElseThrow(() -> new AssertionError(inner + " not claimed")).type());
		assertTrue(format.open(outer).isPresent());
		assertTrue(format.open(dir).isEmpty(), "directory inside a subvolume claimed");
	}

	@Test
	void failuresAreOneLineNamingThePath() throws IOException {
		// forced onto a plain directory, btrfs refuses: the message is one line and says where
		Path plain = Files.createDirectory(btrfs.resolve("not-a-subvolume"));
		SubvolumeImage wrong = new SubvolumeImage(plain);
		List<IOException> errors = new ArrayList<>();
		errors.add(assertThrows(ImageException.class, () -> wrong.setReadOnly(true)));
		errors.add(assertThrows(ImageException.class, wrong::isReadOnly));
		errors.add(assertThrows(ImageException.class, () -> wrong.snapshot(btrfs.resolve("never"))));
		for (IOException e : errors) {
			assertTrue(e.getMessage().contains(plain.toString()), e.getMessage());
			assertFalse(e.getMessage().contains("\n"), e.getMessage());
			assertEquals(1, e.getMessage().split(" failed", -1).length - 1, "one cause, said once: " + e.getMessage());
			assertTrue(e.getMessage().contains("btrfs exited with status 1: ERROR: "), e.getMessage());
		}
		assertFalse(Files.exists(btrfs.resolve("never")));
	}
}
