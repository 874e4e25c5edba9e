#!/bin/bash
# testbox.sh - a throwaway real systemd (252) for psi's system tests, on a
# machine where systemd is not PID 1.  Implements the recipe of TESTBOX.md.
#
#   testbox.sh start STATEDIR        boot a box; prints the PID of its systemd
#   testbox.sh exec  STATEDIR CMD... run CMD inside the box (exit status kept)
#   testbox.sh pid   STATEDIR        print the PID of the box's systemd
#   testbox.sh stop  STATEDIR        kill the box, unmount, detach its loops
#   testbox.sh clean STATEDIR        stop, then remove upper/ work/ root/
#
# How it works: `unshare --pid --fork --mount --uts --ipc` gives a private
# pid/mount/uts/ipc namespace; inside, an overlay with lowerdir=/ (the host's
# root file system), upperdir=STATEDIR/upper and workdir=STATEDIR/work is
# mounted on STATEDIR/root, /dev and /sys are rbind-mounted from the host,
# /proc, /run and /tmp are fresh, and after pivot_root the real
# /lib/systemd/systemd runs as PID 1 of the namespace.  Nothing the box writes
# reaches the host: every change lands in STATEDIR/upper.  Its boot output goes
# to STATEDIR/boot.log (the launcher's output, then the journal of the boot).  The host PID of the box's systemd is in STATEDIR/pid
# (and its start time, to recognise it later, in STATEDIR/pid.start).
#
# NEVER run /lib/systemd/systemd on the machine's own root: its tmpfiles setup
# empties /tmp (and more) of the real machine.  This script only ever runs it
# after pivot_root into the overlay.
#
# Seeing host files inside the box (checked on Debian 12, kernel 6.18):
#  - lowerdir=/ covers only the root file system's own mount, not the mounts
#    below it (here /dev, /proc, /sys are mounts; everything else, including
#    /work, is on the root file system).  The box mounts its own tmpfs on
#    /run and /tmp, so the host's /tmp is NOT seen at /tmp inside (a
#    STATEDIR under the host's /tmp is thus invisible in the box).
#  - Files that exist on the host before `start` are visible inside, read
#    through the overlay; the box's writes copy them up into STATEDIR/upper.
#  - Files created on the host AFTER `start` (tested): a new file is seen
#    inside, also in a directory the box has already listed, and also after
#    the box wrote into that directory; a changed content of a lower file the
#    box has not written is seen.  BUT: a name the box looked up while it did
#    not exist yet stays "No such file or directory" inside (cached negative
#    lookup; `ls` then even lists it with "?????????" attributes) until the
#    kernel drops its dentry cache; and a file the box has written (copied up)
#    no longer shows host changes.  overlayfs calls changes to a lower layer
#    while mounted undefined behaviour: do not rely on any of this.
#  - The reliable ways to put files into a running box:
#      * from the host, write under /proc/PID/root/... (PID from
#        `testbox.sh pid`): that path is the box's root, so the file lands
#        in the box's overlay (i.e. in STATEDIR/upper), visible at once inside;
#        e.g. `cp -a img "/proc/$(testbox.sh pid B)/root/var/lib/portables/"`
#      * or stream it through exec:
#        `tar -C src -cf - . | testbox.sh exec B tar -C /dst -xf -`
#  - Files placed in STATEDIR/upper before `start` are also seen inside
#    (they shadow the host's).
#
# `stop` kills only the PID recorded by `start` (checked against its recorded
# start time), unmounts only mount points under STATEDIR in the caller's mount
# namespace (deepest first, lazily), and detaches only loop devices whose
# backing file is under STATEDIR or lives on one of the box's own file
# systems (overlay root, /run, /tmp: device numbers recorded at start in
# STATEDIR/box.devs).  It is idempotent.
#
# Caveat: there is no cgroup namespace; the box's systemd makes its cgroups
# (system.slice/...) in the host's cgroup trees, which stay behind, empty,
# after stop and are reused by the next box.  Do not run two boxes at once.
set -euo pipefail

BOOT_TIMEOUT=${TESTBOX_BOOT_TIMEOUT:-60}

die() { echo "testbox: $*" >&2; exit 1; }
usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# statedir DIR -> absolute, symlink-free path
statedir() {
    [ -n "${1:-}" ] || usage
    realpath -m -- "$1"
}

