package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.posix.CmsgHdr;
import jnr.posix.MsgHdr;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * The system calls the JDK lacks and psi's own service manager needs for
 * socket activation and {@code sd_notify}: libc's socket calls and
 * {@code poll} through jnr-ffi, {@code sendmsg}/{@code recvmsg} with
 * control messages (file descriptors, credentials) through jnr-posix. Every
 * file descriptor here is a plain {@code int} the caller closes with
 * {@link #close(int)}. Linux only (x86-64, arm64: the constants are the
 * same on both).
 */
final class Native {

	/** libc, as jnr-ffi binds it. Public for jnr-ffi's generated class. */
	public interface LibC {
		int socket(int domain, int type, int protocol);

		int setsockopt(int fd, int level, int name, @In int[] value, int len);

		int bind(int fd, @In byte[] addr, int len);

		int listen(int fd, int backlog);

		int accept4(int fd, @Out byte[] addr, @In @Out int[] len, int flags);

		int getsockname(int fd, @Out byte[] addr, @In @Out int[] len);

		int getpeername(int fd, @Out byte[] addr, @In @Out int[] len);

		int getsockopt(int fd, int level, int name, @Out int[] value, @In @Out int[] len);

		int poll(@In @Out int[] fds, long nfds, int timeout);

		int close(int fd);

		int pipe2(@Out int[] fds, int flags);

		long write(int fd, @In byte[] buf, long n);

		long read(int fd, @Out byte[] buf, long n);

		int mkfifo(String path, int mode);

		int open(String path, int flags, int mode);

		String strerror(int errno);
	}

	static final int AF_UNIX = 1;
	static final int AF_INET = 2;
	static final int AF_INET6 = 10;
	static final int SOCK_STREAM = 1;
	static final int SOCK_DGRAM = 2;
	static final int SOCK_SEQPACKET = 5;
	static final int SOCK_NONBLOCK = 04000;
	static final int SOCK_CLOEXEC = 02000000;
	static final int SOL_SOCKET = 1;
	static final int SO_REUSEADDR = 2;
	static final int SO_PASSCRED = 16;
	static final int SO_REUSEPORT = 15;
	static final int SO_RCVBUF = 8;
	static final int SO_SNDBUF = 7;
	static final int IPPROTO_IPV6 = 41;
	static final int IPV6_V6ONLY = 26;
	static final int SCM_RIGHTS = 1;
	static final int SCM_CREDENTIALS = 2;
	static final int O_RDWR = 2;
	static final int O_NONBLOCK = 04000;
	static final int O_CLOEXEC = 02000000;
	static final int O_PATH = 010000000;
	static final int POLLIN = 1;
	static final int EINTR = 4;
	static final int EAGAIN = 11;

	private static volatile LibC libc;
	private static volatile POSIX posix;

	private Native() {
	}

	static LibC libc() {
		LibC c = libc;
		if (c == null) {
			synchronized (Native.class) {
				if (libc == null) {
					libc = LibraryLoader.create(LibC.class).load("c");
				}
				c = libc;
			}
		}
		return c;
	}

	static POSIX posix() {
		POSIX p = posix;
		if (p == null) {
			synchronized (Native.class) {
				if (posix == null) {
					posix = POSIXFactory.getNativePOSIX();
				}
				p = posix;
			}
		}
		return p;
	}

	/** @return errno of the last call on this thread */
	static int errno() {
		return jnr.ffi.Runtime.getRuntime(libc()).getLastError();
	}

	/** @return an exception naming what failed, with errno's text */
	static IOException error(String what) {
		int e = errno();
		return new IOException(what + ": " + libc().strerror(e));
	}

	static int check(int r, String what) throws IOException {
		if (r < 0) {
			throw error(what);
		}
		return r;
	}

	static void close(int fd) {
		if (fd >= 0) {
			libc().close(fd);
		}
	}

	/** @return a pipe, both ends close-on-exec and non-blocking */
	static int[] pipe() throws IOException {
		int[] p = new int[2];
		check(libc().pipe2(p, O_CLOEXEC | O_NONBLOCK), "pipe");
		return p;
	}

