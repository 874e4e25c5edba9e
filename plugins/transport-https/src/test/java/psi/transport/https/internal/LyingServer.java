package psi.transport.https.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;

/**
 * A raw server on 127.0.0.1 that announces one length and sends another
 * body, which nginx cannot be made to do: plain HTTP/1.1, or HTTP/2 over TLS
 * (ALPN h2) with the nginx test PKI's server certificate. Every request gets
 * {@code body}; {@code announced} -1 sends no Content-Length.
 */
final class LyingServer implements AutoCloseable {

	private final ServerSocket listener;
	private final byte[] body;
	private final long announced;
	private final boolean http2;
	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	private LyingServer(ServerSocket listener, byte[] body, long announced, boolean http2) {
		this.listener = listener;
		this.body = body;
		this.announced = announced;
		this.http2 = http2;
		Thread t = new Thread(this::accept, "lying-server");
		t.setDaemon(true);
		t.start();
	}

	/** Plain HTTP/1.1. */
	static LyingServer http1(byte[] body, long announced) throws IOException {
		ServerSocket s = new ServerSocket();
		s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
		return new LyingServer(s, body, announced, false);
	}

	/** HTTP/2 over TLS with {@code pki}'s {@code server.crt} and {@code server.key}. */
	static LyingServer http2(Path pki, byte[] body, long announced) throws Exception {
		CertificateFactory cf = CertificateFactory.getInstance("X.509");
		Certificate cert;
		Certificate ca;
		try (InputStream in = Files.newInputStream(pki.resolve("server.crt"))) {
			cert = cf.generateCertificate(in);
		}
		try (InputStream in = Files.newInputStream(pki.resolve("ca.crt"))) {
			ca = cf.generateCertificate(in);
		}
		String pem = Files.readString(pki.resolve("server.key"));
		byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
		PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
		KeyStore ks = KeyStore.getInstance("PKCS12");
		ks.load(null, null);
		ks.setKeyEntry("server", key, new char[0], new Certificate[] { cert, ca });
		KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
		kmf.init(ks, new char[0]);
		SSLContext ctx = SSLContext.getInstance("TLS");
		ctx.init(kmf.getKeyManagers(), null, null);
		SSLServerSocket s = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket();
		SSLParameters p = s.getSSLParameters();
		p.setApplicationProtocols(new String[] { "h2" });
		s.setSSLParameters(p);
		s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
		return new LyingServer(s, body, announced, true);
	}

	int port() {
		return listener.getLocalPort();
	}

	private void accept() {
		try {
			for (;;) {
				Socket s = listener.accept();
				sockets.add(s);
				Thread t = new Thread(() -> serve(s), "lying-connection");
				t.setDaemon(true);
				t.start();
			}
		} catch (IOException e) {
			// closed
		}
	}

	private void serve(Socket s) {
		try (s) {
			if (http2) {
				serveHttp2(s);
			} else {
				serveHttp1(s);
			}
		} catch (IOException e) {
			// the client went away
		}
	}

	private void serveHttp1(Socket s) throws IOException {
		InputStream in = s.getInputStream();
		// the request head ends with an empty line
		for (int state = 0; state < 4;) {
			int c = in.read();
			if (c < 0) {
				return;
			}
			state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1
				: 0;
		}
		OutputStream out = s.getOutputStream();
		String head = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
			+ (announced >= 0 ? "Content-Length: " + announced + "\r\n" : "") + "\r\n";
		out.write(head.getBytes(StandardCharsets.US_ASCII));
		out.write(body);
		out.flush();
	}

	private void serveHttp2(Socket s) throws IOException {
		DataInputStream in = new DataInputStream(s.getInputStream());
		OutputStream out = s.getOutputStream();
		in.readFully(new byte[24]); // PRI * HTTP/2.0 preface
		frame(out, 4, 0, 0, new byte[0]); // SETTINGS
		for (;;) {
			int len;
			try {
				len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
			} catch (EOFException e) {
				return;
			}
			int type = in.readUnsignedByte();
			int flags = in.readUnsignedByte();
			int stream = in.readInt() & 0x7fffffff;
			in.readFully(new byte[len]);
			if (type == 4 && (flags & 1) == 0) {
				frame(out, 4, 1, 0, new byte[0]); // SETTINGS ACK
			} else if (type == 1) {
				respond(out, stream);
			} else if (type == 7) {
				return; // GOAWAY
			}
		}
	}

	/** HEADERS (HPACK: :status 200 indexed, content-length literal without indexing) and DATA frames. */
	private void respond(OutputStream out, int stream) throws IOException {
		ByteArrayOutputStream h = new ByteArrayOutputStream();
		h.write(0x88);
		if (announced >= 0) {
			byte[] v = Long.toString(announced).getBytes(StandardCharsets.US_ASCII);
			h.write(0x0f); // literal without indexing, name index 28 (content-length) = 15 + 13
			h.write(13);
			h.write(v.length);
			h.write(v);
		}
		frame(out, 1, 0x4, stream, h.toByteArray()); // END_HEADERS
		int off = 0;
		do {
			int n = Math.min(16384, body.length - off);
			byte[] chunk = new byte[n];
			System.arraycopy(body, off, chunk, 0, n);
			off += n;
			frame(out, 0, off == body.length ? 0x1 : 0, stream, chunk); // END_STREAM on the last
		} while (off < body.length);
		out.flush();
	}

	private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
		byte[] f = new byte[9 + payload.length];
		f[0] = (byte) (payload.length >>> 16);
		f[1] = (byte) (payload.length >>> 8);
		f[2] = (byte) payload.length;
		f[3] = (byte) type;
		f[4] = (byte) flags;
		f[5] = (byte) (stream >>> 24);
		f[6] = (byte) (stream >>> 16);
		f[7] = (byte) (stream >>> 8);
		f[8] = (byte) stream;
		System.arraycopy(payload, 0, f, 9, payload.length);
		synchronized (out) {
			out.write(f);
			out.flush();
		}
	}

	@Override
	public void close() throws IOException {
		listener.close();
		for (Socket s : sockets) {
			s.close();
		}
	}
}
