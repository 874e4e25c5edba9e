package psi.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import psi.api.PsiException;
import psi.spi.format.Entry;
import psi.spi.sandbox.SandboxPolicy;

/**
 * The sandbox profiles: the host's {@code service.conf} files in the profile
 * directories first, then the sandbox policy plugins', highest ranking first.
 * Made per operation; not thread safe.
 */
final class Profiles {

	/** Where a profile's {@code service.conf} comes from: a host file, or a policy's bytes. */
	record Profile(String name, String hostPath, byte[] content) {
	}

	/**
	 * A policy with what it registered: its name and the profiles it extends.
	 *
	 * @param name its {@value SandboxPolicy#NAME}, or {@code null}
	 * @param extend its {@value SandboxPolicy#EXTEND}
	 */
	record Policy(SandboxPolicy policy, String name, Set<String> extend) {

		/** @param properties the service's properties */
		static Policy of(Map<String, Object> properties, SandboxPolicy policy) {
			Object n = properties.get(SandboxPolicy.NAME);
			return new Policy(policy, n == null || n.toString().isEmpty() ? null : n.toString(),
				Set.copyOf(PortablesEngine.strings(properties.get(SandboxPolicy.EXTEND))));
		}

		/** @return how psi names it: its name, else its class */
		String label() {
			return name != null ? "'" + name + "'" : policy.getClass().getName();
		}

		boolean extendsProfile(String profile) {
			return extend.contains("*") || extend.contains(profile);
		}
	}

	/**
	 * A policy's drop-in for an attach.
	 *
	 * @param policy the policy's name
	 * @param content the drop-in
	 * @param widening a line per setting that may widen the sandbox ({@link PolicyGuard}); empty when it only tightens
	 */
	record Extension(String policy, byte[] content, List<String> widening) {

		/** @return the drop-in's file name */
		String fileName() {
			return PREFIX + policy + ".conf";
		}
	}

	/** The file names of policies' drop-ins begin so. */
	static final String PREFIX = "15-policy-";
	/** The largest drop-in a policy may give. */
	static final int MAX_EXTENSION = 64 * 1024;
	private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{1,64}");

	private final HostLayout layout;
	private final List<Policy> policies;
	private final PluginCalls calls;
	private final String defaultName;

	/**
	 * @param policies the policies, highest ranking first
	 * @param defaultName the profile attach uses when none is named
	 */
	Profiles(HostLayout layout, List<Policy> policies, PluginCalls calls, String defaultName) {
		this.layout = layout;
		this.policies = policies;
		this.calls = calls;
		this.defaultName = defaultName;
	}

	/** @return the profile attach uses when none is named ({@code defaultProfile} of the engine, {@value #DEFAULT} unless set) */
	String defaultName() {
		return defaultName;
	}

	/**
	 * The drop-ins of the policies that extend a profile, by file name. Of two
	 * policies of one name the higher ranking one counts.
	 *
	 * @param profile the profile's name (a profile given as a path is extended only by policies of every profile)
	 * @return the drop-ins, sorted by file name as systemd reads them
	 */
	List<Extension> extensions(String profile) throws IOException {
		java.util.TreeMap<String, Extension> out = new java.util.TreeMap<>();
		for (Policy p : policies) {
			if (!p.extendsProfile(profile)) {
				continue;
			}
			if (p.name() == null || !NAME.matcher(p.name()).matches() || p.name().startsWith(".")) {
				throw new PsiException("Sandbox policy " + p.label() + " extends profiles but its " + SandboxPolicy.NAME
					+ " is not a name of letters, digits, '-', '_' and '.' (at most 64): refusing to attach without it");
			}
			if (out.containsKey(p.name())) {
				continue;
			}
			String what = "extending profile '" + profile + "'";
			Optional<byte[]> b = PluginCalls.answer(calls.call(PluginCalls.Kind.POLICY, p.policy(), what, () -> p.policy().extension(profile)),
				PluginCalls.Kind.POLICY, p.policy(), what);
			if (b.isEmpty()) {
				continue;
			}
			byte[] content = PluginCalls.answer(b.get(), PluginCalls.Kind.POLICY, p.policy(), what);
			if (content.length > MAX_EXTENSION) {
				throw new PsiException("Sandbox policy " + p.label() + " gave a drop-in of " + content.length + " bytes, more than the "
					+ MAX_EXTENSION + " allowed");
			}
			out.put(p.name(), new Extension(p.name(), content, PolicyGuard.widening(content)));
		}
		return new ArrayList<>(out.values());
	}

