package psi.spi.manager;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Registered while a front end keeps the framework running for a root
 * ({@code psi daemon}). A service manager that runs services itself, and so
 * must outlive the command that starts them, is available only while this
 * is registered, and for its root only.
 *
 * @since 2.1
 */
@ProviderType
public interface ResidentFramework {

	/** @return the root the resident psi serves, absolute and normalized */
	Path root();
}
