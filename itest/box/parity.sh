#!/bin/bash
# parity.sh - helpers for the psi-versus-portablectl parity system test
# (itest/src/test/java/psi/itest/parity/PortablectlParityIT.java).
#
# On the host:
#   parity.sh up STATEDIR BASEDIR
#       build the test images (make-images.sh) into STATEDIR/images, add the
#       derived image `lnkrel`, boot a box (testbox.sh) in STATEDIR/box, and
#       copy into the box (through /proc/PID/root):
#         images          -> /var/lib/portables/
#         images/single   -> /srv/images/single   (attach by path)
#         make-ext-images.sh's pool/ -> /var/lib/portables/, srv/ -> /srv/ext/
#         BASEDIR/distribution/target/psi.jar, BASEDIR/distribution/psi,
#         BASEDIR/distribution/etc/
#                         -> /opt/psi/            (psi runnable inside)
#         this script     -> /opt/psi-parity/parity.sh
#       prints the PID of the box's systemd.
#   parity.sh down STATEDIR
#       testbox.sh stop + clean, remove STATEDIR/images, then verify that
#       nothing is left: no mount under STATEDIR, no loop device backed by a
#       file under STATEDIR, no live box; exits 1 (and says what) otherwise.
#
# Inside the box (testbox.sh exec STATEDIR /opt/psi-parity/parity.sh ...):
#   parity.sh snapshot
#       one line per entry of /etc/systemd/system.attached,
#       /run/systemd/system.attached, /etc/portables, /run/portables (the
#       directories themselves included), sorted by path, tab separated:
#         PATH TYPE(d|f|l|?) MODE(octal, 4 digits) UID:GID DETAIL
#       DETAIL: `-> TARGET` for a symlink, `sha256=HEX size=N` for a file
#       (and `mtime=S` for a copied 10-profile.conf).
#   parity.sh reset [--force]
#       bring the box back to the pristine state between runs: the two
#       attached directories must not exist and /etc/portables and
#       /run/portables must be empty (they are then removed, since
#       portabled leaves them behind empty); exits 1 (and lists what is
#       there) when anything else is left.  With --force, whatever is left
#       in the four directories is removed (after a failed run) and
#       systemd is reloaded.
#
# lnkrel: a copy of `lnk` without the absolute symlink lnk-abs.service.
# portabled 252 resolves an absolute unit symlink of a directory image
# against the HOST's root (and skips it when the host lacks the target),
# psi resolves it inside the image: a deliberate difference.  lnkrel keeps
# only the relative link, for which both must agree.  It is made here rather
# than in make-images.sh so that the image set GROUND-TRUTH.md describes
# (12 images) is unchanged.
set -euo pipefail

DIRS=(/etc/systemd/system.attached /run/systemd/system.attached /etc/portables /run/portables)
HERE=$(dirname "$(readlink -f "$0")")

die() { echo "parity: $*" >&2; exit 1; }

