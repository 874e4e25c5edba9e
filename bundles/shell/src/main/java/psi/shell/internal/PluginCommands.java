package psi.shell.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

import psi.shell.command.CommandOutput;
import psi.spi.format.ImageFormat;
import psi.spi.manager.ServiceManager;
import psi.spi.sandbox.SandboxPolicy;
import psi.spi.transport.Transport;
import psi.spi.verify.Verifier;

/**
 * {@code psi plugins}: every image format, transport, verifier, sandbox
 * policy and service manager the framework knows, as Declarative Services
 * sees them (active, unsatisfied and why, failed, disabled), with its
 * bundle, version and ranking; a plugin registered without DS is listed
 * from the service registry.
 */
@Component(service = PluginCommands.class, property = { "osgi.command.scope=psi", "osgi.command.function=plugins" })
public class PluginCommands {

	/** A kind of plugin: its word, its service interface, and the property that names what it serves. */
	record Kind(String label, String service, String serves) {
	}

	static final List<Kind> KINDS = List.of(new Kind("format", ImageFormat.class.getName(), ImageFormat.TYPE),
		new Kind("transport", Transport.class.getName(), Transport.SCHEMES), new Kind("verifier", Verifier.class.getName(), Verifier.NAME),
		new Kind("policy", SandboxPolicy.class.getName(), SandboxPolicy.PROFILES),
		new Kind("manager", ServiceManager.class.getName(), ServiceManager.NAME));

	private final BundleContext context;
	private final ServiceComponentRuntime scr;

	/**
	 * @param context this bundle's context: the bundles and the service registry
	 * @param scr Declarative Services' runtime
	 */
	@Activate
	public PluginCommands(BundleContext context, @Reference ServiceComponentRuntime scr) {
		this.context = context;
		this.scr = scr;
	}

	/** psi plugins. */
	@Descriptor("List the plugins: every image format, transport, verifier, sandbox policy and service manager, with its bundle, version, ranking and state (active; unsatisfied, and what it lacks; failed, and why; disabled), and the bundles of the plugin folder that do not resolve or start")
	public CommandOutput plugins(//
		@Descriptor("The root directory whose psi (its daemon, or this process with that root's plugin folder) is asked") @Parameter(names = "--root", absentValue = "") String root,
		@Descriptor("Print no header and no footer") @Parameter(names = "--no-legend", presentValue = "true", absentValue = "false") boolean noLegend,
		@Descriptor("Print JSON: pretty, short or off (the default); an array of plugins with kind, name, serves (a list), bundle, version, ranking, state") @Parameter(names = "--json", absentValue = "") String json) {
		List<Map<String, Object>> plugins = plugins();
		Json.Mode mode = Json.mode(json);
		if (mode != Json.Mode.OFF) {
			return Output.of(Json.of(plugins, mode));
		}
		List<String[]> rows = new ArrayList<>();
		if (!noLegend) {
			rows.add(new String[] { "KIND", "SERVES", "NAME", "BUNDLE", "VERSION", "RANKING", "STATE" });
		}
		for (Map<String, Object> p : plugins) {
			@SuppressWarnings("unchecked")
			List<String> serves = (List<String>) p.get("serves");
			rows.add(new String[] { (String) p.get("kind"), serves.isEmpty() ? "-" : String.join(" ", serves), (String) p.get("name"), (String) p.get("bundle"),
				(String) p.get("version"), String.valueOf(p.get("ranking")), Render.line((String) p.get("state")) });
		}
		StringBuilder sb = new StringBuilder(Render.table(rows));
		if (!noLegend) {
			sb.append('\n').append(plugins.size()).append(plugins.size() == 1 ? " plugin listed.\n" : " plugins listed.\n");
		}
		return Output.of(sb.toString());
	}

