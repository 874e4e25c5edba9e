package psi.format.tar.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import psi.spi.format.ImageException;

/** Entry names as paths inside the image. */
class EntryNameTest {

	static final TarArchive ARCHIVE = new TarArchive(Path.of("/x/a.tar"), Compression.NONE);

	@ParameterizedTest
	@CsvSource({ "./usr/lib/os-release, /usr/lib/os-release", "usr/lib/os-release, /usr/lib/os-release",
		"/usr/lib/os-release, /usr/lib/os-release", "./usr/lib/, /usr/lib", "usr//lib/./systemd, /usr/lib/systemd",
		"./, /", "., /", "/, /", "'', /", "././etc/., /etc" })
	void normalises(String raw, String path) throws ImageException {
		assertEquals(path, EntryName.normalise(ARCHIVE, raw));
	}

	@ParameterizedTest
	@ValueSource(strings = { "..", "../escape", "usr/../../etc/passwd", "./usr/lib/..", "/.." })
	void refusesDotDot(String raw) {
		ImageException e = assertThrows(ImageException.class, () -> EntryName.normalise(ARCHIVE, raw));
		assertEquals("/x/a.tar: entry '" + raw + "': name has a '..' component", e.getMessage());
	}

	@Test
	void refusesLongNamesAndNul() throws ImageException {
		String longest = "a/".repeat(2047) + "bb";
		assertEquals(4096, longest.length());
		assertEquals("/" + longest, EntryName.normalise(ARCHIVE, longest));
		ImageException e = assertThrows(ImageException.class, () -> EntryName.normalise(ARCHIVE, "a/".repeat(2048) + "b"));
		assertEquals("/x/a.tar: entry '" + "a/".repeat(100) + "...': name longer than 4096 bytes", e.getMessage());
		e = assertThrows(ImageException.class, () -> EntryName.normalise(ARCHIVE, "usr/" + "c".repeat(256)));
		assertEquals("name has a component longer than 255 bytes", e.getMessage().substring(e.getMessage().lastIndexOf(": ") + 2));
		e = assertThrows(ImageException.class, () -> EntryName.normalise(ARCHIVE, "usr/a\0b"));
		assertEquals("/x/a.tar: entry 'usr/a?b': name holds a NUL character", e.getMessage());
	}

	@Test
	void refusesBadLinkTargets() throws ImageException {
		assertEquals("/abs/../x", EntryName.linkTarget(ARCHIVE, "l", "/abs/../x"));
		assertThrows(ImageException.class, () -> EntryName.linkTarget(ARCHIVE, "l", ""));
		assertThrows(ImageException.class, () -> EntryName.linkTarget(ARCHIVE, "l", "x".repeat(4097)));
		assertEquals("x".repeat(4096), EntryName.linkTarget(ARCHIVE, "l", "x".repeat(4096)));
	}

	@Test
	void parentsAndNames() {
		assertEquals("/usr/lib", EntryName.parent("/usr/lib/os-release"));
		assertEquals("/", EntryName.parent("/usr"));
		assertEquals("os-release", EntryName.fileName("/usr/lib/os-release"));
	}
}
