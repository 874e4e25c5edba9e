package psi.core.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The version of the systemd installed under a root, which decides what
 * portabled of that version writes into a drop-in: read from the name of
 * its shared library ({@code libsystemd-shared-252.so}), not by running a
 * program of the root, and not from the running manager (after an upgrade
 * without reboot, the portabled on disk is the new one).
 */
final class SystemdVersion {

	/** The version psi writes for when none is found: portabled 252's drop-ins. */
	static final int BASELINE = 252;

	private static final Pattern LIBRARY = Pattern.compile("libsystemd-shared-([0-9]{3,4})(?:[.~-][^/]*)?\\.so");

	private SystemdVersion() {
	}

	/** @return the installed systemd's major version, or {@link #BASELINE} when none is found */
	static int installed(HostLayout layout) {
		List<String> dirs = new ArrayList<>(List.of("/usr/lib/systemd", "/lib/systemd"));
		try {
			for (String e : layout.list("/usr/lib")) {
				if (e.endsWith("-linux-gnu") || e.endsWith("-linux-gnueabihf") || e.endsWith("-linux-musl")) {
					dirs.add("/usr/lib/" + e + "/systemd");
				}
			}
		} catch (IOException e) {
			// no /usr/lib: nothing installed
		}
		int found = 0;
		for (String d : dirs) {
			try {
				for (String e : layout.list(d)) {
					Matcher m = LIBRARY.matcher(e);
					if (m.matches()) {
						found = Math.max(found, Integer.parseInt(m.group(1)));
					}
				}
			} catch (IOException e) {
				// not there
			}
		}
		return found == 0 ? BASELINE : found;
	}
}
