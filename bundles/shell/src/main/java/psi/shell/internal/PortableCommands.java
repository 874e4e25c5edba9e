package psi.shell.internal;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import psi.shell.command.CommandOutput;
import psi.api.LogFollower;
import psi.api.Portables;
import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.AttachState;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.ImageStatusDTO;
import psi.api.dto.InspectRequestDTO;
import psi.api.dto.PullRequestDTO;
import psi.api.dto.PullResultDTO;
import psi.api.dto.VerifyLevel;

/**
 * The portablectl verbs as Gogo commands in scope {@code psi}. Thin: parsing
 * and presentation only, everything else is {@link Portables}. Gogo names
 * cannot hold a dash, so {@code is-attached} and {@code read-only} are the
 * functions {@code isattached} and {@code readonly}; the {@code psi}
 * launcher accepts both spellings.
 */
@Component(service = PortableCommands.class, property = { "osgi.command.scope=psi", //
	"osgi.command.function=list", "osgi.command.function=inspect", "osgi.command.function=lint", "osgi.command.function=build", "osgi.command.function=attach",
	"osgi.command.function=detach", "osgi.command.function=reattach", "osgi.command.function=isattached",
	"osgi.command.function=readonly", "osgi.command.function=setlimit", "osgi.command.function=remove", "osgi.command.function=profiles",
	"osgi.command.function=start", "osgi.command.function=stop", "osgi.command.function=restart", "osgi.command.function=reload", "osgi.command.function=status", "osgi.command.function=logs",
	"osgi.command.function=pull", "osgi.command.function=verify", "osgi.command.function=purge", "osgi.command.function=rollback", "osgi.command.function=versions", "osgi.command.function=update", "osgi.command.function=hold", "osgi.command.function=unhold" })
public class PortableCommands {

	private static final String ROOT = "Operate on the host whose root is DIR (like systemctl --root): files land under DIR, paths written into them are as seen from DIR";

	private static final String EXTENSION = "An extension image (sysext: usr/lib/extension-release.d/extension-release.NAME) layered over the image, by name or path; repeat for more, bottom first";

	private static final String QUIET = "Print nothing but failures (as portablectl -q)";

	private static final String JSON = "Print JSON: pretty, short or off (the default); the fields are those of psi.api.dto";

	private static final String POLICY = "Apply a sandbox policy whose drop-in may widen the profile (psi inspect lists them; psi status shows it); repeat for more";

	private static final String ALLOW_IP = "Allow the services this address prefix even where --deny-ip denies it (IPAddressAllow=: 10.0.0.0/8, ::1/128, any, localhost, link-local, multicast); repeat for more; psi status shows the IP traffic";

	private static final String DENY_IP = "Deny the services this address prefix, or any (IPAddressDeny=); an address allowed too is allowed; repeat for more";

	private static final String MEMORY_MAX = "The most memory the services' control group may use (MemoryMax=: bytes with K, M, G, T, a percentage, or infinity)";

	private static final String CPU_QUOTA = "The most CPU time the services get, in percent of one CPU (CPUQuota=: 50%, 200%)";

	private static final String TASKS_MAX = "The most tasks (processes and threads) the services may have (TasksMax=: a number, a percentage, or infinity)";

	private static final String FORCE = "Attach even when a unit of the same name exists on the host or is active, and accept extensions whose extension-release file is not named after the image";

	private final Portables portables;

	/** @param portables the engine */
	@Activate
	public PortableCommands(@Reference Portables portables) {
		this.portables = portables;
	}

	/**
	 * @param value what Gogo gave for a repeatable option: absent, one value, or the list the launcher makes of repeated ones
	 * @return the values, each image path resolved as {@link #image(String, String)}
	 */
	static List<String> extensions(String root, Object value) {
		return names(value).stream().map(e -> image(root, e)).toList();
	}

	/** @return the values of a repeatable option, as given */
	static List<String> names(Object value) {
		List<String> out = new java.util.ArrayList<>();
		if (value instanceof java.util.Collection<?> c) {
			c.forEach(v -> out.add(String.valueOf(v)));
		} else if (value != null && !String.valueOf(value).isEmpty()) {
			out.add(String.valueOf(value));
		}
		return out;
	}

	/** @return a profile name as it is, a profile file's path resolved as an image path */
	static String profile(String root, String profile) {
		return profile.contains("/") ? image(root, profile) : profile;
	}

	private static String root(String r) {
		return r == null || r.isEmpty() ? null : r;
	}

	/**
	 * The engine has no working directory: a relative image path is resolved
	 * here, against the shell's, and with {@code --root DIR} given as the
	 * path seen from DIR. Names, absolute paths and URLs pass as they are.
	 */
	static String image(String root, String arg) {
		return ImageArguments.resolve(root(root), Invocation.current().cwd(), arg);
	}

	/**
	 * Says on standard error, before the work starts, what portablectl says
	 * before it calls portabled (which prefixes are matched), so that it shows
	 * when the work then fails too.
	 */
	private static void notice(String line) {
		java.io.PrintStream err = Invocation.current().err();
		err.print(line);
		err.flush();
	}

	private static String arrow() {
		return Render.arrow(Invocation.current().env());
	}

	/** portablectl list. */
	@Descriptor("List the portable service images found in the image search path")
	public CommandOutput list(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Print no header and no footer") @Parameter(names = "--no-legend", presentValue = "true", absentValue = "false") boolean noLegend,
		@Descriptor("Also list the partial downloads kept to resume (psi remove --partial removes them)") @Parameter(names = { "-a", "--all" }, presentValue = "true", absentValue = "false") boolean all,
		@Descriptor(JSON + "; an array of images, or with --all an object of images and partials") @Parameter(names = "--json", absentValue = "") String json) {
		Json.Mode mode = Json.mode(json);
		if (mode != Json.Mode.OFF) {
			List<psi.api.dto.ImageDTO> list = portables.list(root(root));
			return Output.of(Json.of(all ? java.util.Map.of("images", list, "partials", portables.partials(root(root))) : list, mode));
		}
		String images = Render.images(portables.list(root(root)), !noLegend);
		return Output.of(all ? images + Render.partials(portables.partials(root(root)), !noLegend) : images);
	}

