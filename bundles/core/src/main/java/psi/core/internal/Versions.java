package psi.core.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import psi.spi.format.Entry;
import psi.spi.format.VersionOrder;

/**
 * systemd's version order ({@code strverscmp_improved()}, the UAPI version
 * format) and its {@code .v/} directories (systemd 256's vpick): a
 * directory {@code NAME.raw.v/} holds {@code NAME_VERSION[_ARCH][+LEFT[-DONE]].raw}
 * files, {@code NAME.v/} such files or {@code NAME_VERSION} directories, and
 * the image it stands for is the newest of them that is for this host's
 * architecture (or any) and has tries left.
 */
final class Versions {

	/** The most entries of a {@code .v/} directory looked at. */
	static final int MAX_ENTRIES = 4096;

	/** Architecture names systemd knows; a {@code _WORD} after the version that is none of them is no architecture. */
	private static final Set<String> ARCHITECTURES = Set.of("x86", "x86-64", "arm", "arm64", "arm-be", "arm64-be", "alpha", "arc", "arc-be",
		"cris", "ia64", "loongarch64", "m68k", "mips", "mips-le", "mips64", "mips64-le", "parisc", "parisc64", "ppc", "ppc64", "ppc-le",
		"ppc64-le", "riscv32", "riscv64", "s390", "s390x", "sh", "sh64", "sparc", "sparc64", "tilegx");

	private Versions() {
	}

	/** One version in a {@code .v/} directory. */
	record Pick(String path, String fileName, String version, long triesLeft, long triesDone) {
	}

	/** @return systemd's version order ({@link VersionOrder}) */
	static int compare(String a, String b) {
		return VersionOrder.compare(a, b);
	}

	/** @return whether a file name is that of a {@code .v/} directory */
	static boolean isVersioned(String fileName) {
		return fileName.length() > 2 && fileName.endsWith(".v");
	}

	/** @return the image name a {@code .v/} directory stands for: {@code app} of {@code app.raw.v} and {@code app.v} */
	static String baseName(String vdirFileName) {
		return ImageName.stripSuffix(vdirFileName.substring(0, vdirFileName.length() - 2));
	}

	/**
	 * The versions of a {@code .v/} directory, best first.
	 *
	 * @param vdir its path as seen from the root
	 */
	static List<Pick> all(HostLayout layout, String vdir) throws IOException {
		String dirName = DropInWriter.lastComponent(vdir);
		String inner = dirName.substring(0, dirName.length() - 2);
		String base = ImageName.stripSuffix(inner);
		List<String> suffixes = base.equals(inner) ? List.of(".raw", ".psi", "") : List.of(inner.substring(base.length()));
		List<String> names = layout.list(vdir);
		if (names.size() > MAX_ENTRIES) {
			throw new psi.api.PsiException("'" + vdir + "' holds " + names.size() + " entries, more than the " + MAX_ENTRIES + " psi looks at");
		}
		String arch = ExtensionRelease.hostArchitecture();
		List<Pick> out = new ArrayList<>();
		for (String name : names) {
			if (!name.startsWith(base + "_")) {
				continue;
			}
			for (String suffix : suffixes) {
				String e = name.substring(base.length() + 1);
				if (!e.endsWith(suffix) || e.length() == suffix.length()) {
					continue;
				}
				e = e.substring(0, e.length() - suffix.length());
				long left = -1;
				long done = -1;
				int plus = e.lastIndexOf('+');
				if (plus >= 0 && e.substring(plus + 1).matches("[0-9]{1,9}(-[0-9]{1,9})?")) {
					String[] t = e.substring(plus + 1).split("-");
					left = Long.parseLong(t[0]);
					done = t.length > 1 ? Long.parseLong(t[1]) : 0;
					e = e.substring(0, plus);
				}
				int underscore = e.lastIndexOf('_');
				if (underscore >= 0) {
					String a = e.substring(underscore + 1);
					if (ARCHITECTURES.contains(a) && !a.equals(arch)) {
						continue; // another architecture's
					}
					e = e.substring(0, underscore);
				}
				if (e.isEmpty() || e.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
					continue;
				}
				Entry.Kind kind = suffix.isEmpty() ? Entry.Kind.DIRECTORY : Entry.Kind.FILE;
				if (!layout.exists(vdir + "/" + name, kind)) {
					continue;
				}
				out.add(new Pick(vdir + "/" + name, name, e, left, done));
				break;
			}
		}
		out.sort(BEST_FIRST);
		return out;
	}

	/** systemd's order: tries left over none, newer, more tries left, fewer done, then the file name. */
	static final Comparator<Pick> BEST_FIRST = ((Comparator<Pick>) (x, y) -> {
		int d = Boolean.compare(x.triesLeft() != 0, y.triesLeft() != 0);
		if (d == 0) {
			d = compare(x.version(), y.version());
		}
		if (d == 0) {
			d = Long.compareUnsigned(x.triesLeft(), y.triesLeft());
		}
		if (d == 0) {
			d = -Long.compareUnsigned(x.triesDone(), y.triesDone());
		}
		if (d == 0) {
			d = x.fileName().compareTo(y.fileName());
		}
		return d;
	}).reversed();

	/** @return the version a {@code .v/} directory stands for now, if any */
	static Optional<Pick> pick(HostLayout layout, String vdir) throws IOException {
		List<Pick> all = all(layout, vdir);
		return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
	}
}
