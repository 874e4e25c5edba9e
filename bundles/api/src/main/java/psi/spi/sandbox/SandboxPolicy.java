package psi.spi.sandbox;

import java.util.Optional;
import java.util.Set;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A sandbox policy: provides profiles, the {@code service.conf} drop-ins that
 * attach links beside every portable unit as {@code 10-profile.conf}.
 * <p>
 * A profile file found on the host (under {@code /etc}, {@code /run},
 * {@code /usr/local/lib} or {@code /usr/lib} {@code /systemd/portable/profile/NAME/service.conf})
 * always wins over a policy's; a policy serves hosts that lack it and adds
 * new profiles. Among policies the one with the highest
 * {@code service.ranking} wins. Implementations are registered with
 * {@value #PROFILES} listing their profile names (use
 * {@link SandboxPolicyType}) and must be thread safe.
 */
@ConsumerType
public interface SandboxPolicy {

	/** Service property (String[]): the names of the profiles this policy provides. */
	String PROFILES = "psi.sandbox.profiles";

	/** @return the names of the profiles this policy provides */
	Set<String> profiles();

	/**
	 * The {@code service.conf} of a profile.
	 *
	 * @param name a profile name
	 * @return the file's bytes, or empty if this policy does not provide it
	 */
	Optional<byte[]> serviceConf(String name);
}