cmd_up() {
    [ $# -eq 2 ] || die "usage: parity.sh up STATEDIR BASEDIR"
    local s b img box pid root
    s=$(realpath -m -- "$1")
    b=$(realpath -- "$2")
    img=$s/images
    box=$s/box
    local jar=$b/distribution/target/psi.jar launcher=$b/distribution/psi
    [ -f "$jar" ] || die "$jar missing (build psi first: cd $b && mvn -B -q install -DskipTests)"
    [ -f "$launcher" ] || die "$launcher missing"
    mkdir -p "$s"
    "$HERE/make-images.sh" "$img" >"$s/make-images.log" 2>&1 ||
        { cat "$s/make-images.log" >&2; die "make-images.sh failed"; }
    # lnkrel: lnk with only the relative unit symlink
    rm -rf --one-file-system -- "$img/lnkrel"
    cp -a "$img/lnk" "$img/lnkrel"
    rm -f "$img/lnkrel/usr/lib/systemd/system/lnk-abs.service" "$img/lnkrel/usr/share/lnk/real-abs.service"
    mv "$img/lnkrel/usr/lib/systemd/system/lnk.service" "$img/lnkrel/usr/lib/systemd/system/lnkrel.service"
    sed -i 's/(lnk)/(lnkrel)/; s/image lnk"/image lnkrel"/' "$img/lnkrel/usr/lib/os-release"

    # raw images (naked squashfs, GPT, single partition, signed verity) from the real tools
    "$HERE/make-raw-images.sh" "$s/raw" >"$s/make-raw-images.log" 2>&1 ||
        { cat "$s/make-raw-images.log" >&2; die "make-raw-images.sh failed"; }
    cp "$s/raw/"*.raw "$img/"
    # images made by psi build itself: a signed GPT image, a naked squashfs with verity
    # sidecars and a GPT image without verity, of copies of `single` whose unit is
    # built.service / builtsq.service / builtnv.service
    local t
    for t in built builtsq builtnv; do
        rm -rf --one-file-system -- "$s/$t"
        cp -a "$img/single" "$s/$t"
        mv "$s/$t/usr/lib/systemd/system/single.service" "$s/$t/usr/lib/systemd/system/$t.service"
        sed -i "s/psi test: single/psi test: $t/" "$s/$t/usr/lib/systemd/system/$t.service"
    done
    [ -f "$s/built.key" ] || openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=psi build parity" -days 3650 \
        -keyout "$s/built.key" -out "$s/built.crt" 2>/dev/null
    "$launcher" build --owner root --version 1 --sign "$s/built.key" --cert "$s/built.crt" -o "$img/built_1.raw" "$s/built" \
        >"$s/psi-build.log" 2>&1 || { cat "$s/psi-build.log" >&2; die "psi build built_1.raw failed"; }
    "$launcher" build --owner root --format squashfs --sidecars -o "$img/builtsq.raw" "$s/builtsq" \
        >>"$s/psi-build.log" 2>&1 || { cat "$s/psi-build.log" >&2; die "psi build builtsq.raw failed"; }
    "$launcher" build --owner root --no-verity --version 1 -o "$img/builtnv_1.raw" "$s/builtnv" \
        >>"$s/psi-build.log" 2>&1 || { cat "$s/psi-build.log" >&2; die "psi build builtnv_1.raw failed"; }
    rm -rf --one-file-system -- "$s/built" "$s/builtsq" "$s/builtnv"
    # base and extension images for the --extension cases
    "$HERE/make-ext-images.sh" "$s/ext" >"$s/make-ext-images.log" 2>&1 ||
        { cat "$s/make-ext-images.log" >&2; die "make-ext-images.sh failed"; }
    cp -a "$s/ext/pool/." "$img/"

    pid=$("$HERE/testbox.sh" start "$box")
    root=/proc/$pid/root
    [ -d "$root/" ] || die "box root $root not reachable"
    mkdir -p "$root/var/lib/portables" "$root/srv/images" "$root/opt/psi" "$root/opt/psi-parity"
    cp -a "$img/." "$root/var/lib/portables/"
    cp -a "$img/single" "$root/srv/images/"
    mkdir -p "$root/srv/ext"
    cp -a "$s/ext/srv/." "$root/srv/ext/"
    cp "$jar" "$launcher" "$root/opt/psi/"
    # the thin client, which has a running psi daemon answer (the launcher falls back to a JVM without it)
    if [ -x "$b/distribution/target/psi-client" ]; then cp "$b/distribution/target/psi-client" "$root/opt/psi/"; fi
    # the launcher's companions (etc/gosh_profile ...), as a distribution lays them out
    if [ -d "$b/distribution/etc" ]; then cp -a "$b/distribution/etc" "$root/opt/psi/"; fi
    chmod 0755 "$root/opt/psi/psi"
    cp "$HERE/parity.sh" "$root/opt/psi-parity/parity.sh"
    chmod 0755 "$root/opt/psi-parity/parity.sh"
    echo "$pid"
}

cmd_down() {
    [ $# -eq 1 ] || die "usage: parity.sh down STATEDIR"
    local s box bad=0
    s=$(realpath -m -- "$1")
    box=$s/box
    if [ -d "$box" ]; then
        "$HERE/testbox.sh" clean "$box" || bad=1
    fi
    rm -rf --one-file-system -- "$s/images" "$s/raw" "$s/ext"
    # verification
    if "$HERE/testbox.sh" pid "$box" >/dev/null 2>&1; then
        echo "parity: box still running: pid $("$HERE/testbox.sh" pid "$box")" >&2; bad=1
    fi
    local mp
    while IFS=' ' read -r _ _ _ _ mp _; do
        case "$mp" in "$s"|"$s"/*) echo "parity: still mounted: $mp" >&2; bad=1 ;; esac
    done </proc/self/mountinfo
    if grep -F " $s/" /proc/mounts >/dev/null; then
        echo "parity: /proc/mounts still lists mounts under $s" >&2; bad=1
    fi
    local sysd back
    for sysd in /sys/block/loop*/loop; do
        [ -r "$sysd/backing_file" ] || continue
        back=$(cat "$sysd/backing_file" 2>/dev/null) || continue
        case "$back" in "$s"/*) echo "parity: loop device ${sysd%/loop} still backed by $back" >&2; bad=1 ;; esac
    done
    [ $bad = 0 ] || exit 1
    # nothing mounted below: remove the state dir itself (boot.log etc.)
    rm -rf --one-file-system -- "$s"
}

cmd_snapshot() {
    local d p y m o l t
    for d in "${DIRS[@]}"; do
        [ -e "$d" ] || [ -L "$d" ] || continue
        find "$d" -printf '%p\t%y\t%m\t%U:%G\t%l\n'
    done | LC_ALL=C sort | while IFS=$'\t' read -r p y m o l; do
        m=$(printf '%04o' "0$m")
        case "$y" in
            l) printf '%s\tl\t%s\t%s\t-> %s\n' "$p" "$m" "$o" "$l" ;;
            d) printf '%s\td\t%s\t%s\t\n' "$p" "$m" "$o" ;;
            f) # a copied profile keeps the profile's mtime (portabled's copy_file_atomic); unit copies do not
               t=; [ "${p##*/}" = 10-profile.conf ] && t=" mtime=$(stat -c %Y "$p")"
               printf '%s\tf\t%s\t%s\tsha256=%s size=%s%s\n' "$p" "$m" "$o" \
                   "$(sha256sum <"$p" | cut -c1-64)" "$(stat -c %s "$p")" "$t" ;;
            *) printf '%s\t%s\t%s\t%s\t?\n' "$p" "$y" "$m" "$o" ;;
        esac
    done
}

cmd_reset() {
    local bad=0 d
    if [ "${1:-}" = --force ]; then
        rm -rf -- "${DIRS[@]}"
        systemctl daemon-reload || true
        return 0
    fi
    for d in /etc/systemd/system.attached /run/systemd/system.attached; do
        if [ -e "$d" ] || [ -L "$d" ]; then
            echo "parity: left over: $d" >&2; find "$d" >&2; bad=1
        fi
    done
    for d in /etc/portables /run/portables; do
        if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then
            echo "parity: left over: $d is not a directory" >&2; bad=1
        elif [ -d "$d" ]; then
            if [ -n "$(ls -A "$d")" ]; then
                echo "parity: left over in $d:" >&2; ls -lA "$d" >&2; bad=1
            else
                rmdir "$d"
            fi
        fi
    done
    [ $bad = 0 ]
}

case "${1:-}" in
    up)       shift; cmd_up "$@" ;;
    down)     shift; cmd_down "$@" ;;
    snapshot) shift; cmd_snapshot ;;
    reset)    shift; cmd_reset "$@" ;;
    *) sed -n '2,/^set -e/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
