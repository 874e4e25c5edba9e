package psi.spi.format;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link ImageFormat} services: sets
 * {@value ImageFormat#TYPE}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface ImageFormatType {

	/** Prefix of the property names. */
	String PREFIX_ = "psi.format.";

	/** @return the image type name, e.g. {@code directory}; becomes {@value ImageFormat#TYPE} */
	String type();
}