	/** portablectl inspect. */
	@Descriptor("Show an image's metadata, the unit files that match its prefixes, and what attach would refuse in them (outside the profile's sandbox)")
	public CommandOutput inspect(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("The profile to judge the units under, as attach --profile would (default: defaultProfile of psi.engine, default)") @Parameter(names = { "-p", "--profile" }, absentValue = "") String profile,
		@Descriptor("Print the os-release and unit files themselves") @Parameter(names = "--cat", presentValue = "true", absentValue = "false") boolean cat,
		@Descriptor("Also check the image's integrity block by block (the dm-verity hash tree of a raw image)") @Parameter(names = "--verify", presentValue = "true", absentValue = "false") boolean verify,
		@Descriptor(EXTENSION) @Parameter(names = "--extension", absentValue = "") Object extension,
		@Descriptor("Accept extensions whose extension-release file is not named after the image") @Parameter(names = "--force", presentValue = "true", absentValue = "false") boolean force,
		@Descriptor(JSON) @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("Also check the image for the pitfalls of portable services, as psi lint does (exit status 1 on an error)") @Parameter(names = "--lint", presentValue = "true", absentValue = "false") boolean lint,
		@Descriptor("Image name (searched in /etc/portables, /run/portables, /var/lib/portables, /usr/local/lib/portables, /usr/lib/portables) or path") String image,
		@Descriptor("Unit name prefixes to match (default: the image name up to the first _)") String... prefixes) {
		List<String> p = Arrays.asList(prefixes);
		if (Json.mode(json) == Json.Mode.OFF) {
			notice(Render.matching(p, portables.matchPrefixes(image, p).get(0)));
		}
		InspectRequestDTO req = new InspectRequestDTO();
		req.root = root(root);
		req.image = image(root, image);
		req.extensions = extensions(root, extension);
		req.prefixes = p;
		req.verify = verify;
		req.profile = profile.isEmpty() ? null : profile(root, profile);
		req.relaxExtensionRelease = force;
		Json.Mode mode = Json.mode(json);
		ImageMetadataDTO m = portables.inspect(req);
		if (lint) {
			List<psi.api.dto.FindingDTO> f = portables.lint(req);
			int status = f.stream().anyMatch(x -> x.severity.equals("error")) ? 1 : 0;
			return new Output(mode != Json.Mode.OFF ? Json.of(java.util.Map.of("image", m, "findings", f), mode)
				: Render.inspect(m, cat) + "Lint:\n" + Render.findings(f), "", status);
		}
		return new Output(mode != Json.Mode.OFF ? Json.of(m, mode) : Render.inspect(m, cat), "", 0);
	}

