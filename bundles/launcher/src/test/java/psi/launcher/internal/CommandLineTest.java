package psi.launcher.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.junit.jupiter.api.Test;

class CommandLineTest {

	/** A command shaped like psi's. */
	public static class Commands {
		@Descriptor("Attach an image")
		public String attach(@Descriptor("root dir") @Parameter(names = "--root", absentValue = "") String root,
			@Descriptor("the profile") @Parameter(names = { "-p", "--profile" }, absentValue = "default") String profile,
			@Descriptor("below /run") @Parameter(names = "--runtime", presentValue = "true", absentValue = "false") boolean runtime,
			@Descriptor("an extension; repeat for more") @Parameter(names = "--extension", absentValue = "") Object extension,
			@Descriptor("Image name or path") String image, @Descriptor("prefixes") String... prefixes) {
			return root + profile + runtime + extension + image + Arrays.toString(prefixes);
		}
	}

	static List<Method> attach() {
		return Arrays.stream(Commands.class.getMethods()).filter(m -> m.getName().equals("attach")).toList();
	}

	@Test
	void splitsOptionValuesAndKeepsPositionals() throws Exception {
		var opts = CommandLine.options(attach());
		assertEquals(List.of("--profile", "strict", "--runtime", "img", "a", "-p", "x", "y"),
			CommandLine.normalize("attach", List.of("--profile=strict", "--runtime", "img", "a", "-p", "x", "--", "y"), opts));
		// after "--" everything is positional; Gogo has no "--", so what looks like an option there is refused
		assertEquals(List.of("img", "-"), CommandLine.normalize("attach", List.of("img", "--", "-"), opts));
		var e = assertThrows(CommandLine.UsageException.class, () -> CommandLine.normalize("attach", List.of("--", "--runtime", "/x"), opts));
		assertTrue(e.getMessage().contains("give ./--runtime"), e.getMessage());
	}

	@Test
	void parsingTellsOptionsFromPositionals() throws Exception {
		var opts = CommandLine.options(attach());
		CommandLine.Parsed p = CommandLine.parse("attach", List.of("-p", "strict", "--runtime", "--root=/r", "img", "a"), opts);
		assertEquals(java.util.Map.of("--profile", "strict", "--runtime", "true", "--root", "/r"), p.options());
		assertEquals(List.of("img", "a"), p.positional());
	}

	@Test
	void refusesUnknownOptionsAndMissingValues() {
		var opts = CommandLine.options(attach());
		var e = assertThrows(CommandLine.UsageException.class, () -> CommandLine.normalize("attach", List.of("--bogus", "img"), opts));
		assertEquals("psi attach: unknown option '--bogus'; see psi attach --help", e.getMessage());
		e = assertThrows(CommandLine.UsageException.class, () -> CommandLine.normalize("attach", List.of("img", "--profile"), opts));
		assertEquals("psi attach: option '--profile' needs a value", e.getMessage());
		e = assertThrows(CommandLine.UsageException.class, () -> CommandLine.normalize("attach", List.of("--runtime=yes", "img"), opts));
		assertEquals("psi attach: option '--runtime' takes no value", e.getMessage());
	}

	@Test
	void aRepeatedOptionReachesGogoAsOneList() throws Exception {
		var opts = CommandLine.options(attach());
		CommandLine.Parsed p = CommandLine.parse("attach", List.of("--extension", "app0", "img", "--extension=/srv/it's.raw", "a"), opts);
		assertEquals(List.of("--extension", List.of("app0", "/srv/it's.raw"), "img", "a"), p.gogo());
		assertEquals(java.util.Map.of("--extension", List.of("app0", "/srv/it's.raw")), p.lists());
		assertEquals("psi:attach '--extension' ['app0' \"/srv/it's.raw\"] 'img' 'a'", CommandLine.gogo("psi", "attach", p.gogo()));
		assertTrue(CommandLine.help("attach", attach()).contains("--extension EXTENSION ..."), CommandLine.help("attach", attach()));
	}

	@Test
	void portablectlsNoPagerAndNoAskPasswordAreTakenAndIgnored() throws Exception {
		var opts = CommandLine.options(attach());
		assertEquals(List.of("img"), CommandLine.normalize("attach", List.of("--no-pager", "img", "--no-ask-password"), opts));
	}

	@Test
	void quotesForGogo() {
		assertEquals("psi:attach '/var/lib/x y' \"it's \\$HOME\"", CommandLine.gogo("psi", "attach", List.of("/var/lib/x y", "it's $HOME")));
	}

	@Test
	void namesAsAdminsTypeThem() {
		assertEquals("isattached", CommandLine.function("is-attached"));
		assertEquals("readonly", CommandLine.function("read-only"));
		assertEquals("is-attached", CommandLine.typed("isattached"));
	}

	@Test
	void helpComesFromTheAnnotations() {
		String help = CommandLine.help("attach", attach());
		assertTrue(help.startsWith("Usage: psi attach [OPTIONS] IMAGE [PREFIXES...]\n\nAttach an image.\n"), help);
		assertTrue(help.contains("  -p, --profile PROFILE  the profile\n"), help);
		assertTrue(help.contains("  --runtime              below /run\n"), help);
		assertTrue(help.contains("  IMAGE                  Image name or path\n"), help);
	}
}
