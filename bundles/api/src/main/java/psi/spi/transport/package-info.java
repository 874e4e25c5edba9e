/**
 * Transports: plugins that fetch an image URL into a local file.
 */
@Export
@Version("3.0.0")
package psi.spi.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