	/** psi build. */
	@Descriptor("Make a portable service image of a directory tree, as the caller, without root or loop devices: a raw GPT disk image (squashfs root, dm-verity hash partition, and a signature partition with --sign/--cert), or with --format squashfs a naked squashfs; checked as psi lint checks (an error leaves nothing behind), written atomically. Also: --init DIR --name NAME writes the skeleton of an image to fill in; --sums DIR writes the SHA256SUMS of a repository directory (and SHA256SUMS.gpg with --gpg-key). Times are clamped to $SOURCE_DATE_EPOCH when set: the same tree gives the same bytes")
	public CommandOutput build(//
		@Descriptor("Write the skeleton of an image into DIR (new or empty)") @Parameter(names = "--init", presentValue = "true", absentValue = "false") boolean init,
		@Descriptor("Write DIR/SHA256SUMS for the files of a repository directory, as sha256sum does, so that psi pull --verify=checksum of its images passes") @Parameter(names = "--sums", presentValue = "true", absentValue = "false") boolean sums,
		@Descriptor("With --sums: also sign it, as SHA256SUMS.gpg, with this key of your gpg keyring (a key id, fingerprint or user id), so that psi pull --verify=signature passes") @Parameter(names = "--gpg-key", absentValue = "") String gpgKey,
		@Descriptor("The image's name, also its unit prefix (letters, digits, '.', '-'; lower-case for --init); default: the tree directory's name up to its first _") @Parameter(names = "--name", absentValue = "") String name,
		@Descriptor("The image's version: the default output is NAME_VERSION.raw") @Parameter(names = "--version", absentValue = "") String version,
		@Descriptor("The image file to write (default: NAME.raw, or NAME_VERSION.raw, in the working directory); replaced atomically if it exists") @Parameter(names = { "-o", "--output" }, absentValue = "") String output,
		@Descriptor("raw (a GPT disk image, the default) or squashfs (a naked squashfs file system)") @Parameter(names = "--format", absentValue = "raw") String format,
		@Descriptor("The squashfs compressor: zstd (the default), gzip, xz or lz4") @Parameter(names = "--compress", absentValue = "zstd") String compress,
		@Descriptor("The squashfs block size, 4K to 1M (default 128K)") @Parameter(names = "--block-size", absentValue = "128K") String blockSize,
		@Descriptor("Sign the dm-verity root hash with this PEM private key (RSA or ECDSA): the raw image gets a signature partition, a squashfs with --sidecars a .roothash.p7s") @Parameter(names = "--sign", absentValue = "") String key,
		@Descriptor("The PEM certificate of the --sign key, which verifiers trust") @Parameter(names = "--cert", absentValue = "") String cert,
		@Descriptor("With --format squashfs: also write the dm-verity sidecars beside the image (NAME.roothash, NAME.verity, and NAME.roothash.p7s when signed)") @Parameter(names = "--sidecars", presentValue = "true", absentValue = "false") boolean sidecars,
		@Descriptor("A raw image without dm-verity: the root partition alone (for kernels without device-mapper, where a verity image cannot run); it cannot be signed") @Parameter(names = "--no-verity", presentValue = "true", absentValue = "false") boolean noVerity,
		@Descriptor("Who owns the files in the image: keep (their owners in the tree, the default) or root") @Parameter(names = "--owner", absentValue = "keep") String owner,
		@Descriptor("Leave extended attributes (user, trusted, security: file capabilities) out of the image") @Parameter(names = "--no-xattrs", presentValue = "true", absentValue = "false") boolean noXattrs,
		@Descriptor("The architecture whose GPT partition types the image gets (x86-64, arm64, ...; default: this host's)") @Parameter(names = "--arch", absentValue = "") String arch,
		@Descriptor("Do not check the image as psi lint does (its errors then do not stop the build)") @Parameter(names = "--no-lint", presentValue = "true", absentValue = "false") boolean noLint,
		@Descriptor("The profile lint judges the units under (default: defaultProfile of psi.engine)") @Parameter(names = { "-p", "--profile" }, absentValue = "") String profile,
		@Descriptor(JSON) @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("The tree to make the image of; with --init, the directory to write the skeleton into; with --sums, the repository directory") String dir) throws java.io.IOException {
		if (sums && init) {
			throw new psi.api.PsiException("psi build takes --init or --sums, not both");
		}
		java.nio.file.Path d = Invocation.current().cwd().resolve(dir).normalize();
		if (sums) {
			List<String> lines = RepositorySums.write(d);
			String out = "Wrote " + d.resolve("SHA256SUMS") + " (" + lines.size() + (lines.size() == 1 ? " file)\n" : " files)\n");
			if (!gpgKey.isEmpty()) {
				return new Output(out + "Wrote " + RepositorySums.sign(d, gpgKey) + "\n", "", 0);
			}
			boolean signed = java.nio.file.Files.exists(d.resolve("SHA256SUMS.gpg")) || java.nio.file.Files.exists(d.resolve("SHA256SUMS.asc"));
			return new Output(out, signed ? "psi build: the signature beside it (SHA256SUMS.gpg or .asc) was made over the old SHA256SUMS: sign it again (psi build --sums DIR --gpg-key KEY)\n" : "", 0);
		}
		if (!gpgKey.isEmpty()) {
			throw new psi.api.PsiException("psi build: --gpg-key goes with --sums DIR");
		}
		if (init) {
			if (name.isEmpty()) {
				throw new psi.api.PsiException("psi build --init needs --name NAME (the image's name, also its unit prefix)");
			}
			List<String> written = ImageSkeleton.write(d, name);
			StringBuilder sb = new StringBuilder();
			written.forEach(w -> sb.append("Wrote ").append(d.resolve(w)).append('\n'));
			// attach takes the unit prefix from the image's file name: a directory named otherwise needs it named
			String prefix = d.getFileName() != null && d.getFileName().toString().split("_", 2)[0].equals(name) ? "" : " " + name;
			sb.append("Next: put the program at ").append(d.resolve("usr/bin/" + name)).append(", then psi build ").append(d)
				.append(prefix.isEmpty() ? "" : " --name" + prefix).append('\n');
			return new Output(sb.toString(), "", 0);
		}
		psi.api.dto.BuildRequestDTO req = ImageArguments.build(d, name, version, output, Invocation.current().cwd(), Invocation.current().env());
		req.format = format;
		req.compression = compress;
		req.blockSize = ImageArguments.blockSize(blockSize);
		req.key = key.isEmpty() ? null : Invocation.current().cwd().resolve(key).normalize().toString();
		req.certificate = cert.isEmpty() ? null : Invocation.current().cwd().resolve(cert).normalize().toString();
		if ((req.key == null) != (req.certificate == null)) {
			throw new psi.api.PsiException("psi build: --sign KEY and --cert CERT go together (the certificate is what verifiers trust)");
		}
		if (sidecars && !format.equals("squashfs")) {
			throw new psi.api.PsiException("psi build: --sidecars goes with --format squashfs (a raw image holds its verity data and signature)");
		}
		if (req.key != null && format.equals("squashfs") && !sidecars) {
			throw new psi.api.PsiException("psi build: a signed squashfs needs --sidecars (the signature is written as NAME.roothash.p7s)");
		}
		req.sidecars = sidecars;
		if (noVerity && (sidecars || req.key != null || format.equals("squashfs"))) {
			throw new psi.api.PsiException("psi build: --no-verity goes with a raw image, unsigned (--sign and --sidecars need the verity data it leaves out)");
		}
		req.verity = !noVerity;
		req.rootOwner = switch (owner) {
			case "root" -> true;
			case "keep" -> false;
			default -> throw new psi.api.PsiException("psi build: --owner " + Render.line(owner) + ": keep or root");
		};
		req.xattrs = !noXattrs;
		req.architecture = arch.isEmpty() ? null : arch;
		req.lint = !noLint;
		req.profile = profile.isEmpty() ? null : profile;
		psi.api.dto.BuildResultDTO r = portables.build(req, TerminalProgress.of(Invocation.current()));
		Json.Mode mode = Json.mode(json);
		int status = r.output == null ? 1 : 0;
		return new Output(mode != Json.Mode.OFF ? Json.of(r, mode) : Render.built(r), "", status);
	}

	/** psi lint. */
	@Descriptor("Check an image for the pitfalls of portable services before it ships: each finding with its severity, place and a one-line remedy; exit status 1 when there is an error (the checks are listed in the README)")
	public CommandOutput lint(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("The profile to judge the units under, as attach --profile would (default: defaultProfile of psi.engine, default)") @Parameter(names = { "-p", "--profile" }, absentValue = "") String profile,
		@Descriptor(JSON) @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("Image name or path") String image,
		@Descriptor("Unit name prefixes to match (default: the image name up to the first _)") String... prefixes) {
		InspectRequestDTO req = new InspectRequestDTO();
		req.root = root(root);
		req.image = image(root, image);
		req.prefixes = Arrays.asList(prefixes);
		req.profile = profile.isEmpty() ? null : profile(root, profile);
		List<psi.api.dto.FindingDTO> f = portables.lint(req);
		int status = f.stream().anyMatch(x -> x.severity.equals("error")) ? 1 : 0;
		Json.Mode mode = Json.mode(json);
		return new Output(mode != Json.Mode.OFF ? Json.of(f, mode) : Render.findings(f), "", status);
	}

