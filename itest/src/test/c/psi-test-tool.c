/*
 * A tool for the tests of psi's own service manager, built static by the
 * test and copied into its images (busybox has no datagram UNIX sockets and
 * takes no inherited listening socket):
 *
 *   psi-test-tool notify MESSAGE [-- COMMAND...]
 *       sends MESSAGE ("\n" between assignments) to $NOTIFY_SOCKET, as
 *       sd_notify(3) does, then runs COMMAND in the same process (so the
 *       message comes from what becomes the service's main process)
 *   psi-test-tool serve-fd3 TEXT
 *       accepts connections on the listening socket at fd 3 (socket
 *       activation) and answers each with TEXT and what the service was
 *       passed: LISTEN_FDS, LISTEN_FDNAMES, whether LISTEN_PID is its pid
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify(const char *message) {
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL) {
		fprintf(stderr, "psi-test-tool: no NOTIFY_SOCKET\n");
		return 1;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	if (n >= sizeof a.sun_path) {
		return 1;
	}
	memcpy(a.sun_path, path, n);
	if (path[0] == '@') {
		a.sun_path[0] = 0;
	}
	char buf[4096];
	size_t len = 0;
	for (const char *p = message; *p && len < sizeof buf - 1; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			buf[len++] = '\n';
			p++;
		} else {
			buf[len++] = *p;
		}
	}
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || sendto(s, buf, len, 0, (struct sockaddr *) &a, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
		fprintf(stderr, "psi-test-tool: notify: %s\n", strerror(errno));
		return 1;
	}
	close(s);
	return 0;
}

int main(int argc, char **argv) {
	if (argc >= 3 && strcmp(argv[1], "notify") == 0) {
		if (notify(argv[2]) != 0) {
			return 1;
		}
		if (argc >= 5 && strcmp(argv[3], "--") == 0) {
			execv(argv[4], &argv[4]);
			fprintf(stderr, "psi-test-tool: %s: %s\n", argv[4], strerror(errno));
			return 127;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "serve-fd3") == 0) {
		const char *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES"), *pid = getenv("LISTEN_PID");
		int mine = pid != NULL && atol(pid) == (long) getpid();
		for (;;) {
			int c = accept(3, NULL, NULL);
			if (c < 0) {
				fprintf(stderr, "psi-test-tool: accept on fd 3: %s\n", strerror(errno));
				return 1;
			}
			dprintf(c, "%s LISTEN_FDS=%s LISTEN_FDNAMES=%s LISTEN_PID=%s\n", argv[2], fds ? fds : "-", names ? names : "-",
				mine ? "mine" : "other");
			close(c);
		}
	}
	fprintf(stderr, "usage: psi-test-tool notify MESSAGE [-- COMMAND...] | serve-fd3 TEXT\n");
	return 2;
}
