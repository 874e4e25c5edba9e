#!/bin/bash
# portablectl-compare.sh [N] - psi vs portablectl, side by side in one throwaway box:
#   1. an attach+detach cycle of the same directory image inside a running psi
#      (N cycles fed to one psi shell; (T(N) - T(0)) / N, so JVM start is not counted)
#   2. the same cycle with portablectl through a warm portabled (N cycles / N),
#      with --no-reload (psi's engine reloads nothing yet) and with the reload
#   3. `inspect` of a raw GPT image (squashfs root + verity + signature): inside a
#      running psi, and cold (JVM start to exit), vs portablectl through a warm
#      portabled (which loop-mounts the image)
#   4. the cold `psi list`: JVM start to exit, median of 10
#   5. `psi list` and `psi inspect` of the GPT image through a resident psi
#      daemon (the thin client), vs `portablectl list` / `inspect` through a
#      warm portabled: N runs each, whole commands, in the box
# Prints the figures and the ratios. Needs root, systemd-container, busybox-static,
# and a built distribution (mvn -B install -DskipTests).
set -euo pipefail
N=${1:-100}
top=$(cd "$(dirname "$0")/../.." && pwd)
box=$top/itest/box/testbox.sh
state=$(mktemp -d /var/tmp/psi-bench.XXXXXX)
images=$(mktemp -d /var/tmp/psi-bench-img.XXXXXX)
trap '"$box" clean "$state" >/dev/null 2>&1 || true; rm -rf "$state" "$images"' EXIT
fail() { echo "portablectl-compare: $*" >&2; exit 1; }

[ -f "$top/distribution/target/psi.jar" ] || fail "build psi first (mvn -B install -DskipTests)"
"$top/itest/box/make-images.sh" "$images" >/dev/null
"$top/itest/box/make-raw-images.sh" "$images/raw" >/dev/null
pid=$("$box" start "$state")
R=/proc/$pid/root
mkdir -p "$R/var/lib/portables" "$R/opt/psi/etc"
cp -a "$images/single" "$images/raw/verity.raw" "$R/var/lib/portables/"
cp "$top/distribution/psi" "$top/distribution/target/psi.jar" "$top/distribution/target/psi-client" "$R/opt/psi/"
: > "$R/opt/psi/etc/gosh_profile"
inbox() { "$box" exec "$state" "$@"; }
. "$(dirname "$(readlink -f "$0")")/bench-lib.sh"

# psi_run N LINES PROOF: ns for one psi shell running N times the shell LINES;
# the output must hold PROOF N times (a failed command would be fast and prove nothing)
psi_run() {
	local n=$1 lines=$2 proof=$3 t0 t1 done
	for ((i = 0; i < n; i++)); do printf '%b' "$lines"; done > "$R/opt/psi/run.gosh"
	t0=$(now); inbox sh -c '/opt/psi/psi < /opt/psi/run.gosh > /opt/psi/run.out 2>&1 || true'; t1=$(now)
	done=$(grep -c -- "$proof" "$R/opt/psi/run.out" || true)
	[ "$done" -eq "$n" ] || { head -5 "$R/opt/psi/run.out" >&2; fail "psi completed $done of $n runs"; }
	echo $((t1 - t0))
}
# warm per-operation time inside one running psi: (T(N) - T(0)) / N, medians of 3
psi_warm() {
	local base full
	psi_run 5 "$1" "$2" > /dev/null
	base=$( (for k in 1 2 3; do psi_run 0 "$1" "$2"; done) | median)
	full=$( (for k in 1 2 3; do psi_run "$N" "$1" "$2"; done) | median)
	echo $(( (full - base) / N ))
}
psi_cycle=$(psi_warm 'psi:attach single\npsi:detach single\n' '^Removed /etc/portables/single\.')
inbox test ! -e /etc/systemd/system.attached/single.service || fail "psi left units behind"
psi_inspect=$(psi_warm 'psi:inspect verity\n' 'hash tree not checked')
psi_inspect_verify=$(psi_warm 'psi:inspect --verify verity\n' 'hash tree verified')

