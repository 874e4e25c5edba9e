package psi.transport.https.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.ResponseInfo;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

import psi.spi.transport.Transport.Fetched;
import psi.spi.transport.Transport.Progress;
import psi.spi.transport.Transport.Request;

/**
 * One fetch over one {@link HttpClient}: builds the conditional and range
 * headers, decides by the response head (on the client's thread), then
 * writes and hashes the body on the calling thread while the client's
 * thread receives and decrypts the next bytes. See {@link HttpsTransport}
 * for what is promised.
 */
final class Transfer {

	/** How often {@link Progress#update} is called at most: every this many bytes. */
	private static final long UPDATE_EVERY = 1 << 20;

	/**
	 * Requests that may bring more than this go over HTTP/1.1 even where HTTP/2
	 * is offered: the JDK 17 client receives a large body about 15% faster
	 * over HTTP/1.1 (measured: 256 MB over loopback from nginx, 0.37 s against
	 * 0.42 s; window and frame size settings did not close the gap).
	 */
	static final long HTTP2_MAX_BYTES = 64 << 20;

	private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");

	private static final Map<Integer, String> REASONS = Map.ofEntries(Map.entry(300, "Multiple Choices"),
		Map.entry(301, "Moved Permanently"), Map.entry(302, "Found"), Map.entry(303, "See Other"),
		Map.entry(304, "Not Modified"), Map.entry(307, "Temporary Redirect"), Map.entry(308, "Permanent Redirect"),
		Map.entry(400, "Bad Request"), Map.entry(401, "Unauthorized"), Map.entry(402, "Payment Required"),
		Map.entry(403, "Forbidden"), Map.entry(405, "Method Not Allowed"), Map.entry(406, "Not Acceptable"),
		Map.entry(407, "Proxy Authentication Required"), Map.entry(408, "Request Timeout"),
		Map.entry(409, "Conflict"), Map.entry(411, "Length Required"), Map.entry(412, "Precondition Failed"),
		Map.entry(414, "URI Too Long"), Map.entry(416, "Range Not Satisfiable"), Map.entry(421, "Misdirected Request"),
		Map.entry(429, "Too Many Requests"), Map.entry(451, "Unavailable For Legal Reasons"),
		Map.entry(500, "Internal Server Error"), Map.entry(501, "Not Implemented"), Map.entry(502, "Bad Gateway"),
		Map.entry(503, "Service Unavailable"), Map.entry(504, "Gateway Timeout"),
		Map.entry(505, "HTTP Version Not Supported"));

	/**
	 * What the response head decided, on the client's thread, and handed to
	 * the fetching thread ahead of any body: one of a closed set.
	 */
	private sealed interface Head permits Body, Unchanged, Refused, StartOver {
	}

	/** The response carries the body from {@code offset} on; {@code length} -1 when not announced. */
	private record Body(long offset, long length, String validator) implements Head {
		long total() {
			return length < 0 ? -1 : offset + length;
		}
	}

	/** The source matched {@link Request#ifNoneMatch()}. */
	private record Unchanged(String validator) implements Head {
	}

	/** The response refuses the fetch; {@code missing} for 404 and 410. */
	private record Refused(String message, boolean missing) implements Head {
	}

	/** The range request cannot be served as asked: ask for the whole body. */
	private record StartOver() implements Head {
	}

	private final HttpClient http;
	private final Executor sender;
	/**
	 * How slow a transfer may be.
	 *
	 * @param speedLimit bytes a second the transfer must average over {@code speedTime}; 0 for no limit
	 * @param speedTime the window the rate is measured over
	 * @param deadline how long the whole transfer may take, or {@code null}
	 */
	record Limits(long speedLimit, Duration speedTime, Duration deadline) {
		/** 1 KiB/s over 60 s, as the configuration's defaults; no deadline. */
		static final Limits DEFAULT = new Limits(1024, Duration.ofSeconds(60), null);
	}

	private final Duration idle;
	private final Limits limits;
	private final Request request;
	private final Progress progress;
	private final URI uri;

	Transfer(HttpClient http, Executor sender, Duration idle, Limits limits, Request request, Progress progress) {
		this.limits = limits;
		this.http = http;
		this.sender = sender;
		this.idle = idle;
		this.request = request;
		this.progress = progress;
		this.uri = request.source();
	}

