/**
 * The psi engine API: what the shell, the launcher, remote front ends and tests call. Implemented by the engine only.
 */
@Export
@Version("2.7.0")
package psi.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