	/**
	 * Waits until one of the descriptors is readable.
	 *
	 * @return the indexes of the readable ones (empty on timeout)
	 */
	static boolean[] poll(int[] fds, int timeoutMs) throws IOException {
		int[] p = new int[fds.length * 2];
		for (int i = 0; i < fds.length; i++) {
			p[2 * i] = fds[i];
			p[2 * i + 1] = POLLIN; // struct pollfd {int fd; short events; short revents}, little-endian
		}
		int r = libc().poll(p, fds.length, timeoutMs);
		boolean[] ready = new boolean[fds.length];
		if (r < 0) {
			if (errno() == EINTR) {
				return ready;
			}
			throw error("poll");
		}
		for (int i = 0; i < fds.length; i++) {
			ready[i] = (p[2 * i + 1] >>> 16) != 0;
		}
		return ready;
	}

	/**
	 * Sends file descriptors over a connected UNIX socket, with one byte of
	 * data, in one {@code SCM_RIGHTS} message.
	 */
	static void sendFds(int socket, int[] fds) throws IOException {
		POSIX p = posix();
		MsgHdr m = p.allocateMsgHdr();
		m.setIov(new ByteBuffer[] {ByteBuffer.allocateDirect(1).put(0, (byte) 'F')});
		CmsgHdr c = m.allocateControl(4 * fds.length);
		c.setLevel(SOL_SOCKET);
		c.setType(SCM_RIGHTS);
		ByteBuffer data = ByteBuffer.allocate(4 * fds.length).order(ByteOrder.nativeOrder());
		for (int fd : fds) {
			data.putInt(fd);
		}
		data.flip();
		c.setData(data);
		int r;
		do {
			r = p.sendmsg(socket, m, 0);
		} while (r < 0 && p.errno() == EINTR);
		if (r != 1) {
			throw new IOException("passing the sockets to the service: " + p.strerror(p.errno()));
		}
	}

	/** One datagram and who sent it. */
	record Datagram(String text, long pid, long uid) {
	}

	/**
	 * Receives one datagram of at most {@code max} bytes with the sender's
	 * credentials (the socket has {@code SO_PASSCRED}); longer ones are cut.
	 *
	 * @return the datagram, or {@code null} when none is waiting (a non-blocking socket)
	 */
	static Datagram receive(int socket, int max) throws IOException {
		POSIX p = posix();
		MsgHdr m = p.allocateMsgHdr();
		ByteBuffer buf = ByteBuffer.allocateDirect(max);
		m.setIov(new ByteBuffer[] {buf});
		m.allocateControl(12); // struct ucred {pid_t pid; uid_t uid; gid_t gid;}
		int n = p.recvmsg(socket, m, 0x40 /* MSG_DONTWAIT */);
		if (n < 0) {
			int e = p.errno();
			if (e == EAGAIN || e == EINTR) {
				return null;
			}
			throw new IOException("receiving a notification: " + p.strerror(e));
		}
		long pid = 0;
		long uid = -1;
		for (CmsgHdr c : m.getControls()) {
			if (c.getLevel() == SOL_SOCKET && c.getType() == SCM_CREDENTIALS) {
				ByteBuffer d = c.getData().order(ByteOrder.nativeOrder());
				if (d.remaining() >= 12) {
					pid = Integer.toUnsignedLong(d.getInt(d.position()));
					uid = Integer.toUnsignedLong(d.getInt(d.position() + 4));
				}
			}
		}
		byte[] b = new byte[Math.min(n, max)];
		ByteBuffer in = m.getIov()[0];
		in.position(0);
		in.get(b);
		return new Datagram(new String(b, StandardCharsets.UTF_8), pid, uid);
	}

	/**
	 * A UNIX socket path the kernel takes (at most 107 bytes): the path
	 * itself, or for a longer one (a deep {@code --root}) the same file
	 * reached through {@code /proc/self/fd} of its opened directory. Close
	 * it once the socket is bound or connected.
	 */
	record SocketPath(String path, int dirFd) implements AutoCloseable {
		@Override
		public void close() {
			Native.close(dirFd);
		}
	}