	Fetched run() throws IOException {
		long have = 0;
		Path target = request.target();
		if (request.resumeValidator() != null && Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
			have = Files.size(target);
		}
		Fetched f = attempt(have);
		if (f == null) {
			f = attempt(0);
		}
		if (f == null) {
			throw new IOException(uri + ": the server refused the whole body after refusing a range of it");
		}
		return f;
	}

	/** One request; {@code null} to start over without a range. */
	private Fetched attempt(long have) throws IOException {
		HttpRequest req;
		try {
			HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(idle).header("User-Agent", "psi");
			if (request.maxBytes() > HTTP2_MAX_BYTES) {
				b.version(HttpClient.Version.HTTP_1_1);
			}
			String inm = request.ifNoneMatch();
			if (inm != null) {
				b.header(isEntityTag(inm) ? "If-None-Match" : "If-Modified-Since", inm);
			}
			if (have > 0) {
				b.header("Range", "bytes=" + have + "-").header("If-Range", request.resumeValidator());
			}
			req = b.build();
		} catch (IllegalArgumentException e) {
			throw new IOException(uri + ": cannot make the request: " + describe(e), e);
		}
		BodyQueue queue = new BodyQueue();
		// The client runs its callbacks on whatever thread completes a step (see HttpsTransport):
		// sendAsync on this thread could deliver the body on it, and this thread must stay free
		// to drain the queue. So another thread sends.
		AtomicReference<CompletableFuture<HttpResponse<Void>>> exchange = new AtomicReference<>();
		CompletableFuture.supplyAsync(() -> {
			CompletableFuture<HttpResponse<Void>> x = http.sendAsync(req, info -> respond(info, queue, have));
			exchange.set(x);
			return x;
		}, sender).thenCompose(x -> x).whenComplete((r, e) -> queue.done(e));
		boolean finished = false;
		try {
			Fetched f = receive(queue);
			finished = true;
			return f;
		} finally {
			queue.close();
			CompletableFuture<HttpResponse<Void>> x = exchange.get();
			if (!finished && x != null) {
				x.cancel(true);
			}
		}
	}

	/** Decides by the response head; on the client's thread. */
	private BodySubscriber<Void> respond(ResponseInfo info, BodyQueue queue, long have) {
		Head head;
		try {
			head = decide(info, have);
		} catch (RuntimeException e) {
			head = new Refused("unusable response: " + e, false);
		}
		queue.head(head);
		if (head instanceof Body body) {
			return queue.streaming(body.length() >= 0 ? body.length() : request.maxBytes() - body.offset());
		}
		return queue.discarding();
	}

	private Head decide(ResponseInfo info, long have) {
		int status = info.statusCode();
		HttpHeaders h = info.headers();
		String validator = validator(h);
		if (status == 200 || status == 206) {
			Optional<String> encoding = h.firstValue("Content-Encoding");
			if (encoding.isPresent() && !encoding.get().equalsIgnoreCase("identity")) {
				return new Refused("the server sent the body " + encoding.get() + "-encoded, not as it is", false);
			}
		}
		switch (status) {
		case 200: {
			long length = contentLength(h);
			if (length > request.maxBytes()) {
				return new Refused(length + " bytes, more than the " + request.maxBytes() + " accepted", false);
			}
			return new Body(0, length, validator);
		}
		case 206: {
			if (have == 0) {
				return new Refused("HTTP 206 Partial Content to a request for the whole body", false);
			}
			Matcher m = CONTENT_RANGE.matcher(h.firstValue("Content-Range").orElse(""));
			if (!m.matches()) {
				return new Refused("HTTP 206 without a usable Content-Range: "
					+ h.firstValue("Content-Range").orElse("none"), false);
			}
			long first = Long.parseLong(m.group(1));
			long last = Long.parseLong(m.group(2));
			long total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
			if (first != have || last < first || (total >= 0 && last != total - 1)) {
				return new Refused("asked for the bytes from " + have + " on, got bytes " + m.group(1) + "-"
					+ m.group(2) + "/" + m.group(3), false);
			}
			if (validator != null && !validator.equals(request.resumeValidator())) {
				// the server ignored If-Range: the bytes we have are from another version
				return new StartOver();
			}
			if (last + 1 > request.maxBytes()) {
				return new Refused((total >= 0 ? total : last + 1) + " bytes, more than the " + request.maxBytes()
					+ " accepted", false);
			}
			return new Body(have, last - first + 1, validator != null ? validator : request.resumeValidator());
		}
		case 304:
			if (request.ifNoneMatch() != null) {
				return new Unchanged(validator != null ? validator : request.ifNoneMatch());
			}
			return new Refused("HTTP 304 Not Modified to an unconditional request", false);
		case 404:
		case 410:
			return new Refused(null, true);
		case 416:
			if (have > 0) {
				return new StartOver();
			}
			return new Refused(statusLine(status), false);
		default:
			if (status >= 300 && status < 400) {
				Optional<String> location = h.firstValue("Location");
				if (location.isPresent() && "https".equalsIgnoreCase(uri.getScheme())
					&& location.get().regionMatches(true, 0, "http:", 0, 5)) {
					return new Refused("redirected to " + location.get() + "; psi does not follow https to http",
						false);
				}
				return new Refused(statusLine(status) + location.map(l -> " to " + l + ", not followed").orElse(""),
					false);
			}
			return new Refused(statusLine(status), false);
		}
	}

