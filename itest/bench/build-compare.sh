#!/bin/bash
# build-compare.sh [RUNS] - psi build against the native tools on a ~200 MB
# tree (a copy of the JDK's /usr/lib/jvm/java-17-openjdk-*, 261 MB here),
# zstd, on every core (median of RUNS, default 3):
#   1. a naked squashfs: psi build --format squashfs vs mksquashfs -comp zstd
#   2. a signed verity GPT image: psi build --sign --cert vs the three-tool
#      pipeline doing the same job: mksquashfs, veritysetup format (the hash
#      tree) and systemd-repart (the GPT with root, root-verity and
#      root-verity-sig; it builds its own hash tree from the squashfs too)
# Prints each median and the ratio psi/native, and the image sizes.
# Needs root (repart), squashfs-tools, cryptsetup-bin, systemd-container, openssl.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/bench-lib.sh"
runs=${1:-3}
psi="$here/../../distribution/psi"
work=$(mktemp -d /var/tmp/psi-build-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$(ls -d /usr/lib/jvm/java-17-openjdk-* | head -n 1)
mkdir -p "$work/tree/usr/lib/systemd/system" "$work/tree/etc"
cp -a "$src/." "$work/tree/usr/"
printf 'ID=bench\nPORTABLE_PREFIXES=bench\n' > "$work/tree/usr/lib/os-release"
printf '[Service]\nExecStart=/usr/bin/java -version\n' > "$work/tree/usr/lib/systemd/system/bench.service"
for d in proc sys dev run tmp var/tmp; do mkdir -p "$work/tree/$d"; done
: > "$work/tree/etc/machine-id"; : > "$work/tree/etc/resolv.conf"
openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=psi bench" -days 30 -keyout "$work/k.pem" -out "$work/c.pem" 2>/dev/null
echo "tree: $(du -sh --apparent-size "$work/tree" | cut -f1), $(find "$work/tree" | wc -l) entries, $(nproc) cores"
sync

time_ms() { local t0; t0=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; echo $(( ($(now) - t0) / 1000000 )); }

mkdir -p "$work/defs"
cat > "$work/defs/10-root.conf" <<DEF
[Partition]
Type=root
CopyBlocks=$work/fs.sqfs
Verity=data
VerityMatchKey=root
DEF
cat > "$work/defs/20-verity.conf" <<'DEF'
[Partition]
Type=root-verity
Verity=hash
VerityMatchKey=root
DEF
cat > "$work/defs/30-sig.conf" <<'DEF'
[Partition]
Type=root-verity-sig
Verity=signature
VerityMatchKey=root
DEF
pipeline() {
	mksquashfs "$work/tree" "$work/fs.sqfs" -comp zstd -noappend -all-root -quiet -no-progress
	veritysetup format "$work/fs.sqfs" "$work/fs.verity" >/dev/null
	rm -f "$work/repart.raw"
	size=$(( $(stat -c %s "$work/fs.sqfs") * 103 / 100 + 32 * 1024 * 1024 ))
	systemd-repart --empty=create --size="$size" --dry-run=no --no-pager --definitions="$work/defs" \
		--private-key="$work/k.pem" --certificate="$work/c.pem" "$work/repart.raw"
}

declare -a sq_psi sq_mk sq_mk3 raw_psi raw_pipe
for i in $(seq "$runs"); do
	sq_psi+=("$(time_ms "$psi" build --format squashfs --owner root --no-lint -o "$work/psi.sqfs" "$work/tree")")
	sq_mk+=("$(time_ms mksquashfs "$work/tree" "$work/mk.sqfs" -comp zstd -noappend -all-root -quiet -no-progress)")
	sq_mk3+=("$(time_ms mksquashfs "$work/tree" "$work/mk3.sqfs" -comp zstd -Xcompression-level 3 -noappend -all-root -quiet -no-progress)")
	raw_psi+=("$(time_ms "$psi" build --owner root --no-lint --sign "$work/k.pem" --cert "$work/c.pem" -o "$work/psi.raw" "$work/tree")")
	raw_pipe+=("$(time_ms pipeline)")
done
a=$(printf '%s\n' "${sq_psi[@]}" | median); b=$(printf '%s\n' "${sq_mk[@]}" | median)
c=$(printf '%s\n' "${raw_psi[@]}" | median); d=$(printf '%s\n' "${raw_pipe[@]}" | median)
e=$(printf '%s\n' "${sq_mk3[@]}" | median)
echo "squashfs, zstd:        psi build $a ms, mksquashfs $b ms: ratio $(ratio "$a" "$b") (goal <= 1.5)"
echo "                       mksquashfs -Xcompression-level 3 $e ms: ratio $(ratio "$a" "$e")"
echo "signed verity GPT:     psi build $c ms, mksquashfs + veritysetup + systemd-repart $d ms: ratio $(ratio "$c" "$d") (goal <= 1.0)"
echo "sizes: psi squashfs $(stat -c %s "$work/psi.sqfs"), mksquashfs $(stat -c %s "$work/mk.sqfs"), at level 3 $(stat -c %s "$work/mk3.sqfs"); psi raw $(stat -c %s "$work/psi.raw"), repart raw $(stat -c %s "$work/repart.raw")"
echo "(psi includes its JVM start, about 0.8 s; psi's zstd is aircompressor's single level, mksquashfs's default is level 15)"