	/** portablectl attach. */
	@Descriptor("Attach a portable service image's units to the host")
	public CommandOutput attach(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Security profile linked beside each service: default, nonetwork, strict, trusted, one of the host's, or the path of a service.conf file; a unit that would run outside it is refused (trusted allows all); default: defaultProfile of psi.engine (default)") @Parameter(names = { "-p", "--profile" }, absentValue = "") String profile,
		@Descriptor("Attach until the next reboot only (below /run)") @Parameter(names = "--runtime", presentValue = "true", absentValue = "false") boolean runtime,
		@Descriptor("How units and profiles get onto the host: auto (copy units, link profiles), copy, symlink, mixed") @Parameter(names = "--copy", absentValue = "auto") String copy,
		@Descriptor(FORCE) @Parameter(names = "--force", presentValue = "true", absentValue = "false") boolean force,
		@Descriptor(EXTENSION) @Parameter(names = "--extension", absentValue = "") Object extension,
		@Descriptor(POLICY) @Parameter(names = "--policy", absentValue = "") Object policy,
		@Descriptor(ALLOW_IP) @Parameter(names = "--allow-ip", absentValue = "") Object allowIp,
		@Descriptor(DENY_IP) @Parameter(names = "--deny-ip", absentValue = "") Object denyIp,
		@Descriptor(MEMORY_MAX) @Parameter(names = "--memory-max", absentValue = "") String memoryMax,
		@Descriptor(CPU_QUOTA) @Parameter(names = "--cpu-quota", absentValue = "") String cpuQuota,
		@Descriptor(TASKS_MAX) @Parameter(names = "--tasks-max", absentValue = "") String tasksMax,
		@Descriptor("Start the units after attaching") @Parameter(names = "--now", presentValue = "true", absentValue = "false") boolean now,
		@Descriptor("Enable the units after attaching") @Parameter(names = "--enable", presentValue = "true", absentValue = "false") boolean enable,
		@Descriptor("With --now: do not wait for the start jobs") @Parameter(names = "--no-block", presentValue = "true", absentValue = "false") boolean noBlock,
		@Descriptor("Do not make systemd reload its units") @Parameter(names = "--no-reload", presentValue = "true", absentValue = "false") boolean noReload,
		@Descriptor(QUIET) @Parameter(names = { "-q", "--quiet" }, presentValue = "true", absentValue = "false") boolean quiet,
		@Descriptor("Image name or path") String image,
		@Descriptor("Unit name prefixes to match (default: the image name up to the first _)") String... prefixes) {
		AttachRequestDTO req = request(root, profile, runtime, copy, force, image, prefixes);
		req.extensions = extensions(root, extension);
		req.relaxExtensionRelease = force;
		req.policies = names(policy);
		limits(req, allowIp, denyIp, memoryMax, cpuQuota, tasksMax);
		flags(req, now, enable, noBlock, noReload);
		if (!quiet) {
			notice(Render.matching(req.prefixes, portables.matchPrefixes(image, req.prefixes).get(0)));
		}
		return changes(portables.attach(req, TerminalProgress.of(Invocation.current())), quiet);
	}

	/** portablectl reattach. */
	@Descriptor("Detach an image's units (any version of it) and attach the given version's, in one step")
	public CommandOutput reattach(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Security profile linked beside each service; a unit that would run outside it is refused (trusted allows all); default: defaultProfile of psi.engine (default)") @Parameter(names = { "-p", "--profile" }, absentValue = "") String profile,
		@Descriptor("Reattach below /run") @Parameter(names = "--runtime", presentValue = "true", absentValue = "false") boolean runtime,
		@Descriptor("auto, copy, symlink or mixed, as for attach") @Parameter(names = "--copy", absentValue = "auto") String copy,
		@Descriptor(FORCE) @Parameter(names = "--force", presentValue = "true", absentValue = "false") boolean force,
		@Descriptor(EXTENSION) @Parameter(names = "--extension", absentValue = "") Object extension,
		@Descriptor(POLICY) @Parameter(names = "--policy", absentValue = "") Object policy,
		@Descriptor(ALLOW_IP) @Parameter(names = "--allow-ip", absentValue = "") Object allowIp,
		@Descriptor(DENY_IP) @Parameter(names = "--deny-ip", absentValue = "") Object denyIp,
		@Descriptor(MEMORY_MAX) @Parameter(names = "--memory-max", absentValue = "") String memoryMax,
		@Descriptor(CPU_QUOTA) @Parameter(names = "--cpu-quota", absentValue = "") String cpuQuota,
		@Descriptor(TASKS_MAX) @Parameter(names = "--tasks-max", absentValue = "") String tasksMax,
		@Descriptor("Restart the units that changed, start the new ones, stop the ones that went away") @Parameter(names = "--now", presentValue = "true", absentValue = "false") boolean now,
		@Descriptor("Enable the units after attaching") @Parameter(names = "--enable", presentValue = "true", absentValue = "false") boolean enable,
		@Descriptor("With --now: do not wait for the jobs") @Parameter(names = "--no-block", presentValue = "true", absentValue = "false") boolean noBlock,
		@Descriptor("Do not make systemd reload its units") @Parameter(names = "--no-reload", presentValue = "true", absentValue = "false") boolean noReload,
		@Descriptor(QUIET) @Parameter(names = { "-q", "--quiet" }, presentValue = "true", absentValue = "false") boolean quiet,
		@Descriptor("Image name or path of the new version") String image,
		@Descriptor("Unit name prefixes to match") String... prefixes) {
		AttachRequestDTO req = request(root, profile, runtime, copy, force, image, prefixes);
		req.extensions = extensions(root, extension);
		req.relaxExtensionRelease = force;
		req.policies = names(policy);
		limits(req, allowIp, denyIp, memoryMax, cpuQuota, tasksMax);
		flags(req, now, enable, noBlock, noReload);
		if (!quiet) {
			notice(Render.matching(req.prefixes, portables.matchPrefixes(image, req.prefixes).get(0)));
		}
		return changes(portables.reattach(req, TerminalProgress.of(Invocation.current())), quiet);
	}