pctl_run() { # ns for n portablectl cycles, extra flags in $2
	local n=$1 flags=$2 t0 t1
	t0=$(now)
	inbox sh -c "for i in \$(seq $n); do portablectl attach $flags single >/dev/null 2>&1 && portablectl detach $flags single >/dev/null 2>&1 || exit 1; done"
	t1=$(now)
	echo $((t1 - t0))
}
pctl_run 3 "" > /dev/null   # start portabled (D-Bus activation) and warm it
pctl_noreload=$(( $(pctl_run "$N" "--no-reload") / N ))
pctl_reload=$(( $(pctl_run "$N" "") / N ))
inbox portablectl inspect verity >/dev/null 2>&1 || fail "portablectl inspect verity failed"
t0=$(now); inbox sh -c "for i in \$(seq $N); do portablectl inspect verity >/dev/null 2>&1 || exit 1; done"; t1=$(now)
pctl_inspect=$(( (t1 - t0) / N ))
inspect_cold=$( (for k in $(seq 10); do t0=$(now); inbox /opt/psi/psi inspect verity >/dev/null 2>&1; t1=$(now); echo $((t1 - t0)); done) | median)

list_cold=$( (for k in $(seq 10); do t0=$(now); inbox /opt/psi/psi list >/dev/null; t1=$(now); echo $((t1 - t0)); done) | median)

# 5. through the daemon (psi daemon --background: detached, logging to /var/log/psi/psi.log)
inbox /opt/psi/psi daemon --background >/dev/null 2>&1 || fail "psi daemon --background did not start"
loop() { # ns for N runs of the command line $1 in the box, each must succeed
	local t0 t1
	t0=$(now); inbox sh -c "for i in \$(seq $N); do $1 >/dev/null 2>&1 || exit 1; done" || fail "$1 failed"; t1=$(now)
	echo $(( (t1 - t0) / N ))
}
loop "/opt/psi/psi list" >/dev/null; loop "/opt/psi/psi inspect verity" >/dev/null   # warm the daemon
before=$(inbox grep -c -- ' -> 0 ' /var/log/psi/psi.log)
daemon_list=$( (for k in 1 2 3; do loop "/opt/psi/psi list"; done) | median)
daemon_inspect=$( (for k in 1 2 3; do loop "/opt/psi/psi inspect verity"; done) | median)
served=$(( $(inbox grep -c -- ' -> 0 ' /var/log/psi/psi.log) - before ))
[ "$served" -eq $((6 * N)) ] || fail "the daemon served $served of $((6 * N)) commands: some ran in-process"
pctl_list=$( (for k in 1 2 3; do loop "portablectl list"; done) | median)
pctl_inspect2=$( (for k in 1 2 3; do loop "portablectl inspect verity"; done) | median)
rss=$(inbox sh -c 'awk "/^VmRSS/ {printf \"%.1f\", \$2 / 1024}" /proc/$(pgrep -f "java.*psi.jar daemon" | head -1)/status')

ms() { awk -v ns="$1" 'BEGIN {printf "%.2f ms", ns / 1e6}'; }
echo "attach+detach cycle of directory image 'single', $N cycles each, in the systemd box:"
echo "  psi (inside one running psi)            $(ms "$psi_cycle")"
echo "  portablectl --no-reload (warm portabled) $(ms "$pctl_noreload")   psi/portablectl = $(ratio "$psi_cycle" "$pctl_noreload")"
echo "  portablectl with reload (warm portabled) $(ms "$pctl_reload")   psi/portablectl = $(ratio "$psi_cycle" "$pctl_reload")"
echo "inspect of raw GPT image 'verity' (squashfs + verity + signature, 21 MB), $N runs each:"
echo "  psi (inside one running psi)                   $(ms "$psi_inspect")"
echo "  psi --verify (the whole hash tree checked too)  $(ms "$psi_inspect_verify")"
echo "  psi cold (JVM start to exit, median of 10)      $(ms "$inspect_cold")"
echo "  portablectl (warm portabled, loop-mounts)       $(ms "$pctl_inspect")"
echo "  psi/portablectl = $(ratio "$psi_inspect" "$pctl_inspect") warm, $(ratio "$psi_inspect_verify" "$pctl_inspect") warm with --verify, $(ratio "$inspect_cold" "$pctl_inspect") cold"
echo "cold 'psi list' (JVM start to exit, median of 10): $(ms "$list_cold")"
echo "through the daemon (thin client to a resident psi) vs portablectl (warm portabled), whole commands, $N runs, median of 3:"
echo "  psi list $(ms "$daemon_list")   portablectl list $(ms "$pctl_list")   psi/portablectl = $(ratio "$daemon_list" "$pctl_list")"
echo "  psi inspect verity $(ms "$daemon_inspect")   portablectl inspect verity $(ms "$pctl_inspect2")   psi/portablectl = $(ratio "$daemon_inspect" "$pctl_inspect2")"
echo "  the daemon's resident memory after these $((8 * N + 10)) commands: $rss MB"
