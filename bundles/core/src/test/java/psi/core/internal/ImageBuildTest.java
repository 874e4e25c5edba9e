package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.BuildRequestDTO;
import psi.api.dto.BuildResultDTO;
import psi.api.dto.FindingDTO;
import psi.spi.format.ImageBuilder;
import psi.spi.format.ImageException;

/**
 * psi build's placing of what a builder wrote: atomically into the output's
 * directory, sidecars first; nothing at all when the builder fails or lint
 * finds an error; refusals before anything is written. The builders here
 * are small fakes; the real one is tested in format-raw and in the box.
 */
class ImageBuildTest {

	@TempDir
	Path tmp;

	private BuildRequestDTO request(String output) throws IOException {
		Path tree = Files.createDirectories(tmp.resolve("tree"));
		BuildRequestDTO r = new BuildRequestDTO();
		r.tree = tree.toString();
		r.output = tmp.resolve(output).toString();
		return r;
	}

	/** A builder that writes "image" and one sidecar, or fails, as told. */
	private static ImageBuilder fake(String failure) {
		return (req, out, progress) -> {
			Files.writeString(out, "image");
			progress.accept(5);
			if (failure != null) {
				throw new ImageException(failure);
			}
			BuildResultDTO r = new BuildResultDTO();
			Path side = out.resolveSibling("img.roothash");
			Files.writeString(side, "abcd\n");
			r.sidecars.add(side.toString());
			return r;
		};
	}

	private static List<Map.Entry<Map<String, Object>, ImageBuilder>> builders(ImageBuilder b) {
		return List.of(Map.entry(Map.of(ImageBuilder.FORMATS, new String[] { "raw", "squashfs" }), b));
	}

	private static FindingDTO finding(String severity, String where) {
		FindingDTO f = new FindingDTO();
		f.severity = severity;
		f.check = "verify";
		f.where = where;
		f.message = "about " + where;
		return f;
	}

	private List<String> listing() throws IOException {
		try (Stream<Path> s = Files.list(tmp)) {
			return s.map(p -> p.getFileName().toString()).sorted().toList();
		}
	}

	@Test
	void theImageAndItsSidecarsArePlacedAndTheWorkDirectoryGoes() throws Exception {
		BuildRequestDTO req = request("img.raw");
		List<Path> linted = new ArrayList<>();
		BuildResultDTO r = ImageBuild.run(req, builders(fake(null)), (image, profile) -> {
			linted.add(image);
			return List.of(finding("warning", image.toString()));
		}, ProgressListener.NONE);
		assertEquals(tmp.resolve("img.raw").toString(), r.output);
		assertEquals(List.of(tmp.resolve("img.roothash").toString()), r.sidecars);
		assertEquals("image", Files.readString(tmp.resolve("img.raw")));
		assertEquals(List.of("img.raw", "img.roothash", "tree"), listing(), "no work directory left");
		assertEquals("img.raw", linted.get(0).getFileName().toString(), "lint saw the image under its own name");
		assertEquals(tmp.resolve("img.raw").toString(), r.findings.get(0).where, "findings name the image, not the work file");
	}

	@Test
	void anErrorFoundLeavesNothingAndTheOldImageStays() throws Exception {
		Files.writeString(tmp.resolve("img.raw"), "old");
		BuildResultDTO r = ImageBuild.run(request("img.raw"), builders(fake(null)), (image, profile) -> List.of(finding("error", image.toString())),
			ProgressListener.NONE);
		assertNull(r.output);
		assertTrue(r.sidecars.isEmpty());
		assertEquals("old", Files.readString(tmp.resolve("img.raw")));
		assertEquals(List.of("img.raw", "tree"), listing());
	}

	@Test
	void aSignedImageTheHostDoesNotTrustIsAWarning() throws Exception {
		BuildRequestDTO req = request("img.raw");
		req.key = "/k.pem";
		req.certificate = "/c.pem";
		BuildResultDTO r = ImageBuild.run(req, builders(fake(null)), (image, profile) -> List.of(finding("error", image.toString())),
			ProgressListener.NONE);
		assertEquals(tmp.resolve("img.raw").toString(), r.output);
		assertEquals("warning", r.findings.get(0).severity);
		assertTrue(r.findings.get(0).remedy.contains("/c.pem in /etc/verity.d/"), r.findings.get(0).remedy);
	}

	@Test
	void aFailingBuilderLeavesNothing() throws Exception {
		ImageException e = assertThrows(ImageException.class,
			() -> ImageBuild.run(request("img.raw"), builders(fake("tree/x: cannot read it: permission denied")), (i, p) -> List.of(),
				ProgressListener.NONE));
		assertEquals("tree/x: cannot read it: permission denied", e.getMessage());
		assertEquals(List.of("tree"), listing());
	}

	@Test
	void refusalsComeBeforeAnythingIsWritten() throws Exception {
		BuildRequestDTO inside = request("tree/img.raw");
		PsiException e = assertThrows(PsiException.class, () -> ImageBuild.run(inside, builders(fake(null)), (i, p) -> List.of(), ProgressListener.NONE));
		assertTrue(e.getMessage().contains("would be written inside the tree"), e.getMessage());

		BuildRequestDTO tar = request("img.tar");
		tar.format = "tar";
		e = assertThrows(PsiException.class, () -> ImageBuild.run(tar, builders(fake(null)), (i, p) -> List.of(), ProgressListener.NONE));
		assertEquals("psi build: no plugin makes --format tar (installed: raw, squashfs)", e.getMessage());

		BuildRequestDTO missing = request("img.raw");
		missing.tree = tmp.resolve("nothere").toString();
		e = assertThrows(PsiException.class, () -> ImageBuild.run(missing, builders(fake(null)), (i, p) -> List.of(), ProgressListener.NONE));
		assertEquals("psi build: " + tmp.resolve("nothere") + ": no such directory", e.getMessage());

		BuildRequestDTO noDir = request("no/such/img.raw");
		e = assertThrows(PsiException.class, () -> ImageBuild.run(noDir, builders(fake(null)), (i, p) -> List.of(), ProgressListener.NONE));
		assertTrue(e.getMessage().endsWith("does not exist"), e.getMessage());
		assertFalse(Files.exists(tmp.resolve("no")));
		assertEquals(List.of("tree"), listing());
	}

	/** A build killed mid-way left its work directory: the next build removes it, and leaves a running build's alone. */
	@Test
	void aKilledBuildsWorkDirectoryGoesWithTheNextBuild() throws Exception {
		Process gone = new ProcessBuilder("true").start();
		gone.waitFor();
		Path dead = Files.createDirectories(tmp.resolve(ImageBuild.WORK + gone.pid() + "-123/sub"));
		Files.writeString(dead.resolve("half.raw"), "half");
		Path live = Files.createDirectories(tmp.resolve(ImageBuild.WORK + ProcessHandle.current().pid() + "-456"));
		BuildResultDTO r = ImageBuild.run(request("img.raw"), builders(fake(null)), (i, p) -> List.of(), ProgressListener.NONE);
		assertEquals(tmp.resolve("img.raw").toString(), r.output);
		assertFalse(Files.exists(dead.getParent()), "the killed build's work directory is gone");
		assertTrue(Files.exists(live), "a running build's stays");
	}
}
