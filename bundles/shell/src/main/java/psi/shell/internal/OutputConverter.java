package psi.shell.internal;

import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Component;

import psi.shell.command.CommandOutput;

/**
 * Renders {@link CommandOutput} in the interactive Gogo shell as the text the
 * {@code psi} launcher prints, instead of Gogo's property dump.
 */
@Component(property = "osgi.converter.classes=psi.shell.command.CommandOutput")
public class OutputConverter implements Converter {

	@Override
	public Object convert(Class<?> desiredType, Object in) {
		return null;
	}

	@Override
	public CharSequence format(Object target, int level, Converter escape) {
		if (!(target instanceof CommandOutput o)) {
			return null;
		}
		String s = o.notice() + o.text();
		return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
	}
}
