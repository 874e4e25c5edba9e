package psi.format.tar.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

import psi.spi.format.Entry;
import psi.spi.format.ImageException;
import psi.spi.format.ImageTree;
import psi.spi.format.RootKind;

/**
 * A tar archive as an image. {@link #lstat} and {@link #list} are answered
 * from the {@link TarIndex} made at open; {@link #read} from it for small
 * files, else by reading the archive again up to the file. Attaching it
 * takes {@link #unpack} ({@link TarUnpacker}).
 * <p>
 * An archive is always read-only: {@code setReadOnly(true)} does nothing,
 * {@code setReadOnly(false)} is refused (the unpacked directory image is
 * what may be made writable). Used by one thread at a time, as the SPI says.
 */
final class TarImage implements ImageTree {

	/** The image type. */
	static final String TYPE = "tar";

	private final TarArchive archive;
	private final TarSettings settings;
	private final TarIndex index;

	private TarImage(TarArchive archive, TarSettings settings, TarIndex index) {
		this.archive = archive;
		this.settings = settings;
		this.index = index;
	}

	/**
	 * @param archive the archive
	 * @param settings its bounds
	 * @return the image, indexed
	 * @throws ImageException if the archive is corrupt, truncated or refused
	 * @throws IOException on an I/O error
	 */
	static TarImage open(TarArchive archive, TarSettings settings) throws IOException {
		return new TarImage(archive, settings, TarIndex.scan(archive, settings));
	}

	@Override
	public String type() {
		return TYPE;
	}

	@Override
	public Path path() {
		return archive.path();
	}

	@Override
	public RootKind rootKind() {
		return RootKind.DIRECTORY;
	}

	@Override
	public boolean isArchive() {
		return true;
	}

	@Override
	public Optional<Entry> lstat(String path) {
		return index.node(key(path)).map(TarNode::toEntry);
	}

	@Override
	public List<String> list(String dir) {
		return index.children(key(dir));
	}

	@Override
	public byte[] read(String path, int maxBytes) throws IOException {
		TarNode node = index.node(key(path)).orElseThrow(() -> new NoSuchFileException(path + " in " + archive.path()));
		if (node.type() != EntryType.FILE) {
			throw new ImageException("'" + path + "' in " + archive.path() + " is not a regular file");
		}
		if (node.size() > maxBytes) {
			throw new ImageException("'" + path + "' in " + archive.path() + " is larger than " + maxBytes + " bytes");
		}
		Optional<byte[]> cached = index.content(node);
		return cached.isPresent() ? cached.get() : readFromArchive(node);
	}

	/** Reads the archive again up to the node's entry. */
	private byte[] readFromArchive(TarNode node) throws IOException {
		try (TarEntries in = archive.entries()) {
			TarArchiveEntry e = in.next();
			for (int i = 0; e != null && i < node.ordinal(); i++) {
				e = in.next();
			}
			if (e == null || EntryType.of(e) != EntryType.FILE || e.getRealSize() != node.size()) {
				throw archive.refuse(null, "changed since it was opened");
			}
			return in.read((int) node.size());
		}
	}

	@Override
	public Optional<byte[]> xattr(String path, String name) {
		return index.node(key(path)).map(n -> n.xattrs().get(name)).map(byte[]::clone);
	}

	@Override
	public void unpack(Path target) throws IOException {
		new TarUnpacker(archive, settings).unpack(target);
	}

	@Override
	public boolean isReadOnly() {
		return true;
	}

	@Override
	public void setReadOnly(boolean readOnly) throws IOException {
		if (!readOnly) {
			throw new ImageException(TYPE + " image " + archive.path() + " is an archive, always read-only");
		}
	}

	@Override
	public long usage() {
		try {
			return Files.readAttributes(archive.path(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size();
		} catch (IOException e) {
			return -1;
		}
	}

	@Override
	public Map<String, String> describe() {
		Map<String, String> d = new LinkedHashMap<>();
		d.put("Archive", archive.kind());
		d.put("Entries", Integer.toString(index.entries()));
		d.put("Unpacked size", Long.toString(index.bytes()));
		return d;
	}

	/** @return the index's key of a path the engine gives: absolute, no trailing slash */
	private static String key(String path) {
		String p = path;
		while (p.length() > 1 && p.endsWith("/")) {
			p = p.substring(0, p.length() - 1);
		}
		return p.isEmpty() ? "/" : p.startsWith("/") ? p : "/" + p;
	}
}
