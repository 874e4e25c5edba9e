#!/bin/sh
# example.sh [DIR] - psi's main job for now: build an example portable service
# image ("hello", a busybox httpd on 127.0.0.1:8080) from busybox-static under
# a scratch root DIR (default /tmp/psi-example), then inspect it and attach it
# there with psi, and print what was written. Nothing outside DIR is touched.
set -eu
here=$(dirname "$(readlink -f "$0")")
root=${1:-/tmp/psi-example}
psi="$here/psi"
[ -x /bin/busybox ] || { echo "example.sh: /bin/busybox missing: apt-get install busybox-static" >&2; exit 1; }

rm -rf "$root"
img="$root/var/lib/portables/hello"
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

set -x
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
