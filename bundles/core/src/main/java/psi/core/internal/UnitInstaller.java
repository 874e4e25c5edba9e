package psi.core.internal;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import psi.api.dto.ChangeDTO;

/**
 * Puts an image's units where a service manager reads them, and takes them
 * away again, inside a {@link Transaction}. {@link PortabledUnitFiles} writes
 * what systemd-portabled writes; a manager that reads units another way
 * brings its own.
 */
interface UnitInstaller {

	/**
	 * What to install.
	 *
	 * @param image the open image
	 * @param units its units to attach
	 * @param profile the sandbox profile
	 * @param policies the policies' drop-ins beside each service, by file name
	 * @param limits psi's drop-in of the admin's firewall and limits beside each service ({@link ResourceLimits}), or {@code null}
	 * @param runtime whether for this boot only
	 * @param copy {@code auto}, {@code copy}, {@code symlink} or {@code mixed}
	 * @param layers the extensions layered over the image
	 * @param style which portabled's drop-ins to write
	 */
	record Plan(ImageResolver.OpenImage image, Collection<ImageReader.UnitFile> units, Profiles.Profile profile,
		List<Profiles.Extension> policies, byte[] limits, boolean runtime,
		String copy, Layers layers, DropInWriter.Style style) {
	}

	/**
	 * The extension images layered over the image, and which layer each unit came from.
	 *
	 * @param extensions the open extensions, bottom first
	 * @param origin unit name → the extension it came from; units of the base are not in it
	 * @param relax whether the extension-release name check was relaxed
	 * @param releases each extension's extension-release fields, in the order of {@code extensions}
	 */
	record Layers(List<ImageResolver.OpenImage> extensions, Map<String, ImageResolver.OpenImage> origin, boolean relax,
		List<Map<String, String>> releases) {

		/** @return the layer a unit came from */
		ImageResolver.OpenImage of(ImageResolver.OpenImage base, String unit) {
			return origin.getOrDefault(unit, base);
		}
	}

	/**
	 * @param unit a unit name
	 * @return where a unit of that name is on the host already, outside what psi attached
	 */
	Optional<String> existing(String unit) throws IOException;

	/** @return the changes, in order, as portabled reports them */
	List<ChangeDTO> install(Transaction tx, Plan plan) throws IOException;

	/**
	 * @param runtime which attached directory
	 * @param units unit name → the paths its marker names (the image, then its extensions)
	 * @return the changes, in order
	 */
	List<ChangeDTO> uninstall(Transaction tx, boolean runtime, Map<String, List<String>> units) throws IOException;
}
