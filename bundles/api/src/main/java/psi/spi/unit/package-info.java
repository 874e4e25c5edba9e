/**
 * Unit files as systemd reads them: the line syntax, words and quoting,
 * specifiers, values (booleans, time spans, sizes), command lines and the
 * system call groups. For the engine and for plugins that read units (service
 * managers, sandbox policies), so that all of psi reads a unit one way, and
 * that way is systemd's.
 */
@Export
@Version("1.0.0")
package psi.spi.unit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
