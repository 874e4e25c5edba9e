package psi.transport.https.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import psi.spi.transport.Transport.Fetched;
import psi.spi.transport.Transport.Progress;
import psi.spi.transport.Transport.Request;

/**
 * The https transport against a real nginx (itest/servers/nginx.sh), a TCP
 * relay that cuts or stalls connections, and raw servers that lie about the
 * length. Only 127.0.0.1 is contacted.
 */
@Timeout(60)
class HttpsTransportTest {

	private static final int SIZE = 8 << 20;
	/** A limit that lets HTTP/2 be used (see {@link Transfer#HTTP2_MAX_BYTES}). */
	private static final long SMALL_LIMIT = 16 << 20;

	@TempDir
	static Path work;

	static Nginx nginx;
	static Path caDir;
	static byte[] file;
	static byte[] small;

	@TempDir
	Path dir;

	@BeforeAll
	static void startNginx() throws Exception {
		Path srv = Files.createDirectories(work.resolve("srv"));
		Path www = Files.createDirectories(srv.resolve("www"));
		file = new byte[SIZE];
		new Random(1).nextBytes(file);
		small = Arrays.copyOf(file, 5000);
		Files.write(www.resolve("file.raw"), file);
		Files.write(www.resolve("small.raw"), small);
		Files.write(www.resolve("empty.raw"), new byte[0]);
		Files.createDirectories(srv.resolve("server.d"));
		Files.writeString(srv.resolve("server.d/test.conf"), String.join("\n",
			"location = /forbidden.raw { return 403; }",
			"location = /gone.raw { return 410; }",
			"location /noetag/ { etag off; alias " + www + "/; }",
			"location /slow/ { limit_rate 300; alias " + www + "/; }", ""));
		nginx = Nginx.start(srv);
		caDir = Files.createDirectories(work.resolve("ca.d"));
		Files.copy(nginx.caCert(), caDir.resolve("test-ca.pem"));
	}

	@AfterAll
	static void stopNginx() throws Exception {
		if (nginx != null) {
			nginx.close();
		}
	}

	/** Records what the transport reports. */
	static final class Recorder implements Progress {
		volatile long total = -2;
		volatile String validator;
		volatile long resumedFrom = -1;
		volatile int starts;
		final List<Long> updates = new ArrayList<>();

		@Override
		public void started(long total, String validator, long resumedFrom) {
			this.total = total;
			this.validator = validator;
			this.resumedFrom = resumedFrom;
			starts++;
		}

		@Override
		public synchronized void update(long bytes, long total) {
			updates.add(bytes);
		}
	}

	static HttpsTransport transport(boolean http2) {
		return transport(caDir, false, http2, Duration.ofSeconds(20));
	}

	static HttpsTransport transport(Path ca, boolean allowHttp, boolean http2, Duration idle) {
		return new HttpsTransport(new HttpsTransport.Settings(ca, allowHttp, Duration.ofSeconds(5), idle, http2));
	}

	static URI https(int port, String path) {
		return URI.create("https://127.0.0.1:" + port + "/" + path);
	}

	static String sha256(byte[] b) throws Exception {
		return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
	}

	private Path target() {
		return dir.resolve("staging");
	}

	/** A target the caller made, holding these bytes. */
	private Path target(byte[] content) throws IOException {
		return Files.write(dir.resolve("staging"), content);
	}

	@ParameterizedTest(name = "http2={0}")
	@ValueSource(booleans = { true, false })
	void fetchesAndHashes(boolean http2) throws Exception {
		URI uri = https(nginx.port, "file.raw?v=" + http2);
		Recorder p = new Recorder();
		Fetched f = transport(http2).fetch(new Request(uri, target(), SMALL_LIMIT), p);
		assertArrayEquals(file, Files.readAllBytes(target()));
		assertEquals(sha256(file), f.sha256());
		assertEquals(SIZE, f.size());
		assertFalse(f.unchanged());
		assertEquals(1, p.starts);
		assertEquals(SIZE, p.total);
		assertEquals(0, p.resumedFrom);
		assertTrue(f.validator().startsWith("\""), "the strong ETag: " + f.validator());
		assertEquals(f.validator(), p.validator);
		assertEquals(SIZE, p.updates.get(p.updates.size() - 1));
		assertTrue(p.updates.size() >= 8, "progress every MiB: " + p.updates);
		String protocol = http2 ? "HTTP/2.0" : "HTTP/1.1";
		assertTrue(nginx.logged("GET /file.raw?v=" + http2 + " " + protocol + "\" 200 " + SIZE), protocol + " in "
			+ nginx.accessLog());
	}

