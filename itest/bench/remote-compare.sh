#!/bin/bash
# remote-compare.sh [N [MB]] - psi -H against plain OpenSSH, on a test host made as a network
# namespace with its own sshd and psi root (itest/servers/hosts.sh): the median of N runs (5) of
#   a command:  ssh HOST psi list          against  psi -H HOST list
#   a copy:     scp IMAGE HOST:, ssh HOST psi pull file://..., ssh HOST psi verify POOL-IMAGE   against
#               psi -H HOST verify ./IMAGE (the same: copy, check by SHA-256, pull into the pool,
#               verify), for an image of MB MiB (64)
# and prints the ratios. Needs root, a built distribution, and the packages of the README.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
. "$here/itest/bench/bench-lib.sh"
n=${1:-5}
mb=${2:-64}
psi=$here/distribution/psi
work=$(mktemp -d /var/tmp/psi-bench-remote.XXXXXX)
trap 'bash "$here/itest/servers/hosts.sh" stop "$work/hosts" >/dev/null 2>&1 || true; rm -rf "$work" /var/tmp/psi-incoming-0' EXIT
bash "$here/itest/servers/hosts.sh" start "$work/hosts" 1 >/dev/null
mkdir -p "$work/etc"
printf 'configFile=%s\ncommand=%s\n' "$work/hosts/ssh_config" "$work/hosts/bin/psi" >"$work/etc/psi.remote.cfg"
export PSI_CONFIG_DIR=$work/etc
ssh=(ssh -F "$work/hosts/ssh_config")
pool=$work/hosts/h1/root/var/lib/portables

# an image of MB MiB: a squashfs of random data (incompressible, as a real image's compressed blocks)
mkdir -p "$work/tree/usr/lib" "$work/local"
printf 'ID=bench\n' >"$work/tree/usr/lib/os-release"
head -c $((mb << 20)) /dev/urandom >"$work/tree/usr/lib/blob"
mksquashfs "$work/tree" "$work/local/bench_1.psi" -noappend -quiet -no-progress -comp lz4 >/dev/null
cd "$work/local"

time_ms() {
	local t0 t1
	t0=$(now)
	"$@" >"$work/out" 2>&1 || { echo "remote-compare.sh: failed: $*" >&2; cat "$work/out" >&2; exit 1; }
	t1=$(now)
	echo $(((t1 - t0) / 1000000))
}

list_ssh=() list_psi=() copy_scp=() copy_psi=()
for _ in $(seq "$n"); do
	list_ssh+=("$(time_ms "${ssh[@]}" h1 "$work/hosts/bin/psi" list)")
	list_psi+=("$(time_ms "$psi" -H h1 list)")
	rm -f "$pool"/bench_1.raw; rm -rf /var/tmp/psi-incoming-0
	copy_scp+=("$(time_ms sh -c "scp -q -F '$work/hosts/ssh_config' bench_1.psi h1:/var/tmp/bench_1.psi && ${ssh[*]} h1 '$work/hosts/bin/psi pull file:///var/tmp/bench_1.psi && rm /var/tmp/bench_1.psi' && ${ssh[*]} h1 '$work/hosts/bin/psi verify /var/lib/portables/bench_1.raw'")")
	rm -f "$pool"/bench_1.raw; rm -rf /var/tmp/psi-incoming-0
	copy_psi+=("$(time_ms "$psi" -H h1 verify ./bench_1.psi)")
done
m() { printf '%s\n' "$@" | median; }
a=$(m "${list_ssh[@]}") b=$(m "${list_psi[@]}") c=$(m "${copy_scp[@]}") d=$(m "${copy_psi[@]}")
echo "remote command (median of $n):  ssh h1 psi list ${a} ms   psi -H h1 list ${b} ms   ratio $(ratio "$b" "$a")"
echo "copy of ${mb} MiB, pull, verify: scp + ssh psi pull + ssh psi verify ${c} ms   psi -H h1 verify ./image ${d} ms   ratio $(ratio "$d" "$c")"
