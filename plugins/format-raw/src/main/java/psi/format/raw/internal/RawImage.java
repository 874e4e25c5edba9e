package psi.format.raw.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import psi.format.raw.internal.gpt.DiscoverablePartitions;
import psi.format.raw.internal.gpt.GptTable;
import psi.format.raw.internal.gpt.Partition;
import psi.format.raw.internal.gpt.PartitionTypes;
import psi.format.raw.internal.squashfs.SquashfsReader;
import psi.format.raw.internal.verity.RootHashSources;
import psi.format.raw.internal.verity.VeritySuperblock;
import psi.format.raw.internal.verity.VerityTree;
import psi.spi.format.Entry;
import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;
import psi.spi.format.RootKind;

/**
 * An open raw image: the squashfs of its root (or usr) partition, or of the
 * whole file, and what {@code psi inspect} says of its partitions and
 * dm-verity protection.
 */
final class RawImage implements ImageTree {

	static final String TYPE = "raw";

	private final Path path;
	private final FileChannel channel;
	private final SquashfsReader fs;
	private final Optional<GptTable> table;
	private final Optional<DiscoverablePartitions.Selection> selection;

	private RawImage(Path path, FileChannel channel, SquashfsReader fs, Optional<GptTable> table,
		Optional<DiscoverablePartitions.Selection> selection) {
		this.path = path;
		this.channel = channel;
		this.fs = fs;
		this.table = table;
		this.selection = selection;
	}

	/**
	 * @return the image, or empty if the file is neither a GPT image nor a squashfs
	 */
	static Optional<ImageTree> open(Path path, FileChannel ch) throws IOException {
		String label = "image '" + path + "'";
		long size = ch.size();
		if (RawFormat.isSquashfs(ch, 0)) {
			return Optional.of(new RawImage(path, ch, new SquashfsReader(ch, 0, size, label), Optional.empty(), Optional.empty()));
		}
		Optional<GptTable> table = GptTable.read(ch, size, label);
		if (table.isEmpty()) {
			return Optional.empty();
		}
		// as systemd: a root hash known before dissection (xattr, sidecar) picks the partitions by UUID
		Optional<RootHashSources.RootHash> side = RootHashSources.sidecar(path);
		DiscoverablePartitions.Selection sel = DiscoverablePartitions.select(table.get(), PartitionTypes.hostArch(),
			side.map(RootHashSources.RootHash::hash).orElse(null), side.map(RootHashSources.RootHash::designator).orElse(null));
		Partition data = sel.data();
		if (!RawFormat.isSquashfs(ch, data.offset())) {
			throw new ImageException(label + ": partition " + data.number() + " (" + PartitionTypes.name(data.type())
				+ ") at byte " + data.offset() + " holds no squashfs; psi reads squashfs partitions only");
		}
		long length = data.length();
		if (sel.verity().isPresent()) {
			// read no further than the hash tree covers
			Partition hp = sel.verity().get();
			VeritySuperblock vsb = VeritySuperblock.read(ch, hp.offset(), label + " partition " + hp.number());
			length = Math.min(length, vsb.dataBlocks() * vsb.dataBlockSize());
		}
		SquashfsReader fs = new SquashfsReader(ch, data.offset(), length, label + " partition " + data.number());
		return Optional.of(new RawImage(path, ch, fs, table, Optional.of(sel)));
	}

	@Override
	public String type() {
		return TYPE;
	}

	@Override
	public Path path() {
		return path;
	}

	@Override
	public RootKind rootKind() {
		return RootKind.IMAGE;
	}

	@Override
	public Optional<Entry> lstat(String p) throws IOException {
		return fs.lstat(p);
	}

	@Override
	public List<String> list(String dir) throws IOException {
		return fs.list(dir);
	}

	@Override
	public byte[] read(String p, int maxBytes) throws IOException {
		return fs.read(p, maxBytes);
	}

	@Override
	public Optional<byte[]> xattr(String p, String name) throws IOException {
		try {
			return Optional.ofNullable(fs.xattrs(p).get(name));
		} catch (java.nio.file.NoSuchFileException e) {
			return Optional.empty();
		}
	}

