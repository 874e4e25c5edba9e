package psi.format.raw.internal.build;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import psi.format.raw.internal.verity.SidecarFiles;

/**
 * The dm-verity files systemd looks for beside a naked squashfs image
 * {@code X.raw}: {@code X.verity} (the hash device, as {@code veritysetup
 * format} writes it), {@code X.roothash} (the root hash in hex) and, when
 * signed, {@code X.roothash.p7s} (the PKCS#7 signature of that hex, as
 * {@code openssl smime -sign -binary -noattr -outform DER} makes it). Salt
 * and UUID derive from the image's content, as in {@link RawImageWriter}:
 * the same image gives the same files.
 */
public final class VeritySidecars {

	private VeritySidecars() {
	}

	/**
	 * What was written.
	 *
	 * @param rootHash the root hash in hex
	 * @param files the sidecars, in the order written
	 */
	public record Result(String rootHash, List<Path> files) {
	}

	/**
	 * @param image the squashfs, its size a multiple of 4096
	 * @param key signs the root hash, with {@code cert}; or empty
	 */
	public static Result write(Path image, Optional<PrivateKey> key, Optional<X509Certificate> cert) throws IOException {
		List<Path> files = new ArrayList<>();
		try (FileChannel data = FileChannel.open(image, StandardOpenOption.READ)) {
			long size = data.size();
			if (size == 0 || size % RawImageWriter.BLOCK != 0) {
				throw new IOException("'" + image + "' has " + size + " bytes, not a positive multiple of " + RawImageWriter.BLOCK);
			}
			RawImageWriter.HashDevice hash = RawImageWriter.hashDevice(data, 0, size, Seed.of(sha256(data, size)));
			String hex = HexFormat.of().formatHex(hash.root());
			String name = image.getFileName().toString();
			Path verity = image.resolveSibling(SidecarFiles.names(name, ".verity").get(0));
			try (FileChannel out = FileChannel.open(verity, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
				StandardOpenOption.TRUNCATE_EXISTING)) {
				GptWriter.writeFully(out, ByteBuffer.wrap(hash.superblock()), 0);
				GptWriter.writeFully(out, ByteBuffer.allocate(RawImageWriter.BLOCK - hash.superblock().length), hash.superblock().length);
				GptWriter.writeFully(out, ByteBuffer.wrap(hash.tree()), RawImageWriter.BLOCK);
			}
			files.add(verity);
			Path roothash = image.resolveSibling(SidecarFiles.names(name, ".roothash").get(0));
			Files.writeString(roothash, hex + "\n", StandardCharsets.US_ASCII);
			files.add(roothash);
			if (key.isPresent()) {
				Path p7s = image.resolveSibling(SidecarFiles.names(name, ".roothash.p7s").get(0));
				Files.write(p7s, SignaturePartition.pkcs7(hash.root(), key.get(), cert.orElseThrow()));
				files.add(p7s);
			}
			return new Result(hex, files);
		}
	}

	private static byte[] sha256(FileChannel ch, long size) throws IOException {
		MessageDigest md;
		try {
			md = MessageDigest.getInstance("SHA-256");
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("the JDK lacks SHA-256", e);
		}
		ByteBuffer b = ByteBuffer.allocate(1 << 20);
		for (long at = 0; at < size;) {
			b.clear();
			int n = ch.read(b, at);
			if (n < 0) {
				throw new IOException("shrank while it was read");
			}
			md.update(b.array(), 0, n);
			at += n;
		}
		return md.digest();
	}
}