	private static void limits(AttachRequestDTO req, Object allowIp, Object denyIp, String memoryMax, String cpuQuota, String tasksMax) {
		req.allowIp = names(allowIp).isEmpty() ? null : names(allowIp);
		req.denyIp = names(denyIp).isEmpty() ? null : names(denyIp);
		req.memoryMax = memoryMax.isEmpty() ? null : memoryMax;
		req.cpuQuota = cpuQuota.isEmpty() ? null : cpuQuota;
		req.tasksMax = tasksMax.isEmpty() ? null : tasksMax;
	}

	private static void flags(AttachRequestDTO req, boolean now, boolean enable, boolean noBlock, boolean noReload) {
		req.now = now;
		req.enable = enable;
		req.noBlock = noBlock;
		req.noReload = noReload;
	}

	private static AttachRequestDTO request(String root, String profile, boolean runtime, String copy, boolean force,
		String image, String[] prefixes) {
		AttachRequestDTO req = new AttachRequestDTO();
		req.root = root(root);
		req.profile = profile(root, profile);
		req.runtime = runtime;
		req.copy = copy;
		req.force = force;
		req.image = image(root, image);
		req.prefixes = Arrays.asList(prefixes);
		return req;
	}

	/** portablectl detach. */
	@Descriptor("Detach a portable service image's units from the host")
	public CommandOutput detach(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Detach units attached with --runtime") @Parameter(names = "--runtime", presentValue = "true", absentValue = "false") boolean runtime,
		@Descriptor("Stop the units first") @Parameter(names = "--now", presentValue = "true", absentValue = "false") boolean now,
		@Descriptor("Disable the units first") @Parameter(names = "--enable", presentValue = "true", absentValue = "false") boolean enable,
		@Descriptor("Do not make systemd reload its units") @Parameter(names = "--no-reload", presentValue = "true", absentValue = "false") boolean noReload,
		@Descriptor("Detach units that are active, without stopping them") @Parameter(names = "--force", presentValue = "true", absentValue = "false") boolean force,
		@Descriptor("Stop the units, then also remove their state, cache, logs, runtime and configuration directories (StateDirectory= ...), never the image") @Parameter(names = "--clean", presentValue = "true", absentValue = "false") boolean clean,
		@Descriptor(EXTENSION + "; only the units attached with exactly these extensions, in this order") @Parameter(names = "--extension", absentValue = "") Object extension,
		@Descriptor(QUIET) @Parameter(names = { "-q", "--quiet" }, presentValue = "true", absentValue = "false") boolean quiet,
		@Descriptor("Image name or path") String image,
		@Descriptor("Accepted as portablectl accepts them; psi stops and detaches exactly the units attached from the image") String... prefixes) {
		DetachRequestDTO req = new DetachRequestDTO();
		req.force = force;
		req.clean = clean;
		req.extensions = extensions(root, extension);
		req.now = now;
		req.enable = enable;
		req.noReload = noReload;
		req.root = root(root);
		req.runtime = runtime;
		req.image = image(root, image);
		return changes(portables.detach(req, TerminalProgress.of(Invocation.current())), quiet);
	}

	/** portablectl is-attached. */
	@Descriptor("Print whether an image is attached (detached, attached, attached-runtime, ...); exit status 1 when detached")
	public CommandOutput isattached(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Print nothing, only set the exit status") @Parameter(names = { "-q", "--quiet" }, presentValue = "true", absentValue = "false") boolean quiet,
		@Descriptor(EXTENSION + "; the state of the units attached with exactly these extensions, in this order") @Parameter(names = "--extension", absentValue = "") Object extension,
		@Descriptor(JSON + "; an object with image and state") @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("Image name or path") String image) {
		Json.Mode mode = Json.mode(json);
		AttachState state = portables.state(root(root), image(root, image), extensions(root, extension));
		Map<String, Object> o = new LinkedHashMap<>();
		o.put("image", image);
		o.put("state", state);
		String out = quiet ? "" : mode != Json.Mode.OFF ? Json.of(o, mode) : state.label() + "\n";
		return new Output(out, "", state == AttachState.DETACHED ? 1 : 0);
	}

	/** portablectl read-only. */
	@Descriptor("Mark an image read-only (or writable with 'no')")
	public CommandOutput readonly(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Image name or path") String image,
		@Descriptor("yes (default) or no") String... value) {
		if (value.length > 1) {
			throw new PsiException("read-only takes one image and at most one boolean, got " + (1 + value.length) + " arguments");
		}
		boolean ro = value.length == 0 || bool(value[0]);
		portables.markReadOnly(root(root), image(root, image), ro);
		return Output.of("");
	}

	/** portablectl set-limit. */
	@Descriptor("Limit the disk space of an image, or of the pool /var/lib/portables (a btrfs quota on a subvolume; its file system's quotas must be on)")
	public CommandOutput setlimit(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("[IMAGE] LIMIT: an image name or path (none: the pool), and the size (K, M, G, T: 1024-based) or - or infinity for no limit") String... args) {
		if (args.length < 1 || args.length > 2) {
			throw new PsiException("set-limit takes [IMAGE] LIMIT, got " + args.length + " arguments");
		}
		long bytes = size(args[args.length - 1]);
		portables.setLimit(root(root), args.length == 2 ? image(root, args[0]) : null, bytes);
		return Output.of("");
	}

	/** @return a size as systemd's {@code parse_size()} with base 1024 reads it, -1 for {@code -} or {@code infinity} */
	static long size(String v) {
		if (v.equals("-") || v.equals("infinity")) {
			return -1;
		}
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([KMGTPE]?)B?").matcher(v);
		if (!m.matches()) {
			throw new PsiException("Failed to parse size value '" + v + "': use a number of bytes with K, M, G, T, P or E, or - for no limit");
		}
		java.math.BigDecimal n = new java.math.BigDecimal(m.group(1));
		int shift = "KMGTPE".indexOf(m.group(2).isEmpty() ? "?" : m.group(2)) + 1;
		java.math.BigDecimal b = n.multiply(java.math.BigDecimal.valueOf(2).pow(10 * shift));
		if (b.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
			throw new PsiException("Failed to parse size value '" + v + "': Numerical result out of range");
		}
		return b.longValue();
	}

