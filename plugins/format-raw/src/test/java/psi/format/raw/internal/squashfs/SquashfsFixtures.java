package psi.format.raw.internal.squashfs;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Builds source trees and squashfs images with the real squashfs-tools
 * ({@code mksquashfs}, {@code unsquashfs}; Debian package squashfs-tools),
 * at test time. Ownership and device nodes need root (as in CI); without it
 * they are left out and {@link #isRoot()} says so.
 */
final class SquashfsFixtures {

	private SquashfsFixtures() {
	}

	/** @return whether the tests run as root (chown, mknod, unsquashfs keeping owners) */
	static boolean isRoot() {
		return "root".equals(System.getProperty("user.name"));
	}

	/** Runs a command; fails with its output if it exits non-zero. */
	static String run(List<String> cmd) throws IOException, InterruptedException {
		ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
		Process p;
		try {
			p = pb.start();
		} catch (IOException e) {
			throw new IOException("cannot run " + cmd.get(0) + " (install squashfs-tools): " + e.getMessage(), e);
		}
		byte[] out = p.getInputStream().readAllBytes();
		if (!p.waitFor(10, TimeUnit.MINUTES)) {
			p.destroyForcibly();
			throw new IOException(cmd + " timed out");
		}
		String s = new String(out, StandardCharsets.UTF_8);
		if (p.exitValue() != 0) {
			throw new IOException(cmd + " exited " + p.exitValue() + ":\n" + s);
		}
		return s;
	}

	/** Makes {@code img} from {@code src} with mksquashfs and the given options. */
	static Path mksquashfs(Path src, Path img, String... options) throws IOException, InterruptedException {
		List<String> cmd = new ArrayList<>(List.of("mksquashfs", src.toString(), img.toString(), "-noappend", "-no-progress", "-quiet"));
		cmd.addAll(Arrays.asList(options));
		run(cmd);
		return img;
	}

	/** Extracts {@code img} into {@code dir} (which must not exist) with unsquashfs. */
	static Path unsquashfs(Path img, Path dir) throws IOException, InterruptedException {
		run(List.of("unsquashfs", "-d", dir.toString(), "-f", "-no-progress", "-quiet", img.toString()));
		return dir;
	}

	static void write(Path p, String s) throws IOException {
		Files.createDirectories(p.getParent());
		Files.writeString(p, s);
	}

	static void setXattr(Path p, String name, byte[] value, Map<String, Map<String, byte[]>> expected, String imagePath) throws IOException {
		if (!name.startsWith("user.")) {
			throw new IllegalArgumentException(name);
		}
		UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
		v.write(name.substring(5), ByteBuffer.wrap(value));
		expected.computeIfAbsent(imagePath, k -> new TreeMap<>()).put(name, value);
	}

	/** Text that compresses like source code: words from a small vocabulary. */
	static String text(Random rnd, int bytes) {
		String[] words = { "squashfs", "inode", "directory", "fragment", "block", "portable", "service", "systemd", "the", "a", "of",
			"return", "int", "static", "final", "{", "}", ";", "\n", "\t" };
		StringBuilder b = new StringBuilder(bytes + 16);
		while (b.length() < bytes) {
			b.append(words[rnd.nextInt(words.length)]).append(' ');
		}
		b.setLength(bytes);
		return b.toString();
	}

	static byte[] random(Random rnd, int bytes) {
		byte[] b = new byte[bytes];
		rnd.nextBytes(b);
		return b;
	}

	/**
	 * A tree with every kind of entry squashfs stores: empty, small, multi-block,
	 * incompressible and sparse files; a directory of 300 entries and one of 5000
	 * (several metadata blocks of listing: a directory index); a path 40 deep;
	 * relative, absolute, long and dangling symlinks; hard links; an empty
	 * directory; odd modes; user xattrs (one value shared by several files, so
	 * mksquashfs stores it out of line); and as root: owners, devices, a fifo and
	 * a socket.
	 *
	 * @return the user xattrs set, by image path
	 */
	static Map<String, Map<String, byte[]>> richTree(Path src) throws IOException, InterruptedException {
		Map<String, Map<String, byte[]>> xattrs = new LinkedHashMap<>();
		Random rnd = new Random(42);
		Files.createDirectories(src);
		Files.write(src.resolve("empty"), new byte[0]);
		write(src.resolve("hello.txt"), "hello world\n");
		write(src.resolve("text"), text(rnd, 300_000));
		Files.write(src.resolve("random"), random(rnd, 3 * 131072 + 1000));
		write(src.resolve("exact"), text(rnd, 262144));
		write(src.resolve("small-random-tail"), text(rnd, 5000) + new String(random(rnd, 700), StandardCharsets.ISO_8859_1));
		try (FileChannel ch = FileChannel.open(src.resolve("sparse"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
			ch.write(ByteBuffer.wrap("data in the middle".getBytes(StandardCharsets.UTF_8)), 1 << 20);
			ch.write(ByteBuffer.wrap("end".getBytes(StandardCharsets.UTF_8)), (5 << 20) - 3);
		}
		try (FileChannel ch = FileChannel.open(src.resolve("hole"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
			ch.truncate(0);
			ch.write(ByteBuffer.wrap(new byte[1]), (1 << 20) - 1); // 1 MiB of zeros: every block sparse
		}
		write(src.resolve("dir with space/ünïcödé file"), "unicode\n");
		for (int i = 0; i < 300; i++) {
			write(src.resolve("many/f" + String.format("%03d", i)), "file " + i + "\n" + text(rnd, i * 7));
		}
		Path huge = Files.createDirectories(src.resolve("huge"));
		for (int i = 0; i < 5000; i++) {
			Files.writeString(huge.resolve(String.format("entry-%05d-with-a-longer-name", i)), Integer.toString(i));
		}
		Path deep = src.resolve("deep");
		for (int i = 1; i <= 40; i++) {
			deep = deep.resolve(String.format("d%02d", i));
		}
		write(deep.resolve("leaf.txt"), "deep leaf\n");
		Files.createDirectories(src.resolve("links"));
		Files.createSymbolicLink(src.resolve("links/rel"), Path.of("../hello.txt"));
		Files.createSymbolicLink(src.resolve("links/abs"), Path.of("/etc/os-release"));
		Files.createSymbolicLink(src.resolve("links/dir"), Path.of("../many"));
		Files.createSymbolicLink(src.resolve("links/dangling"), Path.of("nowhere/at/all"));
		Files.createSymbolicLink(src.resolve("links/long"), Path.of("x/".repeat(2000) + "end"));
		write(src.resolve("hard/one"), "hard linked\n");
		Files.createLink(src.resolve("hard/two"), src.resolve("hard/one"));
		Files.createLink(src.resolve("hard/three"), src.resolve("hard/one"));
		Files.createDirectories(src.resolve("emptydir"));
		write(src.resolve("modes/setuid"), "#!/bin/sh\n");
		Files.setAttribute(src.resolve("modes/setuid"), "unix:mode", 04755);
		write(src.resolve("modes/none"), "no access\n");
		Files.setAttribute(src.resolve("modes/none"), "unix:mode", 0);
		Files.createDirectories(src.resolve("modes/sticky"));
		Files.setAttribute(src.resolve("modes/sticky"), "unix:mode", 01777);
		Files.createDirectories(src.resolve("modes/private"));
		Files.setAttribute(src.resolve("modes/private"), "unix:mode", 0700);

		byte[] shared = text(new Random(7), 1000).getBytes(StandardCharsets.UTF_8);
		setXattr(src.resolve("hello.txt"), "user.comment", "a greeting".getBytes(StandardCharsets.UTF_8), xattrs, "/hello.txt");
		setXattr(src.resolve("hello.txt"), "user.shared", shared, xattrs, "/hello.txt");
		setXattr(src.resolve("text"), "user.shared", shared, xattrs, "/text");
		setXattr(src.resolve("random"), "user.shared", shared, xattrs, "/random");
		setXattr(src.resolve("random"), "user.empty", new byte[0], xattrs, "/random");
		setXattr(src.resolve("many"), "user.dir", "on a directory".getBytes(StandardCharsets.UTF_8), xattrs, "/many");
		setXattr(src.resolve("hard/one"), "user.hard", "shared by three names".getBytes(StandardCharsets.UTF_8), xattrs, "/hard/one");
		xattrs.put("/hard/two", xattrs.get("/hard/one"));
		xattrs.put("/hard/three", xattrs.get("/hard/one"));

		if (isRoot()) {
			Path owned = Files.createDirectories(src.resolve("owned"));
			write(owned.resolve("u1234"), "owned by 1234:5678\n");
			own(owned.resolve("u1234"), 1234, 5678);
			write(owned.resolve("nobody"), "nobody\n");
			own(owned.resolve("nobody"), 65534, 65534);
			write(owned.resolve("big-ids"), "big ids\n");
			own(owned.resolve("big-ids"), 4_000_000, 3_000_000);
			Files.createDirectories(owned.resolve("dir"));
			own(owned.resolve("dir"), 1000, 1000);
			Files.setAttribute(owned.resolve("dir"), "unix:mode", 0750);
			Files.createSymbolicLink(owned.resolve("link"), Path.of("u1234"));
			Files.setAttribute(owned.resolve("link"), "unix:uid", 42, LinkOption.NOFOLLOW_LINKS);
			Files.createDirectories(src.resolve("dev"));
			run(List.of("mknod", src.resolve("dev/null").toString(), "c", "1", "3"));
			run(List.of("mknod", src.resolve("dev/loop0").toString(), "b", "7", "0"));
			run(List.of("mknod", src.resolve("dev/loop1").toString(), "b", "7", "1"));
			run(List.of("mknod", src.resolve("dev/big").toString(), "c", "259", "300000"));
			run(List.of("mkfifo", src.resolve("dev/fifo").toString(), src.resolve("dev/fifo2").toString()));
			for (String s : List.of("dev/socket", "dev/socket2")) {
				try (ServerSocketChannel c = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
					c.bind(UnixDomainSocketAddress.of(src.resolve(s)));
				}
			}
			// extended inodes of every type, and the other two xattr prefixes
			for (String p : List.of("links/rel", "dev/null", "dev/loop0", "dev/fifo", "dev/socket", "emptydir", "empty")) {
				byte[] v = ("trusted value of " + p).getBytes(StandardCharsets.UTF_8);
				setXattrAsRoot(src.resolve(p), "trusted.psi", v, xattrs, "/" + p);
				setXattrAsRoot(src.resolve(p), "security.psi", shared, xattrs, "/" + p);
			}
		}
		return xattrs;
	}

	/**
	 * Sets a trusted.* or security.* xattr (root only; Java reaches only
	 * user.*) on any kind of file, links included, with python3's
	 * os.setxattr: this is what gives symlinks, devices, fifos and sockets
	 * extended inodes.
	 *
	 * @return whether it was set (false without python3)
	 */
	static boolean setXattrAsRoot(Path p, String name, byte[] value, Map<String, Map<String, byte[]>> expected, String imagePath)
		throws IOException, InterruptedException {
		if (!isRoot() || !hasPython3()) {
			return false;
		}
		run(List.of("python3", "-c", "import os, sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), follow_symlinks=False)",
			p.toString(), name, java.util.HexFormat.of().formatHex(value)));
		expected.computeIfAbsent(imagePath, k -> new TreeMap<>()).put(name, value);
		return true;
	}

	static boolean hasPython3() {
		try {
			run(List.of("python3", "-c", "import os; os.setxattr"));
			return true;
		} catch (IOException | InterruptedException e) {
			return false;
		}
	}

	private static void own(Path p, int uid, int gid) throws IOException {
		Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
		Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
	}

	/**
	 * A small tree with one of each structure, for patching and fuzzing:
	 * files that need blocks, a fragment and sparse blocks; a directory with
	 * an index at 4 KiB blocks; symlinks; xattrs; a device when root.
	 */
	static void smallTree(Path src) throws IOException, InterruptedException {
		Random rnd = new Random(1);
		Files.createDirectories(src);
		write(src.resolve("a.txt"), "alpha\n");
		write(src.resolve("big"), text(rnd, 20_000));
		Files.write(src.resolve("noise"), random(rnd, 9000));
		try (FileChannel ch = FileChannel.open(src.resolve("sparse"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
			ch.write(ByteBuffer.wrap(new byte[] { 1 }), 20_000);
		}
		Files.write(src.resolve("empty"), new byte[0]);
		for (int i = 0; i < 400; i++) {
			write(src.resolve("dir/entry-with-a-name-" + i), i % 3 == 0 ? "x" + i : "");
		}
		write(src.resolve("sub/deeper/file"), "deeper\n");
		Files.createSymbolicLink(src.resolve("link"), Path.of("a.txt"));
		Files.createSymbolicLink(src.resolve("sub/longlink"), Path.of("y/".repeat(300)));
		Map<String, Map<String, byte[]>> ignored = new LinkedHashMap<>();
		byte[] shared = text(new Random(3), 300).getBytes(StandardCharsets.UTF_8);
		setXattr(src.resolve("a.txt"), "user.one", "1".getBytes(StandardCharsets.UTF_8), ignored, "");
		setXattr(src.resolve("a.txt"), "user.shared", shared, ignored, "");
		setXattr(src.resolve("big"), "user.shared", shared, ignored, "");
		if (isRoot()) {
			run(List.of("mknod", src.resolve("null").toString(), "c", "1", "3"));
			run(List.of("mkfifo", src.resolve("fifo").toString()));
			own(src.resolve("a.txt"), 1000, 100);
		}
	}
}
