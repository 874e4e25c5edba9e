package psi.transport.https.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.net.ssl.SSLContext;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import psi.spi.transport.Transport;
import psi.spi.transport.TransportSchemes;

/**
 * Fetches {@code https:} URLs (and {@code http:} ones when allowed) with the
 * JDK's {@link HttpClient}.
 * <p>
 * Security: certificates and host names are always checked, against the Java
 * runtime's trusted CAs plus those in {@link Config#caDirectory()} (read
 * again when its files change). Redirects are followed as browsers do,
 * except from https to http. Plain http is refused unless
 * {@link Config#allowHttp()}.
 * <p>
 * Validators: the strong {@code ETag}, else {@code Last-Modified}. An
 * {@link Request#ifNoneMatch()} is sent as {@code If-None-Match} (an ETag)
 * or {@code If-Modified-Since} (a date); on 304 nothing is written and
 * {@link Fetched#size()} is -1, as a 304 carries no length. A
 * {@link Request#resumeValidator()} with a non-empty target sends
 * {@code Range: bytes=N-} with {@code If-Range}: a 206 starting at N appends
 * after the N bytes (hashed first), a 200 starts over.
 * <p>
 * The target: nothing touches it before the server answered 200 or 206.
 * Refusals (HTTP errors, 404/410 as {@link java.nio.file.NoSuchFileException},
 * TLS failures, refused redirects, an announced length over
 * {@link Request#maxBytes()}) leave it as the caller left it. A body longer
 * than announced (HTTP/2; over HTTP/1.1 the client reads no further than the
 * announced length) or than {@code maxBytes} is refused as soon as it gets
 * there, and the target is restored: deleted if this fetch created it, cut
 * back to the resumed bytes, or empty if the fetch had started over. A
 * transfer that breaks off (the connection closed or reset, no data for
 * {@link Config#idleTimeout()} seconds, interrupted) keeps the bytes received
 * so far, so that a fetch with the validator of {@link Progress#started} can
 * resume. The target is forced to disk before success is returned.
 * <p>
 * HTTP versions: with {@link Config#http2()}, HTTP/2 is offered by ALPN for
 * requests whose {@link Request#maxBytes()} is at most 64 MiB; requests that
 * may bring more use HTTP/1.1, which the JDK 17 client receives faster.
 * <p>
 * Threads: the client's own thread receives and decrypts; the calling
 * thread writes and hashes, so the two overlap; at most
 * {@link BodyQueue#CAPACITY} bytes wait between them. Thread safe: fetches
 * may run concurrently and share one client (and its connections).
 */
@Component(configurationPid = HttpsTransport.PID)
@TransportSchemes(schemes = { "https", "http" })
@Designate(ocd = HttpsTransport.Config.class)
public class HttpsTransport implements Transport {

	/** The configuration PID. */
	public static final String PID = "psi.transport.https";

	/** The transport's configuration. */
	@ObjectClassDefinition(name = "psi https transport", description = "How psi fetches https: URLs")
	public @interface Config {
		/** @return the directory of extra trusted CAs */
		@AttributeDefinition(description = "Directory whose *.pem and *.crt files are CA certificates trusted in"
			+ " addition to the Java runtime's")
		String caDirectory() default "/etc/psi/ca.d";

		/** @return whether plain http: URLs are fetched */
		@AttributeDefinition(description = "Fetch plain http: URLs too (no TLS: nothing protects the transfer)")
		boolean allowHttp() default false;

		/** @return seconds to wait for a connection */
		@AttributeDefinition(description = "Seconds to wait for a connection")
		int connectTimeout() default 30;

		/** @return seconds a transfer may stall */
		@AttributeDefinition(description = "Seconds without a response or without data after which a transfer fails")
		int idleTimeout() default 60;

		/** @return the lowest average rate, bytes a second over {@link #speedTime()}, below which a transfer fails */
		@AttributeDefinition(description = "Bytes a second a transfer must average over speedTime seconds, else it fails"
			+ " (curl's --speed-limit); 0: no limit. The bytes received are kept for the next pull to resume")
		long speedLimit() default 1024;

		/** @return the seconds over which {@link #speedLimit()} is measured */
		@AttributeDefinition(description = "Seconds over which speedLimit is measured (curl's --speed-time)")
		int speedTime() default 60;

		/** @return seconds a whole transfer may take, 0 for no limit */
		@AttributeDefinition(description = "Seconds a whole transfer may take (curl's --max-time); 0: no limit")
		int deadline() default 0;