	/** Takes what the client's thread queues until the fetch ends. */
	private Fetched receive(BodyQueue queue) throws IOException {
		long idleNanos = idle.toNanos();
		long poll = Math.max(10, Math.min(250, idle.toMillis() / 4));
		Body body = null;
		StagingFile file = null;
		boolean keep = true;
		long received = 0;
		long reported = 0;
		long started = System.nanoTime();
		long windowStart = started;
		long windowBytes = 0;
		try {
			for (;;) {
				long now = System.nanoTime();
				if (limits.deadline() != null && now - started > limits.deadline().toNanos()) {
					throw new IOException(uri + ": not done within " + limits.deadline().toSeconds() + " s (deadline of psi.transport.https)"
						+ after(body, received));
				}
				if (body != null && limits.speedLimit() > 0 && now - windowStart >= limits.speedTime().toNanos()) {
					long inWindow = received - windowBytes;
					if (inWindow < limits.speedLimit() * limits.speedTime().toSeconds()) {
						throw new IOException(uri + ": too slow: " + inWindow + " bytes in the last " + limits.speedTime().toSeconds()
							+ " s, less than " + limits.speedLimit() + " bytes a second (speedLimit, speedTime of psi.transport.https)"
							+ after(body, received));
					}
					windowStart = now;
					windowBytes = received;
				}
				Object item;
				try {
					item = queue.take(poll);
				} catch (InterruptedException e) {
					Thread.currentThread().interrupt();
					throw new InterruptedIOException(uri + ": interrupted" + after(body, received));
				}
				if (item == null) {
					if (System.nanoTime() - queue.lastActivity() > idleNanos) {
						throw new IOException(uri + ": " + (body == null
							? "no response within " + idle.toSeconds() + " s"
							: "no data for " + idle.toSeconds() + " s" + after(body, received)));
					}
				} else if (item instanceof BodyQueue.Chunk c) {
					received += file.write(c.buffers());
					queue.release(c);
					if (received - reported >= UPDATE_EVERY) {
						reported = received;
						progress.update(body.offset() + received, body.total());
					}
				} else if (item instanceof Head head) {
					if (head instanceof Body b) {
						body = b;
						windowStart = System.nanoTime();
						progress.started(b.total(), b.validator(), b.offset());
						file = StagingFile.open(request.target(), b.offset());
					} else if (head instanceof Unchanged u) {
						return new Fetched(-1, null, true, u.validator());
					} else if (head instanceof Refused r) {
						if (r.missing()) {
							throw new NoSuchFileException(uri.toString());
						}
						throw new IOException(uri + ": " + r.message());
					} else if (head instanceof StartOver) {
						return null;
					}
				} else if (item == BodyQueue.END) {
					if (body.length() >= 0 && received != body.length()) {
						throw new IOException(uri + ": the body ended early" + after(body, received));
					}
					String sha256 = file.finish();
					progress.update(body.offset() + received, body.total());
					return new Fetched(file.size(), sha256, false, body.validator());
				} else if (item == BodyQueue.OVERFLOW) {
					keep = false;
					throw new IOException(uri + ": " + (body.length() >= 0
						? "the server sent more than the " + body.length() + " bytes it announced"
						: "more than the " + request.maxBytes() + " bytes accepted"));
				} else if (item instanceof BodyQueue.Broken b) {
					throw new IOException(uri + ": the transfer broke off" + after(body, received) + ": "
						+ describe(b.cause()), b.cause());
				} else if (item instanceof BodyQueue.Done d) {
					if (body == null) {
						throw failure(d.failure());
					}
					if (d.failure() != null) {
						// the client failed the exchange without telling the body subscriber
						throw new IOException(uri + ": the transfer broke off" + after(body, received) + ": "
							+ describe(d.failure()), d.failure());
					}
				}
			}
		} catch (Throwable t) {
			if (file != null) {
				try {
					if (keep) {
						file.close();
					} else {
						file.undo();
					}
				} catch (IOException e) {
					t.addSuppressed(e);
				}
			}
			throw t;
		}
	}

