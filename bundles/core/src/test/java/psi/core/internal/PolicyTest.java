package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.PullResultDTO;
import psi.api.dto.VerifyLevel;
import psi.spi.format.DirectoryTree;
import psi.spi.format.ImageFormat;
import psi.spi.format.ImageTree;
import psi.spi.sandbox.AttachSubject;
import psi.spi.sandbox.SandboxPolicy;

/**
 * Third-party policies: a drop-in {@code 15-policy-NAME.conf} beside each
 * service for the profiles a policy extends, removed by detach; one that may
 * widen the sandbox only when the admin names it; refusals before anything
 * is written.
 */
class PolicyTest {

	@TempDir
	Path root;

	final List<Profiles.Policy> policies = new ArrayList<>();
	final AtomicInteger verifications = new AtomicInteger();
	VerifyLevel level = VerifyLevel.NONE;
	TestHost host;

	static final String HARD = "[Service]\nProtectClock=yes\nSystemCallFilter=~@mount @reboot\n";

	static SandboxPolicy profiles() {
		return new SandboxPolicy() {
			@Override
			public Set<String> profiles() {
				return Set.of("default", "trusted");
			}

			@Override
			public Optional<byte[]> serviceConf(String name) {
				return Optional.of((name.equals("trusted") ? "[Service]\n" : "[Service]\nDynamicUser=yes\nPrivateTmp=yes\n").getBytes(StandardCharsets.UTF_8));
			}
		};
	}

