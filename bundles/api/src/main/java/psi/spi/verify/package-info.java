/**
 * Verifiers: plugins that check a fetched image against trusted keys.
 */
@Export
@Version("3.0.0")
package psi.spi.verify;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
