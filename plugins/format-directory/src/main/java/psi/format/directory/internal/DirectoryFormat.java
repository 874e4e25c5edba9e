package psi.format.directory.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;

import psi.spi.format.ImageFormat;
import psi.spi.format.ImageFormatType;
import psi.spi.format.ImageTree;

/**
 * Directory images: any directory on the host holding an OS tree. Ranked
 * low, so that the subvolume format claims btrfs subvolumes first.
 */
@Component(property = "service.ranking:Integer=-100")
@ImageFormatType(type = DirectoryFormat.TYPE)
public class DirectoryFormat implements ImageFormat {

	static final String TYPE = "directory";

	@Override
	public Optional<ImageTree> open(Path path) throws IOException {
		if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
			return Optional.empty();
		}
		return Optional.of(new DirectoryImage(path));
	}
}
