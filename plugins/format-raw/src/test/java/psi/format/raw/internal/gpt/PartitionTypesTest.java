package psi.format.raw.internal.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class PartitionTypesTest {

	@Test
	void namesAsFormatsAndSystemdHaveThem() {
		assertEquals("root-x86-64", PartitionTypes.name(UUID.fromString("4f68bce3-e8cd-4db1-96e7-fbcaf984b709")));
		assertEquals("root-arm64", PartitionTypes.name(UUID.fromString("b921b045-1df0-41c3-af44-4c6f280d3fae")));
		assertEquals("usr-x86-64", PartitionTypes.name(UUID.fromString("8484680c-9521-48c6-9c11-b0720656f69e")));
		assertEquals("usr-arm64", PartitionTypes.name(UUID.fromString("b0e01050-ee5f-4390-949a-9101b17104e9")));
		assertEquals("root-x86-64-verity", PartitionTypes.name(UUID.fromString("2c7357ed-ebd2-46d9-aec1-23d437ec2bf5")));
		assertEquals("root-arm64-verity", PartitionTypes.name(UUID.fromString("df3300ce-d69f-4c92-978c-9bfb0f38d820")));
		assertEquals("usr-x86-64-verity", PartitionTypes.name(UUID.fromString("77ff5f63-e7b6-4633-acf4-1565b864c0e6")));
		assertEquals("usr-arm64-verity", PartitionTypes.name(UUID.fromString("6e11a4e7-fbca-4ded-b9e9-e1a512bb664e")));
		assertEquals("root-x86-64-verity-sig", PartitionTypes.name(UUID.fromString("41092b05-9fc8-4523-994f-2def0408b176")));
		assertEquals("root-arm64-verity-sig", PartitionTypes.name(UUID.fromString("6db69de6-29f4-4758-a7a5-962190f00ce3")));
		assertEquals("usr-x86-64-verity-sig", PartitionTypes.name(UUID.fromString("e7bb33fb-06cf-4e81-8273-e543b413e2e2")));
		assertEquals("usr-arm64-verity-sig", PartitionTypes.name(UUID.fromString("c23ce4ff-44bd-4b00-b2d4-b41b3419e02a")));
		assertEquals("linux-generic", PartitionTypes.name(PartitionTypes.LINUX_GENERIC));
		assertEquals("esp", PartitionTypes.name(PartitionTypes.ESP));
		assertEquals("swap", PartitionTypes.name(UUID.fromString("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f")));
		UUID unknown = UUID.fromString("e6d6d379-f507-44c2-a23c-238f2a3df928");
		assertEquals(unknown.toString(), PartitionTypes.name(unknown));
		assertEquals(UUID.fromString("4f68bce3-e8cd-4db1-96e7-fbcaf984b709"),
			PartitionTypes.of(PartitionTypes.Role.ROOT, "x86-64").orElseThrow());
	}

	/** util-linux's table of Discoverable Partitions types is the same as psi's, type for type. */
	@Test
	void sameTableAsSfdisk() throws IOException {
		Map<String, String> arch = Map.ofEntries(Map.entry("x86-64", "x86-64"), Map.entry("x86", "x86"),
			Map.entry("ARM-64", "arm64"), Map.entry("ARM", "arm"), Map.entry("Alpha", "alpha"), Map.entry("ARC", "arc"),
			Map.entry("IA-64", "ia64"), Map.entry("LoongArch-64", "loongarch64"), Map.entry("MIPS-32 LE", "mips-le"),
			Map.entry("MIPS-64 LE", "mips64-le"), Map.entry("PPC", "ppc"), Map.entry("PPC64", "ppc64"),
			Map.entry("PPC64LE", "ppc64-le"), Map.entry("RISC-V-32", "riscv32"), Map.entry("RISC-V-64", "riscv64"),
			Map.entry("S390", "s390"), Map.entry("S390X", "s390x"), Map.entry("TILE-Gx", "tilegx"));
		Map<String, String> role = Map.of("root", "root-%s", "/usr", "usr-%s", "root verity", "root-%s-verity",
			"/usr verity", "usr-%s-verity", "root verity sign.", "root-%s-verity-sig", "/usr verity sign.", "usr-%s-verity-sig");
		Pattern line = Pattern.compile("\\s*([0-9A-Fa-f-]{36})\\s+Linux (root|/usr|root verity|/usr verity|root verity sign\\.|/usr verity sign\\.) \\((.*)\\)\\s*");
		int n = 0;
		for (String l : Fixtures.run(List.of("sfdisk", "--label", "gpt", "-T"), null).split("\n")) {
			Matcher m = line.matcher(l);
			if (m.matches()) {
				String expected = String.format(role.get(m.group(2)), arch.get(m.group(3)));
				assertEquals(expected, PartitionTypes.name(UUID.fromString(m.group(1))), l);
				n++;
			}
		}
		assertEquals(18 * 6, n);
		String others = Fixtures.run(List.of("sfdisk", "--label", "gpt", "-T"), null);
		assertTrue(others.contains(PartitionTypes.LINUX_GENERIC.toString().toUpperCase() + "  Linux filesystem"));
		assertTrue(others.contains(PartitionTypes.ESP.toString().toUpperCase() + "  EFI System"));
	}

	@Test
	void hostArchitecture() {
		assertEquals("x86-64", PartitionTypes.archOf("amd64"));
		assertEquals("arm64", PartitionTypes.archOf("aarch64"));
		assertEquals("x86", PartitionTypes.archOf("i686"));
		assertEquals("ppc64-le", PartitionTypes.archOf("ppc64le"));
		assertEquals("riscv64", PartitionTypes.archOf("riscv64"));
		assertTrue(PartitionTypes.of(PartitionTypes.Role.ROOT, PartitionTypes.hostArch()).isPresent(), PartitionTypes.hostArch());
	}
}
