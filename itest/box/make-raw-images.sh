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
case $(uname -m) in
	x86_64) root_type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 ;;
	aarch64) root_type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE ;;
	*) echo "make-raw-images: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

# tree NAME: a copy of the `single` image whose unit is NAME.service
tree() {
	rm -rf "$work/$1"
	cp -a "$work/dirs/single" "$work/$1"
	mv "$work/$1/usr/lib/systemd/system/single.service" "$work/$1/usr/lib/systemd/system/$1.service"
	sed -i "s/psi test: single/psi test: $1 ${2:-}/" "$work/$1/usr/lib/systemd/system/$1.service"
}
squash() { mksquashfs "$1" "$2" -comp zstd -noappend -all-root -quiet -no-progress >/dev/null; }
# gpt TREE OUT TYPE: a GPT image with the squashfs of TREE in one partition of TYPE
gpt() {
	local fs=$work/fs.sqfs size sectors
	squash "$1" "$fs"
	size=$(stat -c %s "$fs")
	sectors=$(( (size + 511) / 512 ))
	rm -f "$2"
	truncate -s $(( (2048 + sectors + 2048 + 34) * 512 )) "$2"
	echo "start=2048, size=$sectors, type=$3, name=\"root\"" | sfdisk -q --label gpt "$2" >/dev/null
	dd if="$fs" of="$2" bs=512 seek=2048 conv=notrunc status=none
}

tree naked; squash "$work/naked" "$out/naked.raw"
tree gpt "(version 1)"; gpt "$work/gpt" "$out/gpt_1.raw" "$root_type"
tree gpt "(version 2)"; gpt "$work/gpt" "$out/gpt_2.raw" "$root_type"
tree onepart; gpt "$work/onepart" "$out/onepart.raw" 0FC63DAF-8483-4772-8E79-3D69D8477DE4

tree verity
openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=psi test verity" -days 3650 \
	-keyout "$out/verity.key" -out "$out/verity.crt" 2>/dev/null
mkdir -p "$work/defs"
cat > "$work/defs/10-root.conf" <<'DEF'
[Partition]
Type=root
Format=squashfs
CopyFiles=/
Verity=data
VerityMatchKey=root
DEF
cat > "$work/defs/20-verity.conf" <<'DEF'
[Partition]
Type=root-verity
Verity=hash
VerityMatchKey=root
DEF
cat > "$work/defs/30-verity-sig.conf" <<'DEF'
[Partition]
Type=root-verity-sig
Verity=signature
VerityMatchKey=root
DEF
rm -f "$out/verity.raw"
systemd-repart --empty=create --size=auto --dry-run=no --no-pager --definitions="$work/defs" \
	--root="$work/verity" --private-key="$out/verity.key" --certificate="$out/verity.crt" \
	"$out/verity.raw" >"$work/repart.log" 2>&1 || { cat "$work/repart.log" >&2; exit 1; }
