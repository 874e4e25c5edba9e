package psi.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import psi.api.dto.AttachRequestDTO;
import psi.api.dto.AttachState;
import psi.api.dto.InspectRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.ImageStatusDTO;
import psi.api.dto.PartialDTO;
import psi.api.dto.PullRequestDTO;
import psi.api.dto.PullResultDTO;

/**
 * The psi engine: portable service images and their attachment to the host,
 * with the meaning of systemd's {@code portablectl}.
 * <p>
 * Every method takes a {@code root}: the directory under which every host path
 * is resolved ({@code null} for the configured root, by default {@code /}), as
 * {@code systemctl --root}. An image argument is a name (searched in the image
 * search paths) or a path (read under the root). All methods are thread safe;
 * operations that change the host are serialized. Every failure is a
 * {@link PsiException} whose message names what is wrong and where; a failed
 * change leaves the host as it was.
 * <p>
 * Every change to a host takes one lock shared by every psi process and
 * thread working on that root ({@code /run/psi/host.lock} under it), held for
 * the change only: fetching and verifying run outside it. A method that
 * takes a {@link ProgressListener} tells it when it has to wait for that lock.
 */
@ProviderType
public interface Portables {

	/**
	 * Lists the images found in the search paths.
	 *
	 * @param root the host root, or {@code null}
	 * @return the images, sorted by name
	 */
	List<ImageDTO> list(String root);

	/**
	 * Finds one image, by name in the search paths or by path, as
	 * {@link #list} describes it, without reading its units and without
	 * asking the service manager (its state is {@code attached} where
	 * {@link #list} may say {@code running}).
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @return the image
	 * @throws PsiException {@link PsiException.Reason#NO_SUCH_IMAGE} when no image has that name
	 * @since 2.3
	 */
	ImageDTO image(String root, String image);

	/**
	 * Reads an image's metadata and the unit files that match the prefixes.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @param prefixes unit name prefixes; empty for the image's default prefix; {@code null} (since 2.3) for every unit
	 * @return the metadata
	 */
	ImageMetadataDTO inspect(String root, String image, List<String> prefixes);

	/**
	 * Reads an image's metadata as {@link #inspect(String, String, List)}, and
	 * when {@code verify} is set also checks its integrity block by block
	 * (the dm-verity hash tree of a raw image) before reading anything else.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @param prefixes unit name prefixes; empty for the image's default prefix; {@code null} (since 2.3) for every unit
	 * @param verify whether to check the image's integrity
	 * @return the metadata, its details including what was checked
	 * @throws PsiException naming the first block that does not match
	 */
	ImageMetadataDTO inspect(String root, String image, List<String> prefixes, boolean verify);

	/**
	 * As {@link #inspect(String, String, List, boolean)}, with each unit's
	 * {@link psi.api.dto.UnitFileDTO#refused} judged under {@code profile}:
	 * what {@code psi attach --profile PROFILE} would refuse.
	 *
	 * @param profile a profile name; {@code null} for {@code default}
	 * @throws PsiException for a profile that does not exist
	 * @since 2.1
	 */
	ImageMetadataDTO inspect(String root, String image, List<String> prefixes, boolean verify, String profile);

	/**
	 * Reads an image's metadata as {@link #inspect(String, String, List, boolean, String)},
	 * with extension images layered over it ({@link InspectRequestDTO#extensions}):
	 * each extension's {@code extension-release} file, and the units of
	 * every layer (a unit of the base wins over one of the same name in an
	 * extension, an earlier extension over a later one). As portabled,
	 * inspect does not check that the extensions fit the base; attach does.
	 *
	 * @param request what to read
	 * @return the metadata
	 * @since 2.4
	 */
	ImageMetadataDTO inspect(InspectRequestDTO request);

	/**
	 * Checks an image for the pitfalls of portable services before it ships
	 * ({@code psi lint}): what attach would refuse, units whose programs the
	 * image lacks, accounts, files and mount points the host never provides,
	 * sockets without their service, templates nothing starts.
	 *
	 * @param request the image, its prefixes and the profile, as for {@link #inspect(InspectRequestDTO)}
	 * @return the findings, errors first; empty for a clean image
	 * @since 2.6
	 */
	java.util.List<psi.api.dto.FindingDTO> lint(InspectRequestDTO request);

