#!/bin/bash
# make-ext-images.sh OUTDIR - base images and system extension images
# (sysext) for the --extension cases of the parity tests. Layout, relative to
# OUTDIR (parity.sh copies pool/ to /var/lib/portables and srv/ to /srv/ext):
#   pool/rt          base: ID=debian-psi-test VERSION_ID=1 SYSEXT_LEVEL=1.0; rt.service
#   pool/rt_2        the same, version 2 of rt.service
#   pool/rtv         base without SYSEXT_LEVEL; rtv.service
#   pool/rtraw.raw   squashfs of rt (a raw base); rtraw.service
#   pool/app0        directory extension: extension-release.app0 (ID, VERSION_ID=1); app0.service
#   pool/app1.raw    squashfs extension: extension-release.app1 (ID, SYSEXT_LEVEL=1.0, VERSION_ID=7); app1.service
#   srv/app1.raw     the same, outside the search path
#   srv/app1_2.raw   its version 2 (app1.service says so), release file extension-release.app1_2
#   srv/app10.raw    a copy of app1.raw: its release file is not named after it (needs --force)
#   srv/app2.raw     extension with PORTABLE_PREFIXES=app2; app2.service
#   srv/badid        directory extension with ID=other; badid.service
# Every service runs `busybox sleep infinity` from the base. Needs
# busybox-static and squashfs-tools.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
umask 022
out=$(mkdir -p "$1" && cd "$1" && pwd)
rm -rf --one-file-system -- "$out/pool" "$out/srv"
mkdir -p "$out/pool" "$out/srv"

svc() {
	printf '[Unit]\nDescription=%s\n\n[Service]\nExecStart=/usr/bin/busybox sleep infinity\n' "$1"
}
squash() { mksquashfs "$1" "$2" -comp zstd -noappend -all-root -quiet -no-progress >/dev/null; }

# base DIR UNIT DESCRIPTION [EXTRA_OS_RELEASE_LINE...]: make-images.sh's `single`, with this os-release and unit
base() {
	local d=$1 unit=$2 desc=$3; shift 3
	rm -rf --one-file-system -- "$d"
	cp -a "$work/dirs/single" "$d"
	rm -f "$d/usr/lib/systemd/system/single.service"
	{ printf 'ID=debian-psi-test\nNAME="psi test base"\nPRETTY_NAME="psi test base %s"\nVERSION_ID=1\n' "$unit"
	  local l; for l in "$@"; do printf '%s\n' "$l"; done; } >"$d/usr/lib/os-release"
	svc "$desc" >"$d/usr/lib/systemd/system/$unit.service"
}

# ext DIR NAME UNIT DESCRIPTION RELEASE_LINE...
ext() {
	local d=$1 name=$2 unit=$3 desc=$4; shift 4
	mkdir -p "$d/usr/lib/extension-release.d" "$d/usr/lib/systemd/system" "$d/usr/share/$unit"
	local l; for l in "$@"; do printf '%s\n' "$l"; done >"$d/usr/lib/extension-release.d/extension-release.$name"
	svc "$desc" >"$d/usr/lib/systemd/system/$unit.service"
	echo "$unit from its extension" >"$d/usr/share/$unit/hello"
}

work=$(mktemp -d "${TMPDIR:-/var/tmp}/psi-ext.XXXXXX")
trap 'rm -rf --one-file-system -- "$work"' EXIT
"$(dirname "$(readlink -f "$0")")/make-images.sh" "$work/dirs" >/dev/null
base "$out/pool/rt" rt "psi test: rt version 1" SYSEXT_LEVEL=1.0
base "$out/pool/rt_2" rt "psi test: rt version 2" SYSEXT_LEVEL=1.0
base "$out/pool/rtv" rtv "psi test: rtv"
base "$work/rtraw" rtraw "psi test: rtraw" SYSEXT_LEVEL=1.0
squash "$work/rtraw" "$out/pool/rtraw.raw"

ext "$out/pool/app0" app0 app0 "psi test: app0 (directory extension)" ID=debian-psi-test VERSION_ID=1
ext "$work/app1" app1 app1 "psi test: app1 (raw extension)" ID=debian-psi-test SYSEXT_LEVEL=1.0 VERSION_ID=7
squash "$work/app1" "$out/pool/app1.raw"
cp "$out/pool/app1.raw" "$out/srv/app1.raw"
cp "$out/pool/app1.raw" "$out/srv/app10.raw"
ext "$work/app1_2" app1_2 app1 "psi test: app1 version 2" ID=debian-psi-test SYSEXT_LEVEL=1.0 VERSION_ID=7
squash "$work/app1_2" "$out/srv/app1_2.raw"
ext "$work/app2" app2 app2 "psi test: app2" ID=debian-psi-test VERSION_ID=1 PORTABLE_PREFIXES=app2
squash "$work/app2" "$out/srv/app2.raw"
ext "$out/srv/badid" badid badid "psi test: badid" ID=other VERSION_ID=1
echo "extension images in $out: $(cd "$out" && echo pool/* srv/*)"
