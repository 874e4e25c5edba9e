package psi.format.raw.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;

import psi.spi.format.ImageException;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageFormatType;
import psi.spi.format.ImageTree;

/**
 * Raw images: a regular file holding a GPT disk image (the Discoverable
 * Partitions Specification: root or usr partition, squashfs, optionally
 * dm-verity protected and signed), a single partition, or a naked squashfs.
 * Read in pure Java, without mounting and without root.
 */
@Component
@ImageFormatType(type = RawImage.TYPE)
public class RawFormat implements ImageFormat {

	@Override
	public Optional<ImageTree> open(Path path) throws IOException {
		if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
			return Optional.empty();
		}
		String name = path.getFileName().toString();
		boolean named = name.endsWith(".raw") || name.endsWith(".psi");
		FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
		try {
			Optional<ImageTree> image = RawImage.open(path, ch);
			if (image.isEmpty()) {
				ch.close();
				if (named) {
					throw new ImageException("Image '" + path + "' is neither a GPT disk image nor a squashfs file system");
				}
			}
			return image;
		} catch (IOException | RuntimeException e) {
			ch.close();
			throw e;
		}
	}

	/** @return whether the bytes at 0 are a squashfs superblock's magic */
	static boolean isSquashfs(FileChannel ch, long offset) throws IOException {
		ByteBuffer b = ByteBuffer.allocate(4);
		while (b.hasRemaining()) {
			if (ch.read(b, offset + b.position()) < 0) {
				return false;
			}
		}
		return b.get(0) == 'h' && b.get(1) == 's' && b.get(2) == 'q' && b.get(3) == 's';
	}
}