	/**
	 * Makes an image of a directory tree ({@code psi build}): a raw disk image
	 * (GPT, squashfs root, dm-verity hash partition, a signature when a key is
	 * given) or a naked squashfs, with the caller's rights. The image is
	 * checked as {@link #lint(InspectRequestDTO)} checks, then put in place
	 * atomically; an error found leaves nothing behind.
	 *
	 * @param request the tree, the output and how to build
	 * @param listener told the steps and the bytes read
	 * @return what was made, and the findings
	 * @throws PsiException when the tree cannot become an image (one line naming the path), or no plugin makes the format
	 * @since 2.7
	 */
	psi.api.dto.BuildResultDTO build(psi.api.dto.BuildRequestDTO request, ProgressListener listener);

	/**
	 * Attaches an image's matching units to the host, all or nothing.
	 *
	 * @param request what to attach and how
	 * @return the changes made, in order
	 */
	default List<ChangeDTO> attach(AttachRequestDTO request) {
		return attach(request, ProgressListener.NONE);
	}

	/**
	 * Attaches an image's matching units to the host, all or nothing.
	 *
	 * @param request what to attach and how
	 * @param listener told when the operation waits for another one on the same host
	 * @return the changes made, in order
	 * @since 1.2
	 */
	List<ChangeDTO> attach(AttachRequestDTO request, ProgressListener listener);

	/**
	 * Detaches an image's units from the host (found by their drop-in marker), all or nothing.
	 *
	 * @param request what to detach
	 * @return the changes made, in order
	 */
	default List<ChangeDTO> detach(DetachRequestDTO request) {
		return detach(request, ProgressListener.NONE);
	}

	/**
	 * Detaches an image's units from the host (found by their drop-in marker), all or nothing.
	 *
	 * @param request what to detach
	 * @param listener told when the operation waits for another one on the same host
	 * @return the changes made, in order
	 * @since 1.2
	 */
	List<ChangeDTO> detach(DetachRequestDTO request, ProgressListener listener);

	/**
	 * Detaches the units of any version of the image and attaches the given
	 * version's, in one step, all or nothing.
	 *
	 * @param request what to attach and how
	 * @return the changes made, in order
	 */
	default List<ChangeDTO> reattach(AttachRequestDTO request) {
		return reattach(request, ProgressListener.NONE);
	}

	/**
	 * Detaches the units of any version of the image and attaches the given
	 * version's, in one step, all or nothing.
	 *
	 * @param request what to attach and how
	 * @param listener told when the operation waits for another one on the same host
	 * @return the changes made, in order
	 * @since 1.2
	 */
	List<ChangeDTO> reattach(AttachRequestDTO request, ProgressListener listener);

	/**
	 * The attachment state of an image: {@code detached}, {@code attached},
	 * {@code attached-runtime}, {@code enabled}, {@code enabled-runtime},
	 * {@code running} or {@code running-runtime}.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @return the state
	 */
	AttachState state(String root, String image);

	/**
	 * As {@link #state(String, String)}, for the units attached with exactly
	 * these extension images, in this order (the drop-in's marker names the
	 * base and then each extension): portabled's
	 * {@code GetImageStateWithExtensions}.
	 *
	 * @param extensions extension names or paths; empty or {@code null} for
	 *            any attachment of the image, with or without extensions
	 * @since 2.4
	 */
	AttachState state(String root, String image, List<String> extensions);

	/**
	 * Marks an image read-only or writable.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @param readOnly the new state
	 */
	void markReadOnly(String root, String image, boolean readOnly);

	/**
	 * Limits the disk space of an image, or of the pool
	 * ({@code /var/lib/portables}), as {@code portablectl set-limit}: a btrfs
	 * quota on a subvolume image (its file system's quotas on).
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path; {@code null} for the pool
	 * @param bytes the most bytes; {@code -1} for no limit
	 * @throws PsiException {@link PsiException.Reason#NOT_SUPPORTED} for an image without quotas
	 * @since 2.4
	 */
	void setLimit(String root, String image, long bytes);

	/**
	 * Removes detached images from the host, all or nothing.
	 *
	 * @param root the host root, or {@code null}
	 * @param images image names or paths
	 * @return the changes made
	 */
	default List<ChangeDTO> remove(String root, List<String> images) {
		return remove(root, images, ProgressListener.NONE);
	}

	/**
	 * Removes detached images from the host, all or nothing.
	 *
	 * @param root the host root, or {@code null}
	 * @param images image names or paths
	 * @param listener told when the operation waits for another one on the same host
	 * @return the changes made
	 * @since 1.2
	 */
	List<ChangeDTO> remove(String root, List<String> images, ProgressListener listener);

