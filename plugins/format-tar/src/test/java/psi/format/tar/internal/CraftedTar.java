package psi.format.tar.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Archives the tar tool will not make (names with {@code ..}, absolute
 * names, entries below links, devices, huge sizes), written by Python's
 * tarfile module entry by entry, in pax format.
 */
final class CraftedTar {

	/** The modification time of every entry, in seconds. */
	static final long MTIME = 1_600_000_000L;

	private final List<String> lines = new ArrayList<>();
	private boolean withoutEnd;

	/** A regular file. */
	CraftedTar file(String name, String content, int mode) {
		return add(name, "REGTYPE", mode, content.getBytes(StandardCharsets.UTF_8), "", 0, 0, 0, 0, Map.of());
	}

	/** A regular file with its owner and pax records. */
	CraftedTar file(String name, String content, int mode, int uid, int gid, Map<String, String> pax) {
		return add(name, "REGTYPE", mode, content.getBytes(StandardCharsets.UTF_8), "", uid, gid, 0, 0, pax);
	}

	/** A directory. */
	CraftedTar dir(String name, int mode) {
		return add(name, "DIRTYPE", mode, new byte[0], "", 0, 0, 0, 0, Map.of());
	}

	/** A symbolic link. */
	CraftedTar symlink(String name, String target) {
		return add(name, "SYMTYPE", 0777, new byte[0], target, 0, 0, 0, 0, Map.of());
	}

	/** A symbolic link with its owner. */
	CraftedTar symlink(String name, String target, int uid, int gid) {
		return add(name, "SYMTYPE", 0777, new byte[0], target, uid, gid, 0, 0, Map.of());
	}

	/** A hard link. */
	CraftedTar hardlink(String name, String target) {
		return add(name, "LNKTYPE", 0644, new byte[0], target, 0, 0, 0, 0, Map.of());
	}

	/** A character device. */
	CraftedTar chardev(String name, int major, int minor) {
		return add(name, "CHRTYPE", 0666, new byte[0], "", 0, 0, major, minor, Map.of());
	}

	/** A FIFO. */
	CraftedTar fifo(String name) {
		return add(name, "FIFOTYPE", 0644, new byte[0], "", 0, 0, 0, 0, Map.of());
	}

	/** An entry of any type flag, e.g. {@code b'V'}. */
	CraftedTar typed(String name, String pythonType) {
		return add(name, pythonType, 0644, new byte[0], "", 0, 0, 0, 0, Map.of());
	}

	/** A regular file's header claiming {@code size} bytes, without them: the archive ends there. */
	CraftedTar hugeHeader(String name, long size) {
		lines.add("i = tarfile.TarInfo(" + str(name) + "); i.size = " + size + "; i.mtime = " + MTIME);
		lines.add("t.fileobj.write(i.tobuf(t.format, t.encoding, t.errors)); t.offset += 512");
		return this;
	}

	/** Leaves out the end-of-archive blocks, as if cut right after the last entry. */
	CraftedTar withoutEnd() {
		withoutEnd = true;
		return this;
	}

	private CraftedTar add(String name, String type, int mode, byte[] data, String link, int uid, int gid, int major, int minor,
			Map<String, String> pax) {
		StringBuilder p = new StringBuilder("{");
		pax.forEach((k, v) -> p.append(str(k)).append(": ").append(str(v)).append(", "));
		p.append('}');
		lines.add("add(" + str(name) + ", " + (type.startsWith("b'") ? type : "tarfile." + type) + ", " + mode + ", bytes.fromhex('"
			+ HexFormat.of().formatHex(data) + "'), " + str(link) + ", " + uid + ", " + gid + ", " + major + ", " + minor + ", " + p
			+ ")");
		return this;
	}

	/** @return a Python expression for the text, safe whatever it holds */
	private static String str(String s) {
		return "bytes.fromhex('" + HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8)) + "').decode()";
	}

	/** Writes the archive. */
	Path write(Path out) throws IOException {
		StringBuilder py = new StringBuilder();
		py.append("import io, sys, tarfile\n");
		py.append("t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)\n");
		py.append("def add(name, type, mode, data, link, uid, gid, major, minor, pax):\n");
		py.append("    i = tarfile.TarInfo(name); i.type = type; i.mode = mode; i.linkname = link; i.uid = uid; i.gid = gid\n");
		py.append("    i.devmajor = major; i.devminor = minor; i.mtime = " + MTIME + "; i.pax_headers = pax\n");
		py.append("    i.size = len(data)\n");
		py.append("    t.addfile(i, io.BytesIO(data) if data else None)\n");
		for (String l : lines) {
			py.append(l).append('\n');
		}
		if (withoutEnd) {
			py.append("end = t.offset; t.close(); f = open(sys.argv[1], 'r+b'); f.truncate(end); f.close()\n");
		} else {
			py.append("t.close()\n");
		}
		TarFixtures.run(List.of("python3", "-c", py.toString(), out.toString()), null);
		return out;
	}
}
