package psi.portable1.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.Portables;
import psi.api.PsiException;
import psi.api.dto.AttachRequestDTO;
import psi.api.dto.AttachState;
import psi.api.dto.ChangeDTO;
import psi.api.dto.DetachRequestDTO;
import psi.api.dto.ImageDTO;
import psi.api.dto.ImageMetadataDTO;
import psi.api.dto.UnitFileDTO;

/**
 * The objects on a private dbus-daemon, called with systemd's own busctl and
 * dbus's dbus-send, over a small fake of psi's engine: signatures, values,
 * error names and texts as a client sees them.
 */
class Portable1BusTest {

	@TempDir
	static Path dir;
	static Process daemon;
	static String address;
	static DBusConnection connection;
	static final List<Object> requests = new ArrayList<>();
	static volatile boolean allow = true;

	@BeforeAll
	static void bus() throws Exception {
		Path conf = dir.resolve("bus.conf");
		Files.writeString(conf, """
			<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
			 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
			<busconfig><type>session</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>
			<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
			</busconfig>
			""".formatted(dir.resolve("bus")));
		daemon = new ProcessBuilder("dbus-daemon", "--nofork", "--config-file=" + conf).redirectErrorStream(true)
			.redirectOutput(dir.resolve("bus.log").toFile()).start();
		address = "unix:path=" + dir.resolve("bus");
		for (int i = 0; i < 100 && !Files.exists(dir.resolve("bus")); i++) {
			Thread.sleep(50);
		}
		connection = DBusConnectionBuilder.forAddress(address).withShared(false).build();
		Authorizer auth = action -> {
			if (!allow) {
				throw new org.freedesktop.DBus.Error.AccessDenied("Permission denied");
			}
		};
		Portables fake = fake();
		Exports.export(connection, new Calls(fake, auth), new PsiObject(fake, auth));
		connection.requestBusName(Portable1Service.NAME);
	}

	@AfterAll
	static void down() throws IOException {
		if (connection != null) {
			connection.close();
		}
		if (daemon != null) {
			daemon.destroy();
		}
	}