	@Test
	void largeFetchesUseHttp11() throws Exception {
		Fetched f = transport(true).fetch(new Request(https(nginx.port, "file.raw?large"), target(), Long.MAX_VALUE),
			Progress.NONE);
		assertEquals(sha256(file), f.sha256());
		assertTrue(nginx.logged("GET /file.raw?large HTTP/1.1\" 200 " + SIZE), nginx.accessLog().toString());
	}

	@ParameterizedTest(name = "http2={0}")
	@ValueSource(booleans = { true, false })
	void repeatedFetchesOverOneConnection(boolean http2) throws Exception {
		HttpsTransport t = transport(http2);
		for (int i = 0; i < 12; i++) {
			Path out = dir.resolve("r" + i);
			assertEquals(sha256(file), t.fetch(new Request(https(nginx.port, "file.raw"), out, SMALL_LIMIT),
				Progress.NONE).sha256());
			assertEquals(SIZE, Files.size(out));
			Files.delete(out);
		}
	}

	@Test
	void anEmptyBody() throws Exception {
		Fetched f = transport(true).fetch(new Request(https(nginx.port, "empty.raw"), target(), 100), Progress.NONE);
		assertEquals(0, f.size());
		assertEquals(sha256(new byte[0]), f.sha256());
		assertEquals(0, Files.size(target()));
	}

	@Test
	void unchangedIsNotWritten() throws Exception {
		HttpsTransport t = transport(true);
		URI uri = https(nginx.port, "small.raw");
		String v = t.fetch(new Request(uri, dir.resolve("first"), 10_000), Progress.NONE).validator();
		byte[] mine = { 1, 2, 3 };
		Recorder p = new Recorder();
		Fetched f = t.fetch(new Request(uri, target(mine), 10_000, v, null), p);
		assertTrue(f.unchanged());
		assertNull(f.sha256());
		assertEquals(-1, f.size());
		assertEquals(v, f.validator());
		assertEquals(0, p.starts);
		assertArrayEquals(mine, Files.readAllBytes(target()), "the target is as the caller left it");
		assertTrue(nginx.logged("GET /small.raw HTTP/2.0\" 304"));
		// a validator the server no longer has: the whole body
		Fetched again = t.fetch(new Request(uri, target(), 10_000, "\"0-0\"", null), Progress.NONE);
		assertFalse(again.unchanged());
		assertArrayEquals(small, Files.readAllBytes(target()));
	}

	@Test
	void lastModifiedWhenThereIsNoETag() throws Exception {
		HttpsTransport t = transport(false);
		URI uri = https(nginx.port, "noetag/small.raw");
		Fetched first = t.fetch(new Request(uri, target(), 10_000), Progress.NONE);
		assertTrue(first.validator().endsWith(" GMT"), "Last-Modified: " + first.validator());
		Files.delete(target());
		Fetched f = t.fetch(new Request(uri, target(), 10_000, first.validator(), null), Progress.NONE);
		assertTrue(f.unchanged(), "If-Modified-Since with the Last-Modified date");
		assertFalse(Files.exists(target()));
	}