	static boolean bool(String v) {
		return switch (v.toLowerCase(java.util.Locale.ROOT)) {
			case "1", "yes", "y", "true", "t", "on" -> true;
			case "0", "no", "n", "false", "f", "off" -> false;
			default -> throw new PsiException("Failed to parse read-only value '" + v + "': expected yes or no");
		};
	}

	/** portablectl remove. */
	@Descriptor("Remove detached images from the host")
	public CommandOutput remove(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Remove the partial downloads kept to resume (see psi list --all) instead of images") @Parameter(names = "--partial", presentValue = "true", absentValue = "false") boolean partial,
		@Descriptor("Image names or paths") String... images) {
		if (partial) {
			if (images.length > 0) {
				throw new PsiException("remove --partial takes no image");
			}
			List<ChangeDTO> changes = portables.removePartials(root(root), TerminalProgress.of(Invocation.current()));
			return new Output("", Render.changes(changes, arrow()), 0);
		}
		if (images.length == 0) {
			throw new PsiException("remove needs at least one image");
		}
		portables.remove(root(root), Arrays.stream(images).map(i -> image(root, i)).toList(), TerminalProgress.of(Invocation.current()));
		return Output.of("");
	}

	/** portablectl --profile=help. */
	@Descriptor("List the security profiles attach can use")
	public CommandOutput profiles(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor(JSON + "; an array of names") @Parameter(names = "--json", absentValue = "") String json) {
		Json.Mode mode = Json.mode(json);
		if (mode != Json.Mode.OFF) {
			return Output.of(Json.of(portables.profiles(root(root)), mode));
		}
		return new Output(String.join("\n", portables.profiles(root(root))) + "\n", "Available unit profiles:\n", 0);
	}

	private static final String VERIFY = "Checks before anything is attached: no, checksum (SHA256SUMS) or signature (OpenPGP-signed SHA256SUMS, signed dm-verity root hash); default: verify of psi.engine, else signature for https and ssh, and for local images whatever they carry";

	private static VerifyLevel verifyLevel(String v) {
		if (v == null || v.isEmpty()) {
			return null;
		}
		try {
			return VerifyLevel.ofOption(v);
		} catch (IllegalArgumentException e) {
			throw new PsiException(e.getMessage());
		}
	}

	private static PullRequestDTO pullRequest(String root, String verify, String source) {
		PullRequestDTO req = new PullRequestDTO();
		req.root = root(root);
		req.source = source;
		req.verify = verifyLevel(verify);
		return req;
	}

	/** psi pull. */
	@Descriptor("Fetch an image (https://, ssh://, file:///), verify it and place it in /var/lib/portables as NAME_VERSION.raw")
	public CommandOutput pull(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor(VERIFY) @Parameter(names = "--verify", absentValue = "") String verify,
		@Descriptor("Pull it even when the pool holds a newer version of the image") @Parameter(names = "--allow-downgrade", presentValue = "true", absentValue = "false") boolean allowDowngrade,
		@Descriptor("The image URL") String url,
		@Descriptor("The image name to give it (default: the name the URL ends in)") String... name) {
		if (name.length > 1) {
			throw new PsiException("pull takes a URL and at most one NAME, got " + (name.length + 1) + " arguments");
		}
		PullRequestDTO req = pullRequest(root, verify, url);
		req.name = name.length == 1 ? name[0] : null;
		req.allowDowngrade = allowDowngrade;
		PullResultDTO r = portables.pull(req, TerminalProgress.of(Invocation.current()));
		return Output.of(Render.pulled(r));
	}

	/** psi verify. */
	@Descriptor("Run the checks psi pull and psi start run, on a URL or a local image, and print what passed; changes nothing")
	public CommandOutput verify(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor(VERIFY) @Parameter(names = "--verify", absentValue = "") String verify,
		@Descriptor("An image URL, path or name") String image) {
		PullResultDTO r = portables.verify(pullRequest(root, verify, image(root, image)), TerminalProgress.of(Invocation.current()));
		return Output.of(Render.verified(r));
	}

	/** psi start. */
	@Descriptor("Pull an image URL if needed, verify it, attach it if it is not attached yet, and start its units (services, sockets, timers)")
	public CommandOutput start(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor(VERIFY) @Parameter(names = "--verify", absentValue = "") String verify,
		@Descriptor("Security profile linked beside each service; a unit that would run outside it is refused (trusted allows all); default: default, or for another version of an attached image the profile it runs with") @Parameter(names = { "-p", "--profile" }, absentValue = "") String profile,
		@Descriptor("Attach below /run") @Parameter(names = "--runtime", presentValue = "true", absentValue = "false") boolean runtime,
		@Descriptor("auto, copy, symlink or mixed, as for attach") @Parameter(names = "--copy", absentValue = "auto") String copy,
		@Descriptor("Run units even without sandbox directives psi's own service manager lacks (psi status shows it)") @Parameter(names = "--allow-unsandboxed", presentValue = "true", absentValue = "false") boolean allowUnsandboxed,
		@Descriptor("Start a version older than the attached one (or pull one older than the pool's newest)") @Parameter(names = "--allow-downgrade", presentValue = "true", absentValue = "false") boolean allowDowngrade,
		@Descriptor(SETTLE) @Parameter(names = "--settle", absentValue = "-1") int settle,
		@Descriptor(HEALTH) @Parameter(names = "--health-cmd", absentValue = "") String healthCmd,
		@Descriptor(POLICY) @Parameter(names = "--policy", absentValue = "") Object policy,
		@Descriptor(ALLOW_IP) @Parameter(names = "--allow-ip", absentValue = "") Object allowIp,
		@Descriptor(DENY_IP) @Parameter(names = "--deny-ip", absentValue = "") Object denyIp,
		@Descriptor(MEMORY_MAX) @Parameter(names = "--memory-max", absentValue = "") String memoryMax,
		@Descriptor(CPU_QUOTA) @Parameter(names = "--cpu-quota", absentValue = "") String cpuQuota,
		@Descriptor(TASKS_MAX) @Parameter(names = "--tasks-max", absentValue = "") String tasksMax,
		@Descriptor("Image URL (https://, ssh://, file:///), name or path; another version of an attached image replaces it (an upgrade)") String image,
		@Descriptor("Unit name prefixes to match (default: the image name up to the first _)") String... prefixes) {
		AttachRequestDTO req = request(root, profile, runtime, copy, false, image, prefixes);
		req.verify = verifyLevel(verify);
		req.allowUnsandboxed = allowUnsandboxed;
		req.allowDowngrade = allowDowngrade;
		req.settle = settle(settle);
		req.healthCommand = healthCmd.isEmpty() ? null : healthCmd;
		req.policies = names(policy);
		limits(req, allowIp, denyIp, memoryMax, cpuQuota, tasksMax);
		return started(root, req.image, portables.start(req, TerminalProgress.of(Invocation.current())));
	}

