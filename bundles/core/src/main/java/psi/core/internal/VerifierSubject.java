package psi.core.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import psi.api.PsiException;
import psi.api.dto.VerifyLevel;
import psi.spi.transport.Transport;
import psi.spi.verify.Level;
import psi.spi.verify.VerificationException;
import psi.spi.verify.Verifier;

/**
 * The image being verified, as verifiers see it: its file, name, origin and
 * SHA-256, and the files beside it at its origin, fetched through the image's
 * own transport at most once each, bounded in size; the ones the verifiers
 * declare are fetched while the image itself arrives. Made per image.
 */
final class VerifierSubject implements Verifier.Subject {

	private final HostLayout layout;
	private final Map<String, Verifier> verifiers;
	private final PluginCalls calls;
	private final Path image;
	private final String fileName;
	private final URI origin;
	String sha256;
	private final Transport transport;
	private final Path sidecarDir;
	private final VerifyLevel wanted;
	private final Map<String, Optional<Path>> sidecars = new HashMap<>();
	private final Map<String, Future<Optional<Path>>> prefetched = new HashMap<>();
	private ExecutorService prefetcher;

	VerifierSubject(HostLayout layout, Map<String, Verifier> verifiers, PluginCalls calls, Path image, String fileName, URI origin,
		String sha256, Transport transport, Path sidecarDir, VerifyLevel wanted) {
		this.layout = layout;
		this.verifiers = verifiers;
		this.calls = calls;
		this.image = image;
		this.fileName = fileName;
		this.origin = origin;
		this.sha256 = sha256;
		this.transport = transport;
		this.sidecarDir = sidecarDir;
		this.wanted = wanted;
	}

	@Override
	public Path image() {
		return image;
	}

	@Override
	public String fileName() {
		return fileName;
	}

	@Override
	public URI origin() {
		return origin;
	}

	@Override
	public String sha256() throws IOException {
		if (sha256 == null) {
			sha256 = Delivery.sha256Hex(image);
		}
		return sha256;
	}

	@Override
	public Optional<Path> sidecar(String name) throws IOException {
		if (!ImageName.isValidName(name) || name.startsWith(".")) {
			throw new IllegalArgumentException("not a plain file name: " + name);
		}
		Optional<Path> known = sidecars.get(name);
		if (known != null) {
			return known;
		}
		Optional<Path> found;
		if (origin == null) {
			Path p = image.resolveSibling(name);
			found = Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
			if (found.isPresent() && Files.size(p) > limit(name)) {
				throw new VerificationException("sidecar " + p + " is larger than " + limit(name) + " bytes, refusing to read it");
			}
		} else if (prefetched.containsKey(name)) {
			try {
				found = prefetched.get(name).get();
			} catch (ExecutionException e) {
				throw e.getCause() instanceof IOException io ? io : new IOException(name + ": " + e.getCause(), e.getCause());
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new InterruptedIOException("interrupted while fetching " + name);
			}
		} else {
			found = fetchSidecar(name);
		}
		sidecars.put(name, found);
		return found;
	}

	private Optional<Path> fetchSidecar(String name) throws IOException {
		URI u;
		try {
			u = origin.resolve(new URI(null, null, name, null));
		} catch (URISyntaxException e) {
			throw new IOException("cannot name " + name + " beside " + origin, e);
		}
		Files.createDirectories(sidecarDir);
		Path target = sidecarDir.resolve(name);
		Files.deleteIfExists(target);
		try {
			java.util.concurrent.atomic.AtomicLong beat = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
			calls.call(PluginCalls.Kind.TRANSPORT, transport, "fetching " + u, () -> transport.fetch(new Transport.Request(u, target,
				limit(name)), (bytes, total) -> beat.set(System.nanoTime())), beat);
			return Optional.of(target);
		} catch (NoSuchFileException e) {
			Files.deleteIfExists(target);
			return Optional.empty();
		}
	}

	/**
	 * Starts fetching the sidecars verifiers usually ask for, beside the
	 * image's own download, so that their round trips overlap it.
	 *
	 * @param asked the level the admin asked for; {@code NONE} fetches nothing
	 */
	void prefetch(VerifyLevel asked) throws IOException {
		if (origin == null || asked == VerifyLevel.NONE) {
			return;
		}
		// exactly the files the verifiers say they read
		Level strongest = Level.valueOf(wanted.name());
		java.util.Set<String> names = new java.util.TreeSet<>();
		for (Map.Entry<String, Verifier> v : verifiers.entrySet()) {
			Verifier verifier = v.getValue();
			String what = "naming the files it reads beside " + fileName;
			java.util.Set<String> wants = PluginCalls.answer(calls.call(PluginCalls.Kind.VERIFIER, verifier, what,
				() -> verifier.sidecars(fileName, strongest)), PluginCalls.Kind.VERIFIER, verifier, what);
			for (String n : wants) {
				if (!ImageName.isValidName(n) || n.startsWith(".")) {
					throw new PsiException(PluginCalls.name(PluginCalls.Kind.VERIFIER, verifier) + " named '" + n
						+ "' as a file beside " + fileName + ": not a plain file name");
				}
				names.add(n);
			}
		}
		if (names.isEmpty()) {
			return;
		}
		prefetcher = Executors.newFixedThreadPool(2, r -> {
			Thread th = new Thread(r, "psi-sidecars");
			th.setDaemon(true);
			return th;
		});
		for (String n : names) {
			prefetched.put(n, prefetcher.submit(() -> fetchSidecar(n)));
		}
	}

	/** Stops the prefetching and waits for it, so that the staging files can go. */
	void close() {
		if (prefetcher != null) {
			prefetcher.shutdownNow();
			try {
				prefetcher.awaitTermination(30, TimeUnit.SECONDS);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/** @return the largest sidecar of this name read: a detached dm-verity hash tree is as large as 1/64 of the image */
	private long limit(String name) {
		return name.endsWith(".verity") ? Delivery.IMAGE_MAX / 64 : Delivery.SIDECAR_MAX;
	}

	@Override
	public boolean wants(Level level) {
		return VerifyLevel.valueOf(level.name()).compareTo(wanted) <= 0;
	}

	@Override
	public Path host(String path) {
		return layout.host(path);
	}
}