	/** @return the plugins, by kind, then highest ranking first, then name */
	List<Map<String, Object>> plugins() {
		List<Map<String, Object>> out = new ArrayList<>();
		for (Kind k : KINDS) {
			List<Map<String, Object>> ofKind = new ArrayList<>();
			for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
				if (!Arrays.asList(d.serviceInterfaces).contains(k.service())) {
					continue;
				}
				Bundle b = context.getBundle(d.bundle.id);
				ofKind.add(plugin(k, d.name, d.bundle.symbolicName, b == null ? "" : b.getVersion().toString(), d.properties, state(d)));
			}
			try {
				ServiceReference<?>[] refs = context.getAllServiceReferences(k.service(), null);
				for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
					if (r.getProperty("component.name") != null) {
						continue; // a DS component: listed above
					}
					Map<String, Object> props = new LinkedHashMap<>();
					for (String key : r.getPropertyKeys()) {
						props.put(key, r.getProperty(key));
					}
					Bundle b = r.getBundle();
					ofKind.add(plugin(k, "service " + r.getProperty(Constants.SERVICE_ID), b == null ? "" : b.getSymbolicName(),
						b == null ? "" : b.getVersion().toString(), props, "active (registered without Declarative Services)"));
				}
			} catch (InvalidSyntaxException e) {
				throw new IllegalStateException(e);
			}
			ofKind.sort(Comparator.<Map<String, Object>>comparingInt(p -> -(Integer) p.get("ranking")).thenComparing(p -> (String) p.get("name")));
			out.addAll(ofKind);
		}
		out.addAll(folder());
		return out;
	}

	/**
	 * @return the bundles of the plugin folder that run no plugin: not
	 *         resolved (and why), not started, or offering none of psi's
	 *         services; their plugins are listed above
	 */
	List<Map<String, Object>> folder() {
		List<String> prefixes = new ArrayList<>();
		String dir = context.getProperty("felix.fileinstall.dir");
		String level = context.getProperty("felix.fileinstall.active.level");
		if (dir != null && (level == null || level.equals("0"))) {
			prefixes.add(new java.io.File(dir).toURI().toString());
		}
		try {
			// the folder of the setting folder of psi.plugins (the launcher's PluginFolderSetting)
			ServiceReference<?>[] refs = context.getAllServiceReferences(null, "(&(component.name=psi.launcher.internal.PluginFolderSetting)(folder=*))");
			for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
				String f = String.valueOf(r.getProperty("folder")).strip();
				if (f.startsWith("/")) {
					prefixes.add(new java.io.File(f).toURI().toString());
				}
			}
		} catch (InvalidSyntaxException e) {
			throw new IllegalStateException(e);
		}
		List<Map<String, Object>> out = new ArrayList<>();
		for (Bundle b : context.getBundles()) {
			String l = b.getLocation();
			if (l == null || prefixes.stream().noneMatch(l::startsWith)) {
				continue;
			}
			String state = switch (b.getState()) {
				case Bundle.ACTIVE -> null;
				case Bundle.INSTALLED -> "not resolved: " + unresolved(b);
				case Bundle.RESOLVED -> "resolved, not started";
				default -> "state " + b.getState();
			};
			if (state == null) {
				continue; // its plugins are listed by kind
			}
			String file = b.getLocation().substring(b.getLocation().lastIndexOf('/') + 1);
			out.add(plugin(new Kind("bundle", "", ""), file, b.getSymbolicName() == null ? "-" : b.getSymbolicName(), b.getVersion().toString(),
				Map.of(), state));
		}
		return out;
	}

	/** @return why a bundle of the plugin folder does not resolve, in the framework's words */
	private static String unresolved(Bundle b) {
		try {
			// FileInstall tries this on every scan: the framework's exception is the only place it says why
			b.start(Bundle.START_TRANSIENT);
			return "resolved now";
		} catch (org.osgi.framework.BundleException | RuntimeException e) {
			String m = String.valueOf(e.getMessage());
			int cut = m.indexOf(" Unresolved requirements:");
			return (cut > 0 ? m.substring(0, cut) : m).lines().findFirst().orElse(m);
		}
	}

	private static Map<String, Object> plugin(Kind k, String name, String bundle, String version, Map<String, Object> props, String state) {
		Map<String, Object> p = new LinkedHashMap<>();
		p.put("kind", k.label());
		p.put("name", name);
		List<String> serves = new ArrayList<>(serves(props.get(k.serves())));
		// a policy that extends profiles: which, by its name (its drop-in is 15-policy-NAME.conf)
		serves(props.get(SandboxPolicy.EXTEND)).forEach(e -> serves.add("extends:" + e));
		p.put("serves", serves);
		p.put("bundle", bundle);
		p.put("version", version);
		p.put("ranking", props.get(Constants.SERVICE_RANKING) instanceof Integer i ? i : 0);
		p.put("state", state);
		return p;
	}

	/** @return what a plugin serves, from its property: {@code [https, http]}, {@code [raw]}, {@code [default, strict]} */
	private static List<String> serves(Object value) {
		if (value instanceof String[] a) {
			return List.of(a);
		}
		if (value instanceof java.util.Collection<?> c) {
			return c.stream().map(String::valueOf).toList();
		}
		return value == null ? List.of() : List.of(String.valueOf(value));
	}

	/** @return a component's state in a tired admin's words */
	private String state(ComponentDescriptionDTO d) {
		if (!scr.isComponentEnabled(d)) {
			return "disabled";
		}
		java.util.Collection<ComponentConfigurationDTO> configs = scr.getComponentConfigurationDTOs(d);
		if (configs.isEmpty()) {
			return "unsatisfied: " + ("require".equals(d.configurationPolicy) ? "no configuration " + String.join(", ", d.configurationPid) : "not created");
		}
		List<String> states = new ArrayList<>();
		for (ComponentConfigurationDTO c : configs) {
			states.add(switch (c.state) {
				case ComponentConfigurationDTO.ACTIVE, ComponentConfigurationDTO.SATISFIED -> "active";
				case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> "unsatisfied: no configuration " + String.join(", ", d.configurationPid);
				case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> "unsatisfied: lacks " + String.join(", ", Arrays.stream(c.unsatisfiedReferences)
					.map(PluginCommands::lacks).toList());
				case ComponentConfigurationDTO.FAILED_ACTIVATION -> "failed: " + (c.failure == null ? "its activation threw" : c.failure.lines().findFirst().orElse(""));
				default -> "state " + c.state;
			});
		}
		return String.join("; ", states.stream().distinct().toList());
	}

	private static String lacks(UnsatisfiedReferenceDTO r) {
		return r.name + (r.target == null || r.target.isEmpty() ? "" : " " + r.target);
	}
}
