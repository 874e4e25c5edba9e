package psi.policy.hardened.internal;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import psi.spi.sandbox.SandboxPolicy;
import psi.spi.sandbox.SandboxPolicyType;

/**
 * Hardens every profile: attach adds {@code 15-policy-hardened.conf} beside
 * each service, with protections systemd 252 offers that its portable
 * profiles leave off. Each only takes away, so psi applies it without the
 * admin naming it.
 */
@Component
@SandboxPolicyType(name = "hardened", extend = "*")
public class HardenedPolicy implements SandboxPolicy {

	static final String DROP_IN = """
		# Added by the sandbox policy "hardened" (bundle psi.policy.hardened).
		[Service]
		ProtectClock=yes
		ProtectKernelLogs=yes
		ProtectKernelModules=yes
		ProtectHostname=yes
		RestrictSUIDSGID=yes
		LockPersonality=yes
		RestrictRealtime=yes
		SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap
		""";

	@Override
	public Set<String> profiles() {
		return Set.of();
	}

	@Override
	public Optional<byte[]> serviceConf(String name) {
		return Optional.empty();
	}

	@Override
	public Optional<byte[]> extension(String profile) {
		return Optional.of(DROP_IN.getBytes(StandardCharsets.UTF_8));
	}
}