	/** psi's engine with two images: gpt_1 (raw, attached) and dir (a directory) */
	static Portables fake() {
		return (Portables) Proxy.newProxyInstance(Portable1BusTest.class.getClassLoader(), new Class<?>[] { Portables.class }, (p, m, a) -> {
			switch (m.getName()) {
			case "list":
				return List.of(image("gpt_1"), image("dir"));
			case "image":
				return image((String) a[1]);
			case "inspect": {
				ImageDTO i = image((String) a[1]);
				ImageMetadataDTO d = new ImageMetadataDTO();
				d.name = i.name;
				d.path = i.path;
				d.osReleaseBytes = "ID=debian\nPORTABLE_PREFIXES=gpt\n\u00ff".getBytes(StandardCharsets.ISO_8859_1);
				d.osRelease = new LinkedHashMap<>(Map.of("ID", "debian"));
				UnitFileDTO u = new UnitFileDTO();
				u.name = "gpt.service";
				u.bytes = "[Service]\nExecStart=/bin/true\n".getBytes(StandardCharsets.UTF_8);
				d.units = List.of(u);
				return d;
			}
			case "state":
				return "gpt_1".equals(a[1]) ? AttachState.ATTACHED : AttachState.DETACHED;
			case "attach":
			case "reattach": {
				AttachRequestDTO r = (AttachRequestDTO) a[0];
				synchronized (requests) {
					requests.add(r);
				}
				if (r.image.equals("busy")) {
					throw new PsiException(PsiException.Reason.UNIT_EXISTS, "Unit file 'busy.service' exists on the host already, refusing.", "x");
				}
				List<ChangeDTO> c = new ArrayList<>();
				if (m.getName().equals("reattach")) {
					c.add(ChangeDTO.of(ChangeDTO.Type.UNLINK, "/etc/systemd/system.attached/old.service", null));
				}
				c.add(ChangeDTO.of(ChangeDTO.Type.COPY, "/etc/systemd/system.attached/gpt.service", "/var/lib/portables/gpt_1.raw"));
				return c;
			}
			case "detach": {
				DetachRequestDTO r = (DetachRequestDTO) a[0];
				synchronized (requests) {
					requests.add(r);
				}
				throw new PsiException(PsiException.Reason.NOT_ATTACHED,
					"No unit files associated with '" + r.image + "' found attached to the system. Image not attached?", "hint", 1, null);
			}
			case "start": {
				psi.api.dto.JobDTO j = new psi.api.dto.JobDTO();
				j.kind = psi.api.dto.JobDTO.Kind.START;
				j.unit = "gpt.service";
				j.result = "done";
				ChangeDTO c = ChangeDTO.of(ChangeDTO.Type.JOB, "gpt.service", null);
				c.job = j;
				synchronized (requests) {
					requests.add(a[0]);
				}
				return List.of(c);
			}
			case "status": {
				psi.api.dto.ImageStatusDTO s = new psi.api.dto.ImageStatusDTO();
				s.name = "gpt_1";
				s.path = "/var/lib/portables/gpt_1.raw";
				s.state = AttachState.RUNNING;
				psi.api.dto.UnitStatusDTO u = new psi.api.dto.UnitStatusDTO();
				u.name = "gpt.service";
				u.loadState = "loaded";
				u.activeState = "active";
				u.subState = "running";
				u.statusText = "Ready.";
				s.units = List.of(u);
				return s;
			}
			case "profiles":
				return List.of("default", "strict");
			case "hashCode":
				return 1;
			case "equals":
				return p == a[0];
			case "toString":
				return "fake";
			default:
				throw new UnsupportedOperationException(m.getName());
			}
		});
	}

	static ImageDTO image(String name) {
		if (!List.of("gpt_1", "dir").contains(name)) {
			throw new PsiException(PsiException.Reason.NO_SUCH_IMAGE, "No image '" + name + "' found.", "Searched …");
		}
		ImageDTO i = new ImageDTO();
		i.name = name;
		i.path = name.equals("dir") ? "/var/lib/portables/dir" : "/etc/portables/gpt_1.raw";
		i.type = name.equals("dir") ? "directory" : "raw";
		i.crtime = 1_700_000_000_000_000L;
		i.mtime = name.equals("dir") ? 0 : 1_700_000_001_000_000L;
		i.usage = name.equals("dir") ? -1 : 991232;
		i.state = name.equals("gpt_1") ? AttachState.ATTACHED : AttachState.DETACHED;
		return i;
	}

	static String run(String... cmd) throws Exception {
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertTrue(p.waitFor(30, TimeUnit.SECONDS));
		return out;
	}

	static String busctl(String... args) throws Exception {
		List<String> cmd = new ArrayList<>(List.of("busctl", "--address=" + address, "--no-pager"));
		cmd.addAll(List.of(args));
		return run(cmd.toArray(String[]::new));
	}

	static String send(String path, String member, String... args) throws Exception {
		List<String> cmd = new ArrayList<>(List.of("dbus-send", "--bus=" + address, "--print-reply", "--dest=org.freedesktop.portable1", path,
			member));
		cmd.addAll(List.of(args));
		return run(cmd.toArray(String[]::new));
	}

	/** the introspection table without values, as the reference file of portabled 252 lists members */
	static List<String> members(String table) {
		List<String> out = new ArrayList<>();
		for (String line : table.split("\n")) {
			String[] f = line.trim().split("\\s+");
			if (f.length >= 3 && !f[0].equals("NAME")) {
				out.add(f[0] + " " + f[1] + " " + f[2]);
			}
		}
		return out;
	}

