package psi.format.raw.internal.verity;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import psi.format.raw.internal.gpt.Fixtures;

/** dm-verity trees made by the real {@code veritysetup format} (cryptsetup-bin), on plain files. */
final class VerityFixtures {

	private static final Pattern ROOT = Pattern.compile("(?m)^Root hash:\\s+([0-9a-f]+)\\s*$");
	private static final Pattern SALT = Pattern.compile("(?m)^Salt:\\s+(\\S+)\\s*$");

	private VerityFixtures() {
	}

	/** What veritysetup printed. */
	record Formatted(byte[] root, byte[] salt, String out) {
	}

	/** {@code veritysetup format [options] DATA HASH}. */
	static Formatted format(Path data, Path hash, String... options) throws IOException {
		List<String> cmd = new ArrayList<>(List.of("veritysetup", "format"));
		cmd.addAll(List.of(options));
		cmd.add(data.toString());
		cmd.add(hash.toString());
		String out = Fixtures.run(cmd, null);
		Matcher r = ROOT.matcher(out);
		Matcher s = SALT.matcher(out);
		if (!r.find() || !s.find()) {
			throw new IOException("no root hash or salt in: " + out);
		}
		byte[] salt = s.group(1).equals("-") ? new byte[0] : HexFormat.of().parseHex(s.group(1));
		return new Formatted(HexFormat.of().parseHex(r.group(1)), salt, out);
	}

	/** {@code veritysetup verify DATA HASH ROOT [options]}: exit status 0 or not. */
	static int verifyStatus(Path data, Path hash, byte[] root, String... options) throws IOException {
		List<String> cmd = new ArrayList<>(List.of("veritysetup", "verify"));
		cmd.addAll(List.of(options));
		cmd.add(data.toString());
		cmd.add(hash.toString());
		cmd.add(HexFormat.of().formatHex(root));
		return Fixtures.exec(cmd, null).status();
	}

	/**
	 * Data of {@code bytes} bytes, seeded: random blocks, with runs of zero and
	 * of repeated blocks among them, as file systems have.
	 */
	static Path data(Path file, long bytes, long seed) throws IOException {
		Random r = new Random(seed);
		byte[] block = new byte[4096];
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
			f.setLength(0);
			for (long at = 0; at < bytes; at += block.length) {
				int kind = r.nextInt(8);
				if (kind == 0) {
					java.util.Arrays.fill(block, (byte) 0);
				} else if (kind != 1) {
					r.nextBytes(block);
				}
				f.write(block, 0, (int) Math.min(block.length, bytes - at));
			}
		}
		return file;
	}

	static void flip(Path file, long offset) throws IOException {
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
			f.seek(offset);
			int b = f.read();
			f.seek(offset);
			f.write(b ^ 0x01);
		}
	}

	static byte[] bytes(Path file, long offset, int len) throws IOException {
		byte[] b = new byte[len];
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
			f.seek(offset);
			f.readFully(b);
		}
		return b;
	}

	static long size(Path file) throws IOException {
		return Files.size(file);
	}
}
