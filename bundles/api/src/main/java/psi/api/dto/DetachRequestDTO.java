package psi.api.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** What to detach: the options of {@code portablectl detach}. */
public class DetachRequestDTO extends DTO {
	/** The host root, or {@code null} for the configured one. */
	public String root;
	/** An image name or path. */
	public String image;
	/** Detach from below {@code /run} instead of {@code /etc}. */
	public boolean runtime;
	/** Stop the units first (a running unit is not detached otherwise). */
	public boolean now;
	/** Disable the units first. */
	public boolean enable;
	/** Do not make the service manager reload its units afterwards. */
	public boolean noReload;
	/**
	 * Detach units that are active, without stopping them (portabled's
	 * {@code PORTABLE_FORCE_ATTACH}).
	 *
	 * @since 2.4
	 */
	public boolean force;
	/**
	 * Detach only the units attached with exactly these extension images,
	 * in this order; {@code null} or empty for every attachment of the
	 * image, with or without extensions.
	 *
	 * @since 2.5
	 */
	public List<String> extensions;
	/**
	 * After stopping the units and detaching them, remove the directories
	 * their {@code StateDirectory=}, {@code CacheDirectory=},
	 * {@code LogsDirectory=}, {@code RuntimeDirectory=} and
	 * {@code ConfigurationDirectory=} name (with the {@code private/} ones of
	 * a dynamic user), as {@code portablectl detach --clean} of systemd 256;
	 * each is reported as a removal. Implies {@link #now}.
	 *
	 * @since 2.5
	 */
	public boolean clean;
}