	static List<String> reference(String file) throws IOException {
		// busctl introspect of systemd-portabled 252, as recorded in the systemd box
		try (var in = Portable1BusTest.class.getResourceAsStream("/" + file)) {
			return members(new String(in.readAllBytes(), StandardCharsets.UTF_8));
		}
	}

	@Test
	void introspectionHasPortabledsMembersAndSignatures() throws Exception {
		assertEquals(reference("portable1-manager-v252.busctl.txt"),
			members(busctl("introspect", "org.freedesktop.portable1", "/org/freedesktop/portable1")));
		// an image no call has named yet (the fallback's data), then one that is a node of the tree
		assertEquals(reference("portable1-image-v252.busctl.txt"),
			members(busctl("introspect", "org.freedesktop.portable1", "/org/freedesktop/portable1/image/dir")));
		busctl("call", "org.freedesktop.portable1", "/org/freedesktop/portable1", ManagerObject.INTERFACE, "ListImages");
		assertEquals(reference("portable1-image-v252.busctl.txt"),
			members(busctl("introspect", "org.freedesktop.portable1", "/org/freedesktop/portable1/image/gpt_5f1")));
		// psi's own object beside portabled's
		assertEquals("├─/io\n│ └─/io/psi\n│   └─/io/psi/Portables1\n└─/org\n  └─/org/freedesktop\n    └─/org/freedesktop/portable1\n      └─/org/freedesktop/portable1/image\n"
			+ "        ├─/org/freedesktop/portable1/image/dir\n        └─/org/freedesktop/portable1/image/gpt_5f1\n",
			busctl("tree", "org.freedesktop.portable1"));
	}

	@Test
	void listsImagesWithTheirObjects() throws Exception {
		String out = busctl("call", "org.freedesktop.portable1", "/org/freedesktop/portable1", ManagerObject.INTERFACE, "ListImages");
		assertEquals("a(ssbtttso) 2 \"gpt_1\" \"raw\" false 1700000000000000 1700000001000000 991232 \"attached\" "
			+ "\"/org/freedesktop/portable1/image/gpt_5f1\" \"dir\" \"directory\" false 1700000000000000 0 18446744073709551615 "
			+ "\"detached\" \"/org/freedesktop/portable1/image/dir\"\n", out);
	}

	@Test
	void metadataIsTheImagesBytes() throws Exception {
		String out = busctl("--json=short", "call", "org.freedesktop.portable1", "/org/freedesktop/portable1", ManagerObject.INTERFACE,
			"GetImageMetadata", "sas", "gpt_1", "0");
		// the os-release byte 0xff, not valid UTF-8, goes out as it is
		assertTrue(out.contains("\"/etc/portables/gpt_1.raw\""), out);
		assertTrue(out.contains("255"), out);
		assertTrue(out.contains("\"gpt.service\""), out);
	}

