package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A transaction abandoned at any point (as a psi killed with SIGKILL leaves
 * it: steps made, no undo run) is undone by {@link Journal#recover}, and
 * one abandoned after its commit is finished; the crash harness
 * ({@code CrashConsistencyTest}) does the same with real kills.
 */
class JournalTest {

	@TempDir
	Path root;

	private HostLayout layout() {
		return new HostLayout(root);
	}

	/** Every kind of step, abandoned after each one in turn, is undone to the state before. */
	@Test
	void anAbandonedTransactionIsUndoneAfterEveryStep() throws IOException {
		for (int stop = 0; stop <= 7; stop++) {
			Path r = root.resolve("host" + stop);
			Files.createDirectories(r.resolve("etc/keep"));
			Files.writeString(r.resolve("etc/old"), "old");
			Files.createSymbolicLink(r.resolve("etc/link"), Path.of("/etc/old"));
			Files.createDirectories(r.resolve("var/img/usr"));
			Files.createDirectories(r.resolve("etc/empty"));
			Files.createDirectories(r.resolve("var/lib"));
			HostLayout l = new HostLayout(r);
			Map<String, String> before = FaultInjectionTest.snapshot(r);
			Transaction tx = new Transaction(l, Transaction.Faults.NONE, "attach of test");
			int[] step = { 0 };
			List<IoStep> all = List.of(() -> tx.mkdirs("/etc/a/b", null),
				() -> tx.write("/etc/a/b/new", bytes("new"), null), () -> tx.write("/etc/old", bytes("changed"), null),
				() -> tx.symlink("/etc/link", "/etc/a/b/new", null), () -> tx.unlink("/etc/old", null),
				() -> tx.rmdir("/etc/empty", null), () -> tx.removeTree("/var/img", null),
				() -> tx.enabling("/etc/systemd/system.attached", false, List.of("app.service")));
			for (IoStep s : all.subList(0, stop + 1)) {
				s.run();
				step[0]++;
			}
			assertTrue(Journal.pending(l), "a journal while the operation runs");
			// psi dies here: the next one recovers
			Journal.Recovery rec = Journal.recover(l);
			assertFalse(rec.committed());
			assertEquals("Undid an interrupted attach of test: the host is as it was before it", rec.message());
			assertEquals(stop == 7 ? List.of("app.service") : List.of(), rec.disable());
			assertEquals(before, FaultInjectionTest.snapshot(r), "after " + step[0] + " steps");
			assertFalse(Journal.pending(l));
			assertNull(Journal.recover(l), "nothing left to recover");
		}
	}

	@FunctionalInterface
	private interface IoStep {
		void run() throws IOException;
	}

	@Test
	void aTransactionKilledAfterItsCommitIsFinished() throws IOException {
		Files.createDirectories(root.resolve("var/img/usr"));
		Transaction tx = new Transaction(layout(), Transaction.Faults.NONE, "remove of img");
		tx.removeTree("/var/img", null);
		tx.write("/var/new", bytes("new"), null);
		// the commit line is written, then psi dies before deleting what it moved aside
		Path intent = root.resolve("var/lib/psi/journal/intent");
		Files.writeString(intent, Files.readString(intent) + "commit\n");
		Journal.Recovery rec = Journal.recover(layout());
		assertTrue(rec.committed());
		assertFalse(Files.exists(root.resolve("var/.#psi-removing-img")));
		assertFalse(Files.exists(root.resolve("var/img")));
		assertEquals("new", Files.readString(root.resolve("var/new")));
	}

	@Test
	void aStepWhoseLineWasCutOffWasNotMade() throws IOException {
		Files.createDirectories(root.resolve("etc"));
		Transaction tx = new Transaction(layout(), Transaction.Faults.NONE, "attach of x");
		tx.write("/etc/a", bytes("a"), null);
		Path intent = root.resolve("var/lib/psi/journal/intent");
		// psi died while writing the next line: its step was never made
		Files.writeString(intent, Files.readString(intent) + "new /etc/b");
		Files.writeString(root.resolve("etc/b"), "someone else's");
		Journal.recover(layout());
		assertFalse(Files.exists(root.resolve("etc/a")));
		assertEquals("someone else's", Files.readString(root.resolve("etc/b")));
	}

	@Test
	void temporaryFilesOfTheRecordedPathsGo() throws IOException {
		Files.createDirectories(root.resolve("etc"));
		Transaction tx = new Transaction(layout(), Transaction.Faults.NONE, "attach of x");
		tx.write("/etc/a", bytes("a"), null);
		// a kill between the temporary file and its rename leaves it behind
		Files.writeString(root.resolve("etc/.#a0123456789abcdef"), "half");
		Files.writeString(root.resolve("etc/.#other0123456789abcdef"), "not ours");
		Journal.recover(layout());
		assertEquals(List.of(".#other0123456789abcdef"), List.of(root.resolve("etc").toFile().list()));
	}

	@Test
	void aJournalPsiDidNotWriteIsRefusedAndKept() throws IOException {
		Path intent = root.resolve("var/lib/psi/journal/intent");
		Files.createDirectories(intent.getParent());
		Files.writeString(intent, "begin 1 - now x\nfile /etc/passwd ../../../../etc/shadow 644 0\n");
		IOException e = assertThrows(IOException.class, () -> Journal.recover(layout()));
		assertTrue(e.getMessage().contains("it was not written by psi"), e.getMessage());
		assertTrue(Journal.pending(layout()));
		// and no new operation starts over it
		Transaction tx = new Transaction(layout(), Transaction.Faults.NONE, "attach of x");
		assertThrows(IOException.class, () -> tx.write("/etc/a", bytes("a"), null));
	}

	@Test
	void namesWithSpacesAndControlCharactersRoundTrip() {
		for (String s : List.of("", "a b", "x\n[Service]", "back\\slash", "ünï", "%n")) {
			assertEquals(s, Journal.decode(Journal.encode(s)));
			assertFalse(Journal.encode(s).contains(" ") || Journal.encode(s).contains("\n"));
		}
	}

	private static byte[] bytes(String s) {
		return s.getBytes(StandardCharsets.UTF_8);
	}
}
