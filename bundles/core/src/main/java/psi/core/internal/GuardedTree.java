package psi.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import psi.api.PsiException;
import psi.spi.format.Entry;
import psi.spi.format.ImageTree;
import psi.spi.format.RootKind;

/**
 * An open image as the engine sees it: every call to the format plugin's
 * tree goes through {@link PluginCalls}, and what it answers is checked
 * (no {@code null}s, no more bytes than asked for).
 */
final class GuardedTree implements ImageTree {

	private static final PluginCalls.Kind FORMAT = PluginCalls.Kind.FORMAT;

	private final ImageTree tree;
	private final PluginCalls calls;
	private final String label;

	/**
	 * @param tree the plugin's tree
	 * @param calls the guard
	 * @param label the image, for messages: {@code image '/var/lib/portables/foo'}
	 */
	GuardedTree(ImageTree tree, PluginCalls calls, String label) {
		this.tree = tree;
		this.calls = calls;
		this.label = label;
	}

	private <T> T call(String what, PluginCalls.Call<T> c) throws IOException {
		String w = what + " of " + label;
		return PluginCalls.answer(calls.call(FORMAT, tree, w, c), FORMAT, tree, w);
	}

	private <T> T quick(String what, PluginCalls.Call<T> c) {
		try {
			return call(what, c);
		} catch (IOException e) {
			throw new PsiException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
		}
	}

	/**
	 * Runs many reads of this image as one guarded call: one hand-over to a
	 * worker thread instead of one for each read, under the format's limit
	 * for the whole. The reads inside still name this plugin when it fails.
	 *
	 * @param what what is done, for messages: {@code "reading its units"}
	 */
	<T> T reading(String what, PluginCalls.Call<T> c) throws IOException {
		return calls.call(FORMAT, tree, what + " of " + label, c);
	}

	@Override
	public String type() {
		return quick("telling the type", tree::type);
	}

	@Override
	public Path path() {
		return quick("telling the path", tree::path);
	}

	@Override
	public RootKind rootKind() {
		return quick("telling how systemd roots it", tree::rootKind);
	}

	@Override
	public Optional<Entry> lstat(String path) throws IOException {
		return call("looking up " + path, () -> tree.lstat(path));
	}

	@Override
	public List<String> list(String dir) throws IOException {
		return call("listing " + dir, () -> tree.list(dir));
	}

	@Override
	public byte[] read(String path, int maxBytes) throws IOException {
		byte[] b = call("reading " + path, () -> tree.read(path, maxBytes));
		if (b.length > maxBytes) {
			throw new PsiException(PluginCalls.name(FORMAT, tree) + " answered " + b.length + " bytes for " + path + " of "
				+ label + ", more than the " + maxBytes + " asked for");
		}
		return b;
	}

	@Override
	public void setLimit(long bytes) throws IOException {
		call("setting its size limit", () -> {
			tree.setLimit(bytes);
			return null;
		});
	}

	@Override
	public Optional<byte[]> xattr(String path, String name) throws IOException {
		return call("reading the attribute " + name + " of " + path, () -> tree.xattr(path, name));
	}

	@Override
	public Optional<Path> hostPath(String path) {
		return quick("finding " + path + " on the host", () -> tree.hostPath(path));
	}

	@Override
	public boolean isReadOnly() throws IOException {
		return call("telling whether it is read-only", tree::isReadOnly);
	}

	@Override
	public void setReadOnly(boolean readOnly) throws IOException {
		call("marking it " + (readOnly ? "read-only" : "writable"), () -> {
			tree.setReadOnly(readOnly);
			return Boolean.TRUE;
		});
	}

	@Override
	public void snapshot(Path target) throws IOException {
		call("snapshotting it to " + target, () -> {
			tree.snapshot(target);
			return Boolean.TRUE;
		});
	}

	@Override
	public long usage() {
		return quick("measuring its size", tree::usage);
	}

	@Override
	public Map<String, String> describe() throws IOException {
		return call("describing it", tree::describe);
	}

	@Override
	public Map<String, String> verifyIntegrity() throws IOException {
		String w = "checking the integrity of " + label;
		return PluginCalls.answer(calls.call(PluginCalls.Kind.VERIFIER, tree, w, tree::verifyIntegrity), PluginCalls.Kind.FORMAT,
			tree, w);
	}

	@Override
	public boolean isArchive() {
		return quick("asking whether it is an archive", tree::isArchive);
	}

	/** Under the long limit of work that reads a whole image, as {@link #verifyIntegrity()}. */
	@Override
	public void unpack(Path target) throws IOException {
		calls.call(PluginCalls.Kind.VERIFIER, tree, "unpacking " + label, () -> {
			tree.unpack(target);
			return Boolean.TRUE;
		});
	}

	@Override
	public void close() throws IOException {
		call("closing it", () -> {
			tree.close();
			return Boolean.TRUE;
		});
	}
}
