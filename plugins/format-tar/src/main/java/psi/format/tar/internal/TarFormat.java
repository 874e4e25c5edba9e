package psi.format.tar.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import psi.spi.format.ImageFormat;
import psi.spi.format.ImageFormatType;
import psi.spi.format.ImageTree;

/**
 * Tar archives as images: a regular file named {@code *.tar}, {@code
 * *.tar.gz}, {@code *.tgz}, {@code *.tar.zst}, {@code *.tar.zstd} or {@code
 * *.tar.xz} (a final symbolic link is not followed, as for directory and raw
 * images) whose data really is that. Such a file with other data is refused
 * with an {@link psi.spi.format.ImageException} naming it; other names are
 * not claimed. Opening reads the whole archive once, to index it
 * ({@link TarImage}); attaching unpacks it ({@link TarUnpacker}).
 * <p>
 * Thread safe: the configuration is swapped whole; an open image keeps the
 * settings it was opened with.
 */
@Component(configurationPid = TarFormat.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@ImageFormatType(type = TarImage.TYPE)
@Designate(ocd = TarFormat.Config.class)
public class TarFormat implements ImageFormat {

	/** The configuration PID. */
	public static final String PID = "psi.format.tar";

	/** The format's configuration. */
	@ObjectClassDefinition(name = "psi tar format", description = "What psi accepts in tar archives (*.tar, *.tar.gz,"
		+ " *.tgz, *.tar.zst, *.tar.zstd, *.tar.xz) and unpacks to attach them")
	public @interface Config {
		/** @return whether device nodes and FIFOs are unpacked */
		@AttributeDefinition(description = "Unpack character and block devices and FIFOs (with mknod); else an archive"
			+ " holding one is refused when attached")
		boolean allowDevices() default false;

		/** @return whether set-user-ID, set-group-ID and sticky-on-file bits are kept */
		@AttributeDefinition(description = "Keep set-user-ID, set-group-ID and sticky-on-file bits when unpacking;"
			+ " else they are stripped")
		boolean allowSetuid() default false;

		/** @return the most bytes an archive may unpack to */
		@AttributeDefinition(description = "The most bytes the files of an archive may hold in all, unpacked;"
			+ " checked before any is read or written")
		long maxBytes() default 16L << 30;

		/** @return the most entries an archive may hold */
		@AttributeDefinition(description = "The most entries (files, directories, links) an archive may hold")
		int maxEntries() default 1_000_000;
	}

	private volatile TarSettings settings;

	/** @param config the configuration */
	@Activate
	public TarFormat(Config config) {
		this(TarSettings.of(config));
	}

	TarFormat(TarSettings settings) {
		this.settings = settings;
	}

	/** @param config the new configuration; images opened from now on use it */
	@Modified
	void modified(Config config) {
		settings = TarSettings.of(config);
	}

	@Override
	public Optional<ImageTree> open(Path path) throws IOException {
		if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
			return Optional.empty();
		}
		Optional<Compression> compression = Compression.ofName(path.getFileName().toString());
		if (compression.isEmpty()) {
			return Optional.empty();
		}
		TarArchive archive = new TarArchive(path, compression.get());
		archive.checkMagic();
		return Optional.of(TarImage.open(archive, settings));
	}
}
