package psi.format.tar.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;
import psi.spi.format.RootKind;

/**
 * Which files the format claims: by name and, for those named as archives,
 * by their data's magic.
 */
class TarFormatTest {

	@TempDir
	static Path tmp;
	static Path plain;
	static final TarFormat FORMAT = new TarFormat(TarSettings.DEFAULT);

	@BeforeAll
	static void archives() throws IOException {
		Path src = tmp.resolve("src");
		TarFixtures.imageTree(src);
		plain = TarFixtures.tar(src, tmp.resolve("made.tar"), List.of(), ".");
	}

	@ParameterizedTest
	@CsvSource({ "image.tar, tar", "image.tar.gz, 'tar, gzip'", "image.tgz, 'tar, gzip'", "image.tar.zst, 'tar, zstd'",
		"image.tar.zstd, 'tar, zstd'", "image.tar.xz, 'tar, xz'" })
	void claimsEachCompressionByNameAndMagic(String name, String kind) throws IOException {
		Path archive = TarFixtures.compress(plain, name);
		try (ImageTree image = FORMAT.open(archive).orElseThrow()) {
			assertEquals("tar", image.type());
			assertEquals(archive, image.path());
			assertEquals(RootKind.DIRECTORY, image.rootKind());
			assertTrue(image.isArchive());
			assertEquals(kind, image.describe().get("Archive"));
			assertEquals(TarFixtures.OS_RELEASE, new String(image.read("/usr/lib/os-release", 4096)));
			assertEquals(Files.size(archive), image.usage());
		}
	}

	@ParameterizedTest
	@ValueSource(strings = { "image.raw", "image.tar.bz2", "image.zip", "tar", ".tar" })
	void leavesOtherNames(String name) throws IOException {
		Path other = tmp.resolve("other-" + name.replace('.', '_'));
		Files.createDirectories(other);
		Path file = other.resolve(name);
		Files.copy(plain, file);
		assertEquals(Optional.empty(), FORMAT.open(file));
	}

	@Test
	void leavesDirectoriesAndLinks() throws IOException {
		Path dir = tmp.resolve("dir.tar");
		Files.createDirectories(dir);
		assertEquals(Optional.empty(), FORMAT.open(dir));
		Path link = tmp.resolve("link.tar");
		Files.createSymbolicLink(link, plain);
		assertEquals(Optional.empty(), FORMAT.open(link));
	}

	@ParameterizedTest
	@CsvSource({ "zstd-as.tar.gz, image.tar.zst, not gzip data (zstd data)", "gzip-as.tar.xz, image.tar.gz, not xz data (gzip data)",
		"xz-as.tar.zst, image.tar.xz, not zstd data (xz data)", "gzip-as.tar, image.tgz, 'gzip data, not a plain tar archive'" })
	void refusesMisnamedArchives(String name, String made, String message) throws IOException {
		Path source = tmp.resolve(made);
		if (!Files.exists(source)) {
			TarFixtures.compress(plain, made);
		}
		Path misnamed = Files.copy(source, tmp.resolve(name));
		ImageException e = assertThrows(ImageException.class, () -> FORMAT.open(misnamed));
		assertEquals(misnamed + ": " + message, e.getMessage());
	}

	@Test
	void refusesFilesThatAreNoTarArchive() throws IOException {
		Path text = Files.writeString(tmp.resolve("text.tar"), "not an archive at all\n".repeat(100));
		ImageException e = assertThrows(ImageException.class, () -> FORMAT.open(text));
		assertEquals(text + ": not a tar archive (no ustar header)", e.getMessage());

		Path gzippedText = tmp.resolve("text.tar.gz");
		TarFixtures.run(List.of("gzip", "-c", text.toString()), gzippedText);
		e = assertThrows(ImageException.class, () -> FORMAT.open(gzippedText));
		assertEquals(gzippedText + ": gzip data, but not a tar archive (no ustar header)", e.getMessage());

		Path empty = Files.write(tmp.resolve("empty.tar"), new byte[10240]);
		e = assertThrows(ImageException.class, () -> FORMAT.open(empty));
		assertEquals(empty + ": an empty tar archive", e.getMessage());
	}

	@Test
	void configurationIsTakenLive() throws IOException {
		Path small = new CraftedTar().file("a", "12345", 0644).file("b", "12345", 0644).write(tmp.resolve("small.tar"));
		TarFormat format = new TarFormat(TarSettings.DEFAULT);
		assertTrue(format.open(small).isPresent());
		format.modified(config(false, false, 8, 10));
		ImageException e = assertThrows(ImageException.class, () -> format.open(small));
		assertEquals(small + ": entry 'b': the archive unpacks to more than 8 bytes (maxBytes)", e.getMessage());
	}

	static TarFormat.Config config(boolean devices, boolean setuid, long maxBytes, int maxEntries) {
		return new TarFormat.Config() {
			@Override
			public Class<TarFormat.Config> annotationType() {
				return TarFormat.Config.class;
			}

			@Override
			public boolean allowDevices() {
				return devices;
			}

			@Override
			public boolean allowSetuid() {
				return setuid;
			}

			@Override
			public long maxBytes() {
				return maxBytes;
			}

			@Override
			public int maxEntries() {
				return maxEntries;
			}
		};
	}
}
