package psi.format.tar.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import org.tukaani.xz.XZInputStream;

import io.airlift.compress.zstd.ZstdInputStream;

/**
 * How a tar archive is compressed: told by its file name, confirmed by the
 * magic bytes its data starts with.
 */
enum Compression {

	/** A plain tar archive; its check is the {@code ustar} magic of the first header. */
	NONE("tar", new byte[0], ".tar"),
	/** gzip (RFC 1952), decompressed by the JDK; concatenated members are read as one stream. */
	GZIP("gzip", new byte[] { 0x1f, (byte) 0x8b }, ".tar.gz", ".tgz"),
	/** Zstandard, decompressed by aircompressor. */
	ZSTD("zstd", new byte[] { 0x28, (byte) 0xb5, 0x2f, (byte) 0xfd }, ".tar.zst", ".tar.zstd"),
	/** xz, decompressed by tukaani xz. */
	XZ("xz", new byte[] { (byte) 0xfd, '7', 'z', 'X', 'Z', 0 }, ".tar.xz");

	/** The most memory an xz stream may take to decompress, in KiB: {@code xz -9} takes 65 MiB. */
	private static final int XZ_MEMORY_KIB = 256 * 1024;

	private final String label;
	private final byte[] magic;
	private final List<String> suffixes;

	Compression(String label, byte[] magic, String... suffixes) {
		this.label = label;
		this.magic = magic;
		this.suffixes = List.of(suffixes);
	}

	/**
	 * @param fileName a file name
	 * @return the compression its suffix names, or empty if it is not named as a tar archive
	 */
	static Optional<Compression> ofName(String fileName) {
		for (Compression c : values()) {
			for (String s : c.suffixes) {
				if (fileName.endsWith(s) && fileName.length() > s.length()) {
					return Optional.of(c);
				}
			}
		}
		return Optional.empty();
	}

	/**
	 * @param head the first bytes of a file
	 * @return the compression whose magic they start with, or empty
	 */
	static Optional<Compression> sniff(byte[] head) {
		for (Compression c : values()) {
			if (c != NONE && c.matches(head)) {
				return Optional.of(c);
			}
		}
		return Optional.empty();
	}

	/** @return how many bytes of a file {@link #matches} needs at most */
	static int magicLength() {
		return XZ.magic.length;
	}

	/**
	 * @param head the first bytes of a file
	 * @return whether they start with this compression's magic
	 */
	boolean matches(byte[] head) {
		if (head.length < magic.length) {
			return false;
		}
		for (int i = 0; i < magic.length; i++) {
			if (head[i] != magic[i]) {
				return false;
			}
		}
		return true;
	}

	/** @return the name shown, e.g. {@code zstd} */
	String label() {
		return label;
	}

	/**
	 * @param in the compressed bytes
	 * @return the decompressed bytes
	 * @throws IOException if the stream's header is not this compression's
	 */
	InputStream decompress(InputStream in) throws IOException {
		switch (this) {
		case GZIP:
			return new GZIPInputStream(in, 64 * 1024);
		case ZSTD:
			return new ZstdInputStream(in);
		case XZ:
			return new XZInputStream(in, XZ_MEMORY_KIB);
		default:
			return in;
		}
	}
}
