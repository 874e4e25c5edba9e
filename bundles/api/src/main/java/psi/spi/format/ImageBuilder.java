package psi.spi.format;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongConsumer;

import org.osgi.annotation.versioning.ConsumerType;

import psi.api.dto.BuildRequestDTO;
import psi.api.dto.BuildResultDTO;

/**
 * Makes images from a directory tree ({@code psi build}). The engine picks
 * the builder whose {@value #FORMATS} property names the format asked for
 * (the highest ranking when several do), gives it a file in a directory of
 * its own to write, checks the result and puts it in place: a builder need
 * not write atomically, and must write nothing outside that directory.
 *
 * @since 1.3
 */
@ConsumerType
public interface ImageBuilder {

	/** Service property: the formats it makes, as {@code psi build --format} names them (a String or String[]). */
	String FORMATS = "psi.build.formats";

	/**
	 * @param request what to make; {@code request.output} is where the image goes in the end, for names
	 * @param output the file to write; sidecars go beside it, named after it
	 * @param progress told the bytes of the tree's files read so far
	 * @return what was made ({@code output} and {@code findings} are the engine's to fill)
	 * @throws ImageException naming the file and what is wrong, in one line
	 * @throws IOException on an I/O error
	 */
	BuildResultDTO build(BuildRequestDTO request, Path output, LongConsumer progress) throws IOException;
}
