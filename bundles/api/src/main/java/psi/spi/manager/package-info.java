/**
 * Service managers: plugins that reload, start, stop and report units.
 */
@Export
@Version("2.3.0")
package psi.spi.manager;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