	static SocketPath socketPath(java.nio.file.Path p) throws IOException {
		String s = p.toString();
		if (s.getBytes(StandardCharsets.UTF_8).length < 108) {
			return new SocketPath(s, -1);
		}
		int fd = check(libc().open(p.getParent().toString(), O_PATH | O_CLOEXEC, 0), "opening " + p.getParent());
		String short_ = "/proc/self/fd/" + fd + "/" + p.getFileName();
		if (short_.getBytes(StandardCharsets.UTF_8).length >= 108) {
			close(fd);
			throw new IOException("socket name too long (at most 90 bytes): " + p.getFileName());
		}
		return new SocketPath(short_, fd);
	}

	/** @return a socket address's bytes ({@code struct sockaddr_un}); a leading @ is the abstract namespace */
	static byte[] unixAddress(String path) throws IOException {
		byte[] p = path.getBytes(StandardCharsets.UTF_8);
		boolean abstractName = path.startsWith("@");
		if (p.length >= 108) {
			throw new IOException("socket path too long (" + p.length + " bytes, at most 107): " + path);
		}
		byte[] a = new byte[2 + p.length + (abstractName ? 0 : 1)];
		a[0] = (byte) AF_UNIX;
		System.arraycopy(p, 0, a, 2, p.length);
		if (abstractName) {
			a[2] = 0;
		}
		return a;
	}

	/** @return {@code struct sockaddr_in} or {@code sockaddr_in6} bytes for an address and port */
	static byte[] inetAddress(java.net.InetAddress addr, int port) {
		byte[] raw = addr.getAddress();
		byte[] a = new byte[raw.length == 4 ? 16 : 28];
		a[0] = (byte) (raw.length == 4 ? AF_INET : AF_INET6);
		a[2] = (byte) (port >>> 8);
		a[3] = (byte) port;
		System.arraycopy(raw, 0, a, raw.length == 4 ? 4 : 8, raw.length);
		if (addr instanceof java.net.Inet6Address i6 && i6.getScopeId() != 0) {
			ByteBuffer.wrap(a, 24, 4).order(ByteOrder.nativeOrder()).putInt(i6.getScopeId());
		}
		return a;
	}

	/** @return the text systemd gives a socket address in an instance name: {@code 127.0.0.1:80}, {@code ::1:80} */
	static String show(byte[] a, int len) {
		int family = (a[0] & 0xff) | (a[1] & 0xff) << 8;
		int port = (a[2] & 0xff) << 8 | a[3] & 0xff;
		try {
			if (family == AF_INET && len >= 16) {
				return java.net.InetAddress.getByAddress(java.util.Arrays.copyOfRange(a, 4, 8)).getHostAddress() + ":" + port;
			}
			if (family == AF_INET6 && len >= 24) {
				// an IPv4-mapped address comes back as IPv4, as systemd shows it; IPv6 as inet_ntop writes it, no brackets
				java.net.InetAddress ia = java.net.InetAddress.getByAddress(java.util.Arrays.copyOfRange(a, 8, 24));
				return (ia instanceof java.net.Inet6Address ? ntop(ia.getAddress()) : ia.getHostAddress()) + ":" + port;
			}
		} catch (java.net.UnknownHostException e) {
			// not an address
		}
		return "unknown";
	}

	/** @return an IPv6 address as inet_ntop(3) writes it: the longest run of two or more zero groups as {@code ::} */
	static String ntop(byte[] a) {
		int[] g = new int[8];
		for (int i = 0; i < 8; i++) {
			g[i] = (a[2 * i] & 0xff) << 8 | a[2 * i + 1] & 0xff;
		}
		int best = -1;
		int bestLen = 1;
		for (int i = 0; i < 8;) {
			int j = i;
			while (j < 8 && g[j] == 0) {
				j++;
			}
			if (j - i > bestLen) {
				best = i;
				bestLen = j - i;
			}
			i = j == i ? i + 1 : j;
		}
		StringBuilder b = new StringBuilder();
		for (int i = 0; i < 8; i++) {
			if (i == best) {
				b.append("::");
				i += bestLen - 1;
				continue;
			}
			if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
				b.append(':');
			}
			b.append(Integer.toHexString(g[i]));
		}
		return b.toString();
	}
}
