package psi.spi.manager;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type of a {@link ServiceManager}: its name, as messages
 * name it.
 * <p>
 * {@code @ServiceManagerName(name = "systemd")} on a DS component sets
 * {@value ServiceManager#NAME}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface ServiceManagerName {

	/** Prefix of the property names. */
	String PREFIX_ = "psi.manager.";

	/** @return the manager's name, e.g. {@code systemd}; becomes {@value ServiceManager#NAME} */
	String name();
}
