package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Which command lines open the interactive shell, and for which root. */
class LauncherTest {

	@Test
	void theShellForNoCommandWithOnlyRootAndNoDaemon() {
		assertArrayEquals(new String[] { null }, Launcher.shellRoot(new String[0]));
		assertArrayEquals(new String[] { null }, Launcher.shellRoot(new String[] { "--no-daemon" }));
		assertArrayEquals(new String[] { "/srv/r" }, Launcher.shellRoot(new String[] { "--root", "/srv/r" }));
		assertArrayEquals(new String[] { "/srv/r" }, Launcher.shellRoot(new String[] { "--no-daemon", "--root=/srv/r" }));
		// a command, an option of another kind, or --root without its value: not the shell
		assertNull(Launcher.shellRoot(new String[] { "list" }));
		assertNull(Launcher.shellRoot(new String[] { "--root", "/srv/r", "list" }));
		assertNull(Launcher.shellRoot(new String[] { "--help" }));
		assertNull(Launcher.shellRoot(new String[] { "--root" }));
	}
}
