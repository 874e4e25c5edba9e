package psi.format.raw.internal.verity;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import psi.format.raw.internal.gpt.Fixtures;
import psi.format.raw.internal.gpt.GptTable;

/**
 * GPT images with dm-verity made without loop devices: sfdisk partitions, a
 * tree by {@code veritysetup format} copied into the verity partition, the
 * signature JSON as systemd-repart writes it (with a made-up signature), and
 * the partition UUIDs set by systemd-repart's convention if asked.
 */
final class VerityImages {

	private VerityImages() {
	}

	/** An image and what it was made with. */
	record Image(Path path, byte[] root, byte[] signature, GptTable table) {
	}

	static final byte[] FAKE_SIGNATURE = "not really PKCS#7".getBytes(StandardCharsets.US_ASCII);

	/**
	 * @param designator "root" or "usr"
	 * @param sig whether to add a signature partition
	 * @param uuids whether the data and verity partition UUIDs carry the root hash
	 */
	static Image make(Path dir, String name, String designator, boolean sig, boolean uuids) throws IOException {
		Path img = Fixtures.sparse(dir.resolve(name), 16 << 20);
		String arch = "x86-64";
		String script = "size=4M, type=" + Fixtures.type(designator + "-" + arch) + ", name=" + designator + "-" + arch + "\n"
			+ "size=1M, type=" + Fixtures.type(designator + "-" + arch + "-verity") + "\n"
			+ (sig ? "size=16K, type=" + Fixtures.type(designator + "-" + arch + "-verity-sig") + "\n" : "");
		Fixtures.sfdisk(img, script);
		GptTable t = read(img);
		Path data = dir.resolve(name + ".data");
		Path hash = dir.resolve(name + ".hash");
		VerityFixtures.data(data, t.partitions().get(0).length(), name.hashCode());
		VerityFixtures.Formatted f = VerityFixtures.format(data, hash, "--data-block-size=512", "--hash-block-size=512");
		try (RandomAccessFile out = new RandomAccessFile(img.toFile(), "rw")) {
			out.seek(t.partitions().get(0).offset());
			out.write(Files.readAllBytes(data));
			out.seek(t.partitions().get(1).offset());
			out.write(Files.readAllBytes(hash));
			if (sig) {
				out.seek(t.partitions().get(2).offset());
				out.write(json(f.root(), FAKE_SIGNATURE).getBytes(StandardCharsets.US_ASCII));
			}
		}
		Files.delete(data);
		Files.delete(hash);
		if (uuids) {
			String hex = HexFormat.of().formatHex(f.root());
			Fixtures.run(List.of("sfdisk", "--part-uuid", img.toString(), "1", uuid(hex.substring(0, 32)).toString()), null);
			Fixtures.run(List.of("sfdisk", "--part-uuid", img.toString(), "2", uuid(hex.substring(hex.length() - 32)).toString()),
				null);
		}
		return new Image(img, f.root(), FAKE_SIGNATURE, read(img));
	}

	static String json(byte[] root, byte[] signature) {
		return "{\"rootHash\":\"" + HexFormat.of().formatHex(root) + "\",\"certificateFingerprint\":\"" + "ab".repeat(32)
			+ "\",\"signature\":\"" + Base64.getEncoder().encodeToString(signature) + "\"}";
	}

	static UUID uuid(String hex32) {
		return UUID.fromString(hex32.replaceFirst("(.{8})(.{4})(.{4})(.{4})(.{12})", "$1-$2-$3-$4-$5"));
	}

	static GptTable read(Path img) throws IOException {
		try (var ch = java.nio.channels.FileChannel.open(img)) {
			return GptTable.read(ch, ch.size(), "image '" + img.getFileName() + "'").orElseThrow();
		}
	}
}