	/**
	 * The policies whose drop-ins the attached units have, as {@code psi
	 * status} shows them: the name, and for one that may widen the sandbox,
	 * which settings.
	 *
	 * @param units unit name to attached directory, as {@link AttachmentIndex#units(String)}
	 */
	List<String> attached(Map<String, String> units) throws IOException {
		List<String> out = new ArrayList<>();
		for (Extension e : attachedExtensions(units)) {
			out.add(e.policy() + (e.widening().isEmpty() ? "" : " (named by the admin; may widen the sandbox: " + String.join("; ", e.widening()) + ")"));
		}
		return out;
	}

	/**
	 * @param units unit name to attached directory
	 * @return the policies' drop-ins the attached services have, by policy name (the first of each name)
	 */
	List<Extension> attachedExtensions(Map<String, String> units) throws IOException {
		java.util.TreeMap<String, Extension> out = new java.util.TreeMap<>();
		for (Map.Entry<String, String> u : units.entrySet()) {
			Path dir = layout.real(u.getValue() + "/" + u.getKey() + ".d");
			if (!u.getKey().endsWith(".service") || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
				continue;
			}
			try (var files = Files.newDirectoryStream(dir, PREFIX + "*.conf")) {
				for (Path f : files) {
					String n = f.getFileName().toString();
					String name = n.substring(PREFIX.length(), n.length() - ".conf".length());
					if (out.containsKey(name) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) > MAX_EXTENSION) {
						continue;
					}
					byte[] b = Files.readAllBytes(f);
					out.put(name, new Extension(name, b, PolicyGuard.widening(b)));
				}
			}
		}
		return new ArrayList<>(out.values());
	}

	/**
	 * Asks every policy whether it lets an image be attached.
	 *
	 * @return the first refusal, as one line naming the policy; empty when all let it
	 */
	Optional<String> refusal(psi.spi.sandbox.AttachSubject subject) throws IOException {
		for (Policy p : policies) {
			String what = "judging the attach of " + subject.path();
			Optional<String> r = PluginCalls.answer(calls.call(PluginCalls.Kind.POLICY, p.policy(), what, () -> p.policy().refusal(subject)),
				PluginCalls.Kind.POLICY, p.policy(), what);
			if (r.isPresent()) {
				String reason = PluginCalls.answer(r.get(), PluginCalls.Kind.POLICY, p.policy(), what);
				return Optional.of("Refused by sandbox policy " + p.label() + ": " + UnitValues.show(reason.lines().findFirst().orElse("no reason given")));
			}
		}
		return Optional.empty();
	}

	/** @return the profile of that name; refused when there is none */
	/** The profile attach uses when none is named. */
	static final String DEFAULT = "default";

	/** @return whether the profile confines the service at all ({@code trusted} does not) */
	boolean confines(String name) throws IOException {
		return ProfileGuarantees.of(name, profile(name).content()).confines();
	}

	/** The largest profile file read from a path. */
	static final int MAX_PROFILE_SIZE = 1024 * 1024;

	/**
	 * Refuses what is neither a profile name nor an absolute path to a
	 * profile file ({@code --profile /etc/my/service.conf}, which systemd's
	 * issue 10235 asks of portablectl).
	 */
	static void checkName(String name) {
		if (name.contains("/") ? !name.startsWith("/") : name.startsWith(".") || name.isEmpty()) {
			throw new PsiException("Unit profile name not valid: " + name + (name.contains("/") ? " (a profile file is given by its absolute path)" : ""));
		}
	}

	Profile profile(String name) throws IOException {
		checkName(name);
		if (name.startsWith("/")) {
			return file(name);
		}
		for (String dir : HostLayout.PROFILE_DIRS) {
			String p = dir + "/" + name + "/service.conf";
			if (layout.exists(p, Entry.Kind.FILE)) {
				return new Profile(name, p, Files.readAllBytes(layout.host(layout.resolve(p).path())));
			}
		}
		for (Policy pol : policies) {
			SandboxPolicy policy = pol.policy();
			String what = "giving profile '" + name + "'";
			Optional<byte[]> b = PluginCalls.answer(calls.call(PluginCalls.Kind.POLICY, policy, what, () -> policy.serviceConf(name)),
				PluginCalls.Kind.POLICY, policy, what);
			if (b.isPresent()) {
				return new Profile(name, null, PluginCalls.answer(b.get(), PluginCalls.Kind.POLICY, policy, what));
			}
		}
		throw new PsiException("Profile '" + name + "' not found (available: " + String.join(", ", names()) + ")");
	}

	/** A profile given as the path of its {@code service.conf}, seen from the root: a regular file. */
	private Profile file(String path) throws IOException {
		String p = ImageResolver.viewPath(path);
		UnitValues.checkPath(p);
		TreeResolver.Resolved r = layout.resolve(p);
		if (r.entry().isEmpty()) {
			throw new PsiException("Profile file '" + UnitValues.show(path) + "' not found");
		}
		if (r.entry().get().kind() != Entry.Kind.FILE) {
			throw new PsiException("Profile '" + UnitValues.show(path) + "' is not a regular file, refusing");
		}
		if (r.entry().get().size() > MAX_PROFILE_SIZE) {
			throw new PsiException("Profile file '" + UnitValues.show(path) + "' is " + r.entry().get().size() + " bytes, more than the "
				+ MAX_PROFILE_SIZE + " allowed");
		}
		byte[] b;
		try (var in = Files.newInputStream(layout.host(r.path()), LinkOption.NOFOLLOW_LINKS)) {
			b = in.readNBytes(MAX_PROFILE_SIZE + 1);
		}
		if (b.length > MAX_PROFILE_SIZE) {
			throw new PsiException("Profile file '" + UnitValues.show(path) + "' grew beyond " + MAX_PROFILE_SIZE + " bytes while read");
		}
		return new Profile(p, p, b);
	}

	/** @return every profile name, sorted; a failing policy does not hide the others' */
	List<String> names() throws IOException {
		TreeSet<String> names = new TreeSet<>();
		for (String dir : HostLayout.PROFILE_DIRS) {
			TreeResolver.Resolved r = layout.resolve(dir);
			if (r.entry().isPresent() && r.entry().get().kind() == Entry.Kind.DIRECTORY) {
				for (String n : layout.list(r.path())) {
					if (layout.exists(r.path() + "/" + n + "/service.conf", Entry.Kind.FILE)) {
						names.add(n);
					}
				}
			}
		}
		for (Policy pol : policies) {
			SandboxPolicy p = pol.policy();
			try {
				Set<String> s = calls.call(PluginCalls.Kind.POLICY, p, "listing its profiles", p::profiles);
				if (s != null) {
					names.addAll(s);
				}
			} catch (IOException | PsiException e) {
				// a broken policy does not hide the others' profiles
			}
		}
		return new ArrayList<>(names);
	}

	/**
	 * The profile attached units use: the profile directory its
	 * {@code 10-profile.conf} links to, or the profile whose bytes a copy has.
	 *
	 * @param units unit name to attached directory, as {@link AttachmentIndex#units(String)}
	 * @return the profile name, or {@code null} when there is none to tell
	 */
	String of(Map<String, String> units) throws IOException {
		for (Map.Entry<String, String> u : units.entrySet()) {
			Path conf = layout.real(u.getValue() + "/" + u.getKey() + ".d/10-profile.conf");
			if (Files.isSymbolicLink(conf)) {
				Path target = Files.readSymbolicLink(conf);
				Path dir = target.getParent();
				// a profile of the profile directories by its name, one given as a file by its path
				boolean named = dir != null && dir.getParent() != null && HostLayout.PROFILE_DIRS.contains(dir.getParent().toString())
					&& target.getFileName().toString().equals("service.conf");
				return named ? dir.getFileName().toString() : target.toString();
			}
			if (Files.isRegularFile(conf, LinkOption.NOFOLLOW_LINKS)) {
				byte[] copy = Files.readAllBytes(conf);
				for (String name : names()) {
					if (Arrays.equals(copy, profile(name).content())) {
						return name + " (copied)";
					}
				}
				return "a copy of an unknown profile";
			}
		}
		return null;
	}
}
