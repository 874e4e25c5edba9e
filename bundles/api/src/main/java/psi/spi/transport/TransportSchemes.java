package psi.spi.transport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type of a {@link Transport}: the URL schemes it serves.
 * <p>
 * {@code @TransportSchemes(schemes = { "ssh", "sftp" })} on a DS component
 * sets {@value Transport#SCHEMES}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface TransportSchemes {

	/** Prefix of the property names. */
	String PREFIX_ = "psi.transport.";

	/** @return the URL schemes, lower case, e.g. {@code https}; becomes {@value Transport#SCHEMES} */
	String[] schemes();
}