	@ParameterizedTest(name = "http2={0}")
	@ValueSource(booleans = { true, false })
	void resumesAfterTheConnectionIsCut(boolean http2) throws Exception {
		HttpsTransport t = transport(http2);
		long limit = http2 ? SMALL_LIMIT : Long.MAX_VALUE;
		Recorder first = new Recorder();
		try (TcpRelay relay = new TcpRelay(nginx.port, 3 << 20, TcpRelay.Mode.CUT)) {
			URI cut = https(relay.port(), "file.raw");
			IOException e = assertThrows(IOException.class,
				() -> t.fetch(new Request(cut, target(), limit), first));
			assertTrue(e.getMessage().startsWith(cut + ": the transfer broke off after "), e.getMessage());
			assertFalse(e.getMessage().contains("\n"), e.getMessage());
		}
		long kept = Files.size(target());
		assertTrue(kept > 0 && kept < SIZE, "a resumable part stays: " + kept);
		assertArrayEquals(Arrays.copyOf(file, (int) kept), Files.readAllBytes(target()));
		assertNotNull(first.validator);

		Recorder second = new Recorder();
		Fetched f = t.fetch(new Request(https(nginx.port, "file.raw"), target(), limit, null, first.validator),
			second);
		assertEquals(kept, second.resumedFrom);
		assertEquals(SIZE, second.total);
		assertEquals(sha256(file), f.sha256(), "the kept bytes are hashed too");
		assertEquals(SIZE, f.size());
		assertArrayEquals(file, Files.readAllBytes(target()));
		assertTrue(nginx.logged("\" 206 " + (SIZE - kept)), "a 206 for the rest: " + nginx.accessLog());
	}

	@Test
	void aStaleResumeValidatorStartsOver() throws Exception {
		byte[] junk = new byte[1000];
		Recorder p = new Recorder();
		Fetched f = transport(true).fetch(new Request(https(nginx.port, "small.raw"), target(junk), 10_000, null,
			"\"not-the-etag\""), p);
		assertEquals(0, p.resumedFrom);
		assertArrayEquals(small, Files.readAllBytes(target()));
		assertEquals(sha256(small), f.sha256());
	}

	@Test
	void aCompleteTargetIsFetchedAgain() throws Exception {
		HttpsTransport t = transport(true);
		URI uri = https(nginx.port, "small.raw");
		String v = t.fetch(new Request(uri, target(), 10_000), Progress.NONE).validator();
		// 416 for bytes=5000-: starts over
		Recorder p = new Recorder();
		Fetched f = t.fetch(new Request(uri, target(), 10_000, null, v), p);
		assertEquals(0, p.resumedFrom);
		assertEquals(sha256(small), f.sha256());
		assertArrayEquals(small, Files.readAllBytes(target()));
	}

	@Test
	void aStalledTransferFails() throws Exception {
		HttpsTransport t = transport(caDir, false, false, Duration.ofSeconds(1));
		try (TcpRelay relay = new TcpRelay(nginx.port, 2 << 20, TcpRelay.Mode.STALL)) {
			URI uri = https(relay.port(), "file.raw");
			long t0 = System.nanoTime();
			IOException e = assertThrows(IOException.class,
				() -> t.fetch(new Request(uri, target(), Long.MAX_VALUE), Progress.NONE));
			assertTrue(e.getMessage().matches("\\Q" + uri + "\\E: no data for 1 s after \\d+ of " + SIZE + " bytes"),
				e.getMessage());
			assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
		}
		long kept = Files.size(target());
		assertTrue(kept > 0 && kept < SIZE, "a resumable part stays: " + kept);
		assertArrayEquals(Arrays.copyOf(file, (int) kept), Files.readAllBytes(target()));
	}

	@Test
	void missingIsNoSuchFile() throws Exception {
		URI uri = https(nginx.port, "nope.raw");
		NoSuchFileException e = assertThrows(NoSuchFileException.class,
			() -> transport(true).fetch(new Request(uri, target(), 100), Progress.NONE));
		assertEquals(uri.toString(), e.getMessage());
		assertFalse(Files.exists(target()));
		URI gone = https(nginx.port, "gone.raw");
		e = assertThrows(NoSuchFileException.class,
			() -> transport(false).fetch(new Request(gone, target(), 100), Progress.NONE));
		assertEquals(gone.toString(), e.getMessage());
		assertFalse(Files.exists(target()));
	}

	@Test
	void otherStatusesAreOneLine() throws Exception {
		URI uri = https(nginx.port, "forbidden.raw");
		byte[] mine = { 9 };
		IOException e = assertThrows(IOException.class,
			() -> transport(true).fetch(new Request(uri, target(mine), 100), Progress.NONE));
		assertEquals(uri + ": HTTP 403 Forbidden", e.getMessage());
		assertArrayEquals(mine, Files.readAllBytes(target()));
	}

