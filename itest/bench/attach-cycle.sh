#!/bin/bash
# attach-cycle.sh [N] - psi vs portablectl, side by side in one throwaway box:
#   1. an attach+detach cycle of the same directory image inside a running psi
#      (N cycles fed to one psi shell; (T(N) - T(0)) / N, so JVM start is not counted)
#   2. the same cycle with portablectl through a warm portabled (N cycles / N),
#      with --no-reload (psi's issue-2 engine reloads nothing) and with the reload
#   3. the cold `psi list`: JVM start to exit, median of 10
# Prints the figures and the ratios. Needs root, systemd-container, busybox-static,
# and a built distribution (mvn -B install -DskipTests).
set -euo pipefail
N=${1:-100}
top=$(cd "$(dirname "$0")/../.." && pwd)
box=$top/itest/box/testbox.sh
state=$(mktemp -d /var/tmp/psi-bench.XXXXXX)
images=$(mktemp -d /var/tmp/psi-bench-img.XXXXXX)
trap '"$box" clean "$state" >/dev/null 2>&1 || true; rm -rf "$state" "$images"' EXIT

[ -f "$top/distribution/target/psi.jar" ] || { echo "attach-cycle: build psi first (mvn -B install -DskipTests)" >&2; exit 1; }
"$top/itest/box/make-images.sh" "$images" >/dev/null
pid=$("$box" start "$state")
R=/proc/$pid/root
mkdir -p "$R/var/lib/portables" "$R/opt/psi/etc"
cp -a "$images/single" "$R/var/lib/portables/"
cp "$top/distribution/psi" "$top/distribution/target/psi.jar" "$R/opt/psi/"
: > "$R/opt/psi/etc/gosh_profile"
inbox() { "$box" exec "$state" "$@"; }
now() { date +%s%N; }
# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cycles() { # psi shell input of n attach+detach cycles
	for ((i = 0; i < $1; i++)); do printf 'psi:attach single\npsi:detach single\n'; done
}
psi_run() { # seconds (ns) for one psi shell running n cycles
	local n=$1 t0 t1
	cycles "$n" > "$R/opt/psi/cycles.gosh"
	t0=$(now); inbox sh -c '/opt/psi/psi < /opt/psi/cycles.gosh > /opt/psi/cycles.out 2>&1 || true'; t1=$(now)
	# a cycle that failed would be fast and prove nothing: every one must have detached
	local done
	done=$(grep -c '^Removed /etc/portables/single\.' "$R/opt/psi/cycles.out" || true)
	[ "$done" -eq "$n" ] || { echo "attach-cycle: psi completed $done of $n cycles:" >&2; head -5 "$R/opt/psi/cycles.out" >&2; exit 1; }
	echo $((t1 - t0))
}
# warm up the JVM's file cache and the box
psi_run 5 > /dev/null
base=$( (for k in 1 2 3; do psi_run 0; done) | median)
full=$( (for k in 1 2 3; do psi_run "$N"; done) | median)
inbox test ! -e /etc/systemd/system.attached/single.service || { echo "attach-cycle: psi left units behind" >&2; exit 1; }
psi_cycle=$(( (full - base) / N ))

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

list_cold=$( (for k in $(seq 10); do t0=$(now); inbox /opt/psi/psi list >/dev/null; t1=$(now); echo $((t1 - t0)); done) | median)

ms() { awk -v ns="$1" 'BEGIN {printf "%.2f ms", ns / 1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "attach+detach cycle of directory image 'single', $N cycles each, in the systemd box:"
echo "  psi (inside one running psi)            $(ms "$psi_cycle")"
echo "  portablectl --no-reload (warm portabled) $(ms "$pctl_noreload")   psi/portablectl = $(ratio "$psi_cycle" "$pctl_noreload")"
echo "  portablectl with reload (warm portabled) $(ms "$pctl_reload")   psi/portablectl = $(ratio "$psi_cycle" "$pctl_reload")"
echo "cold 'psi list' (JVM start to exit, median of 10): $(ms "$list_cold")"
