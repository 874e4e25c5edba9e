#!/bin/bash
# portable1-compare.sh [N [WARM]] - the real portablectl against systemd-portabled and
# against psi serving org.freedesktop.portable1, in one throwaway box, same images:
#   portablectl list, portablectl inspect (a directory and a raw GPT image with
#   verity), and an attach+detach cycle (with and without the manager reload);
#   each N times as whole commands, after WARM runs (default N) to warm up
#   (D-Bus activation, caches, and for psi's resident JVM the JIT).
# Prints the figures and the ratios psi / portabled. Needs root,
# systemd-container, busybox-static and a built distribution
# (mvn -B install -DskipTests).
set -euo pipefail
N=${1:-50}
WARM=${2:-$N}
top=$(cd "$(dirname "$0")/../.." && pwd)
box=$top/itest/box/testbox.sh
state=$(mktemp -d /var/tmp/psi-bench.XXXXXX)
images=$(mktemp -d /var/tmp/psi-bench-img.XXXXXX)
trap '"$box" clean "$state" >/dev/null 2>&1 || true; rm -rf "$state" "$images"' EXIT
fail() { echo "portable1-compare: $*" >&2; exit 1; }

[ -f "$top/distribution/target/psi.jar" ] || fail "build psi first (mvn -B install -DskipTests)"
"$top/itest/box/make-images.sh" "$images" >/dev/null
"$top/itest/box/make-raw-images.sh" "$images/raw" >/dev/null
pid=$("$box" start "$state")
R=/proc/$pid/root
mkdir -p "$R/var/lib/portables" "$R/opt/psi/etc" "$R/usr/local/share/dbus-1/system-services"
cp -a "$images/single" "$images/raw/verity.raw" "$R/var/lib/portables/"
cp "$top/distribution/psi" "$top/distribution/target/psi.jar" "$top/distribution/target/psi-client" "$R/opt/psi/"
: > "$R/opt/psi/etc/gosh_profile"
inbox() { "$box" exec "$state" "$@"; }
. "$(dirname "$(readlink -f "$0")")/bench-lib.sh"

loop() { # ns for ${2:-N} runs of the command line $1 in the box, each must succeed
	local t0 t1 n=${2:-$N}
	t0=$(now)
	inbox sh -c "for i in \$(seq $n); do $1 >/dev/null 2>&1 || exit 1; done" || fail "'$1' failed"
	t1=$(now)
	echo $(( (t1 - t0) / n ))
}
warm() { # ns for N runs of $1, after WARM runs to warm up
	loop "$1" "$WARM" > /dev/null
	loop "$1"
}
measure() { # prints: list inspect-dir inspect-raw cycle cycle-noreload (ns each)
	echo "$(warm 'portablectl list') $(warm 'portablectl inspect single') $(warm 'portablectl inspect verity')" \
		"$(warm 'portablectl attach single && portablectl detach single')" \
		"$(warm 'portablectl attach --no-reload single && portablectl detach --no-reload single')"
}
read -r a_list a_idir a_iraw a_cycle a_cnr < <(measure)

# hand the name to psi: its units, portabled masked, psi's bus activation file
for u in psi.socket psi.service; do
	sed 's|ExecStart=/usr/bin/psi |ExecStart=/opt/psi/psi |' "$top/distribution/systemd/$u" > "$R/etc/systemd/system/$u"
done
cp "$top/distribution/dbus/org.freedesktop.portable1.service" "$R/usr/local/share/dbus-1/system-services/"
inbox sh -c 'systemctl stop systemd-portabled.service; systemctl mask systemd-portabled.service && systemctl daemon-reload && systemctl reload dbus && systemctl enable --now psi.socket' >/dev/null 2>&1 \
	|| fail "could not hand org.freedesktop.portable1 to psi"
read -r b_list b_idir b_iraw b_cycle b_cnr < <(measure)
inbox systemctl is-active psi.service >/dev/null || fail "psi.service did not serve the calls"

ms() { awk -v n="$1" 'BEGIN {printf "%.1f", n / 1e6}'; }
printf '%-44s %12s %12s %8s\n' "portablectl ($N runs after $WARM, ms each)" portabled psi psi/portabled
for row in "list:$a_list:$b_list" "inspect single (directory):$a_idir:$b_idir" "inspect verity (raw GPT, verity):$a_iraw:$b_iraw" \
	"attach + detach (with reload):$a_cycle:$b_cycle" "attach + detach --no-reload:$a_cnr:$b_cnr"; do
	IFS=: read -r name a b <<<"$row"
	printf '%-44s %12s %12s %8s\n' "$name" "$(ms "$a")" "$(ms "$b")" "$(ratio "$b" "$a")"
done