	private static final String SETTLE = "Seconds the units of another version must stay active before psi keeps it; else it goes back to the version that ran (default: the engine's settle, 10)";

	private static final String HEALTH = "For another version: a command (as ExecStart= takes it) run inside the sandbox of its first service once its units held; it must exit 0 within 30 s, else psi goes back (default: each service's X-Psi-HealthCheck=)";

	private static int settle(int seconds) {
		if (seconds < -1 || seconds > 86_400) {
			throw new PsiException("--settle takes seconds from 0 to 86400, not " + seconds);
		}
		return seconds;
	}

	/** @return what start and rollback print: the changes, and when one failed its last log lines */
	private CommandOutput started(String root, String image, List<ChangeDTO> changes) {
		int status = Render.status(changes);
		String log = "";
		if (status != 0) {
			// a unit failed: its last words, as systemctl's hint would send the admin to them
			try {
				List<String> lines = portables.logs(root(root), image, 10);
				log = lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
			} catch (PsiException e) {
				log = "(no log lines: " + e.getMessage() + ")\n";
			}
		}
		return new Output(log, Render.changes(changes, arrow()), status);
	}

	/** psi rollback. */
	@Descriptor("Go back to an earlier version of an attached image (the newest older one, or VERSION): reattach it, restart its units, and return to the version that ran if they do not stay active")
	public CommandOutput rollback(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor(SETTLE) @Parameter(names = "--settle", absentValue = "-1") int settle,
		@Descriptor(HEALTH) @Parameter(names = "--health-cmd", absentValue = "") String healthCmd,
		@Descriptor("Image name (any version of it)") String image,
		@Descriptor("The version to go back to (default: the newest older than the attached one)") String... version) {
		if (version.length > 1) {
			throw new PsiException("rollback takes an image and at most one VERSION, got " + (1 + version.length) + " arguments");
		}
		AttachRequestDTO req = new AttachRequestDTO();
		req.root = root(root);
		req.image = image(root, image);
		req.profile = "";
		req.settle = settle(settle);
		req.healthCommand = healthCmd.isEmpty() ? null : healthCmd;
		return started(root, req.image, portables.rollback(req, version.length == 1 ? version[0] : null, TerminalProgress.of(Invocation.current())));
	}

	/** psi versions. */
	@Descriptor("List the versions of an image on this host, newest first: which is attached, where each came from, what verified it, when it was pulled and last attached")
	public CommandOutput versions(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Print no header and no footer") @Parameter(names = "--no-legend", presentValue = "true", absentValue = "false") boolean noLegend,
		@Descriptor(JSON + "; an array of versions") @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("Image name (any version of it)") String image) {
		Json.Mode mode = Json.mode(json);
		List<psi.api.dto.VersionDTO> v = portables.versions(root(root), image(root, image));
		return Output.of(mode != Json.Mode.OFF ? Json.of(v, mode) : Render.versions(v, !noLegend));
	}

	/** psi update. */
	@Descriptor("Ask the origin of each image psi pulled (or of the NAMEs) for a newer version (the SHA256SUMS beside it), pull and verify it, and move attached images to it, watched and rolled back if it does not hold; held images are skipped")
	public CommandOutput update(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Only say what is newer; change nothing") @Parameter(names = "--check", presentValue = "true", absentValue = "false") boolean check,
		@Descriptor(SETTLE) @Parameter(names = "--settle", absentValue = "-1") int settle,
		@Descriptor(VERIFY) @Parameter(names = "--verify", absentValue = "") String verify,
		@Descriptor(JSON + "; an array, one entry per image") @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("Image names (default: every image psi pulled)") String... images) {
		psi.api.dto.UpdateRequestDTO req = new psi.api.dto.UpdateRequestDTO();
		req.root = root(root);
		req.images = Arrays.asList(images);
		req.check = check;
		req.settle = settle(settle);
		req.verify = verifyLevel(verify);
		Json.Mode mode = Json.mode(json);
		List<psi.api.dto.UpdateDTO> r = portables.update(req, TerminalProgress.of(Invocation.current()));
		int status = r.stream().anyMatch(u -> u.outcome == psi.api.dto.UpdateDTO.Outcome.FAILED || u.outcome == psi.api.dto.UpdateDTO.Outcome.ROLLED_BACK) ? 1 : 0;
		if (mode != Json.Mode.OFF) {
			return new Output(Json.of(r, mode), "", status);
		}
		StringBuilder err = new StringBuilder();
		r.forEach(u -> err.append(Render.changes(u.changes, arrow())));
		return new Output(Render.updates(r), err.toString(), status);
	}

	/** psi hold. */
	@Descriptor("Hold an image: psi update skips it until psi unhold")
	public CommandOutput hold(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Image name (any version of it)") String image) {
		portables.hold(root(root), image(root, image), true);
		return Output.of("");
	}

	/** psi unhold. */
	@Descriptor("Let psi update update an image again")
	public CommandOutput unhold(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Image name (any version of it)") String image) {
		portables.hold(root(root), image(root, image), false);
		return Output.of("");
	}

	/** psi stop. */
	@Descriptor("Stop every unit of an image, leaving it attached")
	public CommandOutput stop(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Image name or path") String image) {
		return changes(portables.stop(root(root), image(root, image)));
	}

