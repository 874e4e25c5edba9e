package psi.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import psi.api.dto.ChangeDTO;
import psi.api.dto.ImageDTO;

class RenderTest {

	@Test
	void arrowFollowsTheLocaleAsPortablectl() {
		assertEquals("\u2192", Render.arrow(Map.of()));
		assertEquals("\u2192", Render.arrow(Map.of("LANG", "C.UTF-8")));
		assertEquals("->", Render.arrow(Map.of("LANG", "C")));
		assertEquals("->", Render.arrow(Map.of("LANG", "")));
		assertEquals("->", Render.arrow(Map.of("LC_ALL", "POSIX", "LANG", "en_US.UTF-8")));
		assertEquals("\u2192", Render.arrow(Map.of("LC_ALL", "", "LANG", "en_US.UTF-8")));
	}

	@Test
	void changesAsPortablectlPrintsThem() {
		String out = Render.changes(List.of(ChangeDTO.of("mkdir", "/etc/systemd/system.attached", null),
			ChangeDTO.of("write", "/a/20-portable.conf", null), ChangeDTO.of("symlink", "/a/10-profile.conf", "/usr/lib/p"),
			ChangeDTO.of("copy", "/a/x.service", "/img/x.service"), ChangeDTO.of("copy", "/a/y", null),
			ChangeDTO.of("unlink", "/a/x.service", null)), "->");
		assertEquals("""
			Created directory /etc/systemd/system.attached.
			Written /a/20-portable.conf.
			Created symlink /a/10-profile.conf -> /usr/lib/p.
			Copied /img/x.service -> /a/x.service.
			Copied /a/y.
			Removed /a/x.service.
			""", out);
	}

	@Test
	void matchingNotice() {
		assertEquals("(Matching unit files with prefix 'single'.)\n", Render.matching(List.of(), "single"));
		assertEquals("(Matching unit files with prefixes 'pfx-a', 'zzz'.)\n", Render.matching(List.of("pfx-a", "zzz"), "pfx"));
	}

	@Test
	void listIsATableWithAFooter() {
		ImageDTO i = new ImageDTO();
		i.name = "single";
		i.type = "directory";
		i.usage = -1;
		i.state = "attached";
		String out = Render.images(List.of(i), true);
		assertEquals("""
			NAME   TYPE      RO CRTIME MTIME USAGE STATE
			single directory no -      -           attached

			1 image listed.
			""", out);
		assertEquals("No images.\n", Render.images(List.of(), true));
	}
}
