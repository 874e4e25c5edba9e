package psi.itest.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import psi.itest.box.TestBox;
import psi.itest.box.TestBox.Result;

/**
 * psi.socket and psi.service as shipped in distribution/systemd, in the
 * throwaway systemd: the first psi command starts the daemon through the
 * socket; it serves root and other users as it should; systemctl stop
 * ends it cleanly, and the next command starts it again.
 */
class DaemonSocketIT {

	static final Duration CMD = Duration.ofSeconds(120);

	/** @return whether psi.service's journal holds the text within 10 s (journald takes a moment) */
	static boolean journalSays(TestBox box, String text) throws InterruptedException {
		for (int i = 0; i < 100; i++) {
			if (box.exec("journalctl", "-u", "psi.service", "--no-pager", "-o", "cat").out().contains(text)) {
				return true;
			}
			Thread.sleep(100);
		}
		System.out.println("[daemon-socket] the journal of psi.service:\n" + box.exec("journalctl", "-u", "psi.service", "--no-pager", "-o", "cat").out());
		return false;
	}

	@Test
	void theFirstCommandStartsTheDaemonThroughItsSocket() throws Exception {
		Path dist = TestBox.basedir().resolve("distribution/systemd");
		try (TestBox box = TestBox.boot("daemon-socket")) {
			box.installPsi();
			for (String unit : List.of("psi.socket", "psi.service")) {
				String text = Files.readString(dist.resolve(unit)).replace("ExecStart=/usr/bin/psi ", "ExecStart=" + TestBox.PSI + " ");
				Files.writeString(box.inside("/etc/systemd/system/" + unit), text);
			}
			assertEquals(0, box.exec("systemctl", "daemon-reload").rc());
			Result listen = box.exec("systemctl", "enable", "--now", "psi.socket");
			assertEquals(0, listen.rc(), "systemctl enable --now psi.socket: " + listen);
			assertEquals("inactive", box.exec("systemctl", "is-active", "psi.service").out().strip(), "the daemon waits for its first client");

			Result list = box.psi("daemon-socket", CMD, "list");
			assertEquals(0, list.rc(), list.toString());
			assertEquals("No images.\n", list.out(), list.toString());
			assertEquals("active", box.exec("systemctl", "is-active", "psi.service").out().strip(), "the first psi list started psi.service: "
				+ box.exec("systemctl", "status", "--no-pager", "psi.service", "psi.socket").out() + box.exec("journalctl", "--no-pager", "-n", "30").out());
			assertTrue(journalSays(box, "listening on /run/psi/psi.sock (passed by the service manager)"), "socket activation");
			assertTrue(journalSays(box, "psi daemon: root: list -> 0"), "the daemon ran the command");

			Result nobody = box.exec(CMD, List.of("runuser", "-u", "nobody", "--", TestBox.PSI, "attach", "/var/lib/portables/x"));
			assertEquals(1, nobody.rc(), nobody.toString());
			assertTrue(nobody.err().strip().startsWith("psi attach: refused for user nobody"), nobody.toString());
			assertEquals(1, nobody.err().strip().lines().count(), "one line: " + nobody);
			Result nobodyList = box.exec(CMD, List.of("runuser", "-u", "nobody", "--", TestBox.PSI, "list"));
			assertEquals(0, nobodyList.rc(), nobodyList.toString());

			Result stop = box.exec("systemctl", "stop", "psi.service");
			assertEquals(0, stop.rc(), stop.toString());
			Result status = box.exec("systemctl", "show", "-p", "Result", "-p", "ExecMainStatus", "psi.service");
			assertTrue(status.out().contains("Result=success") && status.out().contains("ExecMainStatus=0"), "a clean stop: " + status.out());
			assertTrue(journalSays(box, "psi daemon: stopped"), "the daemon's last words: " + box.exec("journalctl", "-u", "psi.service", "--no-pager", "-o", "cat").out());

			Result again = box.psi("daemon-socket", CMD, "profiles");
			assertEquals(0, again.rc(), again.toString());
			assertEquals("active", box.exec("systemctl", "is-active", "psi.service").out().strip(), "the socket starts it again");
			assertEquals(0, box.exec("systemctl", "disable", "--now", "psi.socket", "psi.service").rc());
		}
	}
}
