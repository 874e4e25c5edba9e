package psi.spi.sandbox;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link SandboxPolicy} services: sets
 * {@value SandboxPolicy#PROFILES}, {@value SandboxPolicy#NAME} and
 * {@value SandboxPolicy#EXTEND}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface SandboxPolicyType {

	/** Prefix of the property names. */
	String PREFIX_ = "psi.sandbox.";

	/** @return the profile names it provides; becomes {@value SandboxPolicy#PROFILES} */
	String[] profiles() default {};

	/**
	 * @return the policy's name; becomes {@value SandboxPolicy#NAME}
	 * @since 1.1
	 */
	String name() default "";

	/**
	 * @return the profiles it extends, {@code *} for all; becomes {@value SandboxPolicy#EXTEND}
	 * @since 1.1
	 */
	String[] extend() default {};
}
