package psi.manager.embedded.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RootImage= through squashfuse, the way for hosts without loop devices:
 * real images made by mksquashfs and sfdisk, mounted by the real squashfuse
 * (root and FUSE needed: the README's set-up installs squashfuse, CI runs as
 * root).
 */
class ImageMountTest {

	@TempDir
	static Path dir;
	static Path squashfs;

	@BeforeAll
	static void images() throws Exception {
		for (String tool : List.of("/usr/bin/mksquashfs", "/usr/sbin/sfdisk", ImageMount.SQUASHFUSE)) {
			assertTrue(Files.isExecutable(Path.of(tool)), tool + " is missing: the README's apt-get line installs it");
		}
		assertTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing: squashfuse needs FUSE");
		assertEquals("root", System.getProperty("user.name"), "mounting needs root, as CI runs the build");
		Path tree = Files.createDirectories(dir.resolve("tree/etc"));
		Files.writeString(tree.resolve("hello"), "hello from the image\n");
		squashfs = dir.resolve("naked.raw");
		run("mksquashfs", dir.resolve("tree").toString(), squashfs.toString(), "-all-root", "-noappend", "-quiet", "-no-progress");
	}

	static void run(String... cmd) throws Exception {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes());
		assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
	}

	/** @return a GPT disk image with the squashfs in a partition of each type */
	static Path gpt(String name, String... types) throws Exception {
		Path img = dir.resolve(name);
		long sectors = (Files.size(squashfs) + 511) / 512;
		try (var f = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
			f.write(java.nio.ByteBuffer.wrap(new byte[1]), (2048 + types.length * sectors + 2048) * 512 - 1);
		}
		StringBuilder script = new StringBuilder("label: gpt\n");
		for (int i = 0; i < types.length; i++) {
			script.append("start=").append(2048 + i * sectors).append(", size=").append(sectors).append(", type=").append(types[i]).append('\n');
		}
		Files.writeString(dir.resolve(name + ".sfdisk"), script);
		run("sh", "-c", "sfdisk -q \"$1\" < \"$2\"", "sh", img.toString(), dir.resolve(name + ".sfdisk").toString());
		int root = List.of(types).indexOf(rootType());
		if (root >= 0) {
			run("dd", "if=" + squashfs, "of=" + img, "bs=512", "seek=" + (2048 + root * sectors), "conv=notrunc", "status=none");
		}
		return img;
	}

	static String rootType() {
		return System.getProperty("os.arch").equals("aarch64") ? "B921B045-1DF0-41C3-AF44-4C6F280D3FAE" : "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
	}

	void mountsAndReads(Path image) throws Exception {
		Path mnt = dir.resolve("mnt-" + image.getFileName());
		ImageMount.mount(image, mnt, "squashfuse");
		try {
			assertTrue(ImageMount.isMountPoint(mnt));
			assertEquals("hello from the image\n", Files.readString(mnt.resolve("etc/hello")));
			assertThrows(IOException.class, () -> Files.writeString(mnt.resolve("etc/new"), "x"), "read-only");
		} finally {
			ImageMount.unmount(mnt);
		}
		assertFalse(ImageMount.isMountPoint(mnt), "unmounted");
	}

	@Test
	void aNakedSquashfsIsReadThroughSquashfuse() throws Exception {
		mountsAndReads(squashfs);
	}

	@Test
	void theRootPartitionOfAGptImageIsReadThroughSquashfuse() throws Exception {
		mountsAndReads(gpt("disk.raw", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", rootType()));
	}

	@Test
	void verityDataRefusesSquashfuseWhichCannotCheckIt() throws Exception {
		String verity = System.getProperty("os.arch").equals("aarch64") ? "DF3300CE-D69F-4C92-978C-9BFB0F38D820" : "2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5";
		Path withVerity = gpt("verity.raw", rootType(), verity);
		Path mnt = dir.resolve("mnt-verity");
		IOException e = assertThrows(IOException.class, () -> ImageMount.mount(withVerity, mnt, "squashfuse"));
		assertTrue(e.getMessage().contains("carries dm-verity data, which squashfuse cannot check"), e.getMessage());
		assertFalse(ImageMount.isMountPoint(mnt));

		Path sidecar = Files.copy(squashfs, dir.resolve("side.raw"));
		Files.writeString(dir.resolve("side.roothash"), "00".repeat(32) + "\n");
		e = assertThrows(IOException.class, () -> ImageMount.mount(sidecar, dir.resolve("mnt-side"), "squashfuse"));
		assertTrue(e.getMessage().contains("carries dm-verity data"), e.getMessage());
	}

	@Test
	void aDiskWithoutARootPartitionIsRefused() throws Exception {
		Path none = gpt("none.raw", "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
		IOException e = assertThrows(IOException.class, () -> ImageMount.mount(none, dir.resolve("mnt-none"), "squashfuse"));
		assertTrue(e.getMessage().contains("no root or usr partition"), e.getMessage());
	}
}
