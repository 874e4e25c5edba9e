/**
 * Data transfer objects of the psi engine API: plain public fields, no behaviour.
 */
@Export
@Version("2.8.0")
package psi.api.dto;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