	static SandboxPolicy extending(String content) {
		return new SandboxPolicy() {
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
				return Optional.of(content.getBytes(StandardCharsets.UTF_8));
			}
		};
	}

	@BeforeEach
	void setUp() throws IOException {
		policies.add(new Profiles.Policy(profiles(), null, Set.of()));
		ImageFormat dirs = path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? Optional.<ImageTree>of(new DirectoryTree(path, "directory"))
			: Optional.empty();
		host = new TestHost(new HostLayout(root), List.of(dirs), policies, path -> {
			verifications.incrementAndGet();
			PullResultDTO r = new PullResultDTO();
			r.level = level;
			return r;
		});
		Path img = root.resolve("var/lib/portables/app");
		Files.createDirectories(img.resolve("usr/lib/systemd/system"));
		Files.writeString(img.resolve("usr/lib/os-release"), "ID=test\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/app.service"), "[Service]\nExecStart=/bin/true\n");
		Files.writeString(img.resolve("usr/lib/systemd/system/app.socket"), "[Socket]\nListenStream=/run/app.sock\n");
	}

	static AttachRequestDTO attach(String profile, String... named) {
		AttachRequestDTO r = new AttachRequestDTO();
		r.image = "app";
		r.profile = profile;
		r.policies = List.of(named);
		return r;
	}

	Path dropIn(String unit, String name) {
		return root.resolve("etc/systemd/system.attached/" + unit + ".d/15-policy-" + name + ".conf");
	}

	@Test
	void anExtendingPolicyAddsItsDropInBesideEachServiceAndDetachRemovesIt() throws IOException {
		policies.add(new Profiles.Policy(extending(HARD), "hardened", Set.of("*")));
		host.attach(attach("default"), false);
		assertEquals(HARD, Files.readString(dropIn("app.service", "hardened")));
		// sockets get no profile, and no policy either
		assertFalse(Files.exists(dropIn("app.socket", "hardened")));
		assertEquals(List.of("hardened"), host.host.profiles().attached(
			java.util.Map.of("app.service", "/etc/systemd/system.attached")));
		DetachRequestDTO d = new DetachRequestDTO();
		d.image = "app";
		host.detach(d);
		assertFalse(Files.exists(root.resolve("etc/systemd/system.attached/app.service.d")), "the drop-in directory is gone");
	}

	@Test
	void aPolicyExtendsOnlyTheProfilesItNames() throws IOException {
		policies.add(new Profiles.Policy(extending(HARD), "for-default", Set.of("default")));
		host.attach(attach("trusted"), false);
		assertFalse(Files.exists(dropIn("app.service", "for-default")));
	}

	@Test
	void aPolicyThatMayWidenIsRefusedUnlessNamed() throws IOException {
		policies.add(new Profiles.Policy(extending("[Service]\nPrivateTmp=no\nCapabilityBoundingSet=CAP_SYS_ADMIN\n"), "loose", Set.of("*")));
		PsiException e = assertThrows(PsiException.class, () -> host.attach(attach("default"), false));
		assertTrue(e.getMessage().startsWith("Sandbox policy 'loose' may widen profile 'default' (PrivateTmp=no (line 2): does not switch"),
			e.getMessage());
		assertTrue(e.getMessage().endsWith("name it to apply it anyway (--policy loose)"), e.getMessage());
		assertFalse(Files.exists(root.resolve("etc/systemd/system.attached")), "nothing written");
		host.attach(attach("default", "loose"), false);
		assertTrue(Files.exists(dropIn("app.service", "loose")));
		assertTrue(host.host.profiles().attached(java.util.Map.of("app.service", "/etc/systemd/system.attached")).get(0)
			.startsWith("loose (named by the admin; may widen the sandbox: PrivateTmp=no"));
		// named once, it stays named for a reattach (psi start of another version, psi update)
		host.attach(attach("default"), true);
		assertTrue(Files.exists(dropIn("app.service", "loose")));
	}

	@Test
	void aRefusalStopsTheAttachBeforeAnythingIsWrittenAndVerifiesOnlyWhenAsked() throws IOException {
		SandboxPolicy signedOnly = new SandboxPolicy() {
			@Override
			public Set<String> profiles() {
				return Set.of();
			}

			@Override
			public Optional<byte[]> serviceConf(String name) {
				return Optional.empty();
			}

			@Override
			public Optional<String> refusal(AttachSubject s) throws IOException {
				assertEquals("app", s.name());
				assertEquals("/var/lib/portables/app", s.path());
				assertEquals(List.of("app.service", "app.socket"), s.units());
				assertEquals("test", s.osRelease().get("ID"));
				s.verified();
				return s.verified().filter(l -> l == psi.spi.verify.Level.SIGNATURE).isPresent() ? Optional.empty()
					: Optional.of("image is not signed\nsecond line dropped");
			}
		};
		policies.add(new Profiles.Policy(signedOnly, "signed-only", Set.of()));
		PsiException e = assertThrows(PsiException.class, () -> host.attach(attach("default"), false));
		assertEquals("Image /var/lib/portables/app: Refused by sandbox policy 'signed-only': image is not signed", e.getMessage());
		assertEquals(1, verifications.get(), "verified once, however often asked");
		assertFalse(Files.exists(root.resolve("etc/systemd/system.attached")), "nothing written");
		level = VerifyLevel.SIGNATURE;
		host.attach(attach("default"), false);
		assertTrue(Files.exists(root.resolve("etc/systemd/system.attached/app.service")));
	}

	@Test
	void aPolicyWithoutAValidNameCannotExtend() {
		policies.add(new Profiles.Policy(extending(HARD), "../x", Set.of("*")));
		PsiException e = assertThrows(PsiException.class, () -> host.attach(attach("default"), false));
		assertTrue(e.getMessage().contains("psi.sandbox.name is not a name of letters"), e.getMessage());
	}

	@Test
	void whatOnlyTightensAndWhatMayWiden() {
		assertEquals(List.of(), PolicyGuard.widening(("[Service]\nProtectClock=yes\nProtectSystem=strict\nSystemCallFilter=~@mount\n"
			+ "CapabilityBoundingSet=~CAP_SYS_ADMIN\nIPAddressDeny=any\nMemoryMax=1G\nInaccessiblePaths=/x\nSystemCallArchitectures=native\n"
			+ "RestrictAddressFamilies=none\n# comment\n").getBytes(StandardCharsets.UTF_8)));
		List<String> w = PolicyGuard.widening(("[Unit]\nAfter=x\n[Service]\nProtectSystem=full\nSystemCallFilter=@mount\nSystemCallFilter=\n"
			+ "IPAddressAllow=10.0.0.0/8\nBindPaths=/etc\nUser=root\nNoNewPrivileges=no\nSystemCallArchitectures=x86\n").getBytes(StandardCharsets.UTF_8));
		assertEquals(9, w.size(), String.join("\n", w));
	}
}
