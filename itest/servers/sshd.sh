#!/bin/bash
# sshd.sh start DIR | stop DIR - a real OpenSSH sshd on 127.0.0.1 for the ssh transport's tests.
#
# start DIR   makes in DIR (keys once; kept if DIR/host_ed25519 exists):
#               host_ed25519[.pub]         the server's host key
#               other_host_ed25519[.pub]   a second host key the server never uses (for "changed key" tests)
#               id_ed25519[.pub]           a client key pair, no passphrase
#               authorized_keys            id_ed25519.pub
#             and on every start:
#               sshd_config      ListenAddress 127.0.0.1, two free high ports, public keys only, no PAM,
#                                StrictModes no, AllowUsers the current user,
#                                Subsystem sftp internal-sftp -d DIR/home (SFTP paths without a
#                                leading slash resolve under DIR/home, not the user's real home);
#                                on PORT that SFTP server, on DENIED_PORT one that refuses every
#                                OPEN with SSH_FX_PERMISSION_DENIED (internal-sftp -P open), as
#                                root cannot be denied a file by its mode
#               ssh_config       Host psitest: HostName 127.0.0.1, that Port, User the current user,
#                                IdentityFile DIR/id_ed25519, IdentitiesOnly yes,
#                                UserKnownHostsFile DIR/known_hosts, GlobalKnownHostsFile /dev/null
#               known_hosts      [127.0.0.1]:PORT and :DENIED_PORT with host_ed25519.pub (the right key)
#               known_hosts.other  the same with other_host_ed25519.pub (a changed key)
#               home/            the SFTP start directory
#               sshd.log         sshd's log (-E)
#             then runs /usr/sbin/sshd -D -f DIR/sshd_config in the background, as the current user
#             (as root it creates the privilege separation directory /run/sshd if missing).
#             Prints one shell-sourceable line:
#               PORT=... DENIED_PORT=... PID=... USER=...
# stop DIR    stops the sshd that "start DIR" started (TERM to its PID only, KILL after 10 s);
#             nothing to do when it is not running. Established sessions end with it.
# Errors go to stderr with a non-zero exit.
set -euo pipefail
name=sshd
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"

SSHD=${SSHD:-/usr/sbin/sshd}

make_keys() {
	[ -f "$dir/host_ed25519" ] && [ -f "$dir/other_host_ed25519" ] && [ -f "$dir/id_ed25519" ] && return 0
	command -v ssh-keygen >/dev/null || die "ssh-keygen is not installed"
	rm -f "$dir"/host_ed25519* "$dir"/other_host_ed25519* "$dir"/id_ed25519*
	ssh-keygen -q -t ed25519 -N '' -C "psi test host" -f "$dir/host_ed25519" ||
		die "ssh-keygen could not make $dir/host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C "psi test other host" -f "$dir/other_host_ed25519" ||
		die "ssh-keygen could not make $dir/other_host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C "psi test client" -f "$dir/id_ed25519" ||
		die "ssh-keygen could not make $dir/id_ed25519"
	cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
	chmod 600 "$dir/authorized_keys"
}

# N distinct ports that nothing listens on now (sshd may still lose a race: start retries)
write_conf() {
	local root_line=""
	[ "$(id -u)" = 0 ] && root_line="PermitRootLogin prohibit-password"
	cat >"$dir/sshd_config" <<EOF
# written by itest/servers/sshd.sh; rewritten on every start
ListenAddress 127.0.0.1
Port $port
Port $denied_port
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes no
$root_line
AllowUsers $user
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
MaxStartups 64
LogLevel INFO
Subsystem sftp internal-sftp -d $dir/home
Match LocalPort $denied_port
	ForceCommand internal-sftp -d $dir/home -P open
EOF
	cat >"$dir/ssh_config" <<EOF
# written by itest/servers/sshd.sh; rewritten on every start
Host psitest
	HostName 127.0.0.1
	Port $port
	User $user
	IdentityFile $dir/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $dir/known_hosts
	GlobalKnownHostsFile /dev/null
EOF
	echo "[127.0.0.1]:$port,[127.0.0.1]:$denied_port $(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >"$dir/known_hosts"
	echo "[127.0.0.1]:$port,[127.0.0.1]:$denied_port $(cut -d' ' -f1,2 "$dir/other_host_ed25519.pub")" >"$dir/known_hosts.other"
}

start() {
	[ -x "$SSHD" ] || die "sshd is not installed ($SSHD)"
	command -v ss >/dev/null || die "ss (iproute2) is not installed"
	local pid
	pid=$(running_pid)
	[ -z "$pid" ] || die "an sshd for $dir is already running (PID $pid); stop it first"
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
		# sshd chroots its unprivileged child there when it runs as root
		mkdir -p -m 0755 /run/sshd || die "cannot create /run/sshd"
	fi
	mkdir -p "$dir/home"
	make_keys
	local attempt child
	for attempt in 1 2 3 4 5; do
		read -r port denied_port <<<"$(free_ports 2)"
		write_conf
		rm -f "$dir/sshd.pid"
		: >"$dir/sshd.log"
		"$SSHD" -t -f "$dir/sshd_config" 2>"$dir/sshd.log" || die "sshd rejects $dir/sshd_config: $(head -1 "$dir/sshd.log")"
		# -D: stays in the foreground of this background job, so a failure to bind is seen
		# as its exit; it writes the PID file once it listens
		"$SSHD" -D -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 &
		child=$!
		for _ in $(seq 100); do
			pid=$(running_pid)
			[ -n "$pid" ] && break
			kill -0 "$child" 2>/dev/null || break
			sleep 0.05
		done
		if [ -n "$pid" ]; then
			# sshd keeps running when it could bind one of the two ports only
			grep -q "Address already in use" "$dir/sshd.log" || break
			kill -TERM "$pid" 2>/dev/null || true
			wait "$child" 2>/dev/null || true
			[ "$attempt" -lt 5 ] || die "sshd did not start: no two free ports after 5 attempts"
			continue
		fi
		if kill -0 "$child" 2>/dev/null; then
			kill -KILL "$child" 2>/dev/null || true
			die "sshd started but wrote no PID to $dir/sshd.pid within 5 s: $(tail -1 "$dir/sshd.log")"
		fi
		grep -q "Address already in use" "$dir/sshd.log" ||
			die "sshd did not start: $(grep -v '^$' "$dir/sshd.log" | tail -1)"
		[ "$attempt" -lt 5 ] || die "sshd did not start: no two free ports after 5 attempts"
	done
	echo "PORT=$port DENIED_PORT=$denied_port PID=$pid USER=$user"
}

[ $# -eq 2 ] || die "usage: sshd.sh start|stop DIR"
if [ "$1" = stop ] && [ ! -d "$2" ]; then
	exit 0
fi
mkdir -p "$2" || die "cannot create $2"
dir=$(cd "$2" && pwd -P)
user=$(id -un)
pidfile=$dir/sshd.pid
marker=$dir/sshd_config
case $1 in
start) start ;;
stop) stop_server ;;
*) die "usage: sshd.sh start|stop DIR" ;;
esac
