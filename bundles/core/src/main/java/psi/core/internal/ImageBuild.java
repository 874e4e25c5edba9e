package psi.core.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import psi.api.ProgressListener;
import psi.api.PsiException;
import psi.api.dto.BuildRequestDTO;
import psi.api.dto.BuildResultDTO;
import psi.api.dto.FindingDTO;
import psi.spi.format.ImageBuilder;

/**
 * {@code psi build}: has the plugin that makes the format write the image
 * into a directory of its own beside the output, checks it as psi lint does,
 * then moves the sidecars and the image into place, each atomically. A
 * failure, an error found or an interruption leaves nothing but what was
 * there before.
 */
final class ImageBuild {

	/** Checks a written image, as psi lint does. */
	@FunctionalInterface
	interface Lint {
		List<FindingDTO> check(Path image, String profile) throws IOException;
	}

	/** The work directories' names: {@code .psi-build-PID-RANDOM}, PID the building process's. */
	static final String WORK = ".psi-build-";

	private ImageBuild() {
	}

	/**
	 * Removes the work directories of builds whose process is gone (killed
	 * mid-build): those of a live process are another build's, running.
	 */
	static void leftovers(Path dir) {
		try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, WORK + "*")) {
			for (Path p : ds) {
				String[] f = p.getFileName().toString().substring(WORK.length()).split("-", 2);
				if (f.length == 2 && f[0].matches("[0-9]{1,10}") && ProcessHandle.of(Long.parseLong(f[0])).isEmpty()
					&& Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
					AtomicFiles.deleteTree(p);
				}
			}
		} catch (IOException | RuntimeException e) {
			// a leftover that cannot go stays; the build does not depend on it
		}
	}

	/**
	 * @param builders the image builders with their service properties, lowest ranking first
	 */
	static BuildResultDTO run(BuildRequestDTO req, List<Map.Entry<Map<String, Object>, ImageBuilder>> builders, Lint lint,
		ProgressListener listener) throws IOException {
		if (req.tree == null || !Path.of(req.tree).isAbsolute() || req.output == null || !Path.of(req.output).isAbsolute()) {
			throw new IllegalArgumentException("psi build needs an absolute tree and output");
		}
		Path tree = Path.of(req.tree).normalize();
		Path output = Path.of(req.output).normalize();
		Map<String, ImageBuilder> byFormat = new TreeMap<>();
		for (Map.Entry<Map<String, Object>, ImageBuilder> b : builders) {
			for (String f : PortablesEngine.strings(b.getValue() == null ? null : b.getKey().get(ImageBuilder.FORMATS))) {
				byFormat.put(f, b.getValue());
			}
		}
		ImageBuilder builder = byFormat.get(req.format);
		if (builder == null) {
			throw new PsiException("psi build: no plugin makes --format " + req.format + " (installed: "
				+ (byFormat.isEmpty() ? "none" : String.join(", ", byFormat.keySet())) + ")");
		}
		if (!Files.isDirectory(tree)) {
			throw new PsiException("psi build: " + tree + ": " + (Files.exists(tree, LinkOption.NOFOLLOW_LINKS) ? "not a directory" : "no such directory"));
		}
		Path dir = output.getParent();
		if (dir == null || !Files.isDirectory(dir)) {
			throw new PsiException("psi build: " + output + ": its directory " + dir + " does not exist");
		}
		if (Files.isDirectory(output)) {
			throw new PsiException("psi build: " + output + ": is a directory; give the image's file name (-o DIR/NAME.raw)");
		}
		if (dir.toRealPath().startsWith(tree.toRealPath())) {
			throw new PsiException("psi build: the image " + output + " would be written inside the tree " + tree
				+ ", which would then hold it; write it elsewhere (-o)");
		}
		leftovers(dir);
		Path work = Files.createTempDirectory(dir, WORK + ProcessHandle.current().pid() + "-");
		try {
			Path tmp = work.resolve(output.getFileName());
			listener.step("Building: " + req.format + " image of " + tree + " (" + req.compression + ")");
			BuildResultDTO r = builder.build(req, tmp, bytes -> listener.transfer(tree.getFileName() + "/", bytes, -1));
			listener.transferDone();
			r.format = req.format;
			if (req.lint) {
				r.findings = lint.check(tmp, req.profile);
				for (FindingDTO f : r.findings) {
					// the image as it will be named, not the work file
					f.where = f.where == null ? null : f.where.replace(tmp.toString(), output.toString());
					f.message = f.message == null ? null : f.message.replace(tmp.toString(), output.toString());
					if (req.key != null && "verify".equals(f.check)) {
						// signed just now: what this host trusts says nothing of the hosts that will run it
						f.severity = "warning";
						f.message = "signed with the key of " + req.certificate + ", a certificate this host does not trust (none of its verity.d directories holds it)";
						f.remedy = "install " + req.certificate + " in /etc/verity.d/ on the hosts that run it (psi pull and psi start refuse the image otherwise)";
					}
				}
				if (r.findings.stream().anyMatch(f -> "error".equals(f.severity))) {
					r.output = null;
					r.sidecars = new ArrayList<>();
					return r;
				}
			}
			List<String> placed = new ArrayList<>();
			for (String s : r.sidecars) {
				placed.add(place(Path.of(s), dir).toString());
			}
			r.sidecars = placed;
			r.output = place(tmp, dir).toString();
			try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
				d.force(true);
			}
			return r;
		} finally {
			AtomicFiles.deleteTree(work);
		}
	}

	/** Syncs a file written in the work directory and renames it into the output's directory, replacing one there. */
	private static Path place(Path written, Path dir) throws IOException {
		try (FileChannel ch = FileChannel.open(written, StandardOpenOption.WRITE)) {
			ch.force(true);
		}
		Path to = dir.resolve(written.getFileName());
		Files.move(written, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		return to;
	}
}