	/**
	 * The downloads kept in the pool to resume (an interrupted pull), oldest
	 * first. A pull removes those older than the engine's
	 * {@code partialMaxAge}.
	 *
	 * @param root the host root, or {@code null}
	 * @return the partial downloads
	 * @since 2.0
	 */
	List<PartialDTO> partials(String root);

	/**
	 * Removes the partial downloads no pull is receiving now.
	 *
	 * @param root the host root, or {@code null}
	 * @param listener told when the operation waits for another one on the same host
	 * @return the files removed
	 * @since 2.0
	 */
	List<ChangeDTO> removePartials(String root, ProgressListener listener);

	/**
	 * Lists the profiles an attach can use: the host's and the sandbox policies'.
	 *
	 * @param root the host root, or {@code null}
	 * @return the profile names, sorted
	 */
	List<String> profiles(String root);

	/**
	 * The prefixes an attach or inspect matches units with: the given ones,
	 * or the image's default prefix (its file name cut at the first {@code _},
	 * or without {@code .raw}).
	 *
	 * @param image an image name or path
	 * @param prefixes the prefixes asked for, possibly empty
	 * @return the prefixes used
	 */
	List<String> matchPrefixes(String image, List<String> prefixes);

	/**
	 * Attaches the image if it is not attached yet, then starts its units:
	 * services, sockets, timers and paths; a service that has a socket, timer
	 * or path unit of its own is left to be activated by it; templates are not
	 * started. Starting what runs already changes nothing.
	 *
	 * @param request what to attach and how ({@code now} is implied)
	 * @return the changes and jobs, in order ({@code job} changes: path = unit,
	 *         {@link ChangeDTO#job} the job; {@code running} changes: path = a unit that ran already;
	 *         {@code failed} changes: path = a unit whose job did not succeed or that failed at once,
	 *         source = why; a front end exits non-zero when there is one)
	 */
	default List<ChangeDTO> start(AttachRequestDTO request) {
		return start(request, ProgressListener.NONE);
	}

	/**
	 * Stops every attached unit of an image, leaving it attached.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @return the jobs, as {@link #start}
	 */
	List<ChangeDTO> stop(String root, String image);

	/**
	 * Restarts the units of an image that {@link #start} starts, as
	 * {@code systemctl restart}: running ones are stopped and started, the
	 * others started.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @return the jobs, as {@link #start}
	 * @since 2.2
	 */
	List<ChangeDTO> restart(String root, String image);

	/**
	 * Reloads the running services of an image that can reload
	 * ({@code ExecReload=}), as {@code systemctl reload}.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @return the jobs, as {@link #start}
	 * @throws PsiException when none of its running services can reload
	 * @since 2.2
	 */
	List<ChangeDTO> reload(String root, String image);

	/**
	 * The image and the state of its attached units.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name or path
	 * @return the status
	 * @throws PsiException with exit status 4 when there is no such image and nothing of it is attached
	 */
	ImageStatusDTO status(String root, String image);

	/**
	 * The journal lines of an image's units (journal field {@code PORTABLE=}
	 * the image file name), oldest first, from the service manager's journal.
	 *
	 * @param root the host root, or {@code null}; the journal is the running host's
	 * @param image an image name or path
	 * @param lines how many of the newest lines
	 * @return the lines
	 */
	List<String> logs(String root, String image, int lines);

	/**
	 * Follows the journal lines of an image's units as they come, after the
	 * newest {@code lines}, until the follower is closed.
	 *
	 * @param root the host root, or {@code null}; the journal is the running host's
	 * @param image an image name or path
	 * @param lines how many of the newest lines first
	 * @param sink told each line, from another thread
	 * @return the follower
	 * @since 2.0
	 */
	LogFollower followLogs(String root, String image, int lines, java.util.function.Consumer<String> sink);

	/**
	 * Starts an image as {@link #start(AttachRequestDTO)}, which is this
	 * method without a listener; when
	 * {@link AttachRequestDTO#image} is a URL ({@code https:}, {@code ssh:},
	 * {@code file:}), pulls it first ({@link #pull}). A local image that was
	 * not pulled by psi is verified first as {@link AttachRequestDTO#verify}
	 * asks. Nothing is attached when a check fails.
	 *
	 * @param request the image (URL, path or name) and how to attach it
	 * @param listener told of each step and of the transfer
	 * @return the changes and jobs, as {@link #start(AttachRequestDTO)}
	 */
	List<ChangeDTO> start(AttachRequestDTO request, ProgressListener listener);

