/*
 * psi-exec: the last step before a service's command runs under psi's own
 * service manager, inside the sandbox bubblewrap has built (mounts and
 * namespaces done, still root). It does what systemd's executor does at the
 * same point and what no tool inside an arbitrary image can do: a private
 * user namespace (PrivateUsers=, root and the service's user mapped), the
 * capability bounding set, ambient capabilities, groups, the user switch,
 * NoNewPrivileges=, the seccomp filter psi compiled, the umask; then exec.
 * The kernel forgets a process's parent-death signal when its credentials
 * change: psi-exec sets SIGKILL again after the user switch, so that the
 * service dies with bubblewrap (--die-with-parent), which dies with psi.
 * Statically linked: it runs in any image. It is bound read-only into the
 * sandbox by psi; it is no setuid program and does nothing for a caller
 * that is not root.
 *
 * psi-exec [--private-users] [--uid U] [--gid G] [--groups G1,G2]
 *          [--bounding HEX] [--ambient HEX] [--no-new-privileges]
 *          [--seccomp FILE] [--umask OCTAL] [--argv0 NAME]
 *          [--pid-env NAME]... [--stdin-fd3] [--stdout-fd3]
 *          [--stderr-fd3] -- COMMAND [ARG...]
 *
 * --pid-env sets NAME to the process's own pid (LISTEN_PID, WATCHDOG_PID:
 * the command keeps it, as exec keeps the pid); --stdin-fd3/--stdout-fd3/--stderr-fd3
 * make the passed socket the command's standard input/output/error
 * (StandardInput=socket, StandardOutput=socket).
 *
 * psi-exec --recv-fds SOCKET N -- COMMAND [ARG...]
 *
 * A step before bubblewrap: connects to psi's UNIX socket SOCKET, receives N
 * file descriptors (SCM_RIGHTS: the listening sockets of socket activation,
 * which a process psi starts cannot inherit), puts them at 3..N+2 and runs
 * COMMAND, which inherits them. Status 224 (systemd's "sockets") on failure.
 *
 * Exit statuses on failure are systemd's (216 group, 217 user, 218
 * capabilities, 203 exec, 226 namespace, 227 no new privileges, 228 seccomp),
 * with one line on standard error naming the step.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_EXEC 203
#define EXIT_GROUP 216
#define EXIT_USER 217
#define EXIT_CAPABILITIES 218
#define EXIT_NAMESPACE 226
#define EXIT_NO_NEW_PRIVILEGES 227
#define EXIT_SECCOMP 228
#define EXIT_SOCKETS 224
#define MAX_FDS 250
#define MAX_PID_ENV 4
#define MAX_GROUPS 64
#define MAX_FILTER (4096 * 8)

static void fail(int status, const char *what) {
	fprintf(stderr, "psi-exec: %s: %s\n", what, strerror(errno));
	exit(status);
}

static void usage(const char *why) {
	fprintf(stderr, "psi-exec: %s\n", why);
	exit(EXIT_EXEC);
}

static unsigned long number(const char *s, int base, const char *what) {
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno != 0 || *s == '\0' || *end != '\0' || v > 0xffffffffffffffffULL) {
		usage(what);
	}
	return (unsigned long) v;
}

static int last_cap(void) {
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return CAP_LAST_CAP;
	}
	char b[16] = {0};
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	return n > 0 ? atoi(b) : CAP_LAST_CAP;
}

static void write_file(const char *path, const char *text) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(EXIT_NAMESPACE, path);
	}
	size_t n = strlen(text);
	if (write(fd, text, n) != (ssize_t) n) {
		fail(EXIT_NAMESPACE, path);
	}
	close(fd);
}

/*
 * A user namespace mapping root and the service's user to themselves, as
 * systemd's PrivateUsers= does: a child still in the parent namespace writes
 * the maps once this process has unshared.
 */
static void private_users(uid_t uid, gid_t gid) {
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		fail(EXIT_NAMESPACE, "pipe");
	}
	pid_t parent = getpid();
	pid_t child = fork();
	if (child < 0) {
		fail(EXIT_NAMESPACE, "fork");
	}
	if (child == 0) {
		close(p[1]);
		char c;
		if (read(p[0], &c, 1) != 1) {
			_exit(1);
		}
		char path[64], map[128];
		snprintf(path, sizeof path, "/proc/%d/uid_map", (int) parent);
		if (uid == 0) {
			snprintf(map, sizeof map, "0 0 1\n");
		} else {
			snprintf(map, sizeof map, "0 0 1\n%u %u 1\n", (unsigned) uid, (unsigned) uid);
		}
		write_file(path, map);
		snprintf(path, sizeof path, "/proc/%d/gid_map", (int) parent);
		if (gid == 0) {
			snprintf(map, sizeof map, "0 0 1\n");
		} else {
			snprintf(map, sizeof map, "0 0 1\n%u %u 1\n", (unsigned) gid, (unsigned) gid);
		}
		write_file(path, map);
		_exit(0);
	}
	close(p[0]);
	if (unshare(CLONE_NEWUSER) < 0) {
		fail(EXIT_NAMESPACE, "unshare(CLONE_NEWUSER)");
	}
	if (write(p[1], "x", 1) != 1) {
		fail(EXIT_NAMESPACE, "pipe");
	}
	close(p[1]);
	int st;
	if (waitpid(child, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = EPERM;
		fail(EXIT_NAMESPACE, "writing the user namespace's maps");
	}
}

