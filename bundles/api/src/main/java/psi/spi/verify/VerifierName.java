package psi.spi.verify;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type of a {@link Verifier}: its name, as verdicts and
 * refusals name it.
 * <p>
 * {@code @VerifierName(name = "checksum")} on a DS component sets
 * {@value Verifier#NAME}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface VerifierName {

	/** Prefix of the property names. */
	String PREFIX_ = "psi.verifier.";

	/** @return the verifier's name, e.g. {@code openpgp}; becomes {@value Verifier#NAME} */
	String name();
}
