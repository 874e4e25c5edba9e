package psi.spi.sandbox;

import java.io.IOException;
import java.util.Optional;
import java.util.Set;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A sandbox policy. It may do three things:
 * <ul>
 * <li><b>supply profiles</b>: the {@code service.conf} drop-ins that attach
 * links beside every portable unit as {@code 10-profile.conf}. A profile
 * file found on the host (under {@code /etc}, {@code /run},
 * {@code /usr/local/lib} or {@code /usr/lib}
 * {@code /systemd/portable/profile/NAME/service.conf}) always wins over a
 * policy's; a policy serves hosts that lack it and adds new profiles. Among
 * policies the one with the highest {@code service.ranking} wins. Such a
 * policy is registered with {@value #PROFILES} listing their names;</li>
 * <li><b>extend profiles</b>: attach writes its {@link #extension(String)}
 * as {@code UNIT.d/15-policy-NAME.conf} beside each service, between the
 * profile's {@code 10-profile.conf} and the portable {@code 20-portable.conf},
 * where systemd and psi's own service manager both apply it. Such a policy
 * is registered with {@value #NAME} and {@value #EXTEND} (the profiles it
 * extends, {@code *} for all);</li>
 * <li><b>refuse an attach</b> with a one-line reason
 * ({@link #refusal(AttachSubject)}); registered with {@value #NAME}.</li>
 * </ul>
 * Use {@link SandboxPolicyType} for the properties. Implementations must be
 * thread safe. A policy that throws, hangs or answers nothing fails the
 * attach it was asked about, with a line naming it: a policy is never
 * skipped.
 */
@ConsumerType
public interface SandboxPolicy {

	/** Service property (String[]): the names of the profiles this policy provides. */
	String PROFILES = "psi.sandbox.profiles";

	/**
	 * Service property (String): the policy's name, in the file name
	 * {@code 15-policy-NAME.conf} and in what psi reports: letters, digits,
	 * {@code -}, {@code _} and {@code .}, at most 64.
	 *
	 * @since 1.1
	 */
	String NAME = "psi.sandbox.name";

	/**
	 * Service property (String[]): the profiles this policy extends with its
	 * drop-in; {@code *} extends every profile.
	 *
	 * @since 1.1
	 */
	String EXTEND = "psi.sandbox.extend";

	/** @return the names of the profiles this policy provides */
	Set<String> profiles();

	/**
	 * The {@code service.conf} of a profile.
	 *
	 * @param name a profile name
	 * @return the file's bytes, or empty if this policy does not provide it
	 */
	Optional<byte[]> serviceConf(String name);

	/**
	 * The drop-in this policy adds to each service attached under a profile
	 * it extends. It may only tighten the sandbox: psi refuses a drop-in that
	 * widens what the profile confines, unless the admin names the policy
	 * ({@code psi attach --policy NAME}).
	 *
	 * @param profile the name of the profile the service is attached with
	 * @return the drop-in's bytes (a unit file fragment, {@code [Service]}
	 *         section and all), or empty to add nothing for that profile
	 * @since 1.1
	 */
	default Optional<byte[]> extension(String profile) {
		return Optional.empty();
	}

	/**
	 * Asked before anything of an attach is written.
	 *
	 * @param subject the image about to be attached
	 * @return empty to let it be attached, or one line saying why not (e.g.
	 *         {@code image is not signed})
	 * @throws IOException when the policy cannot decide: the attach fails
	 * @since 1.1
	 */
	default Optional<String> refusal(AttachSubject subject) throws IOException {
		return Optional.empty();
	}
}
