#!/bin/bash
# overlay-run.sh STATEDIR CMD... - runs CMD as root on a throwaway copy of this
# machine, without systemd: in a private pid and mount namespace, on an overlay
# whose lower layer is / (as testbox.sh's box, but no systemd boots: CMD runs
# where systemd is not PID 1, as on the CI machine). /dev and /sys are the
# host's, /proc and /run fresh; /tmp and everything else read through the
# overlay, every write kept in STATEDIR/upper, which is removed afterwards with
# the rest of STATEDIR. The namespace's processes end with CMD. Exit status: CMD's.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 STATEDIR CMD..." >&2; exit 2; }
b=$(realpath -m -- "$1")
shift
mkdir -p "$b/upper" "$b/work" "$b/root"
# shellcheck disable=SC2016
inner='
set -eu
B=$1
shift
mount -t overlay overlay -o "lowerdir=/,upperdir=$B/upper,workdir=$B/work" "$B/root"
mount --rbind /dev "$B/root/dev"
mount -t proc proc "$B/root/proc"
mount --rbind /sys "$B/root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$B/root/run"
cd "$B/root"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot 2>/dev/null || true
"$@"
'
rc=0
unshare --pid --fork --mount --propagation private bash -c "$inner" overlay-run "$b" "$@" </dev/null || rc=$?
rm -rf --one-file-system -- "$b"
exit $rc
