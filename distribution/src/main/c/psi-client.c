/*
 * psi-client: the thin client of the psi daemon (psi daemon).
 *
 * It connects to the daemon's UNIX socket, sends the command line, the
 * working directory, whether standard error is a terminal and the locale
 * and terminal variables, then copies what the daemon streams back to
 * standard output and standard error and exits with the command's status.
 * Ctrl-C is passed on: the daemon interrupts the command (a pull keeps its
 * partial file for resume); a second Ctrl-C leaves at once. With no
 * arguments it opens the daemon's interactive shell, standard input
 * forwarded: on a terminal, put in raw mode as ssh does (every key, Tab
 * and Ctrl-C included, goes to psi's line editor in the daemon; its size
 * and each resize are sent along), and restored however the client ends.
 *
 * With no daemon answering, or for what must run in this process (psi
 * daemon, psi build, psi --no-daemon ..., psi -H HOST ...), it executes the psi launcher script
 * ($PSI_LAUNCHER) with PSI_IN_PROCESS=1, which runs the command in a JVM
 * of its own as before.
 *
 * The socket: $PSI_SOCKET, else DIR/run/psi/psi.sock for --root DIR, else
 * /run/psi/psi.sock. The protocol is described in the daemon's Frames.java:
 * frames of one type byte, a 4-byte big-endian length, the bytes.
 *
 * Plain C and libc only, so that it starts in a millisecond: a JVM client
 * would spend 40 ms or more before its first byte.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define MAX_REQUEST (256 * 1024)
#define MAX_FRAME (1024 * 1024)

static volatile sig_atomic_t interrupts;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupts++;
	if (interrupts > 1) {
		static const char m[] = "\npsi: left the command to the daemon; it goes on\n";
		ssize_t w = write(2, m, sizeof m - 1);
		(void)w;
		_exit(130);
	}
}

static int send_frame(int fd, char type, const void *data, uint32_t len);

/* the terminal as it was before the shell put it in raw mode, restored at any end */
static struct termios saved_tty;
static volatile sig_atomic_t raw_tty;
static volatile sig_atomic_t resized;

static void restore_tty(void)
{
	if (raw_tty) {
		tcsetattr(0, TCSAFLUSH, &saved_tty);
		raw_tty = 0;
	}
}

static void on_console_signal(int sig)
{
	if (sig == SIGWINCH) {
		resized = 1;
		return;
	}
	/* SIGTERM, SIGHUP: the terminal back as it was, then the default end */
	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* raw input as ssh -t makes it (no echo, no line editing, no signals from keys); output processing kept */
static int enter_raw_tty(void)
{
	if (tcgetattr(0, &saved_tty) < 0)
		return -1;
	struct termios t = saved_tty;
	t.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(0, TCSAFLUSH, &t) < 0)
		return -1;
	raw_tty = 1;
	atexit(restore_tty);
	return 0;
}

static int send_window(int fd)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 || ws.ws_row == 0)
		return 0;
	unsigned char d[4] = { (unsigned char)(ws.ws_col >> 8), (unsigned char)ws.ws_col, (unsigned char)(ws.ws_row >> 8),
		(unsigned char)ws.ws_row };
	return send_frame(fd, 'W', d, sizeof d);
}

static void die(const char *what)
{
	fprintf(stderr, "psi: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* reads exactly len bytes; 0 on success, 1 at end of stream before any byte, -1 otherwise */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return got == 0 ? 1 : -1;
		got += (size_t)n;
	}
	return 0;
}

