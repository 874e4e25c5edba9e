#!/bin/bash
# make-raw-images.sh OUTDIR - raw portable images for psi's tests, made by the
# real tools from the directory images of make-images.sh:
#   naked.raw     a naked squashfs (zstd), unit naked.service
#   gpt_1.raw     GPT (sfdisk) with one root-<arch> squashfs partition, unit gpt.service
#   gpt_2.raw     the same, version 2 of gpt.service
#   onepart.raw   GPT with one linux-generic partition (a single-partition image), unit onepart.service
#   verity.raw    systemd-repart: root squashfs + root-verity + root-verity-sig
#                 (signed by OUTDIR/verity.crt / verity.key), unit verity.service
# Every service runs `busybox sleep infinity`, as DynamicUser under the
# portable profiles. Needs squashfs-tools, fdisk, systemd-container (repart
# is in systemd), openssl, busybox-static.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(dirname "$(readlink -f "$0")")
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/psi-raw.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/make-images.sh" "$work/dirs" >/dev/null
. "$here/raw-lib.sh"

tree naked; squash "$work/naked" "$out/naked.raw"
tree gpt "(version 1)"; gpt "$work/gpt" "$out/gpt_1.raw" "$root_type"
tree gpt "(version 2)"; gpt "$work/gpt" "$out/gpt_2.raw" "$root_type"
tree onepart; gpt "$work/onepart" "$out/onepart.raw" 0FC63DAF-8483-4772-8E79-3D69D8477DE4

verity_image verity "$out/verity.raw" "$out/verity.key" "$out/verity.crt"
