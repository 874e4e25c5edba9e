package psi.core.internal;

import java.util.List;

import psi.spi.format.ImageFormat;
import psi.spi.sandbox.SandboxPolicy;

/**
 * The parts of the engine for one host root and one operation, over one
 * snapshot of the plugins.
 *
 * @param layout where things are on the host
 * @param index what is attached
 * @param images finding and opening images
 * @param profiles the sandbox profiles
 * @param attachments attach, detach, reattach
 * @param catalog list, inspect, state
 * @param pool the pool and its origin records
 */
record Host(HostLayout layout, AttachmentIndex index, ImageResolver images, Profiles profiles, Attachments attachments,
	ImageCatalog catalog, ImagePool pool) {

	/**
	 * @param formats the image formats, highest ranking first
	 * @param policies the sandbox policies, highest ranking first
	 * @param defaultProfile the profile attach uses when none is named
	 */
	static Host of(HostLayout layout, List<ImageFormat> formats, List<Profiles.Policy> policies, PluginCalls calls, String defaultProfile,
		Attachments.Verification verification) {
		AttachmentIndex index = new AttachmentIndex(layout);
		ImageResolver images = new ImageResolver(layout, formats, calls, index);
		Profiles profiles = new Profiles(layout, policies, calls, defaultProfile);
		return new Host(layout, index, images, profiles,
			new Attachments(layout, images, index, profiles, new PortabledUnitFiles(layout), verification),
			new ImageCatalog(layout, images, index, profiles), new ImagePool(layout));
	}

	/** For tests: policies without properties, and nothing to verify images with. */
	static Host plain(HostLayout layout, List<ImageFormat> formats, List<SandboxPolicy> policies, PluginCalls calls) {
		return of(layout, formats, policies.stream().map(p -> new Profiles.Policy(p, null, java.util.Set.of())).toList(), calls,
			Profiles.DEFAULT, path -> new psi.api.dto.PullResultDTO());
	}
}
