/**
 * Image formats: plugins that claim an image path and give read access to its file tree.
 */
@Export
@Version("1.3.0")
package psi.spi.format;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