	@Test
	void errorsCarryPortabledsNamesAndTexts() throws Exception {
		String m = "/org/freedesktop/portable1";
		assertEquals("Error org.freedesktop.portable1.NoSuchImage: No image 'nosuch' found.\n",
			send(m, ManagerObject.INTERFACE + ".GetImage", "string:nosuch"));
		assertEquals("Error org.freedesktop.DBus.Error.InvalidArgs: Expected image name, not path in place of '/srv/x'.\n",
			send(m, ManagerObject.INTERFACE + ".GetImage", "string:/srv/x"));
		assertEquals("Error org.freedesktop.DBus.Error.InvalidArgs: Image name 'rel/x' is not valid or not a valid path.\n",
			send(m, ManagerObject.INTERFACE + ".GetImageOSRelease", "string:rel/x"));
		assertEquals("Error org.freedesktop.DBus.Error.InvalidArgs: Image path '/srv/../x' is not normalized.\n",
			send(m, ManagerObject.INTERFACE + ".GetImageOSRelease", "string:/srv/../x"));
		assertEquals("Error org.freedesktop.DBus.Error.InvalidArgs: Unknown copy mode 'bogus'\n",
			send(m, ManagerObject.INTERFACE + ".AttachImage", "string:gpt_1", "array:string:", "string:default", "boolean:false",
				"string:bogus"));
		assertEquals("Error org.freedesktop.systemd1.UnitExists: Unit file 'busy.service' exists on the host already, refusing.\n",
			send(m, ManagerObject.INTERFACE + ".AttachImage", "string:busy", "array:string:", "string:default", "boolean:false",
				"string:"));
		assertEquals("Error org.freedesktop.systemd1.NoSuchUnit: No unit files associated with 'gpt_1' found attached to the system. "
			+ "Image not attached?\n", send(m, ManagerObject.INTERFACE + ".DetachImage", "string:gpt_1", "boolean:false"));
		assertEquals("Error org.freedesktop.DBus.Error.InvalidArgs: Invalid 'flags' parameter '8'\n",
			send(m, ManagerObject.INTERFACE + ".DetachImageWithExtensions", "string:gpt_1", "array:string:", "uint64:8"));
		assertEquals("Error org.freedesktop.DBus.Error.InvalidArgs: New limit out of range\n",
			send(m, ManagerObject.INTERFACE + ".SetPoolLimit", "uint64:9223372036854775808"));
		assertEquals("Error org.freedesktop.portable1.NoSuchImage: No image 'nosuch' found.\n",
			send(m + "/image/nosuch", "org.freedesktop.portable1.Image.GetState"));
		assertEquals("Error org.freedesktop.DBus.Error.UnknownProperty: Unknown interface org.freedesktop.portable1.Manager or property Nope.\n",
			send(m, "org.freedesktop.DBus.Properties.Get", "string:" + ManagerObject.INTERFACE, "string:Nope"));
		assertEquals("Error org.freedesktop.DBus.Error.PropertyReadOnly: Property 'PoolPath' is not writable.\n",
			send(m, "org.freedesktop.DBus.Properties.Set", "string:" + ManagerObject.INTERFACE, "string:PoolPath", "variant:string:/x"));
	}

	@Test
	void refusedWithoutAuthorization() throws Exception {
		allow = false;
		try {
			assertEquals("Error org.freedesktop.DBus.Error.AccessDenied: Permission denied\n",
				send("/org/freedesktop/portable1", ManagerObject.INTERFACE + ".AttachImage", "string:gpt_1", "array:string:",
					"string:default", "boolean:false", "string:"));
			// reading by name needs no authorization, as in portabled
			assertTrue(send("/org/freedesktop/portable1", ManagerObject.INTERFACE + ".GetImageOSRelease", "string:gpt_1").contains("debian"));
		} finally {
			allow = true;
		}
	}

	@Test
	void attachMapsFlagsAndSplitsReattach() throws Exception {
		String out = busctl("call", "org.freedesktop.portable1", "/org/freedesktop/portable1", ManagerObject.INTERFACE,
			"AttachImageWithExtensions", "sasassst", "gpt_1", "0", "1", "gpt", "strict", "symlink", "3");
		assertEquals("a(sss) 1 \"copy\" \"/etc/systemd/system.attached/gpt.service\" \"/var/lib/portables/gpt_1.raw\"\n", out);
		AttachRequestDTO r;
		synchronized (requests) {
			r = (AttachRequestDTO) requests.get(requests.size() - 1);
		}
		assertEquals(List.of("gpt"), r.prefixes);
		assertEquals("strict", r.profile);
		assertEquals("symlink", r.copy);
		assertTrue(r.runtime && r.force && r.noReload);
		out = busctl("call", "org.freedesktop.portable1", "/org/freedesktop/portable1/image/gpt_5f1", ImageObject.INTERFACE, "Reattach",
			"assbs", "0", "", "false", "");
		assertEquals("a(sss)a(sss) 1 \"unlink\" \"/etc/systemd/system.attached/old.service\" \"\" 1 \"copy\" "
			+ "\"/etc/systemd/system.attached/gpt.service\" \"/var/lib/portables/gpt_1.raw\"\n", out);
	}

