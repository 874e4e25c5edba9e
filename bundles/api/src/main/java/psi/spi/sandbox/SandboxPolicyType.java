package psi.spi.sandbox;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/** Component property type for {@link SandboxPolicy} services: sets {@value SandboxPolicy#PROFILES}. */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface SandboxPolicyType {

	/** Prefix of the property names. */
	String PREFIX_ = "psi.sandbox.";

	/** @return the profile names; becomes {@value SandboxPolicy#PROFILES} */
	String[] profiles();
}
