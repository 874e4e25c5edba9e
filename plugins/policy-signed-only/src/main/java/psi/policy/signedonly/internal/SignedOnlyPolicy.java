package psi.policy.signedonly.internal;

import java.io.IOException;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import psi.spi.sandbox.AttachSubject;
import psi.spi.sandbox.SandboxPolicy;
import psi.spi.sandbox.SandboxPolicyType;
import psi.spi.verify.Level;

/**
 * Refuses to attach an image that no trusted key signed: neither when it was
 * pulled (and it is unchanged since) nor where it lies (its dm-verity
 * signature, a {@code .roothash.p7s} or a signed {@code SHA256SUMS} beside it).
 */
@Component
@SandboxPolicyType(name = "signed-only")
public class SignedOnlyPolicy implements SandboxPolicy {

	@Override
	public Set<String> profiles() {
		return Set.of();
	}

	@Override
	public Optional<byte[]> serviceConf(String name) {
		return Optional.empty();
	}

	@Override
	public Optional<String> refusal(AttachSubject subject) throws IOException {
		Optional<Level> level = subject.verified();
		if (level.isPresent() && level.get().atLeast(Level.SIGNATURE)) {
			return Optional.empty();
		}
		return Optional.of("image is not signed by a trusted key ("
			+ level.map(l -> "only " + l.label() + " vouches for it").orElse("nothing vouches for it") + ")");
	}
}