	@Override
	public boolean isReadOnly() throws IOException {
		Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
		return !perms.contains(PosixFilePermission.OWNER_WRITE) && !perms.contains(PosixFilePermission.GROUP_WRITE)
			&& !perms.contains(PosixFilePermission.OTHERS_WRITE);
	}

	/** As portabled: read-only clears every write bit, writable adds back the owner's. */
	@Override
	public void setReadOnly(boolean readOnly) throws IOException {
		Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
		perms.addAll(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
		if (readOnly) {
			perms.removeAll(Set.of(PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE));
		} else {
			perms.add(PosixFilePermission.OWNER_WRITE);
		}
		Files.setPosixFilePermissions(path, perms);
	}

	@Override
	public long usage() {
		try {
			// as portabled: the blocks the file takes (st_blocks), less than its size when it is sparse
			return AllocatedSize.of(path);
		} catch (IOException | RuntimeException | LinkageError e) {
			try {
				return channel.size();
			} catch (IOException e2) {
				return -1;
			}
		}
	}

	@Override
	public Map<String, String> describe() throws IOException {
		Map<String, String> out = new LinkedHashMap<>();
		if (table.isEmpty()) {
			out.put("Partition table", "none (a naked file system)");
		} else {
			GptTable t = table.get();
			out.put("Partition table", "GPT, " + t.sectorSize() + "-byte sectors, " + t.partitions().size() + (t.partitions().size() == 1 ? " partition" : " partitions")
				+ t.warning().map(w -> " (" + w + ")").orElse(""));
			DiscoverablePartitions.Selection s = selection.orElseThrow();
			out.put("Partitions used", describe(s.data()) + s.verity().map(v -> "; " + describe(v)).orElse("")
				+ s.veritySig().map(v -> "; " + describe(v)).orElse(""));
		}
		var sb = fs.superblock();
		out.put("File system", "squashfs, " + sb.compressor() + ", " + sb.blockSize() / 1024 + " KiB blocks, "
			+ sb.inodeCount() + " inodes");
		out.put("Verity", verity(false));
		return out;
	}

	@Override
	public Map<String, String> verifyIntegrity() throws IOException {
		if (selection.isEmpty() || selection.get().verity().isEmpty()) {
			return Map.of();
		}
		return Map.of("Verity", verity(true));
	}

	private static String describe(Partition p) {
		return "#" + p.number() + " " + PartitionTypes.name(p.type()) + " (" + size(p.length())
			+ (p.readOnly() ? ", read-only" : "") + ")";
	}

	/** Says what the image carries for dm-verity; with {@code check}, checks the hash tree. */
	private String verity(boolean check) throws IOException {
		if (selection.isEmpty() || selection.get().verity().isEmpty()) {
			return "none";
		}
		DiscoverablePartitions.Selection s = selection.get();
		Partition hashPart = s.verity().get();
		Optional<RootHashSources.RootHash> root = RootHashSources.find(path, channel, s);
		if (root.isEmpty()) {
			return "hash tree present, but no root hash found (no .roothash, no signature partition); not checked";
		}
		String rootHash = "root hash " + HexFormat.of().formatHex(root.get().hash()) + " (from " + root.get().where()
			+ (root.get().signature().isPresent() ? ", signature not checked by inspect" : "") + ")";
		if (!check) {
			return rootHash + ", hash tree not checked (inspect --verify checks it)";
		}
		VeritySuperblock sb = VerityTree.verify(channel, s.data().offset(), s.data().length(), channel, hashPart.offset(), 0,
			hashPart.length(), root.get().hash(), "image '" + path + "'");
		return rootHash + ", hash tree verified ("
			+ sb.algorithm() + ", " + sb.dataBlocks() + " blocks)";
	}

	static String size(long n) {
		String[] units = { "B", "K", "M", "G", "T" };
		double v = n;
		int u = 0;
		while (v >= 1024 && u < units.length - 1) {
			v /= 1024;
			u++;
		}
		return u == 0 ? n + "B" : String.format(Locale.ROOT, "%.1f%s", v, units[u]);
	}

	@Override
	public void close() throws IOException {
		try {
			fs.close();
		} finally {
			channel.close();
		}
	}
}
