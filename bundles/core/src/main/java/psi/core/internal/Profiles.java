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

	private final HostLayout layout;
	private final List<SandboxPolicy> policies;
	private final PluginCalls calls;

	/** @param policies the policies, highest ranking first */
	Profiles(HostLayout layout, List<SandboxPolicy> policies, PluginCalls calls) {
		this.layout = layout;
		this.policies = policies;
		this.calls = calls;
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
		for (SandboxPolicy policy : policies) {
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
		for (SandboxPolicy p : policies) {
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
