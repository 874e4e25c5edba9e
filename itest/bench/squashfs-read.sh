#!/bin/bash
# squashfs-read.sh [SRC...] - psi's SquashfsReader against unsquashfs: read every file of a squashfs.
#
# Makes one image per compressor (zstd, xz; mksquashfs defaults: 128 KiB blocks) from SRC
# (default /usr/lib/python3.11 /usr/lib/gcc /usr/share/vim: ~210 MB in ~3500 files, 80% of the
# bytes in files of 128 KiB or more), then times, with the image in the page cache:
#   unsquashfs -d OUT        all processors (its default) and -p 1; OUT is on tmpfs (/dev/shm), so
#                            the disk is not measured, only decompression and the copy out
#   psi ReadAllBench         in one JVM, 2 warm-up runs then RUNS: walks the tree (list, lstat) and
#                            streams every file to the end without writing it; as
#                            1 thread                 decompression in the reading thread
#                            --ahead 2                a 2-thread pool decompresses a file's blocks ahead
#                            --files 2                two threads read different files through one reader
#                            --ahead 2 --files 2      both
# Throughput = total bytes of the files / wall time, median of RUNS (default 3). Prints the figures
# and psi's ratio to unsquashfs. No assertion: the figures are for the report.
# Needs squashfs-tools, Java 17, and the module compiled with its tests:
#   mvn -B -o -pl bundles/api install && mvn -B -o -pl plugins/format-raw test-compile
set -euo pipefail
RUNS=${RUNS:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
m2=${M2_REPO:-$HOME/.m2/repository}
mod=$top/plugins/format-raw/target
classes=${PSI_CLASSES:-$mod/classes:$mod/test-classes} # the reader's and ReadAllBench's classes
cp=$classes:$top/bundles/api/target/classes:$m2/org/tukaani/xz/1.12/xz-1.12.jar:$m2/io/airlift/aircompressor/2.0.3/aircompressor-2.0.3.jar
[ -n "${PSI_CLASSES:-}" ] || [ -f "$mod/test-classes/psi/format/raw/internal/squashfs/ReadAllBench.class" ] || {
	echo "squashfs-read: compile first: mvn -B -o -pl bundles/api install && mvn -B -o -pl plugins/format-raw test-compile" >&2
	exit 1
}
command -v mksquashfs >/dev/null && command -v unsquashfs >/dev/null || { echo "squashfs-read: needs squashfs-tools" >&2; exit 1; }
src=("$@")
[ ${#src[@]} -gt 0 ] || src=(/usr/lib/python3.11 /usr/lib/gcc /usr/share/vim)
work=$(mktemp -d /var/tmp/psi-squashfs-bench.XXXXXX)
out=$(mktemp -d /dev/shm/psi-squashfs-out.XXXXXX)
trap 'rm -rf "$work" "$out"' EXIT

. "$(dirname "$(readlink -f "$0")")/bench-lib.sh"
# microseconds for one unsquashfs of $img, extra flags in "$@"
unsq() {
	rm -rf "$out/x"
	local t0 t1
	t0=$(date +%s%N)
	unsquashfs "$@" -d "$out/x" -no-progress -quiet "$img" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
# "bytes median_µs" of psi reading $img, extra flags in "$@"
psi() {
	java -cp "$cp" psi.format.raw.internal.squashfs.ReadAllBench "$img" --runs "$RUNS" --warmup 2 "$@" |
		awk '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, a, "="); r[a[1]] = a[2] } printf "%d %d\n", r["bytes"], r["median_ms"] * 1000 }'
}
mbs() { awk -v b="$1" -v us="$2" 'BEGIN { printf "%7.1f MB/s", b / us }'; }
# ratio (bench-lib.sh) of psi's throughput / unsquashfs's = its time / psi's

echo "squashfs-read: $(nproc) processors; sources: ${src[*]}"
for comp in zstd xz; do
	img=$work/$comp.img
	mksquashfs "${src[@]}" "$img" -comp "$comp" -noappend -no-progress -quiet >/dev/null
	cat "$img" >/dev/null
	unsq >/dev/null
	u_all=$(for _ in $(seq "$RUNS"); do unsq; done | median)
	u_one=$(for _ in $(seq "$RUNS"); do unsq -p 1; done | median)
	read -r bytes p_one <<<"$(psi)"
	read -r _ p_ahead <<<"$(psi --ahead 2)"
	read -r _ p_files <<<"$(psi --files 2)"
	read -r _ p_both <<<"$(psi --ahead 2 --files 2)"
	echo
	echo "$comp: image $(($(stat -c %s "$img") / 1000000)) MB, files $((bytes / 1000000)) MB"
	echo "  unsquashfs -d (all processors)  $(mbs "$bytes" "$u_all")"
	echo "  unsquashfs -d -p 1              $(mbs "$bytes" "$u_one")"
	for v in "1 thread:$p_one" "--ahead 2:$p_ahead" "--files 2:$p_files" "--ahead 2 --files 2:$p_both"; do
		label=${v%%:*}
		us=${v##*:}
		printf '  psi %-28s %s   ratio %s to unsquashfs (all), %s to unsquashfs -p 1\n' "$label" "$(mbs "$bytes" "$us")" \
			"$(ratio "$u_all" "$us")" "$(ratio "$u_one" "$us")"
	done
done
