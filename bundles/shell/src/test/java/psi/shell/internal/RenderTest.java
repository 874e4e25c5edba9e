package psi.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import psi.api.dto.ChangeDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.JobDTO;

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

	static ChangeDTO job(JobDTO.Kind kind, String unit, String path, String result) {
		ChangeDTO c = ChangeDTO.of(ChangeDTO.Type.JOB, unit, null);
		c.job = new JobDTO();
		c.job.kind = kind;
		c.job.unit = unit;
		c.job.job = path;
		c.job.result = result;
		return c;
	}

	@Test
	void jobsAsPortablectlNowPrintsThem() {
		ChangeDTO start = job(JobDTO.Kind.START, "x.service", "/org/freedesktop/systemd1/job/7", "done");
		ChangeDTO stop = job(JobDTO.Kind.STOP, "y.socket", "/org/freedesktop/systemd1/job/8", "timeout");
		assertEquals("""
			Queued /org/freedesktop/systemd1/job/7 to call StartUnit on portable service x.service.
			Queued /org/freedesktop/systemd1/job/8 to call StopUnit on portable service y.socket. (timeout)
			y.socket failed (job timeout); see psi status and psi logs.
			""", Render.changes(List.of(start, stop, ChangeDTO.of(ChangeDTO.Type.FAILED, "y.socket", "job timeout")), "->"));
		assertEquals(1, Render.status(List.of(start, stop, ChangeDTO.of(ChangeDTO.Type.FAILED, "y.socket", "job timeout"))));
	}

	@Test
	void changesAsPortablectlPrintsThem() {
		String out = Render.changes(List.of(ChangeDTO.of(ChangeDTO.Type.MKDIR, "/etc/systemd/system.attached", null),
			ChangeDTO.of(ChangeDTO.Type.WRITE, "/a/20-portable.conf", null), ChangeDTO.of(ChangeDTO.Type.SYMLINK, "/a/10-profile.conf", "/usr/lib/p"),
			ChangeDTO.of(ChangeDTO.Type.COPY, "/a/x.service", "/img/x.service"), ChangeDTO.of(ChangeDTO.Type.COPY, "/a/y", null),
			ChangeDTO.of(ChangeDTO.Type.UNLINK, "/a/x.service", null)), "->");
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
		i.state = psi.api.dto.AttachState.ATTACHED;
		String out = Render.images(List.of(i), true);
		assertEquals("""
			NAME   TYPE      RO CRTIME MTIME USAGE STATE
			single directory no -      -           attached

			1 image listed.
			""", out);
		assertEquals("No images.\n", Render.images(List.of(), true));
	}

	/** An os-release or unit from an image cannot put escape sequences on the admin's terminal. */
	@Test
	void controlCharactersFromImagesAreEscaped() {
		psi.api.dto.ImageMetadataDTO m = new psi.api.dto.ImageMetadataDTO();
		m.path = "/var/lib/portables/x";
		m.type = "directory";
		m.osRelease = Map.of("PRETTY_NAME", "Evil\u001b]0;pwned\u0007 OS", "PORTABLE_PRETTY_NAME", "a\nb");
		m.osReleaseText = "ID=x\nPRETTY_NAME=\"Evil\u001b[2J\"\n";
		psi.api.dto.UnitFileDTO u = new psi.api.dto.UnitFileDTO();
		u.name = "x.service";
		u.content = "[Unit]\nDescription=\u009b31m red\n";
		m.units = List.of(u);
		String plain = Render.inspect(m, false);
		assertEquals(false, plain.contains("\u001b") || plain.contains("\u0007"), plain);
		assertEquals(true, plain.contains("Evil\\x1b]0;pwned\\x07 OS"), plain);
		assertEquals(true, plain.contains("\ta\\nb\n"), plain);
		String cat = Render.inspect(m, true);
		assertEquals("-- OS Release: --\nID=x\nPRETTY_NAME=\"Evil\\x1b[2J\"\n\n-- Unit file: x.service --\n[Unit]\nDescription=\\x9b31m red\n", cat);
	}

	@Test
	void sizesAsSystemdFormatsThem() {
		// format_bytes(): one decimal, truncated
		assertEquals("0B", Render.bytes(0));
		assertEquals("1023B", Render.bytes(1023));
		assertEquals("1.0K", Render.bytes(1024));
		assertEquals("968.0K", Render.bytes(991232));
		assertEquals("1.6M", Render.bytes(1_740_000)); // 1.659 MiB: rounding would say 1.7M
		assertEquals("1.9M", Render.bytes(2 * 1024 * 1024 - 1));
		assertEquals("1023.9K", Render.bytes(1024 * 1024 - 1));
		assertEquals("2.0G", Render.bytes(2L << 30));
	}
}