	@Test
	void aCertificateForAnotherNameIsRefused() throws Exception {
		URI uri = https(nginx.wrongNamePort, "small.raw");
		IOException e = assertThrows(IOException.class,
			() -> transport(true).fetch(new Request(uri, target(), 10_000), Progress.NONE));
		assertEquals(uri + ": the certificate is for other.example, not 127.0.0.1", e.getMessage());
		assertFalse(Files.exists(target()));
	}

	@Test
	void anUntrustedCaIsRefused() throws Exception {
		URI uri = https(nginx.untrustedPort, "small.raw");
		IOException e = assertThrows(IOException.class,
			() -> transport(true).fetch(new Request(uri, target(), 10_000), Progress.NONE));
		assertTrue(e.getMessage().startsWith(uri + ": the server's certificate is not trusted (PKIX path building"
			+ " failed"), e.getMessage());
		assertFalse(e.getMessage().contains("sun.security"), e.getMessage());
		assertFalse(Files.exists(target()));
	}

	@Test
	void aCaPutIntoTheDirectoryIsTrusted() throws Exception {
		Path ca = Files.createDirectories(dir.resolve("ca.d"));
		HttpsTransport t = transport(ca, false, true, Duration.ofSeconds(20));
		URI uri = https(nginx.port, "small.raw");
		IOException e = assertThrows(IOException.class,
			() -> t.fetch(new Request(uri, target(), 10_000), Progress.NONE));
		assertTrue(e.getMessage().startsWith(uri + ": the server's certificate is not trusted"), e.getMessage());
		assertFalse(Files.exists(target()));
		Files.copy(nginx.caCert(), ca.resolve("test.crt"));
		Fetched f = t.fetch(new Request(uri, target(), 10_000), Progress.NONE);
		assertEquals(sha256(small), f.sha256());
		// the untrusted CA too, without a restart; a .txt file is no CA
		Files.copy(nginx.untrustedCaCert(), ca.resolve("untrusted.txt"));
		assertThrows(IOException.class,
			() -> t.fetch(new Request(https(nginx.untrustedPort, "small.raw"), target(), 10_000), Progress.NONE));
		Files.move(ca.resolve("untrusted.txt"), ca.resolve("untrusted.pem"));
		assertEquals(sha256(small), t.fetch(new Request(https(nginx.untrustedPort, "small.raw"), target(), 10_000),
			Progress.NONE).sha256());
	}

	@Test
	void aBrokenCaFileIsNamed() throws Exception {
		Path ca = Files.createDirectories(dir.resolve("ca.d"));
		Files.writeString(ca.resolve("bad.pem"), "not a certificate\n");
		URI uri = https(nginx.port, "small.raw");
		IOException e = assertThrows(IOException.class, () -> transport(ca, false, true, Duration.ofSeconds(5))
			.fetch(new Request(uri, target(), 10_000), Progress.NONE));
		assertTrue(e.getMessage().startsWith(uri + ": cannot read the trusted CAs: " + ca.resolve("bad.pem")),
			e.getMessage());
		assertFalse(e.getMessage().contains("\n"));
	}

	@Test
	void httpOnlyWhenAllowed() throws Exception {
		URI uri = URI.create("http://127.0.0.1:" + nginx.httpPort + "/small.raw");
		IOException e = assertThrows(IOException.class,
			() -> transport(true).fetch(new Request(uri, target(), 10_000), Progress.NONE));
		assertEquals(uri + ": plain http is refused; psi fetches images over https (allowHttp=true in"
			+ " /etc/psi/psi.transport.https.cfg allows http)", e.getMessage());
		assertFalse(Files.exists(target()));
		Fetched f = transport(caDir, true, true, Duration.ofSeconds(20)).fetch(new Request(uri, target(), 10_000),
			Progress.NONE);
		assertEquals(sha256(small), f.sha256());
	}

	@Test
	void anAnnouncedLengthOverMaxBytesIsRefusedBeforeWriting() throws Exception {
		URI uri = https(nginx.port, "small.raw");
		byte[] mine = { 4, 5 };
		Recorder p = new Recorder();
		IOException e = assertThrows(IOException.class,
			() -> transport(true).fetch(new Request(uri, target(mine), 4999), p));
		assertEquals(uri + ": 5000 bytes, more than the 4999 accepted", e.getMessage());
		assertEquals(0, p.starts);
		assertArrayEquals(mine, Files.readAllBytes(target()));
	}