	@Test
	void propertiesOfManagerAndImage() throws Exception {
		assertEquals("as 2 \"default\" \"strict\"\n",
			busctl("get-property", "org.freedesktop.portable1", "/org/freedesktop/portable1", ManagerObject.INTERFACE, "Profiles"));
		assertEquals("s \"/var/lib/portables\"\n",
			busctl("get-property", "org.freedesktop.portable1", "/org/freedesktop/portable1", ManagerObject.INTERFACE, "PoolPath"));
		assertEquals("s \"/etc/portables/gpt_1.raw\"\n",
			busctl("get-property", "org.freedesktop.portable1", "/org/freedesktop/portable1/image/gpt_5f1", ImageObject.INTERFACE, "Path"));
		assertEquals("t 18446744073709551615\n",
			busctl("get-property", "org.freedesktop.portable1", "/org/freedesktop/portable1/image/dir", ImageObject.INTERFACE, "Usage"));
	}

	@Test
	void psisOwnInterfaceBesidePortabledsOne() throws Exception {
		assertEquals("a(sss) 1 \"job\" \"gpt.service\" \"done\"\n", busctl("call", "org.freedesktop.portable1", PsiObject.PATH, PsiObject.INTERFACE,
			"Start", "sassbss", "https://example.invalid/gpt_1.raw", "0", "", "false", "", "signature"));
		AttachRequestDTO r;
		synchronized (requests) {
			r = (AttachRequestDTO) requests.get(requests.size() - 1);
		}
		assertEquals(psi.api.dto.VerifyLevel.SIGNATURE, r.verify);
		assertTrue(r.now);
		assertEquals("sssa(sssss) \"gpt_1\" \"/var/lib/portables/gpt_1.raw\" \"running\" 1 \"gpt.service\" \"loaded\" \"active\" \"running\" \"Ready.\"\n",
			busctl("call", "org.freedesktop.portable1", PsiObject.PATH, PsiObject.INTERFACE, "Status", "s", "gpt_1"));
		assertEquals("Error org.freedesktop.DBus.Error.InvalidArgs: Invalid verify level 'maybe' (one of no, checksum, signature, or empty for the default)\n",
			send(PsiObject.PATH, PsiObject.INTERFACE + ".Pull", "string:file:///x", "string:", "string:maybe"));
		String intro = busctl("introspect", "org.freedesktop.portable1", PsiObject.PATH);
		assertTrue(intro.contains(".Status                             method    s         sssa(sssss)"), intro);
		// portabled's objects do not change: the Manager has only its own interface
		assertTrue(!busctl("introspect", "org.freedesktop.portable1", ManagerObject.PATH).contains("io.psi"));
	}

	@Test
	void portabledServesUnlessMissingMaskedOrHandedToPsi(@TempDir Path root) throws IOException {
		assertEquals(null, Portable1Service.portabledServes(root), "not installed");
		Files.createDirectories(root.resolve("lib/systemd"));
		Files.writeString(root.resolve("lib/systemd/systemd-portabled"), "");
		assertEquals("systemd-portabled is installed and not masked", Portable1Service.portabledServes(root));
		Path etc = Files.createDirectories(root.resolve("etc/systemd/system"));
		Files.createSymbolicLink(etc.resolve("systemd-portabled.service"), Path.of("/dev/null"));
		assertEquals(null, Portable1Service.portabledServes(root), "masked");
		Files.delete(etc.resolve("systemd-portabled.service"));
		Files.createSymbolicLink(etc.resolve("dbus-org.freedesktop.portable1.service"), Path.of("/etc/systemd/system/psi.service"));
		assertEquals(null, Portable1Service.portabledServes(root), "its bus alias points at psi");
	}
}