static int send_frame(int fd, char type, const void *data, uint32_t len)
{
	unsigned char head[5] = { (unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len };
	if (write_all(fd, head, sizeof head) < 0)
		return -1;
	return len ? write_all(fd, data, len) : 0;
}

struct request {
	char *buf;
	size_t len;
};

static int add(struct request *r, const char *key, const char *value)
{
	size_t k = strlen(key), v = strlen(value);
	if (r->len + k + 1 + v + 1 > MAX_REQUEST)
		return -1;
	memcpy(r->buf + r->len, key, k);
	r->buf[r->len + k] = '=';
	memcpy(r->buf + r->len + k + 1, value, v);
	r->buf[r->len + k + 1 + v] = '\0';
	r->len += k + 1 + v + 1;
	return 0;
}

/* runs the command in this process: the launcher script, which starts a JVM */
static void in_process(char **argv)
{
	const char *launcher = getenv("PSI_LAUNCHER");
	if (!launcher || !*launcher) {
		fprintf(stderr, "psi: no daemon answers and PSI_LAUNCHER is not set; run psi through its launcher script\n");
		exit(1);
	}
	setenv("PSI_IN_PROCESS", "1", 1);
	argv[0] = (char *)launcher;
	execv(launcher, argv);
	die(launcher);
}

static const char *const forwarded[] = { "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TERM", "COLUMNS", "NO_COLOR", NULL };

int main(int argc, char **argv)
{
	/* what must run here: the daemon itself, --no-daemon; the socket: --root DIR among the options */
	const char *root = NULL;
	int command = 0; /* index of the command word */
	int root_words = 0; /* the words of --root DIR */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--no-daemon") == 0 && command == 0)
			in_process(argv);
		/* -H: ssh runs as this user, with its keys and agent, never in the daemon */
		if (strncmp(argv[i], "-H", 2) == 0 || strcmp(argv[i], "--host") == 0 || strncmp(argv[i], "--host=", 7) == 0)
			in_process(argv);
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			root = argv[++i];
			root_words += 2;
			continue;
		}
		if (strncmp(argv[i], "--root=", 7) == 0) {
			root = argv[i] + 7;
			root_words++;
			continue;
		}
		if (command == 0 && argv[i][0] != '-')
			command = i;
	}
	/* psi build reads the tree and writes the image as the caller, never as the daemon's root */
	if (command > 0 && (strcmp(argv[command], "daemon") == 0 || strcmp(argv[command], "build") == 0))
		in_process(argv);

	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *env_socket = getenv("PSI_SOCKET");
	int n;
	if (env_socket && *env_socket)
		n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s", env_socket);
	else if (root && *root && strcmp(root, "/") != 0)
		n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/run/psi/psi.sock", root);
	else
		n = snprintf(addr.sun_path, sizeof addr.sun_path, "/run/psi/psi.sock");
	if (n < 0 || (size_t)n >= sizeof addr.sun_path)
		in_process(argv); /* a path too long for a socket: no daemon can listen there */

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		if (getenv("PSI_DEBUG"))
			fprintf(stderr, "psi: no daemon at %s (%s): running in-process\n", addr.sun_path, strerror(errno));
		if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR || errno == EACCES)
			in_process(argv);
		die(addr.sun_path);
	}

	struct request r = { .buf = malloc(MAX_REQUEST), .len = 0 };
	if (!r.buf)
		die("malloc");
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		die("the working directory");
	int tty = isatty(2);
	int too_long = add(&r, "version", "1") || add(&r, "cwd", cwd) || add(&r, "tty", tty ? "1" : "0");
	for (const char *const *v = forwarded; *v && !too_long; v++) {
		const char *val = getenv(*v);
		if (val) {
			char kv[4096];
			if (snprintf(kv, sizeof kv, "%s=%s", *v, val) < (int)sizeof kv)
				too_long |= add(&r, "env", kv);
		}
	}
	if (tty && !getenv("COLUMNS") && !too_long) {
		struct winsize ws;
		if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
			char kv[32];
			snprintf(kv, sizeof kv, "COLUMNS=%u", (unsigned)ws.ws_col);
			too_long |= add(&r, "env", kv);
		}
	}
	int shell = command == 0 && root_words == argc - 1;
	/* the shell on a terminal: psi's line editor in the daemon gets every key */
	int console = shell && isatty(0) && isatty(1);
	if (console && !too_long) {
		struct winsize ws;
		char v[16];
		too_long |= add(&r, "console", "1");
		if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
			snprintf(v, sizeof v, "%u", (unsigned)ws.ws_col);
			too_long |= add(&r, "cols", v);
			snprintf(v, sizeof v, "%u", (unsigned)ws.ws_row);
			too_long |= add(&r, "rows", v);
		}
	}
	/* the shell (no command word, at most --root DIR, which chose the socket): no arguments, the daemon's root */
	for (int i = 1; i < argc && !too_long && !shell; i++)
		too_long |= add(&r, "arg", argv[i]);
	if (too_long) {
		fprintf(stderr, "psi: the command line is longer than the %d bytes the daemon takes\n", MAX_REQUEST);
		return 1;
	}
	if (send_frame(fd, 'R', r.buf, (uint32_t)r.len) < 0)
		die("sending the command to the daemon");
	free(r.buf);

	signal(SIGPIPE, SIG_IGN);
	if (!shell) {
		struct sigaction sa = { .sa_handler = on_interrupt };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	} else if (console) {
		struct sigaction sa = { .sa_handler = on_console_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGWINCH, &sa, NULL);
		if (enter_raw_tty() < 0)
			console = 0; /* the line editor then sees cooked lines: still usable */
	}

	unsigned char *buf = malloc(MAX_FRAME);
	if (!buf)
		die("malloc");
	int sent_interrupts = 0;
	int stdin_open = shell;
	int stdin_done = 0; /* its end was sent: not forwarded again */
	int stdout_open = 1;
	for (;;) {
		if (interrupts > sent_interrupts) {
			sent_interrupts = interrupts;
			if (send_frame(fd, 'c', NULL, 0) < 0)
				break;
		}
		if (resized) {
			resized = 0;
			if (send_window(fd) < 0)
				break;
		}
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
		if (poll(p, stdin_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (stdin_open && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t got = read(0, buf, 64 * 1024);
			if (got > 0) {
				if (send_frame(fd, 'i', buf, (uint32_t)got) < 0)
					break;
			} else if (got == 0 || errno != EINTR) {
				stdin_open = 0;
				stdin_done = 1;
				if (send_frame(fd, 'z', NULL, 0) < 0)
					break;
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		unsigned char head[5];
		int rc = read_all(fd, head, sizeof head);
		if (rc != 0)
			break;
		uint32_t len = (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
		if (len > MAX_FRAME) {
			fprintf(stderr, "psi: the daemon sent a frame of %u bytes; at most %d are taken\n", len, MAX_FRAME);
			return 1;
		}
		if (len && read_all(fd, buf, len) != 0)
			break;
		switch (head[0]) {
		case 'o':
			if (stdout_open && write_all(1, buf, len) < 0)
				stdout_open = 0; /* a closed pipe (psi list | head): the rest is not wanted */
			break;
		case 'e':
			if (write_all(2, buf, len) < 0) {
				/* nowhere to say anything */
			}
			break;
		case 'w':
			/* the command reads its standard input (a question): forward it from now on */
			if (!stdin_done)
				stdin_open = 1;
			break;
		case 'x':
			if (len != 4)
				break;
			restore_tty();
			return (int)((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3]) & 0xff;
		default:
			break; /* a newer daemon's frame: ignored */
		}
	}
	restore_tty();
	fprintf(stderr, "psi: the daemon closed the connection before the command finished; see its log (journalctl -u psi, or /var/log/psi/psi.log)\n");
	return 1;
}