	@Test
	void moreThanAnnouncedIsRefusedOverHttp2() throws Exception {
		byte[] body = Arrays.copyOf(file, 40_000);
		try (LyingServer s = LyingServer.http2(nginx.dir.resolve("pki"), body, 1000)) {
			URI uri = https(s.port(), "lie.raw");
			Recorder p = new Recorder();
			IOException e = assertThrows(IOException.class,
				() -> transport(true).fetch(new Request(uri, target(), SMALL_LIMIT), p));
			assertEquals(uri + ": the server sent more than the 1000 bytes it announced", e.getMessage());
			assertEquals(1000, p.total, "the lie was believed at first");
			assertFalse(Files.exists(target()), "the target this fetch created is gone");
			// a target the caller made is emptied, not deleted
			e = assertThrows(IOException.class,
				() -> transport(true).fetch(new Request(uri, target(new byte[] { 1 }), SMALL_LIMIT), p));
			assertEquals(0, Files.size(target()));
		}
	}

	@Test
	void anUnannouncedBodyOverMaxBytesIsRefusedWhileStreaming() throws Exception {
		byte[] body = Arrays.copyOf(file, 40_000);
		try (LyingServer s = LyingServer.http2(nginx.dir.resolve("pki"), body, -1)) {
			URI uri = https(s.port(), "unannounced.raw");
			IOException e = assertThrows(IOException.class,
				() -> transport(true).fetch(new Request(uri, target(), 20_000), Progress.NONE));
			assertEquals(uri + ": more than the 20000 bytes accepted", e.getMessage());
			assertFalse(Files.exists(target()));
			// within the limit, without a length: fine
			Fetched f = transport(true).fetch(new Request(uri, target(), 40_000), Progress.NONE);
			assertEquals(sha256(body), f.sha256());
		}
	}

	@Test
	void overHttp11NothingBeyondTheAnnouncedLengthIsRead() throws Exception {
		// HTTP/1.1 frames the body by Content-Length: the extra bytes never reach the target
		byte[] body = Arrays.copyOf(file, 40_000);
		try (LyingServer s = LyingServer.http1(body, 1000)) {
			URI uri = URI.create("http://127.0.0.1:" + s.port() + "/lie.raw");
			Fetched f = transport(caDir, true, false, Duration.ofSeconds(20)).fetch(new Request(uri, target(),
				Long.MAX_VALUE), Progress.NONE);
			assertEquals(1000, f.size());
			assertArrayEquals(Arrays.copyOf(body, 1000), Files.readAllBytes(target()));
		}
	}

	@Test
	void aShortBodyOverHttp11IsABreak() throws Exception {
		byte[] body = Arrays.copyOf(file, 1000);
		try (LyingServer s = LyingServer.http1(body, 40_000)) {
			URI uri = URI.create("http://127.0.0.1:" + s.port() + "/short.raw");
			IOException e = assertThrows(IOException.class, () -> transport(caDir, true, false, Duration.ofSeconds(20))
				.fetch(new Request(uri, target(), Long.MAX_VALUE), Progress.NONE));
			assertTrue(e.getMessage().startsWith(uri + ": the transfer broke off after 1000 of 40000 bytes"),
				e.getMessage());
			assertArrayEquals(body, Files.readAllBytes(target()), "kept to resume");
		}
	}

	@Test
	void aShortBodyOverHttp2IsABreak() throws Exception {
		byte[] body = Arrays.copyOf(file, 1000);
		try (LyingServer s = LyingServer.http2(nginx.dir.resolve("pki"), body, 40_000)) {
			URI uri = https(s.port(), "short.raw");
			IOException e = assertThrows(IOException.class,
				() -> transport(true).fetch(new Request(uri, target(), SMALL_LIMIT), Progress.NONE));
			assertEquals(uri + ": the body ended early after 1000 of 40000 bytes", e.getMessage());
			assertArrayEquals(body, Files.readAllBytes(target()), "kept to resume");
		}
	}

	@Test
	void redirectsAreFollowed() throws Exception {
		Fetched f = transport(true).fetch(new Request(https(nginx.port, "redirect/small.raw"), target(), 10_000),
			Progress.NONE);
		assertEquals(sha256(small), f.sha256());
		assertTrue(nginx.logged("GET /redirect/small.raw HTTP/2.0\" 301"));
	}

