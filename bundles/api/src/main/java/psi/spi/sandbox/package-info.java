/**
 * Sandbox policies: plugins that contribute profiles (drop-ins) attached beside every portable unit.
 */
@Export
@Version("1.0.0")
package psi.spi.sandbox;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
