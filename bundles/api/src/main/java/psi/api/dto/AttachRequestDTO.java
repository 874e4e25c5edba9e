package psi.api.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/** What to attach and how: the options of {@code portablectl attach}. */
public class AttachRequestDTO extends DTO {
	/** The host root, or {@code null} for the configured one. */
	public String root;
	/** An image name or path. */
	public String image;
	/** Unit name prefixes; empty for the image's default prefix; {@code null} for every unit of the image (since 2.4, as portabled without matches). */
	public List<String> prefixes = new ArrayList<>();
	/** The profile, {@code default} unless set. */
	public String profile = "default";
	/** Attach below {@code /run} (until reboot) instead of {@code /etc}. */
	public boolean runtime;
	/** {@code auto}, {@code copy}, {@code symlink} or {@code mixed}. */
	public String copy = "auto";
	/** Replace units that exist on the host already. */
	public boolean force;
	/**
	 * Extension images layered over the image, bottom first: names in the
	 * search path or absolute paths (portablectl's {@code --extension}).
	 *
	 * @since 2.5
	 */
	public List<String> extensions = new ArrayList<>();
	/**
	 * Accept extensions whose {@code extension-release.NAME} file is not
	 * named after the extension image (portabled's
	 * {@code PORTABLE_FORCE_SYSEXT}, which {@code portablectl --force} sets
	 * with {@link #force}).
	 *
	 * @since 2.5
	 */
	public boolean relaxExtensionRelease;
	/** Start the units after attaching (as {@code portablectl --now}). */
	public boolean now;
	/** Enable the units after attaching (as {@code portablectl --enable}). */
	public boolean enable;
	/** With {@link #now}: do not wait for the start jobs to finish. */
	public boolean noBlock;
	/** Do not make the service manager reload its units afterwards. */
	public boolean noReload;
	/**
	 * Start units even where the service manager lacks sandbox directives
	 * they ask for (psi's own manager; shown by status). @since 2.2
	 */
	public boolean allowUnsandboxed;

	/**
	 * For {@code psi start}: the level that must be reached
	 * (see {@link PullRequestDTO#verify}); {@code null} for the default.
	 * attach, detach and reattach verify nothing, as portablectl.
	 */
	public VerifyLevel verify;

	/**
	 * For {@code psi start} of another version of an attached image: accept
	 * a version older than the attached one (a downgrade), which is refused
	 * otherwise.
	 *
	 * @since 2.6
	 */
	public boolean allowDowngrade;

	/**
	 * For {@code psi start} of another version of an attached image, and for
	 * a rollback: how long, in seconds, the new version's units must stay
	 * active before the change counts as done; if one fails, stops or
	 * restarts within it, psi goes back to the version that ran before.
	 * Negative: the engine's configured default ({@code settle}, 10 s).
	 *
	 * @since 2.6
	 */
	public int settle = -1;

	/**
	 * For a change of version ({@link #settle}): a command, as
	 * {@code ExecStart=} takes it, run inside the sandbox of the new
	 * version's first service with a main process (its namespaces, user and
	 * group) once its units held; it must exit 0 within 30 s, else psi goes
	 * back. {@code null}: each service's own {@code X-Psi-HealthCheck=}, if any.
	 *
	 * @since 2.6
	 */
	public String healthCommand;

	/**
	 * Sandbox policies whose drop-in may widen the sandbox, applied because
	 * the admin names them ({@code --policy NAME}); a policy that only
	 * tightens needs no naming. {@code null}: none.
	 *
	 * @since 2.7
	 */
	public List<String> policies;

	/**
	 * Addresses the service may reach and be reached from
	 * ({@code --allow-ip}, systemd's {@code IPAddressAllow=}): CIDR
	 * prefixes ({@code 10.0.0.0/8}, {@code ::1/128}), single addresses, or
	 * {@code any}, {@code localhost}, {@code link-local}, {@code multicast}.
	 * {@code null}: none given. Any of the five resource settings given
	 * writes psi's drop-in {@code 30-psi-limits.conf} beside each service,
	 * with IP, memory and CPU accounting on.
	 *
	 * @since 2.7
	 */
	public List<String> allowIp;

	/**
	 * Addresses denied ({@code --deny-ip}, {@code IPAddressDeny=}), as
	 * {@link #allowIp}; an address both allowed and denied is allowed, as
	 * systemd decides.
	 *
	 * @since 2.7
	 */
	public List<String> denyIp;

	/** {@code --memory-max} ({@code MemoryMax=}): bytes with K, M, G, T, P or E (base 1024), a percentage, or infinity. @since 2.7 */
	public String memoryMax;

	/** {@code --cpu-quota} ({@code CPUQuota=}): a percentage of one CPU, e.g. {@code 50%} or {@code 200%}. @since 2.7 */
	public String cpuQuota;

	/** {@code --tasks-max} ({@code TasksMax=}): a number of tasks, a percentage, or infinity. @since 2.7 */
	public String tasksMax;
}
