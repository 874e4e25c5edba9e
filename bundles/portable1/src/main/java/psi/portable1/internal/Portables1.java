package psi.portable1.internal;

import java.util.List;

import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.interfaces.DBusInterface;

/**
 * {@code io.psi.Portables1} on {@code /io/psi/Portables1}: what psi does
 * beyond portabled, beside portable1's own interfaces (which stay as
 * portabled has them). Images are names, paths or, for {@code Start},
 * {@code Pull} and {@code Verify}, URLs ({@code https:}, {@code ssh:},
 * {@code file:}); {@code verify} is {@code ""} (psi's default: a signature
 * for what is fetched), {@code no}, {@code checksum} or {@code signature}.
 * Changes are {@code (type, path, source)} as portable1's, plus
 * {@code ("job", UNIT, RESULT)}, {@code ("running", UNIT, "")} and
 * {@code ("failed", UNIT, WHY)}.
 */
@DBusInterfaceName("io.psi.Portables1")
public interface Portables1 extends DBusInterface {

	/** Attaches when not attached (pulling a URL first), then starts the image's units: {@code psi start}. */
	List<Change> Start(String image, List<String> matches, String profile, boolean runtime, String copyMode, String verify);

	/** Stops the image's units, leaving it attached: {@code psi stop}. */
	List<Change> Stop(String image);

	/** Restarts the image's units: {@code psi restart}. */
	List<Change> Restart(String image);

	/** The image's attach state and its units: name, load, active and sub state, and what the service last said. */
	Tuples.Four<String, String, String, List<UnitEntry>> Status(String image);

	/** Fetches, verifies and places an image in the pool: the image's name, its path, the level reached and by what. */
	Tuples.Four<String, String, String, String> Pull(String source, String name, String verify);

	/** Runs {@code Pull}'s checks alone: the level reached, by what, and each verifier's verdict (verifier, level, detail). */
	Tuples.Three<String, String, List<Change>> Verify(String source, String verify);
}