static void set_caps(uint64_t keep) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	d[0].permitted = d[0].effective = d[0].inheritable = (uint32_t) keep;
	d[1].permitted = d[1].effective = d[1].inheritable = (uint32_t) (keep >> 32);
	if (syscall(SYS_capset, &h, d) < 0) {
		fail(EXIT_CAPABILITIES, "capset");
	}
}

/* psi-exec --recv-fds SOCKET N -- COMMAND...: the fds from psi at 3..N+2, then COMMAND */
static int receive_fds(int argc, char **argv) {
	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		usage("usage: psi-exec --recv-fds SOCKET N -- COMMAND [ARG...]");
	}
	int n = (int) number(argv[3], 10, "bad --recv-fds count");
	if (n < 1 || n > MAX_FDS) {
		usage("bad --recv-fds count");
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(argv[2]) < sizeof a.sun_path) {
		strcpy(a.sun_path, argv[2]);
	} else {
		/* a deep --root: the same file through the opened directory */
		char *slash = strrchr(argv[2], '/');
		if (slash == NULL || slash == argv[2]) {
			usage("--recv-fds socket path too long");
		}
		*slash = '\0';
		int dir = open(argv[2], O_PATH | O_CLOEXEC);
		*slash = '/';
		if (dir < 0) {
			fail(EXIT_SOCKETS, "opening the directory of the sockets' hand-off");
		}
		int n = snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dir, slash + 1);
		if (n < 0 || (size_t) n >= sizeof a.sun_path) {
			usage("--recv-fds socket name too long");
		}
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *) &a, sizeof a) < 0) {
		fail(EXIT_SOCKETS, "connecting to psi for the sockets");
	}
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
	ssize_t r;
	do {
		r = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		fail(EXIT_SOCKETS, "receiving the sockets");
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (r != 1 || (m.msg_flags & MSG_CTRUNC) || c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS
		|| c->cmsg_len != CMSG_LEN(sizeof(int) * (size_t) n)) {
		errno = EPROTO;
		fail(EXIT_SOCKETS, "receiving the sockets");
	}
	int fds[MAX_FDS];
	memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t) n);
	close(s);
	/* out of the way of 3..N+2 first, then into place (dup2 clears close-on-exec) */
	for (int k = 0; k < n; k++) {
		int high = fcntl(fds[k], F_DUPFD_CLOEXEC, 3 + MAX_FDS);
		if (high < 0) {
			fail(EXIT_SOCKETS, "moving a socket");
		}
		close(fds[k]);
		fds[k] = high;
	}
	for (int k = 0; k < n; k++) {
		if (dup2(fds[k], 3 + k) < 0) {
			fail(EXIT_SOCKETS, "placing a socket");
		}
		close(fds[k]);
	}
	execvp(argv[5], &argv[5]);
	fprintf(stderr, "psi-exec: executing %s: %s\n", argv[5], strerror(errno));
	return EXIT_EXEC;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "--recv-fds") == 0) {
		return receive_fds(argc, argv);
	}
	const char *pid_env[MAX_PID_ENV];
	int npid_env = 0, stdin_fd3 = 0, stdout_fd3 = 0, stderr_fd3 = 0;
	int private = 0, nnp = 0, have_umask = 0, ngroups = -1;
	uid_t uid = 0;
	gid_t gid = 0;
	gid_t groups[MAX_GROUPS];
	uint64_t bounding = UINT64_MAX, ambient = 0;
	const char *seccomp = NULL;
	char *argv0 = NULL;
	mode_t mask = 022;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--private-users") == 0) {
			private = 1;
		} else if (strcmp(a, "--no-new-privileges") == 0) {
			nnp = 1;
		} else if (strcmp(a, "--stdin-fd3") == 0) {
			stdin_fd3 = 1;
		} else if (strcmp(a, "--stdout-fd3") == 0) {
			stdout_fd3 = 1;
		} else if (strcmp(a, "--stderr-fd3") == 0) {
			stderr_fd3 = 1;
		} else if (i + 1 >= argc) {
			usage("an option lacks its value");
		} else if (strcmp(a, "--uid") == 0) {
			uid = (uid_t) number(argv[++i], 10, "bad --uid");
		} else if (strcmp(a, "--gid") == 0) {
			gid = (gid_t) number(argv[++i], 10, "bad --gid");
		} else if (strcmp(a, "--groups") == 0) {
			char *list = argv[++i];
			ngroups = 0;
			for (char *t = strtok(list, ","); t != NULL; t = strtok(NULL, ",")) {
				if (ngroups >= MAX_GROUPS) {
					usage("too many --groups");
				}
				groups[ngroups++] = (gid_t) number(t, 10, "bad --groups");
			}
		} else if (strcmp(a, "--bounding") == 0) {
			bounding = number(argv[++i], 16, "bad --bounding");
		} else if (strcmp(a, "--ambient") == 0) {
			ambient = number(argv[++i], 16, "bad --ambient");
		} else if (strcmp(a, "--seccomp") == 0) {
			seccomp = argv[++i];
		} else if (strcmp(a, "--pid-env") == 0) {
			if (npid_env >= MAX_PID_ENV) {
				usage("too many --pid-env");
			}
			pid_env[npid_env++] = argv[++i];
		} else if (strcmp(a, "--argv0") == 0) {
			argv0 = argv[++i];
		} else if (strcmp(a, "--umask") == 0) {
			mask = (mode_t) number(argv[++i], 8, "bad --umask");
			have_umask = 1;
		} else {
			usage("unknown option");
		}
	}
	if (i >= argc) {
		usage("no command");
	}
	if (getuid() != 0) {
		errno = EPERM;
		fail(EXIT_USER, "psi-exec runs as root only");
	}
	pid_t parent = getppid();

	/* the filter is read while the file is still reachable as root */
	struct sock_filter filter[MAX_FILTER / 8];
	unsigned short filter_len = 0;
	if (seccomp != NULL) {
		int fd = open(seccomp, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fail(EXIT_SECCOMP, seccomp);
		}
		ssize_t n = read(fd, filter, sizeof filter);
		close(fd);
		if (n <= 0 || n % 8 != 0) {
			errno = EINVAL;
			fail(EXIT_SECCOMP, "the seccomp program");
		}
		filter_len = (unsigned short) (n / 8);
	}

	if (private) {
		private_users(uid, gid);
	}
	int last = last_cap();
	for (int c = 0; c <= last; c++) {
		if (!(bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
			fail(EXIT_CAPABILITIES, "dropping from the bounding set");
		}
	}
	if (ngroups >= 0 ? setgroups((size_t) ngroups, groups) < 0 : setgroups(0, NULL) < 0) {
		fail(EXIT_GROUP, "setgroups");
	}
	if (setresgid(gid, gid, gid) < 0) {
		fail(EXIT_GROUP, "setresgid");
	}
	if (uid != 0) {
		if (ambient != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
			fail(EXIT_CAPABILITIES, "PR_SET_KEEPCAPS");
		}
		if (setresuid(uid, uid, uid) < 0) {
			fail(EXIT_USER, "setresuid");
		}
		if (ambient != 0) {
			set_caps(ambient & bounding);
			for (int c = 0; c <= last; c++) {
				if ((ambient & bounding & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
					fail(EXIT_CAPABILITIES, "raising an ambient capability");
				}
			}
		}
	}
	/* the user switch cleared the parent-death signal bubblewrap set: again, and the parent checked */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		fail(EXIT_USER, "PR_SET_PDEATHSIG");
	}
	if (getppid() != parent) {
		errno = ESRCH;
		fail(EXIT_USER, "the sandbox's monitor is gone");
	}
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fail(EXIT_NO_NEW_PRIVILEGES, "PR_SET_NO_NEW_PRIVS");
	}
	if (have_umask) {
		umask(mask);
	}
	if (filter_len > 0) {
		struct sock_fprog prog = {filter_len, filter};
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
			/* as systemd: without CAP_SYS_ADMIN a filter needs no_new_privs */
			if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
				|| prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
				fail(EXIT_SECCOMP, "installing the seccomp filter");
			}
		}
	}
	if ((stdin_fd3 && dup2(3, 0) < 0) || (stdout_fd3 && dup2(3, 1) < 0) || (stderr_fd3 && dup2(3, 2) < 0)) {
		fail(EXIT_SOCKETS, "the socket as standard input or output");
	}
	char pid[24];
	snprintf(pid, sizeof pid, "%ld", (long) getpid());
	for (int k = 0; k < npid_env; k++) {
		if (setenv(pid_env[k], pid, 1) < 0) {
			fail(EXIT_EXEC, "setting the pid in the environment");
		}
	}
	const char *file = argv[i];
	if (argv0 != NULL) {
		argv[i] = argv0;
	}
	execvp(file, &argv[i]);
	fprintf(stderr, "psi-exec: executing %s: %s\n", file, strerror(errno));
	return EXIT_EXEC;
}
