package psi.format.tar.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A small OS tree and archives of it made by the real tar, gzip, zstd and xz.
 */
final class TarFixtures {

	/** The modification time of every file of the tree. */
	static final FileTime MTIME = FileTime.fromMillis(1_700_000_000_000L);
	/** The content of {@code /usr/lib/os-release}. */
	static final String OS_RELEASE = "ID=psitest\nVERSION_ID=1\n";
	/** The size of {@code /usr/share/big.bin}: larger than what the index keeps in memory. */
	static final int BIG = 200 * 1024;
	/** A name longer than tar's 100-byte header field. */
	static final String LONG_NAME = "usr/share/" + "d".repeat(60) + "/" + "f".repeat(80) + ".txt";

	private TarFixtures() {
	}

	/** Content for the large file: not all zero, not repetitive in 64 KiB blocks. */
	static byte[] big() {
		byte[] b = new byte[BIG];
		for (int i = 0; i < b.length; i++) {
			b[i] = (byte) (i * 31 + i / 251);
		}
		return b;
	}

	/**
	 * Makes the tree: os-release, a unit, a symbolic link to os-release, an
	 * executable and a hard link to it, an empty directory, a large file and a
	 * file with a long name.
	 */
	static void imageTree(Path root) throws IOException {
		Files.createDirectories(root.resolve("usr/lib/systemd/system"));
		Files.createDirectories(root.resolve("usr/bin"));
		Files.createDirectories(root.resolve("etc"));
		Files.createDirectories(root.resolve("var/empty"));
		Files.createDirectories(root.resolve(LONG_NAME).getParent());
		Files.writeString(root.resolve("usr/lib/os-release"), OS_RELEASE);
		Files.writeString(root.resolve("usr/lib/systemd/system/psitest.service"), "[Service]\nExecStart=/usr/bin/tool\n");
		Files.createSymbolicLink(root.resolve("etc/os-release"), Path.of("../usr/lib/os-release"));
		Files.writeString(root.resolve("usr/bin/tool"), "#!/bin/sh\necho tool\n");
		Files.setAttribute(root.resolve("usr/bin/tool"), "unix:mode", 0755);
		Files.createLink(root.resolve("usr/bin/tool-again"), root.resolve("usr/bin/tool"));
		Files.write(root.resolve("usr/share/big.bin"), big());
		Files.writeString(root.resolve(LONG_NAME), "long\n");
		Files.setAttribute(root.resolve("var/empty"), "unix:mode", 0700);
		Files.setAttribute(root, "unix:mode", 0755);
		List<Path> all;
		try (Stream<Path> s = Files.walk(root)) {
			all = new ArrayList<>(s.toList());
		}
		all.sort(Comparator.comparingInt(Path::getNameCount).reversed());
		for (Path p : all) {
			Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(MTIME, null, null);
		}
	}

	/**
	 * @param src the tree
	 * @param out the archive to make
	 * @param options tar options before the members, e.g. {@code --format=posix}
	 * @param members what to archive, relative to {@code src}: {@code .} for all, with {@code ./} names
	 */
	static Path tar(Path src, Path out, List<String> options, String... members) throws IOException {
		List<String> cmd = new ArrayList<>(List.of("tar", "--numeric-owner", "-C", src.toString(), "-cf", out.toString()));
		cmd.addAll(options);
		cmd.addAll(List.of(members));
		run(cmd, null);
		return out;
	}

	/**
	 * @param tar a plain archive
	 * @param name the name of the compressed copy, beside it; its suffix says the compression
	 * @return the compressed copy
	 */
	static Path compress(Path tar, String name) throws IOException {
		Path out = tar.resolveSibling(name);
		Compression c = Compression.ofName(name).orElseThrow();
		switch (c) {
		case NONE:
			Files.copy(tar, out);
			break;
		case GZIP:
			run(List.of("gzip", "-c", tar.toString()), out);
			break;
		case ZSTD:
			run(List.of("zstd", "-q", "-c", tar.toString()), out);
			break;
		case XZ:
			run(List.of("xz", "-c", tar.toString()), out);
			break;
		}
		return out;
	}

	/** Runs a command that must succeed within a minute; its output goes to {@code out}, or is returned. */
	static String run(List<String> cmd, Path out) throws IOException {
		ProcessBuilder pb = new ProcessBuilder(cmd);
		Path err = Files.createTempFile("psi-tar-test", ".err");
		pb.redirectError(err.toFile());
		if (out != null) {
			pb.redirectOutput(out.toFile());
		}
		Process p = pb.start();
		try {
			String stdout = out == null ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) : "";
			assertTrue(p.waitFor(60, TimeUnit.SECONDS), cmd + " did not finish");
			assertEquals(0, p.exitValue(), cmd + " failed: " + Files.readString(err));
			return stdout;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException(e);
		} finally {
			Files.delete(err);
		}
	}
}