		/** @return whether HTTP/2 is offered for small fetches */
		@AttributeDefinition(description = "Offer HTTP/2 (by ALPN) for fetches of at most 64 MiB (sidecars,"
			+ " signatures); larger ones always use HTTP/1.1, which the Java client receives faster")
		boolean http2() default true;
	}

	/** The configuration, checked. */
	record Settings(Path caDirectory, boolean allowHttp, Duration connectTimeout, Duration idleTimeout,
			boolean http2, Transfer.Limits limits) {

		/** Settings with the default rate limits. */
		Settings(Path caDirectory, boolean allowHttp, Duration connectTimeout, Duration idleTimeout, boolean http2) {
			this(caDirectory, allowHttp, connectTimeout, idleTimeout, http2, Transfer.Limits.DEFAULT);
		}

		static Settings of(Config c) {
			return new Settings(Path.of(c.caDirectory()), c.allowHttp(), seconds(c.connectTimeout()),
				seconds(c.idleTimeout()), c.http2(), new Transfer.Limits(Math.max(0, c.speedLimit()), seconds(c.speedTime()),
					c.deadline() <= 0 ? null : Duration.ofSeconds(c.deadline())));
		}

		private static Duration seconds(int s) {
			return Duration.ofSeconds(Math.max(1, s));
		}
	}

	/** A client built for some settings and CA files. */
	private record Client(Settings settings, String caStamp, HttpClient http) {
	}

	private volatile Settings settings;
	/** Issues the requests, so that the fetching threads never run the client's callbacks. */
	private final ExecutorService sender = Executors.newCachedThreadPool(r -> {
		Thread t = new Thread(r, "psi-https-send");
		t.setDaemon(true);
		return t;
	});
	private final Object clientLock = new Object();
	private Client client; // guarded by clientLock

	/** @param config the configuration */
	@Activate
	public HttpsTransport(Config config) {
		this(Settings.of(config));
	}

	HttpsTransport(Settings settings) {
		this.settings = settings;
	}

	/** @param config the new configuration; the next fetch uses it */
	@Modified
	void modified(Config config) {
		settings = Settings.of(config);
	}

	@Deactivate
	void deactivate() {
		synchronized (clientLock) {
			// the JDK 17 client has no close(): its thread ends once it is unreachable and idle
			client = null;
		}
		sender.shutdown();
	}

	@Override
	public Fetched fetch(Request request, Progress progress) throws IOException {
		Settings s = settings;
		URI uri = request.source();
		String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
		if (scheme.equals("http")) {
			if (!s.allowHttp()) {
				throw new IOException(uri + ": plain http is refused; psi fetches images over https (allowHttp=true in /etc/psi/"
					+ PID + ".cfg allows http)");
			}
		} else if (!scheme.equals("https")) {
			throw new IOException(uri + ": not an https URL");
		}
		if (uri.getHost() == null) {
			throw new IOException(uri + ": no host in the URL");
		}
		return new Transfer(client(s, uri), sender, s.idleTimeout(), s.limits(), request, progress).run();
	}

	/** The client for these settings and the CA files there now; built when either changed. */
	private HttpClient client(Settings s, URI uri) throws IOException {
		String stamp;
		try {
			stamp = TrustedAuthorities.stamp(s.caDirectory());
		} catch (IOException e) {
			throw new IOException(uri + ": cannot read the trusted CAs: " + Transfer.describe(e), e);
		}
		synchronized (clientLock) {
			Client c = client;
			if (c != null && c.settings().equals(s) && c.caStamp().equals(stamp)) {
				return c.http();
			}
			SSLContext tls;
			try {
				tls = TrustedAuthorities.context(s.caDirectory());
			} catch (IOException e) {
				throw new IOException(uri + ": cannot read the trusted CAs: " + Transfer.describe(e), e);
			}
			HttpClient http = HttpClient.newBuilder()
				.sslContext(tls)
				.version(s.http2() ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
				.followRedirects(HttpClient.Redirect.NORMAL)
				.connectTimeout(s.connectTimeout())
				// No hand-off per buffer to a pool thread: the client's selector thread runs the
				// body subscriber itself (measured, 256 MB, HTTP/1.1: 0.78 s -> 0.49 s). Callbacks
				// then run on whichever thread completes a step, hence the sender threads.
				.executor(Runnable::run)
				.build();
			client = new Client(s, stamp, http);
			return http;
		}
	}
}