# Field 22 (start time) of /proc/PID/stat, robust against spaces in comm.
starttime_of() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }                 # drop "pid (comm) "
    # now: state(3) ppid(4) ... starttime is field 22 -> index 19 here
    local -a f
    read -r -a f <<<"$s"
    echo "${f[19]}"
}

# Print the recorded PID if that process is still the box's systemd.
live_pid() {
    local b=$1 pid start now
    [ -s "$b/pid" ] || return 1
    pid=$(<"$b/pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [ -d "/proc/$pid" ] || return 1
    if [ -s "$b/pid.start" ]; then
        start=$(<"$b/pid.start")
        now=$(starttime_of "$pid") || return 1
        [ "$now" = "$start" ] || return 1
    fi
    local st
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) || return 1
    [ "$st" != Z ] || return 1
    echo "$pid"
}

in_box() {
    local pid=$1; shift
    nsenter -t "$pid" -m -p -u -i -r -w -- "$@"
}

cmd_start() {
    local b
    b=$(statedir "${1:-}")
    if live_pid "$b" >/dev/null; then
        die "a box is already running for $b (pid $(live_pid "$b"))"
    fi
    [ -x /lib/systemd/systemd ] || die "/lib/systemd/systemd not found"
    mkdir -p "$b/upper" "$b/work" "$b/root"
    rm -f "$b/pid" "$b/pid.start" "$b/box.devs"

    # The inner script runs as PID 1 of the new pid namespace.  Before it
    # mounts a new /proc, /proc is still the host's, so /proc/self/stat
    # (opened by bash itself, no fork) gives its PID as seen from the host.
    # It then execs systemd, which keeps that PID.
    # shellcheck disable=SC2016
    local inner='
set -eu
B=$1
read -r -a f < /proc/self/stat
echo "${f[21]}" > "$B/pid.start.tmp"
echo "${f[0]}" > "$B/pid.tmp"
mv -f "$B/pid.start.tmp" "$B/pid.start"
mv -f "$B/pid.tmp" "$B/pid"
echo psi-testbox > /proc/sys/kernel/hostname
mount -t overlay overlay -o "lowerdir=/,upperdir=$B/upper,workdir=$B/work" "$B/root"
mount --rbind /dev "$B/root/dev"
mount -t proc proc "$B/root/proc"
mount --rbind /sys "$B/root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$B/root/run"
mount -t tmpfs -o mode=1777 tmpfs "$B/root/tmp"
cd "$B/root"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot 2>/dev/null || true
exec env -i container=psi-test PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /lib/systemd/systemd --system --unit=basic.target
'
    setsid unshare --pid --fork --mount --uts --ipc --propagation private \
        bash -c "$inner" testbox-init "$b" </dev/null >"$b/boot.log" 2>&1 &
    local launcher=$!

    local deadline=$((SECONDS + BOOT_TIMEOUT)) pid="" state=""
    local t0=$SECONDS
    while :; do
        if pid=$(live_pid "$b"); then break; fi
        # pid written but that process is gone, or the launcher is gone and
        # no pid came within 2 s: the inner script failed.
        if { [ -s "$b/pid" ] && ! live_pid "$b" >/dev/null; } || { ! kill -0 "$launcher" 2>/dev/null && [ $((SECONDS - t0)) -ge 2 ]; }; then
            tail -n 30 "$b/boot.log" >&2 || true
            die "box failed to start (see $b/boot.log)"
        fi
        [ $SECONDS -lt $deadline ] || die "timeout waiting for the box's pid"
        sleep 0.1
    done
    while :; do
        state=$(in_box "$pid" systemctl is-system-running 2>/dev/null) || true
        case "$state" in
            running|degraded) break ;;
        esac
        if ! live_pid "$b" >/dev/null; then
            tail -n 30 "$b/boot.log" >&2 || true
            die "box died while booting (see $b/boot.log)"
        fi
        if [ $SECONDS -ge $deadline ]; then
            echo "testbox: last state: ${state:-none}" >&2
            cmd_stop "$b" || true
            die "timeout (${BOOT_TIMEOUT}s) waiting for the box to boot"
        fi
        sleep 0.2
    done
    # Device numbers of the box's own file systems (its overlay root, /run
    # and /tmp), for stop: loop devices whose backing file is on one of them.
    in_box "$pid" stat -c '%Hd:%Ld' / /run /tmp >"$b/box.devs" 2>/dev/null || rm -f "$b/box.devs"
    # systemd inside logs to its journal (its stdio is /dev/null); append the
    # boot's journal to boot.log.
    { echo "---- journal of the box's boot (state: $state) ----"
      in_box "$pid" journalctl -b --no-pager -o short-monotonic 2>&1 || true
    } >>"$b/boot.log"
    echo "$pid"
}

