package psi.core.internal;

import java.io.IOException;
import java.util.List;

import psi.api.dto.AttachRequestDTO;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.spi.format.ImageFormat;
import psi.spi.sandbox.SandboxPolicy;

/** The engine's parts on one root, each change in its own committed transaction, for tests. */
final class TestHost {

	final Host host;

	TestHost(HostLayout layout, List<ImageFormat> formats, List<SandboxPolicy> policies) {
		this.host = Host.plain(layout, formats, policies, new PluginCalls(PluginCalls.Limits.DEFAULT));
	}

	TestHost(HostLayout layout, List<ImageFormat> formats, List<Profiles.Policy> policies, Attachments.Verification verification) {
		this.host = Host.of(layout, formats, policies, new PluginCalls(PluginCalls.Limits.DEFAULT), Profiles.DEFAULT, verification);
	}

	List<ChangeDTO> attach(AttachRequestDTO r, boolean reattach) throws IOException {
		try (Transaction tx = new Transaction(host.layout())) {
			List<ChangeDTO> c = host.attachments().attach(tx, r, reattach, Attachments.Guard.NONE, Attachments.Guard.NONE);
			tx.commit();
			return c;
		}
	}

	List<ChangeDTO> detach(DetachRequestDTO r) throws IOException {
		try (Transaction tx = new Transaction(host.layout())) {
			List<ChangeDTO> c = host.attachments().detach(tx, r, Attachments.Guard.NONE);
			tx.commit();
			return c;
		}
	}

	List<ChangeDTO> remove(List<String> images) throws IOException {
		try (Transaction tx = new Transaction(host.layout())) {
			List<ChangeDTO> c = host.pool().remove(tx, host.images(), host.index(), images);
			tx.commit();
			return c;
		}
	}

	psi.api.dto.AttachState state(String image) throws IOException {
		return host.catalog().state(image);
	}

	List<ImageDTO> list() throws IOException {
		return host.catalog().list();
	}
}
