/**
 * Service managers: plugins that reload, start, stop and report units.
 */
@Export
@Version("2.4.0")
package psi.spi.manager;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
