package psi.format.raw.internal.gpt;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Test images made at test time by the real tools: {@code sfdisk} (util-linux),
 * {@code mksquashfs}, {@code systemd-repart}, {@code systemd-dissect}, and
 * {@code veritysetup}. The tools are required (see the README's package
 * list); the ones that need loop devices (systemd-repart with file systems,
 * systemd-dissect) only run as root, see {@link #canUseLoopDevices()}.
 */
public final class Fixtures {

	private Fixtures() {
	}

	/** @return the type GUID of a systemd partition type name, e.g. "root-x86-64-verity" */
	public static String type(String name) {
		return PartitionTypes.byName(name).map(UUID::toString).orElseThrow(() -> new IllegalArgumentException(name));
	}

	/** Runs a command; fails the test, with its output, unless it exits 0. */
	public static String run(List<String> cmd, String stdin) throws IOException {
		Result r = exec(cmd, stdin);
		if (r.status != 0) {
			fail(String.join(" ", cmd) + " exited " + r.status + ": " + r.err + r.out);
		}
		return r.out;
	}

	/** What a command printed and how it exited. */
	public record Result(int status, String out, String err) {
	}

	public static Result exec(List<String> cmd, String stdin) throws IOException {
		Process p = new ProcessBuilder(cmd).start();
		CompletableFuture<String> out = drain(p.getInputStream());
		CompletableFuture<String> err = drain(p.getErrorStream());
		try (var in = p.getOutputStream()) {
			if (stdin != null) {
				in.write(stdin.getBytes(StandardCharsets.UTF_8));
			}
		} catch (IOException e) {
			// it exited without reading all: its status says why
		}
		try {
			if (!p.waitFor(300, TimeUnit.SECONDS)) {
				p.destroyForcibly();
				fail(String.join(" ", cmd) + " did not finish in 300 s");
			}
			return new Result(p.exitValue(), out.get(), err.get());
		} catch (InterruptedException | java.util.concurrent.ExecutionException e) {
			throw new IOException(e);
		}
	}

	private static CompletableFuture<String> drain(InputStream in) {
		return CompletableFuture.supplyAsync(() -> {
			try (in) {
				return new String(in.readAllBytes(), StandardCharsets.UTF_8);
			} catch (IOException e) {
				return "";
			}
		});
	}

	/** A sparse file of {@code size} bytes. */
	public static Path sparse(Path file, long size) throws IOException {
		Files.deleteIfExists(file);
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
			f.setLength(size);
		}
		return file;
	}

	/**
	 * Partitions an image with sfdisk; {@code script} holds the partition lines,
	 * the GPT label is added. util-linux 2.38's sfdisk takes the sector size from
	 * the device only, so 4096-byte sectors go through a loop device with that
	 * sector size (root only).
	 */
	public static Path sfdisk(Path img, String script, int sectorSize) throws IOException {
		onDevice(img, sectorSize, dev -> run(List.of("sfdisk", "-q", "--no-reread", "--no-tell-kernel", dev), "label: gpt\n" + script));
		return img;
	}

	public static Path sfdisk(Path img, String script) throws IOException {
		return sfdisk(img, script, 512);
	}

	/** @return sfdisk's view of the table: {@code partitiontable} of {@code sfdisk --json} */
	public static Map<String, Object> sfdiskJson(Path img, int sectorSize) throws IOException {
		String[] out = new String[1];
		onDevice(img, sectorSize, dev -> out[0] = run(List.of("sfdisk", "--json", dev), null));
		return MiniJson.object(MiniJson.object(MiniJson.parse(out[0])).get("partitiontable"));
	}

	public static Map<String, Object> sfdiskJson(Path img) throws IOException {
		return sfdiskJson(img, 512);
	}

	/** A command on a path: the image itself, or a loop device over it. */
	public interface OnDevice {
		void run(String device) throws IOException;
	}

	private static void onDevice(Path img, int sectorSize, OnDevice action) throws IOException {
		if (sectorSize == 512) {
			action.run(img.toString());
			return;
		}
		assertTrue(canUseLoopDevices(), "4096-byte sector images need a loop device (root): run the tests as root, as CI does");
		String dev = run(List.of("losetup", "--find", "--show", "--sector-size", String.valueOf(sectorSize), img.toString()), null)
			.strip();
		try {
			action.run(dev);
		} finally {
			run(List.of("losetup", "--detach", dev), null);
		}
	}

	/**
	 * @return whether loop devices can be used: root and {@code /dev/loop-control},
	 *         as systemd-dissect and systemd-repart (formatting) need
	 */
	public static boolean canUseLoopDevices() {
		return "root".equals(System.getProperty("user.name")) && Files.exists(Path.of("/dev/loop-control"));
	}

	/** A tiny squashfs with an os-release, to give partitions a file system systemd-dissect accepts. */
	public static Path squashfs(Path dir) throws IOException {
		Path tree = dir.resolve("tree");
		Files.createDirectories(tree.resolve("usr/lib"));
		Files.createDirectories(tree.resolve("etc"));
		Files.writeString(tree.resolve("usr/lib/os-release"), "ID=psitest\n");
		Path img = dir.resolve("fs.squashfs");
		run(List.of("mksquashfs", tree.toString(), img.toString(), "-quiet", "-noappend", "-all-root", "-mkfs-time", "0",
			"-all-time", "0"), null);
		return img;
	}

	/** Writes {@code content} at the start of every partition of the image. */
	public static void fill(Path img, byte[] content) throws IOException {
		Map<String, Object> t = sfdiskJson(img, 512);
		long ss = (Long) t.get("sectorsize");
		try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
			for (Object o : t.get("partitions") == null ? List.of() : MiniJson.list(t.get("partitions"))) {
				f.seek((Long) MiniJson.object(o).get("start") * ss);
				f.write(content);
			}
		}
	}

	/** @return {@code systemd-dissect --json=short IMG}, parsed, or the failure */
	public static Result dissect(Path img) throws IOException {
		return exec(List.of("systemd-dissect", "--json=short", img.toString()), null);
	}
}
