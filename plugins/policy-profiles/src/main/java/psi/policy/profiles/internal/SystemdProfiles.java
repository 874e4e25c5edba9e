package psi.policy.profiles.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import psi.spi.sandbox.SandboxPolicy;
import psi.spi.sandbox.SandboxPolicyType;

/**
 * systemd 252's four portable profiles, byte for byte as Debian 12's
 * systemd-container ships them, for hosts that lack them. A host's own
 * profile files always win (the engine looks there first).
 */
@Component
@SandboxPolicyType(profiles = { "default", "nonetwork", "strict", "trusted" })
public class SystemdProfiles implements SandboxPolicy {

	static final Set<String> NAMES = Set.of("default", "nonetwork", "strict", "trusted");

	@Override
	public Set<String> profiles() {
		return NAMES;
	}

	@Override
	public Optional<byte[]> serviceConf(String name) {
		if (!NAMES.contains(name)) {
			return Optional.empty();
		}
		try (InputStream in = SystemdProfiles.class.getResourceAsStream(name + "/service.conf")) {
			if (in == null) {
				throw new IllegalStateException("profile " + name + " is missing from bundle psi.policy.profiles");
			}
			return Optional.of(in.readAllBytes());
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}
}