	/** " after N of M bytes", counting resumed bytes; empty before the body. */
	private static String after(Body body, long received) {
		if (body == null) {
			return "";
		}
		long bytes = body.offset() + received;
		return " after " + bytes + (body.total() >= 0 ? " of " + body.total() : "") + " bytes";
	}

	/** The one-line error for an exchange that failed before a response. */
	private IOException failure(Throwable failure) {
		Throwable t = failure;
		while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
			t = t.getCause();
		}
		if (t == null) {
			return new IOException(uri + ": no response");
		}
		for (Throwable c = t; c != null; c = c.getCause()) {
			if (c instanceof ServerTrust.Untrusted || c instanceof ServerTrust.WrongName) {
				return new IOException(uri + ": " + c.getMessage(), t);
			}
		}
		if (t instanceof HttpConnectTimeoutException) {
			return new IOException(uri + ": no connection within " + connectSeconds() + " s", t);
		}
		if (t instanceof HttpTimeoutException) {
			return new IOException(uri + ": no response within " + idle.toSeconds() + " s", t);
		}
		for (Throwable c = t; c != null; c = c.getCause()) {
			if (c instanceof ConnectException) {
				return new IOException(uri + ": connection refused", t);
			}
			if (c instanceof UnresolvedAddressException || c instanceof UnknownHostException) {
				return new IOException(uri + ": unknown host " + uri.getHost(), t);
			}
			if (c instanceof CertificateException) {
				return new IOException(uri + ": the server's certificate was refused: " + describe(c), t);
			}
		}
		if (t instanceof SSLHandshakeException) {
			return new IOException(uri + ": TLS handshake failed: " + describe(t), t);
		}
		if (t instanceof SSLException) {
			return new IOException(uri + ": TLS failed: " + describe(t), t);
		}
		if (t instanceof InterruptedException) {
			Thread.currentThread().interrupt();
			return new InterruptedIOException(uri + ": interrupted");
		}
		return new IOException(uri + ": " + describe(t), t);
	}

	private long connectSeconds() {
		return http.connectTimeout().map(Duration::toSeconds).orElse(0L);
	}

	/** A throwable's message in one line, without JDK class names; its class when it has none. */
	static String describe(Throwable failure) {
		Throwable t = failure;
		while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
			t = t.getCause();
		}
		String m = t.getMessage();
		if (m == null || m.isBlank()) {
			return t.getClass().getSimpleName();
		}
		return ServerTrust.plain(m.lines().findFirst().orElse(m).strip());
	}

	/** The strong ETag, else Last-Modified, else {@code null}. */
	static String validator(HttpHeaders h) {
		Optional<String> etag = h.firstValue("ETag");
		if (etag.isPresent() && isEntityTag(etag.get()) && !etag.get().startsWith("W/")) {
			return etag.get();
		}
		return h.firstValue("Last-Modified").orElse(null);
	}

	private static boolean isEntityTag(String v) {
		return v.startsWith("\"") || v.startsWith("W/\"");
	}

	private static long contentLength(HttpHeaders h) {
		OptionalLong l = h.firstValueAsLong("Content-Length");
		return l.isPresent() ? l.getAsLong() : -1;
	}

	static String statusLine(int status) {
		String reason = REASONS.get(status);
		return "HTTP " + status + (reason == null ? "" : " " + reason);
	}
}
