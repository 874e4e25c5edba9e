#!/bin/sh
# example.sh [DIR] - psi's main job for now: build an example portable service
# image ("hello", a busybox httpd on 127.0.0.1:8080) from busybox-static as a
# squashfs hello_1.raw in a little repository DIR/repo with its SHA256SUMS;
# then, under the scratch root DIR (default /tmp/psi-example), pull it with
# psi (fetched, checked against SHA256SUMS, placed in the pool), inspect it
# and attach it, and print what was written. Nothing outside DIR is touched.
set -eu
here=$(dirname "$(readlink -f "$0")")
root=${1:-/tmp/psi-example}
psi="$here/psi"
[ -x /bin/busybox ] || { echo "example.sh: /bin/busybox missing: apt-get install busybox-static" >&2; exit 1; }
command -v mksquashfs >/dev/null || { echo "example.sh: mksquashfs missing: apt-get install squashfs-tools" >&2; exit 1; }

rm -rf "$root"
img="$root/build/hello"
mkdir -p "$img/usr/bin" "$img/usr/lib/systemd/system" "$img/etc" "$img/srv/www" \
	"$img/proc" "$img/sys" "$img/dev" "$img/run" "$img/tmp" "$img/var/tmp"
cp /bin/busybox "$img/usr/bin/busybox"
: > "$img/etc/machine-id"
: > "$img/etc/resolv.conf"
cat > "$img/usr/lib/os-release" <<'OSR'
ID=psi-example
NAME="psi example"
PRETTY_NAME="psi example image (busybox)"
VERSION_ID=1
PORTABLE_PRETTY_NAME="Hello, a busybox web server"
OSR
echo "hello from a portable service" > "$img/srv/www/index.html"
cat > "$img/usr/lib/systemd/system/hello.service" <<'UNIT'
[Unit]
Description=psi example: busybox httpd on 127.0.0.1:8080

[Service]
ExecStart=/usr/bin/busybox httpd -f -p 127.0.0.1:8080 -h /srv/www

[Install]
WantedBy=multi-user.target
UNIT

mkdir -p "$root/repo"
mksquashfs "$img" "$root/repo/hello_1.raw" -comp zstd -all-root -noappend -quiet -no-progress >/dev/null
(cd "$root/repo" && sha256sum hello_1.raw > SHA256SUMS)

set -x
"$psi" verify "file://$root/repo/hello_1.raw"
"$psi" pull --root "$root" --verify=checksum "file://$root/repo/hello_1.raw"
"$psi" list --root "$root"
"$psi" inspect --root "$root" hello
"$psi" attach --root "$root" hello
"$psi" is-attached --root "$root" hello
{ set +x; } 2>/dev/null
echo
echo "Files written under $root:"
(cd "$root" && find etc \( -type l -printf '%M %p -> %l\n' \) -o -printf '%M %p\n' | sort -k2)
echo
echo "$root/etc/systemd/system.attached/hello.service.d/20-portable.conf:"
cat "$root/etc/systemd/system.attached/hello.service.d/20-portable.conf"