	@Test
	void aRedirectFromHttpsToHttpIsRefused() throws Exception {
		URI uri = https(nginx.port, "to-http/small.raw");
		for (boolean allowHttp : new boolean[] { false, true }) {
			IOException e = assertThrows(IOException.class, () -> transport(caDir, allowHttp, true,
				Duration.ofSeconds(20)).fetch(new Request(uri, target(), 10_000), Progress.NONE));
			assertEquals(uri + ": redirected to http://127.0.0.1:" + nginx.httpPort
				+ "/small.raw; psi does not follow https to http", e.getMessage());
			assertFalse(Files.exists(target()));
		}
	}

	@Test
	void aClosedPortIsOneLine() throws Exception {
		int port;
		try (ServerSocket s = new ServerSocket(0)) {
			port = s.getLocalPort();
		}
		URI uri = https(port, "x.raw");
		IOException e = assertThrows(IOException.class,
			() -> transport(true).fetch(new Request(uri, target(), 100), Progress.NONE));
		assertEquals(uri + ": connection refused", e.getMessage());
		assertFalse(Files.exists(target()));
	}

	@Test
	void onlyHttpsAndHttp() {
		URI uri = URI.create("ftp://127.0.0.1/x.raw");
		IOException e = assertThrows(IOException.class,
			() -> transport(true).fetch(new Request(uri, target(), 100), Progress.NONE));
		assertEquals(uri + ": not an https URL", e.getMessage());
	}

	@Test
	void concurrentFetchesShareTheTransport() throws Exception {
		HttpsTransport t = transport(true);
		ExecutorService pool = Executors.newFixedThreadPool(3);
		try {
			List<Future<Fetched>> fs = new ArrayList<>();
			for (int i = 0; i < 3; i++) {
				Path out = dir.resolve("t" + i);
				boolean big = i != 1;
				fs.add(pool.submit(() -> t.fetch(new Request(https(nginx.port, big ? "file.raw" : "small.raw"), out,
					SMALL_LIMIT), Progress.NONE)));
			}
			assertEquals(sha256(file), fs.get(0).get().sha256());
			assertEquals(sha256(small), fs.get(1).get().sha256());
			assertEquals(sha256(file), fs.get(2).get().sha256());
			assertArrayEquals(file, Files.readAllBytes(dir.resolve("t2")));
		} finally {
			pool.shutdownNow();
		}
	}

	/** A server that trickles is given up, as curl's --speed-limit/--speed-time, and what came is kept to resume. */
	@Test
	void aTricklingServerIsGivenUpAndWhatCameIsKept() throws Exception {
		HttpsTransport t = new HttpsTransport(new HttpsTransport.Settings(caDir, false, Duration.ofSeconds(5), Duration.ofSeconds(20), false,
			new Transfer.Limits(4096, Duration.ofSeconds(2), null)));
		Path target = dir.resolve("staging");
		long start = System.nanoTime();
		IOException e = assertThrows(IOException.class, () -> t.fetch(new Request(https(nginx.port, "slow/file.raw"), target, SIZE),
			new Recorder()));
		long seconds = (System.nanoTime() - start) / 1_000_000_000L;
		assertTrue(e.getMessage().contains(": too slow: ") && e.getMessage().contains("less than 4096 bytes a second (speedLimit, speedTime"),
			e.getMessage());
		assertTrue(seconds < 10, seconds + " s");
		assertTrue(Files.size(target) > 0, "the bytes received are kept for the next pull to resume");
	}

	@Test
	void aDeadlineEndsATransfer() throws Exception {
		HttpsTransport t = new HttpsTransport(new HttpsTransport.Settings(caDir, false, Duration.ofSeconds(5), Duration.ofSeconds(20), false,
			new Transfer.Limits(0, Duration.ofSeconds(60), Duration.ofSeconds(1))));
		IOException e = assertThrows(IOException.class, () -> t.fetch(new Request(https(nginx.port, "slow/file.raw"), dir.resolve("s"), SIZE),
			new Recorder()));
		assertTrue(e.getMessage().contains(": not done within 1 s (deadline of psi.transport.https) after "), e.getMessage());
	}
}
