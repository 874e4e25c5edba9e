#!/bin/bash
# make-images.sh OUTDIR - build small directory images of portable services
# for psi's tests and for ground truth from the real portablectl (see
# testbox.sh, GROUND-TRUTH.md).  Needs busybox-static (/bin/busybox).
#
# Every image is a minimal portable image: empty /etc/machine-id and
# /etc/resolv.conf, mount-point directories /proc /sys /dev /run /tmp /var/tmp,
# /usr/bin/busybox (static), os-release in /usr/lib/os-release (or, for
# `etcosr`, only in /etc/os-release), units under /usr/lib/systemd/system.
#
# Images made (OUTDIR/NAME):
#   single   single.service
#   sst      sst.service sst.socket sst.timer
#   tmpl     tmpl@.service
#   foo      foo.service foo-bar.service foobar.service (foobar: no match)
#   pfx      PORTABLE_PREFIXES="pfx-a pfx-b"; pfx-a.service pfx-b.service
#   lnk      lnk.service -> ../../../share/lnk/real.service (relative link)
#            lnk-abs.service -> /usr/share/lnk/real-abs.service (absolute,
#            meant inside the image)
#   ver_1    ver.service (Description ... version 1)
#   ver_2    ver.service (Description ... version 2)
#   etcosr   os-release only at /etc/os-release; etcosr.service
#   noosr    no os-release at all; noosr.service         (error case)
#   noid     os-release without ID=; noid.service        (error case)
#   nounit   only other.service: nothing matches "nounit" (error case)
#
# OUTDIR/NAME is replaced if it exists.  Everything is root:root, files 0644,
# directories 0755, busybox 0755.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "make-images: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
    echo "make-images: warning: $BUSYBOX may not be static" >&2

umask 022
mkdir -p "$OUT"
OUT=$(realpath -- "$OUT")

# os_release NAME [EXTRA_LINE...] : standard os-release text on stdout
os_release() {
    local name=$1; shift
    cat <<EOF
ID=debian-psi-test
NAME="psi test image ($name)"
PRETTY_NAME="psi test image $name"
VERSION_ID=1
EOF
    local l
    for l in "$@"; do printf '%s\n' "$l"; done
}

# base NAME [osr] : fresh image skeleton.  osr = usr (default), etc, none
base() {
    local name=$1 osr=${2:-usr} d="$OUT/$1"
    case "$d" in "$OUT"/?*) ;; *) echo "bad image name $name" >&2; exit 1 ;; esac
    rm -rf --one-file-system -- "$d"
    mkdir -p "$d"/{etc,proc,sys,dev,run,tmp,var/tmp,usr/bin,usr/lib/systemd/system}
    chmod 1777 "$d/tmp" "$d/var/tmp"
    : >"$d/etc/machine-id"
    : >"$d/etc/resolv.conf"
    cp "$BUSYBOX" "$d/usr/bin/busybox"
    chmod 0755 "$d/usr/bin/busybox"
    case "$osr" in
        usr) os_release "$name" >"$d/usr/lib/os-release" ;;
        etc) os_release "$name" >"$d/etc/os-release" ;;
        none) ;;
    esac
}

# unit IMAGE FILE-IN-UNIT-DIR : write a unit from stdin
unit() {
    cat >"$OUT/$1/usr/lib/systemd/system/$2"
}

# svc DESCRIPTION [EXEC] : a simple service unit text
svc() {
    cat <<EOF
[Unit]
Description=$1

[Service]
ExecStart=${2:-/usr/bin/busybox sleep infinity}

[Install]
WantedBy=multi-user.target
EOF
}

# single
base single
svc "psi test: single" | unit single single.service

# sst: service + socket + timer
base sst
unit sst sst.service <<'EOF'
[Unit]
Description=psi test: sst service

[Service]
ExecStart=/usr/bin/busybox httpd -f -p 127.0.0.1:8081 -h /usr/share
EOF
unit sst sst.socket <<'EOF'
[Unit]
Description=psi test: sst socket

[Socket]
ListenStream=/run/sst.sock

[Install]
WantedBy=sockets.target
EOF
unit sst sst.timer <<'EOF'
[Unit]
Description=psi test: sst timer

[Timer]
OnCalendar=daily

[Install]
WantedBy=timers.target
EOF

# tmpl: template
base tmpl
unit tmpl tmpl@.service <<'EOF'
[Unit]
Description=psi test: tmpl instance %i

[Service]
ExecStart=/usr/bin/busybox sleep infinity
EOF

# foo: prefix matching
base foo
svc "psi test: foo"     | unit foo foo.service
svc "psi test: foo-bar" | unit foo foo-bar.service
svc "psi test: foobar"  | unit foo foobar.service

# pfx: PORTABLE_PREFIXES
base pfx none
os_release pfx 'PORTABLE_PREFIXES="pfx-a pfx-b"' >"$OUT/pfx/usr/lib/os-release"
svc "psi test: pfx-a" | unit pfx pfx-a.service
svc "psi test: pfx-b" | unit pfx pfx-b.service

# lnk: unit files that are symlinks to files elsewhere in the image
base lnk
mkdir -p "$OUT/lnk/usr/share/lnk"
svc "psi test: lnk (relative symlink)" >"$OUT/lnk/usr/share/lnk/real.service"
svc "psi test: lnk-abs (absolute symlink)" >"$OUT/lnk/usr/share/lnk/real-abs.service"
ln -s ../../../share/lnk/real.service "$OUT/lnk/usr/lib/systemd/system/lnk.service"
ln -s /usr/share/lnk/real-abs.service "$OUT/lnk/usr/lib/systemd/system/lnk-abs.service"

# ver_1, ver_2: versioned images
for v in 1 2; do
    base "ver_$v" none
    os_release "ver_$v" >"$OUT/ver_$v/usr/lib/os-release"
    sed -i "s/^VERSION_ID=.*/VERSION_ID=$v/" "$OUT/ver_$v/usr/lib/os-release"
    svc "psi test: ver version $v" | unit "ver_$v" ver.service
done

# etcosr: /etc/os-release only
base etcosr etc
svc "psi test: etcosr" | unit etcosr etcosr.service

# error cases
base noosr none
svc "psi test: noosr" | unit noosr noosr.service
base noid none
os_release noid | grep -v '^ID=' >"$OUT/noid/usr/lib/os-release"
svc "psi test: noid" | unit noid noid.service
base nounit
svc "psi test: other" | unit nounit other.service

echo "images in $OUT:"
( cd "$OUT" && for d in */; do printf '  %-8s %s\n' "${d%/}" "$(du -sh "$d" | cut -f1)"; done )