cmd_pid() {
    local b
    b=$(statedir "${1:-}")
    live_pid "$b" || die "no box running for $b"
}

cmd_exec() {
    local b pid
    b=$(statedir "${1:-}")
    shift || true
    [ $# -gt 0 ] || usage
    pid=$(live_pid "$b") || die "no box running for $b"
    local rc=0
    in_box "$pid" "$@" || rc=$?
    exit "$rc"
}

# Decode the octal escapes of /proc/self/mountinfo (\040 etc.).
unescape_mnt() { printf '%b' "${1//\\/\\0}"; }

cmd_stop() {
    local b pid
    b=$(statedir "${1:-}")
    [ -d "$b" ] || return 0

    if pid=$(live_pid "$b"); then
        kill -KILL "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 200; i++)); do
            live_pid "$b" >/dev/null || break
            sleep 0.05
        done
        live_pid "$b" >/dev/null && echo "testbox: pid $pid did not die" >&2
    fi
    rm -f "$b/pid" "$b/pid.start"

    # Unmount whatever is mounted under STATEDIR in our mount namespace,
    # deepest first, lazily.
    local mp
    local -a mps=()
    while IFS=' ' read -r _ _ _ _ mp _; do
        mp=$(unescape_mnt "$mp")
        case "$mp" in
            "$b"|"$b"/*) mps+=("$mp") ;;
        esac
    done </proc/self/mountinfo
    if [ ${#mps[@]} -gt 0 ]; then
        printf '%s\n' "${mps[@]}" | awk '{ print gsub("/", "/") "\t" $0 }' |
            sort -t "$(printf '\t')" -k1,1nr | cut -f2- |
            while IFS= read -r mp; do
                umount -l -- "$mp" 2>/dev/null || true
            done
    fi

    # Detach loop devices of this box: backing file under STATEDIR, or on
    # the box's overlay (recorded device number).  Those with autoclear go
    # away by themselves once the box's mounts are gone; give them a moment.
    local -a boxdevs=()
    [ -s "$b/box.devs" ] && mapfile -t boxdevs <"$b/box.devs"
    local dev back majmin try
    for try in 1 2 3 4 5 6 7 8 9 10; do
        local -a ours=()
        local sysd
        for sysd in /sys/block/loop*/loop; do
            [ -r "$sysd/backing_file" ] || continue
            dev=/dev/${sysd#/sys/block/}
            dev=${dev%/loop}
            back=$(cat "$sysd/backing_file" 2>/dev/null) || continue
            case "$back" in
                "$b"/*) ours+=("$dev"); continue ;;
            esac
            [ ${#boxdevs[@]} -gt 0 ] || continue
            majmin=$(losetup --list --noheadings -O BACK-MAJ:MIN "$dev" 2>/dev/null | tr -d '[:space:]') || continue
            local bd
            for bd in "${boxdevs[@]}"; do
                if [ "$majmin" = "$bd" ]; then
                    ours+=("$dev")
                    break
                fi
            done
        done
        [ ${#ours[@]} -gt 0 ] || break
        if [ "$try" -ge 3 ]; then
            for dev in "${ours[@]}"; do
                losetup -d "$dev" 2>/dev/null || true
            done
        fi
        sleep 0.3
    done
    if [ ${#ours[@]} -gt 0 ]; then
        echo "testbox: loop devices still attached: ${ours[*]}" >&2
    else
        # The box's device numbers are free for reuse from now on: forget
        # them, so that a later stop never matches somebody else's loop.
        rm -f "$b/box.devs"
    fi
    return 0
}

cmd_clean() {
    local b
    b=$(statedir "${1:-}")
    [ -d "$b" ] || return 0
    cmd_stop "$b"
    if grep -q " $b/" /proc/self/mountinfo; then
        die "still mounted under $b, not removing"
    fi
    rm -rf --one-file-system -- "$b/upper" "$b/work" "$b/root" "$b/box.devs"
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    exec)  shift; cmd_exec "$@" ;;
    pid)   shift; cmd_pid "$@" ;;
    stop)  shift; cmd_stop "$@" ;;
    clean) shift; cmd_clean "$@" ;;
    *) usage ;;
esac