	/** psi restart. */
	@Descriptor("Restart the units of an image (as systemctl restart: what does not run is started)")
	public CommandOutput restart(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Image name or path") String image) {
		return changes(portables.restart(root(root), image(root, image)));
	}

	/** psi reload. */
	@Descriptor("Reload the running services of an image that can (ExecReload=), as systemctl reload")
	public CommandOutput reload(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Image name or path") String image) {
		return changes(portables.reload(root(root), image(root, image)));
	}

	/** psi purge. */
	@Descriptor("Stop, disable and detach an image (every version, runtime and persistent), then remove every version of it from the pool, its links, psi's records and logs of it, and the state, cache, logs, runtime and configuration directories its services left; lists it all and asks first")
	public CommandOutput purge(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Do not ask (needed where standard error is not a terminal)") @Parameter(names = { "-y", "--yes" }, presentValue = "true", absentValue = "false") boolean yes,
		@Descriptor("Keep the services' own directories (StateDirectory=, CacheDirectory=, LogsDirectory=, RuntimeDirectory=, ConfigurationDirectory=)") @Parameter(names = "--keep-data", presentValue = "true", absentValue = "false") boolean keepData,
		@Descriptor("Only list what would be removed and what kept; change nothing") @Parameter(names = "--dry-run", presentValue = "true", absentValue = "false") boolean dryRun,
		@Descriptor(QUIET) @Parameter(names = { "-q", "--quiet" }, presentValue = "true", absentValue = "false") boolean quiet,
		@Descriptor("Image name (every version of it goes) or path") String image) {
		psi.api.dto.PurgeRequestDTO req = new psi.api.dto.PurgeRequestDTO();
		req.root = root(root);
		req.image = image(root, image);
		req.keepData = keepData;
		if (dryRun || !yes) {
			req.dryRun = true;
			String plan = Render.purgePlan(portables.purge(req, ProgressListener.NONE));
			if (dryRun) {
				return Output.of(plan);
			}
			Invocation inv = Invocation.current();
			if (!inv.terminal()) {
				throw new PsiException("psi purge " + image + " removes data and asks first, but standard error is not a terminal: pass --yes"
					+ " (psi purge --dry-run " + image + " lists what goes)");
			}
			inv.err().print(plan + "Purge all of this? [y/N] ");
			inv.err().flush();
			String answer = answer();
			if (!answer.equalsIgnoreCase("y") && !answer.equalsIgnoreCase("yes")) {
				return new Output("", "Not purged: nothing was changed.\n", 1);
			}
			req.dryRun = false;
		}
		return changes(portables.purge(req, TerminalProgress.of(Invocation.current())), quiet);
	}

	/** @return one line the admin typed, trimmed; empty at the end of the input */
	private static String answer() {
		org.apache.felix.service.command.Process p = org.apache.felix.service.command.Process.Utils.current();
		java.io.InputStream in = p == null ? System.in : p.in();
		java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
		try {
			for (int b = in.read(); b >= 0 && b != '\n' && line.size() < 256; b = in.read()) {
				line.write(b);
			}
		} catch (java.io.IOException e) {
			return "";
		}
		return line.toString(java.nio.charset.StandardCharsets.UTF_8).trim();
	}

	/** @return the output of a command that runs jobs: the changes on standard error, failed when one failed */
	private Output changes(List<ChangeDTO> changes) {
		return changes(changes, false);
	}

	/** @param quiet only what failed, as portablectl -q */
	private Output changes(List<ChangeDTO> changes, boolean quiet) {
		List<ChangeDTO> shown = quiet ? changes.stream().filter(c -> c.type == ChangeDTO.Type.FAILED).toList() : changes;
		return new Output("", Render.changes(shown, arrow()), Render.status(changes));
	}

	/** psi status. */
	@Descriptor("Show an image, its units' state and its last log lines; exit status 0 running, 3 not running, 4 no such image")
	public CommandOutput status(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("How many log lines to show") @Parameter(names = { "-n", "--lines" }, absentValue = "10") int lines,
		@Descriptor(JSON + "; the image's status with its units and a log array") @Parameter(names = "--json", absentValue = "") String json,
		@Descriptor("Image name or path") String image) {
		Json.Mode mode = Json.mode(json);
		ImageStatusDTO s = portables.status(root(root), image(root, image));
		List<String> log = List.of();
		if (!Invocation.current().journal()) {
			// as systemctl status tells a user who cannot read the system journal
			log = List.of("Hint: You are currently not seeing messages from the system.",
				"      Users in groups 'adm', 'systemd-journal' can see all messages.");
		} else if (s.managerProblem == null && !s.units.isEmpty()) {
			try {
				log = portables.logs(root(root), image(root, image), lines);
			} catch (PsiException e) {
				log = List.of("(no log lines: " + e.getMessage() + ")");
			}
		}
		if (mode != Json.Mode.OFF) {
			com.google.gson.JsonObject o = Json.tree(s).getAsJsonObject();
			o.add("log", Json.tree(log));
			return new Output(Json.of(o, mode), "", s.state.running() ? 0 : 3);
		}
		return new Output(Render.status(s, log), "", s.state.running() ? 0 : 3);
	}

	/** psi logs. */
	@Descriptor("Show the journal lines of an image's units (journal field PORTABLE=)")
	public CommandOutput logs(//
		@Descriptor(ROOT) @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Keep printing new lines as they come") @Parameter(names = { "-f", "--follow" }, presentValue = "true", absentValue = "false") boolean follow,
		@Descriptor("How many of the newest lines") @Parameter(names = { "-n", "--lines" }, absentValue = "50") int lines,
		@Descriptor("Image name or path") String image) {
		if (!follow) {
			// a service's own words: control characters escaped, so that no image writes to the admin's terminal
			List<String> l = portables.logs(root(root), image(root, image), lines).stream().map(Render::text).toList();
			return Output.of(l.isEmpty() ? "" : String.join("\n", l) + "\n");
		}
		java.io.PrintStream out = Invocation.current().out();
		try (LogFollower f = portables.followLogs(root(root), image(root, image), lines, line -> {
			out.println(Render.text(line));
			out.flush();
		})) {
			f.await();
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
		return Output.of("");
	}
}
