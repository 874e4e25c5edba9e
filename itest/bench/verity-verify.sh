#!/bin/bash
# verity-verify.sh [MB] - psi's VerityTree.verify vs `veritysetup verify`, both
# checking the whole dm-verity tree of the same data in user space:
#   1. MB MiB of data (default 1024; three quarters random, one quarter zeros)
#      in /var/tmp, deleted afterwards
#   2. `veritysetup format` with cryptsetup's defaults (4096-byte blocks) and
#      as systemd-repart makes it (512-byte blocks)
#   3. `veritysetup verify DATA HASH ROOT`: one warm-up run, then the median of 3
#   4. psi (plugins/format-raw's VerityBench in one JVM): one warm-up run, then
#      the median of 5
# Both read from the page cache (the warm-up runs fill it). Prints GB/s
# (10^9 bytes per second) and psi's speed as a multiple of veritysetup's.
# Needs cryptsetup-bin and a build of the module with its test classes:
#   mvn -B -o -pl bundles/api,plugins/format-raw install -DskipTests
set -euo pipefail
MB=${1:-1024}
top=$(cd "$(dirname "$0")/../.." && pwd)
classes=$top/plugins/format-raw/target/classes
tests=$top/plugins/format-raw/target/test-classes
api=$(ls "$top"/bundles/api/target/psi.api-*.jar 2>/dev/null | head -1 || true)
if [ ! -f "$tests/psi/format/raw/internal/verity/VerityBench.class" ] || [ -z "$api" ]; then
	echo "verity-verify: build first: mvn -B -o -pl bundles/api,plugins/format-raw install -DskipTests" >&2
	exit 1
fi
command -v veritysetup >/dev/null || { echo "verity-verify: needs veritysetup (cryptsetup-bin)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/psi-verity-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp="$classes:$tests:$api"
. "$(dirname "$(readlink -f "$0")")/bench-lib.sh"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),$(grep -m1 -o -w sha_ni /proc/cpuinfo | sed 's/^/ /')"
echo "veritysetup: $(veritysetup --version | sed 's/ *$//'), crypto: $(ldd "$(command -v veritysetup)" | grep -o -E 'lib(crypto|gcrypt|nettle)[^ ]*' | head -1 || true)"
echo "java: $(java -version 2>&1 | head -1); $(java -XX:+UnlockDiagnosticVMOptions -XX:+PrintFlagsFinal -version 2>/dev/null \
	| awk '$2 ~ /^(UseSHA|UseSHA256Intrinsics)$/ {printf "%s=%s ", $2, $4}')"

data=$work/data
random=$((MB * 3 / 4))
{ head -c "${random}M" /dev/urandom; head -c "$((MB - random))M" /dev/zero; } > "$data"
bytes=$(stat -c %s "$data")

for blocks in 4096 512; do
	hash=$work/hash-$blocks
	root=$(veritysetup format --data-block-size="$blocks" --hash-block-size="$blocks" "$data" "$hash" \
		| awk '/^Root hash:/ {print $3}')
	veritysetup verify "$data" "$hash" "$root"
	vs=$( (for k in 1 2 3; do
		t0=$(now); veritysetup verify "$data" "$hash" "$root"; t1=$(now)
		echo $((t1 - t0))
	done) | median)
	out=$(java -cp "$cp" psi.format.raw.internal.verity.VerityBench "$data" "$hash" "$root" 5)
	psi=$(awk '/^psi-median-seconds/ {printf "%d", $2 * 1e9}' <<<"$out")
	awk -v b="$bytes" -v vs="$vs" -v psi="$psi" -v bs="$blocks" -v mb="$MB" 'BEGIN {
		printf "%d MiB, %d-byte blocks, sha256: veritysetup verify %.3f s = %.2f GB/s; psi %.3f s = %.2f GB/s; psi/veritysetup = %.2fx\n",
			mb, bs, vs / 1e9, b / vs, psi / 1e9, b / psi, vs / psi }'
done
