#!/bin/bash
# hosts.sh start DIR N | stop DIR - N test "hosts" for psi -H: network namespaces on this
# machine, each with its own address, its own real OpenSSH sshd and its own psi root.
#
# start DIR N  (as root) makes, for K in 1..N:
#                a network namespace psi-TAG-hK and a veth pair: 10.A.K.1/24 on this side
#                (psvTAGK), 10.A.K.2/24 inside (A and TAG random, kept in DIR/hosts.env);
#                DIR/hK/host_ed25519[.pub]  the host key of its sshd
#                DIR/hK/sshd_config        ListenAddress 10.A.K.2:22, root by key only, no PAM,
#                                          SetEnv PSI_HOST_ROOT=DIR/hK/root
#                DIR/hK/root/              its psi root (what "psi" on that host works on)
#                and starts that sshd inside the namespace (ip netns exec), logging to DIR/hK/sshd.log.
#              and once:
#                DIR/id_ed25519[.pub]      the client key (authorized for root on every host)
#                DIR/other_ed25519[.pub]   a host key no host uses (the "changed key" case)
#                DIR/known_hosts           each host's address with its key
#                DIR/ssh_config            Host hK (HostName 10.A.K.2, User root, that key,
#                                          UserKnownHostsFile DIR/known_hosts, BatchMode yes);
#                                          Host hK-stranger: the same with an empty known_hosts;
#                                          Host hK-changed: the same with the other key known for it;
#                                          Host hK-nokey: the right known_hosts, a client key root there does not take
#                DIR/bin/psi               the remote psi: PSI (the psi launcher) with --root $PSI_HOST_ROOT
#              Prints one shell-sourceable line: NET=10.A HOSTS="h1 h2 ..."
# stop DIR     stops every process in the namespaces (the sshds, the psi daemons and the
#              services they started: TERM, then KILL after 10 s), deletes the namespaces
#              (and with them the veth pairs). Nothing to do when DIR holds no hosts.env.
#
# PSI: the psi launcher for DIR/bin/psi (default: distribution/psi of this tree).
set -euo pipefail
name=hosts
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"

here=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
PSI=${PSI:-$here/distribution/psi}

start() {
	local n=$1
	[ "$(id -u)" = 0 ] || die "network namespaces need root"
	command -v ip >/dev/null || die "ip (iproute2) is not installed"
	[ -x /usr/sbin/sshd ] || die "sshd is not installed"
	[ ! -f "$dir/hosts.env" ] || die "$dir has hosts already; stop them first"
	[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
	local tag net
	tag=$(printf '%04x' $((RANDOM % 65536)))
	net=10.$((100 + RANDOM % 100))
	echo "TAG=$tag NET=$net N=$n" >"$dir/hosts.env"
	ssh-keygen -q -t ed25519 -N '' -C "psi test client" -f "$dir/id_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C "psi test other host" -f "$dir/other_ed25519"
	: >"$dir/known_hosts"
	: >"$dir/known_hosts.empty"
	: >"$dir/known_hosts.changed"
	: >"$dir/ssh_config"
	mkdir -p "$dir/bin"
	cat >"$dir/bin/psi" <<EOF
#!/bin/sh
# the psi of a test host: its own root
exec $PSI --root "\$PSI_HOST_ROOT" "\$@"
EOF
	chmod 0755 "$dir/bin/psi"
	cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
	chmod 0600 "$dir/authorized_keys"
	local hosts="" k
	for k in $(seq "$n"); do
		local ns=psi-$tag-h$k veth=psv$tag$k addr=$net.$k.2 h=$dir/h$k
		mkdir -p "$h/root/var/lib/portables" "$h/root/etc" "$h/root/run"
		ip netns add "$ns"
		ip link add "$veth" type veth peer name "${veth}i"
		ip link set "${veth}i" netns "$ns"
		ip addr add "$net.$k.1/24" dev "$veth"
		ip link set "$veth" up
		ip netns exec "$ns" ip addr add "$addr/24" dev "${veth}i"
		ip netns exec "$ns" ip link set "${veth}i" up
		ip netns exec "$ns" ip link set lo up
		ssh-keygen -q -t ed25519 -N '' -C "psi test host h$k" -f "$h/host_ed25519"
		cat >"$h/sshd_config" <<EOF
# written by itest/servers/hosts.sh
ListenAddress $addr
Port 22
HostKey $h/host_ed25519
PidFile $h/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers root
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
MaxStartups 64
Subsystem sftp internal-sftp
SetEnv PSI_HOST_ROOT=$h/root
EOF
		/usr/sbin/sshd -t -f "$h/sshd_config" 2>"$h/sshd.log" || die "sshd rejects $h/sshd_config: $(head -1 "$h/sshd.log")"
		# nsenter, not ip netns exec: that one also mounts a sysfs of the namespace's own, without
		# /sys/fs/cgroup, where psi's own service manager finds no cgroup to track services in
		nsenter --net=/run/netns/"$ns" /usr/sbin/sshd -f "$h/sshd_config" -E "$h/sshd.log"
		for _ in $(seq 100); do
			[ -s "$h/sshd.pid" ] && break
			sleep 0.05
		done
		[ -s "$h/sshd.pid" ] || die "the sshd of h$k did not start: $(tail -1 "$h/sshd.log")"
		echo "$addr $(cut -d' ' -f1,2 "$h/host_ed25519.pub")" >>"$dir/known_hosts"
		echo "$addr $(cut -d' ' -f1,2 "$dir/other_ed25519.pub")" >>"$dir/known_hosts.changed"
		local kind file key
		for kind in "" -stranger -changed -nokey; do
			key=$dir/id_ed25519
			case $kind in
			'') file=$dir/known_hosts ;;
			-stranger) file=$dir/known_hosts.empty ;;
			-changed) file=$dir/known_hosts.changed ;;
			-nokey) file=$dir/known_hosts key=$dir/other_ed25519 ;;
			esac
			cat >>"$dir/ssh_config" <<EOF
Host h$k$kind
	HostName $addr
	User root
	IdentityFile $key
	IdentitiesOnly yes
	UserKnownHostsFile $file
	GlobalKnownHostsFile /dev/null
	BatchMode yes
	ConnectTimeout 10
EOF
		done
		hosts="$hosts h$k"
	done
	echo "NET=$net HOSTS=\"${hosts# }\""
}

stop() {
	[ -f "$dir/hosts.env" ] || return 0
	local TAG NET N
	eval "$(cat "$dir/hosts.env")"
	local k ns pids
	for k in $(seq "$N"); do
		ns=psi-$TAG-h$k
		ip netns list | grep -qw "$ns" || continue
		pids=$(ip netns pids "$ns" || true)
		[ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
		for _ in $(seq 100); do
			pids=$(ip netns pids "$ns" || true)
			[ -z "$pids" ] && break
			sleep 0.1
		done
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		ip netns del "$ns" || true
		ip link del "psv$TAG$k" 2>/dev/null || true
	done
	rm -f "$dir/hosts.env"
}

[ $# -ge 2 ] || die "usage: hosts.sh start DIR N | stop DIR"
mkdir -p "$2" || die "cannot create $2"
dir=$(cd "$2" && pwd -P)
case $1 in
start)
	[ $# -eq 3 ] && [[ $3 =~ ^[1-9]$ ]] || die "usage: hosts.sh start DIR N (1 to 9 hosts)"
	start "$3"
	;;
stop) stop ;;
*) die "usage: hosts.sh start DIR N | stop DIR" ;;
esac
