#!/bin/sh
# example.sh [DIR] - psi's main job for now: build an example portable service
# image ("hello", a busybox httpd on 127.0.0.1:8080) from busybox-static with
# psi build, as a squashfs hello_1.raw in a little repository DIR/repo with its
# SHA256SUMS (psi build --sums);
# then, under the scratch root DIR (default /tmp/psi-example), pull it with
# psi (fetched, checked against SHA256SUMS, placed in the pool), inspect it
# and attach it, and print what was written; then run it: a psi daemon serving
# DIR starts it with psi's own service manager in a bubblewrap sandbox (the
# default profile), curl fetches its page, psi status and psi logs show it,
# psi stop stops it, and the daemon ends. Nothing outside DIR is touched but
# the port 127.0.0.1:8080 while the service runs. (systemd runs the units of
# the host's own root only: for a scratch root DIR psi's own manager runs
# them, also where systemd is PID 1.)
set -eu
here=$(dirname "$(readlink -f "$0")")
root=${1:-/tmp/psi-example}
psi=${PSI:-$here/psi} # PSI=/usr/bin/psi: the installed package's
[ -x /bin/busybox ] || { echo "example.sh: /bin/busybox missing: apt-get install busybox-static" >&2; exit 1; }

# a daemon a run before left serving DIR (interrupted): stopped first, with its service
old=$(sed -n 's/.*listening on .*(pid \([0-9]*\)).*/\1/p' "$root/var/log/psi/psi.log" 2>/dev/null | tail -n 1)
if [ -n "$old" ] && { tr "\\0" " " < "/proc/$old/cmdline"; } 2>/dev/null | grep -q "psi.jar daemon --root $root" && kill -TERM "$old"; then
	while kill -0 "$old" 2>/dev/null; do sleep 0.1; done
fi
rm -rf --one-file-system "$root"
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
ExecStart=/usr/bin/busybox httpd -f -v -p 127.0.0.1:8080 -h /srv/www

[Install]
WantedBy=multi-user.target
UNIT

mkdir -p "$root/repo"

set -x
"$psi" build --format squashfs --owner root --version 1 -o "$root/repo/hello_1.raw" "$img"
"$psi" build --sums "$root/repo"
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

echo
echo "Running it:"
"$psi" daemon --background --root "$root"
pid=$(sed -n 's/.*listening on .*(pid \([0-9]*\)).*/\1/p' "$root/var/log/psi/psi.log" | tail -n 1)
trap 'kill -TERM "$pid" 2>/dev/null; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done' EXIT
set -x
"$psi" start --root "$root" hello
"$psi" status --root "$root" hello
curl -fsS --retry 20 --retry-delay 0 --retry-connrefused --max-time 10 http://127.0.0.1:8080/
"$psi" logs --root "$root" hello
"$psi" stop --root "$root" hello
{ set +x; } 2>/dev/null
