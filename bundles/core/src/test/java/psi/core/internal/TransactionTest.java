package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.dto.ChangeDTO;

/** A transaction rolls back unless committed, and says what it could not undo. */
class TransactionTest {

	@TempDir
	Path root;

	@Test
	void closingWithoutCommitUndoesEverything() throws IOException {
		Files.createDirectories(root.resolve("etc"));
		Files.writeString(root.resolve("etc/old"), "old");
		List<ChangeDTO> changes = new ArrayList<>();
		try (Transaction tx = new Transaction(new HostLayout(root))) {
			tx.mkdirs("/etc/a/b", changes);
			tx.write("/etc/a/b/new", "new".getBytes(StandardCharsets.UTF_8), changes);
			tx.write("/etc/old", "changed".getBytes(StandardCharsets.UTF_8), changes);
			tx.symlink("/etc/link", "/etc/old", changes);
			tx.removeTree("/etc/a", changes);
		}
		assertEquals("old", Files.readString(root.resolve("etc/old")));
		assertFalse(Files.exists(root.resolve("etc/a")));
		assertFalse(Files.exists(root.resolve("etc/link")));
		assertEquals(List.of("old"), List.of(root.resolve("etc").toFile().list()));
	}

	@Test
	void aCommitKeepsTheChangesAndDeletesWhatWasMovedAside() throws IOException {
		Files.createDirectories(root.resolve("var/img/usr"));
		try (Transaction tx = new Transaction(new HostLayout(root))) {
			tx.removeTree("/var/img", null);
			assertFalse(Files.exists(root.resolve("var/img")));
			assertTrue(Files.isDirectory(root.resolve("var/.#psi-removing-img")), "moved aside until the commit");
			tx.commit();
		}
		// only the journal's directory is left in var: no image, nothing aside
		assertArrayEquals(new String[] { "lib" }, root.resolve("var").toFile().list());
		assertArrayEquals(new String[0], root.resolve("var/lib/psi/journal").toFile().list());
	}

	@Test
	void whatCouldNotBeUndoneIsReportedSuppressed() throws IOException {
		Files.createDirectories(root.resolve("d"));
		Files.writeString(root.resolve("d/f"), "old");
		Transaction tx = new Transaction(new HostLayout(root));
		tx.write("/d/f", "new".getBytes(StandardCharsets.UTF_8), new ArrayList<>());
		// someone put a file where the directory was: the old file cannot go back there
		blockDirectory();
		IOException e = assertThrows(IOException.class, tx::close);
		assertEquals("could not undo every change; the host may be half changed (psi tries again next time)", e.getMessage());
		assertEquals(1, e.getSuppressed().length);
		// the journal stays, and the next try puts the old file back once it can
		HostLayout layout = new HostLayout(root);
		assertTrue(Journal.pending(layout));
		Files.delete(root.resolve("d"));
		Files.createDirectories(root.resolve("d"));
		Journal.Recovery r = Journal.recover(layout);
		assertFalse(r.committed());
		assertEquals("old", Files.readString(root.resolve("d/f")));
		assertFalse(Journal.pending(layout));
	}

	private void blockDirectory() throws IOException {
		Files.delete(root.resolve("d/f"));
		Files.delete(root.resolve("d"));
		Files.writeString(root.resolve("d"), "in the way");
	}

	@Test
	void inATryWithResourcesTheUndoFailureJoinsTheOperationsOwn() throws IOException {
		IOException failure = assertThrows(IOException.class, () -> {
			try (Transaction tx = new Transaction(new HostLayout(root))) {
				Files.createDirectories(root.resolve("d"));
				Files.writeString(root.resolve("d/f"), "old");
				tx.write("/d/f", "new".getBytes(StandardCharsets.UTF_8), null);
				blockDirectory();
				throw new IOException("the operation failed");
			}
		});
		assertEquals("the operation failed", failure.getMessage());
		assertEquals("could not undo every change; the host may be half changed (psi tries again next time)",
			failure.getSuppressed()[0].getMessage());
	}
}