	/**
	 * Fetches an image through the transport its URL scheme names, verifies it
	 * ({@link PullRequestDTO#verify}) and places it in the pool
	 * ({@code /var/lib/portables/NAME_VERSION.raw}) atomically. An image that
	 * fails a check leaves nothing behind; an interrupted transfer keeps a
	 * hidden partial file that the next pull of the same URL resumes. When the
	 * pool's copy from the same URL is unchanged, nothing is fetched.
	 *
	 * @param request the URL, the name and the checks
	 * @param listener told of each step and of the transfer
	 * @return what was pulled and what verified it
	 * @throws PsiException naming which check failed and why, or why the fetch failed
	 */
	PullResultDTO pull(PullRequestDTO request, ProgressListener listener);

	/**
	 * Runs the checks of {@link #pull} alone, on a URL (fetched to a staging
	 * file that is removed afterwards) or on a local image, and changes nothing.
	 *
	 * @param request the URL, path or name and the checks
	 * @param listener told of each step and of the transfer
	 * @return what verified it
	 * @throws PsiException naming which check failed and why
	 */
	PullResultDTO verify(PullRequestDTO request, ProgressListener listener);

	/**
	 * Purges an image: stops its units, disables and detaches them (runtime
	 * and persistent, every version), removes every version of it from the
	 * pool ({@code /var/lib/portables}) and its links in {@code /etc/portables}
	 * and {@code /run/portables}, psi's records of where they came from, the
	 * log files psi's own service manager kept of its units, and, unless
	 * {@link PurgeRequestDTO#keepData}, the directories its services'
	 * {@code StateDirectory=}, {@code CacheDirectory=}, {@code LogsDirectory=},
	 * {@code RuntimeDirectory=} and {@code ConfigurationDirectory=} name (with
	 * a dynamic user's {@code private/} ones). Images elsewhere (a vendor's in
	 * {@code /usr/lib/portables}, an admin's file a link pointed to) are kept
	 * and said so. All or nothing: the removals commit together with the
	 * detach, or none is made.
	 *
	 * @param request what to purge, and whether only to say what would go
	 * @param listener told when the host lock is waited for
	 * @return the removals (or, for a dry run, what would be removed and kept)
	 * @throws PsiException no such image nor anything attached of that name
	 * @since 2.5
	 */
	List<ChangeDTO> purge(psi.api.dto.PurgeRequestDTO request, ProgressListener listener);

	/**
	 * The versions of an image on the host, newest first.
	 *
	 * @param root the host root, or {@code null}
	 * @param image an image name, with or without a version
	 * @return its versions; refused when there is none
	 * @since 2.5
	 */
	List<psi.api.dto.VersionDTO> versions(String root, String image);

	/**
	 * Goes back to an earlier version of an attached image, as
	 * {@link #start} moves to a newer one: reattaches it, restarts its
	 * units, and waits {@link AttachRequestDTO#settle} seconds for them to
	 * stay active, else returns to the version that ran.
	 *
	 * @param request {@link AttachRequestDTO#image}: the image's name;
	 *            {@link AttachRequestDTO#settle} as for start
	 * @param version the version to go back to, or {@code null} for the newest older than the attached one
	 * @param listener told of waits for the host lock
	 * @return the changes and jobs, as {@link #start}; a {@code failed} change when it did not hold
	 * @since 2.5
	 */
	List<ChangeDTO> rollback(AttachRequestDTO request, String version, ProgressListener listener);

	/**
	 * Asks the origin of each image psi pulled for a newer version: the
	 * {@code SHA256SUMS} beside the URL it was pulled from lists the files
	 * there (as systemd-sysupdate and importctl read it; for a {@code file:}
	 * URL without one, its directory), and the newest {@code NAME_VERSION}
	 * by systemd's version order is taken. A newer one is pulled and
	 * verified as {@link #pull} does; an attached image then moves to it as
	 * {@link #start} moves, watched and rolled back when it does not hold.
	 * Held images ({@link #hold}) are not asked.
	 *
	 * @param request which images, and whether only to report
	 * @param listener told of each step
	 * @return one entry per image
	 * @since 2.5
	 */
	List<psi.api.dto.UpdateDTO> update(psi.api.dto.UpdateRequestDTO request, ProgressListener listener);

	/**
	 * Holds an image (any version of it) so that {@link #update} skips it,
	 * or lets it be updated again.
	 *
	 * @param root the host root, or {@code null}
	 * @param image the image's name
	 * @param hold hold, or let go
	 * @since 2.5
	 */
	void hold(String root, String image, boolean hold);
}
