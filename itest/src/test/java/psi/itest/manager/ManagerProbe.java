package psi.itest.manager;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import psi.spi.manager.ServiceManager;

/**
 * Drives psi's systemd manager without a framework, run by
 * {@link SystemdManagerIT} inside the test box on a plain class path (the
 * manager bundle, the wrapped dbus-java bundles, psi.api). One request per
 * line on standard input, tab separated ({@code start<TAB>x.service<TAB>true});
 * one answer per line on standard output: {@code OK<TAB>value...} or
 * {@code ERR<TAB>ExceptionClass<TAB>message}. Records are answered as
 * {@code component=value} fields.
 */
public final class ManagerProbe {

	private ManagerProbe() {
	}

	public static void main(String[] args) throws Exception {
		ServiceManager m = (ServiceManager) Class.forName("psi.manager.systemd.internal.SystemdManager")
				.getMethod("onSystemBus").invoke(null);
		PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		for (String line; (line = in.readLine()) != null;) {
			String[] a = line.split("\t");
			if (a[0].equals("quit")) {
				break;
			}
			try {
				out.println("OK\t" + answer(m, a));
			} catch (Exception e) {
				Throwable t = e instanceof InvocationTargetException i ? i.getCause() : e;
				out.println("ERR\t" + t.getClass().getSimpleName() + "\t" + t.getMessage());
			}
		}
		m.getClass().getMethod("close").invoke(m);
	}

	static String answer(ServiceManager m, String[] a) throws Exception {
		List<String> rest = Arrays.asList(a).subList(1, a.length);
		switch (a[0]) {
			case "available": return String.valueOf(m.available());
			case "reason": return m.unavailableReason();
			case "reload": m.reload(); return "";
			case "status": return fields(m.status(a[1]));
			case "start": return fields(m.start(a[1], Boolean.parseBoolean(a[2])));
			case "stop": return fields(m.stop(a[1], Boolean.parseBoolean(a[2])));
			case "restart": return fields(m.restart(a[1], Boolean.parseBoolean(a[2])));
			case "enable": return String.join("\t", m.enable(List.of(Path.of(a[1])), Boolean.parseBoolean(a[2])));
			case "disable": return String.join("\t", m.disable(List.of(a[1]), Boolean.parseBoolean(a[2])));
			case "list": return String.join("\t", m.listUnits(rest));
			case "reset-failed": m.resetFailed(a[1]); return "";
			default: throw new IllegalArgumentException("unknown request " + a[0]);
		}
	}

	/** @return the status's fields as {@code name=value}, tab separated, in declaration order */
	static String fields(ServiceManager.UnitStatus s) throws Exception {
		StringBuilder sb = new StringBuilder();
		for (java.lang.reflect.Field f : s.getClass().getDeclaredFields()) {
			if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
				continue;
			}
			sb.append(sb.length() == 0 ? "" : "\t").append(f.getName()).append('=').append(f.get(s));
		}
		return sb.toString();
	}

	static String fields(ServiceManager.JobResult r) {
		return "unit=" + r.unit() + "\tjob=" + r.job() + "\tresult=" + r.result();
	}


}
