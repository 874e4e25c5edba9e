#!/bin/bash
# tar-compare.sh [N [MB]] - the example tar format (plugins/format-tar) against GNU tar, through a
# psi daemon serving a scratch root with the plugin in its plugin folder; the median of N runs (5) of
#   listing:    tar --zstd -tvf IMAGE.tar.zst       against  psi inspect IMAGE.tar.zst
#   unpacking:  tar --zstd -xf IMAGE.tar.zst -C DIR  against  psi attach IMAGE.tar.zst (unpack into the
#               pool, then attach) and psi detach + psi remove
# for an image tree of MB MiB (200): /usr/share/doc and /usr/lib/x86_64-linux-gnu copied up to that
# size (many small files and some large ones), plus an os-release and a unit. Also the time from
# dropping the jar into the folder to psi plugins listing it. Needs root and a built reactor.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
. "$here/itest/bench/bench-lib.sh"
n=${1:-5}
mb=${2:-200}
psi=$here/distribution/psi
jar=$here/plugins/format-tar/target/psi.format.tar-0.1.0-SNAPSHOT.jar
[ -f "$jar" ] || { echo "tar-compare.sh: $jar missing: build the reactor first" >&2; exit 1; }
work=$(mktemp -d /var/tmp/psi-bench-tar.XXXXXX)
root=$work/root
daemon=
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; sleep 1; rm -rf "$work"' EXIT
mkdir -p "$root/srv" "$work/tree/bench_1/usr/lib/systemd/system" "$work/etc"
export PSI_CONFIG_DIR=$work/etc
tree=$work/tree/bench_1
printf 'ID=bench\n' >"$tree/usr/lib/os-release"
printf '[Service]\nExecStart=/bin/true\n' >"$tree/usr/lib/systemd/system/bench.service"
# up to MB MiB of real files
budget=$((mb << 20))
mkdir -p "$tree/data"
( cd / && find usr/share/doc usr/lib/x86_64-linux-gnu -xdev -type f -size -20M -printf '%s %p\n' 2>/dev/null ) | while read -r size path; do
	budget=$((budget - size))
	[ "$budget" -gt 0 ] || break
	echo "$path"
done >"$work/files" || true # find ends on SIGPIPE when the budget is spent
( cd / && tar -cf - --files-from="$work/files" ) | tar -xf - -C "$tree/data"
tar --zstd -C "$tree" -cf "$root/srv/bench_1.tar.zst" .
entries=$(tar --zstd -tf "$root/srv/bench_1.tar.zst" | wc -l)
size=$(du -sm "$tree" | cut -f1)

"$psi" daemon --background --root "$root" >/dev/null 2>&1
daemon=$(pgrep -f -- "--root $root" | head -1)
t0=$(now)
cp "$jar" "$root/var/lib/psi/plugins/tar.jar"
until "$psi" --root "$root" plugins --no-legend | grep -q 'psi.format.tar .*active'; do sleep 0.05; done
deploy=$((($(now) - t0) / 1000000))

time_ms() {
	local t0
	t0=$(now)
	"$@" >"$work/out" 2>&1 || { echo "tar-compare.sh: failed: $*" >&2; cat "$work/out" >&2; exit 1; }
	echo $((($(now) - t0) / 1000000))
}
list_tar=() list_psi=() unpack_tar=() unpack_psi=()
for _ in $(seq "$n"); do
	list_tar+=("$(time_ms tar --zstd -tvf "$root/srv/bench_1.tar.zst")")
	list_psi+=("$(time_ms "$psi" --root "$root" inspect /srv/bench_1.tar.zst)")
	rm -rf "$work/x" && mkdir "$work/x"
	unpack_tar+=("$(time_ms tar --zstd -xf "$root/srv/bench_1.tar.zst" -C "$work/x")")
	unpack_psi+=("$(time_ms "$psi" --root "$root" attach /srv/bench_1.tar.zst)")
	"$psi" --root "$root" detach bench_1 >/dev/null 2>&1 && "$psi" --root "$root" remove bench_1 >/dev/null 2>&1
done
m() { printf '%s\n' "$@" | median; }
a=$(m "${list_tar[@]}") b=$(m "${list_psi[@]}") c=$(m "${unpack_tar[@]}") d=$(m "${unpack_psi[@]}")
echo "image: ${size} MiB, ${entries} entries, zstd; median of $n"
echo "list:   tar --zstd -tvf ${a} ms   psi inspect (daemon) ${b} ms   ratio $(ratio "$b" "$a")"
echo "unpack: tar --zstd -xf ${c} ms   psi attach (unpack + attach, daemon) ${d} ms   ratio $(ratio "$d" "$c")"
echo "hot deploy: jar copied into the plugin folder to listed active by psi plugins: ${deploy} ms"
