package psi.core.internal;

import psi.spi.unit.SyscallGroups;
import psi.spi.unit.UnitFile;
import java.io.IOException;
import java.util.Set;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the unit file reader and the sandbox
 * guard reading it: any unit file is read into assignments (a key without
 * {@code =} or a line break, a line number within the file) and judged
 * under systemd's default profile with one-line findings, nothing thrown.
 * Without {@code JAZZER_FUZZ} the seeds below {@code UnitFileFuzzTargetTestInputs}
 * run as tests; {@code itest/harness/fuzz.sh} fuzzes.
 */
class UnitFileFuzzTargetTest {

	private static final ProfileGuarantees DEFAULT = guarantees();

	private static ProfileGuarantees guarantees() {
		try {
			return SandboxGuardTest.profile("default");
		} catch (IOException e) {
			throw new IllegalStateException(e);
		}
	}

	@FuzzTest(maxDuration = "10m")
	void unit(byte[] data) {
		long lines = 1 + new String(data, java.nio.charset.StandardCharsets.UTF_8).chars().filter(c -> c == '\n').count();
		for (UnitFile.Assignment a : UnitFile.read(data)) {
			if (a.key().isEmpty() || a.key().contains("=") || a.key().contains("\n") || a.line() < 1 || a.line() > lines) {
				throw new AssertionError("a bad assignment: " + a);
			}
		}
		for (SandboxGuard.Finding f : SandboxGuard.check(DEFAULT, "app.service", data, Set.of("app.service"), SandboxGuard.Accounts.NONE)) {
			String m = f.message("default");
			if (m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
				throw new AssertionError("a finding that is not one line: " + m);
			}
		}
	}
}
