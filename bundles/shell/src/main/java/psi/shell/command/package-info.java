/**
 * What psi's Gogo commands return to the front end running them (the
 * interactive shell, the {@code psi} launcher): presentation, not engine API.
 */
@Export
@Version("1.1.0")
package psi.shell.command;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
