#!/bin/bash
# start-to-answer.sh [N [SECONDS]] - psi's own service manager, measured:
#   1. the time from `psi start hello` to the service answering on
#      127.0.0.1:8080 (the example image of distribution/example.sh, a busybox
#      httpd in a squashfs, default profile), through a psi daemon: N cycles of
#      start, poll with curl until it answers, stop; median. On this host with
#      psi's own manager (bubblewrap sandbox), and in the throwaway systemd box
#      with systemd running the same attached unit (psi start through a psi
#      daemon in the box, systemd's own sandbox); the ratio.
#   2. supervision cost: 20 idle services (busybox sleep, default profile) under
#      psi's own manager for SECONDS (60): the daemon's CPU time in that while,
#      and its RSS, beside its RSS with none.
# Needs root, bubblewrap, systemd-container, busybox-static, squashfs-tools,
# curl, and a built distribution (mvn -B install -DskipTests).
set -euo pipefail
N=${1:-20}
SECS=${2:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
psi=$top/distribution/psi
box=$top/itest/box/testbox.sh
. "$(dirname "$(readlink -f "$0")")/bench-lib.sh"
work=$(mktemp -d /var/tmp/psi-start-bench.XXXXXX)
state=$(mktemp -d /var/tmp/psi-start-box.XXXXXX)
daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && while kill -0 "$daemon_pid" 2>/dev/null; do sleep 0.1; done
	"$box" clean "$state" >/dev/null 2>&1 || true
	rm -rf --one-file-system "$work" "$state"
}
trap cleanup EXIT
fail() { echo "start-to-answer: $*" >&2; exit 1; }
[ -f "$top/distribution/target/psi.jar" ] || fail "build psi first (mvn -B install -DskipTests)"

# the example image, attached under a scratch root (example.sh stops its daemon at its end)
"$top/distribution/example.sh" "$work/root" > "$work/example.log" 2>&1 || { tail -5 "$work/example.log"; fail "example.sh failed"; }
root=$work/root
start_daemon() { # $1 root
	"$psi" daemon --background --root "$1" 2>/dev/null
	daemon_pid=$(sed -n 's/.*listening on .*(pid \([0-9]*\)).*/\1/p' "$1/var/log/psi/psi.log" | tail -n 1)
}
# one cycle: ns from psi start to the first answer; $@ runs a command (here or in the box)
cycle() {
	local t0 t1
	t0=$(now)
	"$@" "$psi_cmd" start $root_arg hello > "$work/start.out" 2>&1 || { cat "$work/start.out" >&2; fail "psi start failed"; }
	until "$@" curl -fs -o /dev/null --max-time 1 http://127.0.0.1:8080/; do :; done
	t1=$(now)
	"$@" "$psi_cmd" stop $root_arg hello > "$work/stop.out" 2>&1 || { cat "$work/stop.out" >&2; fail "psi stop failed"; }
	# both managers refuse a sixth start within 10 s (StartLimitBurst=5, StartLimitIntervalSec=10s)
	sleep 2.1
	echo $((t1 - t0))
}

# 1a. here, psi's own manager
start_daemon "$root"
psi_cmd=$psi root_arg="--root $root"
cycle env > /dev/null
embedded=$(for ((i = 0; i < N; i++)); do cycle env; done | median)

# 1b. the throwaway systemd box: the same image attached at its /, systemd runs it
pid=$("$box" start "$state")
R=/proc/$pid/root
mkdir -p "$R/opt/psi" "$R/var/lib/portables"
cp "$top/distribution/psi" "$top/distribution/target/psi.jar" "$top/distribution/target/psi-client" "$R/opt/psi/"
cp "$root/var/lib/portables/hello_1.raw" "$R/var/lib/portables/"
inbox() { "$box" exec "$state" "$@"; }
inbox /opt/psi/psi daemon --background > /dev/null 2>&1 || fail "no psi daemon in the box"
inbox /opt/psi/psi attach hello > /dev/null 2>&1 || fail "psi attach in the box failed"
inbox sh -c 'command -v curl' > /dev/null || fail "no curl in the box"
psi_cmd=/opt/psi/psi root_arg=
cycle inbox > /dev/null
systemd=$(for ((i = 0; i < N; i++)); do cycle inbox; done | median)
"$box" clean "$state" > /dev/null 2>&1 || true

echo "psi start to the first answer, median of $N (psi daemon, thin client, curl polling):"
printf '  psi own manager (bubblewrap), here   %8.1f ms\n' "$(awk -v n="$embedded" 'BEGIN {print n / 1e6}')"
printf '  systemd 252 in the box               %8.1f ms\n' "$(awk -v n="$systemd" 'BEGIN {print n / 1e6}')"
echo "  ratio embedded / systemd:            $(ratio "$embedded" "$systemd")"

# 2. 20 idle services for SECS seconds
idle=$root/var/lib/portables/idle_1
mkdir -p "$idle/usr/bin" "$idle/usr/lib/systemd/system" "$idle/etc" "$idle/proc" "$idle/sys" "$idle/dev" "$idle/run" "$idle/tmp" "$idle/var/tmp"
cp /bin/busybox "$idle/usr/bin/"
: > "$idle/etc/machine-id"; : > "$idle/etc/resolv.conf"
echo 'ID=idle' > "$idle/usr/lib/os-release"
for i in $(seq 1 20); do
	printf '[Service]\nExecStart=/usr/bin/busybox sleep 100000\n' > "$idle/usr/lib/systemd/system/idle-$i.service"
done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }
cpu() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }
rss0=$(rss)
"$psi" start --root "$root" idle_1 > /dev/null 2>&1 || fail "starting 20 services failed"
sleep 2
c0=$(cpu); sleep "$SECS"; c1=$(cpu)
rss1=$(rss)
running=$("$psi" status --root "$root" idle_1 | grep -c 'active (running)' || true)
"$psi" stop --root "$root" idle_1 > /dev/null 2>&1 || true
hz=$(getconf CLK_TCK)
echo "20 idle services under psi's own manager for $SECS s ($running running):"
echo "  daemon CPU time: $(awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.2f", t * 1000 / hz}') ms ($(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$SECS" 'BEGIN {printf "%.4f", t / hz / s * 100}') % of one core)"
echo "  daemon RSS: $((rss0 / 1024)) MB with none, $((rss1 / 1024)) MB with 20"
