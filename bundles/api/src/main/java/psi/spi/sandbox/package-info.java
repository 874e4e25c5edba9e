/**
 * Sandbox policies: plugins that supply profiles, extend them with drop-ins of their own, and may refuse an attach.
 */
@Export
@Version("1.1.0")
package psi.spi.sandbox;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
