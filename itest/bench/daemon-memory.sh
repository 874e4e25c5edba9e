#!/bin/bash
# daemon-memory.sh [COMMANDS [JOBS]] - the psi daemon's resident memory (VmRSS
# of /proc/PID/status, in MB): idle after its start; idle after a warm-up of
# 1000 commands (the JIT has compiled what commands run); idle after COMMANDS
# (10000) more; each "idle" 10 s after the last command. Commands go through
# the client, JOBS (4) at a time: list, inspect, is-attached, status of
# directory images, and an attach and detach every 50th. The growth over the
# COMMANDS is the figure that tells a leak.
# Needs root and a built psi (mvn -B install -DskipTests).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/bench-lib.sh"
psi=$(readlink -f "$here/../../distribution/psi")
count=${1:-10000}
jobs=${2:-4}
work=$(mktemp -d /var/tmp/psi-daemon-memory.XXXXXX)
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
root=$work/root
for i in 1 2 3; do
	d=$root/var/lib/portables/app${i}_1
	mkdir -p "$d/usr/lib/systemd/system" "$d/etc"
	printf 'ID=test\nVERSION_ID=1\n' >"$d/usr/lib/os-release"
	printf '[Service]\nExecStart=/bin/true\n' >"$d/usr/lib/systemd/system/app$i.service"
done
"$psi" daemon --root "$root" 2>"$work/daemon.log" &
pid=$!
until grep -q "listening on" "$work/daemon.log" 2>/dev/null; do sleep 0.1; done
rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
load() {
	seq "$1" | xargs -P "$jobs" -I{} sh -c '
	n={}; i=$((n % 3 + 1))
	case $((n % 50)) in
		0) "$1" --root "$2" attach "app${i}_1" >/dev/null 2>&1 && "$1" --root "$2" detach "app${i}_1" >/dev/null 2>&1 ;;
		*) case $((n % 4)) in
			0) "$1" --root "$2" list >/dev/null ;;
			1) "$1" --root "$2" inspect "app${i}_1" >/dev/null 2>&1 ;;
			2) "$1" --root "$2" is-attached "app${i}_1" >/dev/null ;;
			3) "$1" --root "$2" status "app${i}_1" >/dev/null ;;
		esac ;;
	esac; true' _ "$psi" "$root"
}
"$psi" --root "$root" list >/dev/null
sleep 10
start=$(rss)
echo "idle after start:                 RSS $start MB"
load 1000
sleep 10
warm=$(rss)
echo "idle after 1000 commands:         RSS $warm MB"
load "$count"
sleep 10
end=$(rss)
echo "idle after $count more commands:  RSS $end MB (growth over them: $(awk -v a="$end" -v b="$warm" 'BEGIN {printf "%+.1f", a - b}') MB)"
echo "commands the daemon ran: $(grep -c -- ' -> ' "$work/daemon.log"), of which in-process: none (each logged by the daemon)"
