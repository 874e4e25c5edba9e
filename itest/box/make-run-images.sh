#!/bin/bash
# make-run-images.sh OUTDIR - extra directory images for RunIT (running
# portable services), each a copy of make-images.sh's `single` with other units:
#   sock   sock.socket (ListenStream=127.0.0.1:7777, Accept=yes) and
#          sock@.service (busybox cat /usr/lib/os-release to the connection)
#   tim    tim.timer (OnActiveSec=1h) and tim.service (oneshot busybox true)
#   bad    bad.service (Type=oneshot: says 'psi-bad-was-here', then fails at once)
#   esc    esc.service (issue 19: an ExecStartPre=+ that writes `id` to /var/tmp/esc-plus.txt,
#          outside the sandbox of its profile)
#   vp.v/vp_1, vp.v/vp_2  a .v/ directory of two versions of vp.service (systemd 256's vpick)
#   kept   kept.service: StateDirectory=kept CacheDirectory=kept LogsDirectory=kept, writes a file
#          into each (for detach --clean)
#   fw     fw.service: tries TCP port 7001 on 127.0.0.1 and 127.0.0.2, says which it reached
#   up_1, up_2, up_3  three versions of up.service (Description "psi test: up version N"): 1 and 2
#          sleep, 3 fails at start (for upgrades, their automatic rollback and psi rollback)
# OUTDIR/NAME is replaced if it exists.  Needs busybox-static.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(dirname "$(readlink -f "$0")")
umask 022
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/psi-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/make-images.sh" "$work/dirs" >/dev/null

# image NAME: a copy of `single` without its unit, os-release naming NAME
image() {
	rm -rf --one-file-system -- "${out:?}/$1"
	cp -a "$work/dirs/single" "$out/$1"
	rm -f "$out/$1/usr/lib/systemd/system/single.service"
	sed -i "s/(single)/($1)/; s/image single/image $1/" "$out/$1/usr/lib/os-release"
}
unit() { cat >"$out/$1/usr/lib/systemd/system/$2"; }

image sock
unit sock sock.socket <<'EOF'
[Unit]
Description=psi test: sock socket

[Socket]
ListenStream=127.0.0.1:7777
Accept=yes

[Install]
WantedBy=sockets.target
EOF
unit sock sock@.service <<'EOF'
[Unit]
Description=psi test: sock connection %i

[Service]
ExecStart=/usr/bin/busybox cat /usr/lib/os-release
StandardInput=socket
StandardOutput=socket
StandardError=journal
EOF

image tim
unit tim tim.timer <<'EOF'
[Unit]
Description=psi test: tim timer

[Timer]
OnActiveSec=1h

[Install]
WantedBy=timers.target
EOF
unit tim tim.service <<'EOF'
[Unit]
Description=psi test: tim service

[Service]
Type=oneshot
ExecStart=/usr/bin/busybox true
EOF

image bad
unit bad bad.service <<'EOF'
[Unit]
Description=psi test: bad (fails at once)

[Service]
Type=oneshot
ExecStart=/usr/bin/busybox sh -c 'echo psi-bad-was-here; exit 1'

[Install]
WantedBy=multi-user.target
EOF

image esc
unit esc esc.service <<'EOF2'
[Service]
Type=oneshot
ExecStartPre=+/usr/bin/busybox sh -c "id > /var/tmp/esc-plus.txt"
ExecStart=/usr/bin/busybox true
EOF2

echo "images in $out: sock tim bad esc"

image kept
unit kept kept.service <<'EOF2'
[Unit]
Description=psi test: kept (state, cache and logs directories)

[Service]
StateDirectory=kept
CacheDirectory=kept
LogsDirectory=kept
ExecStart=/usr/bin/busybox sh -c 'echo s >$STATE_DIRECTORY/s; echo c >$CACHE_DIRECTORY/c; echo l >$LOGS_DIRECTORY/l; exec /usr/bin/busybox sleep infinity'
EOF2

for v in 1 2; do
	image vp_$v
	unit vp_$v vp.service <<EOF2
[Unit]
Description=psi test: vp version $v

[Service]
ExecStart=/usr/bin/busybox sleep infinity
EOF2
	mkdir -p "$out/vp.v"
	rm -rf --one-file-system -- "$out/vp.v/vp_$v"
	mv "$out/vp_$v" "$out/vp.v/vp_$v"
done

for v in 1 2 3; do
	image up_$v
	if [ $v = 3 ]; then run="/usr/bin/busybox sh -c 'echo up 3 cannot start; exit 3'"; else run="/usr/bin/busybox sleep infinity"; fi
	unit up_$v up.service <<EOF2
[Unit]
Description=psi test: up version $v
StartLimitIntervalSec=0

[Service]
ExecStart=$run
EOF2
done

# fw: fw.service tries a TCP connection to port 7001 on 127.0.0.1 and on 127.0.0.2 and says
# which it reached (for --deny-ip/--allow-ip); then sleeps, so that psi status shows its traffic
image fw
unit fw fw.service <<'EOF2'
[Unit]
Description=psi test: firewall probe

[Service]
ExecStart=/usr/bin/busybox sh -c 'for a in 127.0.0.1 127.0.0.2; do if echo hi | /usr/bin/busybox nc -w 3 $a 7001; then echo "reached $a"; else echo "blocked $a"; fi; done; exec /usr/bin/busybox sleep infinity'
EOF2
