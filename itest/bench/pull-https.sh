#!/bin/bash
# pull-https.sh [N] - `psi pull` of a signed 256 MB image over loopback https
# vs `curl -o` of the same file from the same nginx, side by side in one
# throwaway box (psi runs as an admin would: the test CA in /etc/psi/ca.d, the
# OpenPGP key in /etc/psi/trusted.gpg.d, the verity certificate in
# /etc/verity.d). Both write into the box's /var/lib/portables.
#   1. gpt:    a GPT image with SHA256SUMS + SHA256SUMS.gpg (psi hashes while receiving,
#              then checks the signature)
#   2. verity: a systemd-repart image with a signed dm-verity root hash (psi checks the
#              PKCS#7 signature and the whole hash tree)
# For each: inside a running psi (N pulls fed to one psi shell after 2 warm-up pulls,
# so neither the JVM start nor the JIT's warm-up is counted), and cold (`psi pull` from JVM start to exit, median
# of N); curl: median of N, with and without an fsync of its file (psi fsyncs before the
# rename), each followed by the rm of the file as psi's loop removes its image. Prints the
# figures and the ratios psi/curl. Last, the same pulls through a resident psi
# daemon (psi daemon --background in the box, the thin client).
# Needs root, nginx-light, gnupg, curl, squashfs-tools, fdisk, systemd-container, and
# a built distribution (mvn -B install -DskipTests).
set -euo pipefail
N=${1:-5}
MB=${MB:-256}
top=$(cd "$(dirname "$0")/../.." && pwd)
box=$top/itest/box/testbox.sh
state=$(mktemp -d /var/tmp/psi-bench.XXXXXX)
srv=$(mktemp -d /var/tmp/psi-bench-srv.XXXXXX)
gh=$(mktemp -d /tmp/psi-gpg.XXXXXX)
trap '"$box" clean "$state" >/dev/null 2>&1 || true; "$top/itest/servers/nginx.sh" stop "$srv" >/dev/null 2>&1 || true;
	gpgconf --homedir "$gh" --kill gpg-agent 2>/dev/null || true; rm -rf "$state" "$srv" "$gh"' EXIT
fail() { echo "pull-https: $*" >&2; exit 1; }
[ -f "$top/distribution/target/psi.jar" ] || fail "build psi first (mvn -B install -DskipTests)"

# the images: a tree holding MB of random bytes (incompressible, so the image is MB big)
work=$srv/work
"$top/itest/box/make-images.sh" "$work/dirs" >/dev/null
. "$top/itest/box/raw-lib.sh"
tree big; head -c $((MB << 20)) /dev/urandom > "$work/big/usr/lib/payload"
mkdir -p "$srv/www/verity"
gpt "$work/big" "$srv/www/big_1.psi" "$root_type"
verity_image big "$srv/www/verity/big_1.psi" "$srv/verity.key" "$srv/verity.crt" $(( (MB + 16) << 20 )) $(( (MB / 16 + 4) << 20 ))
chmod 700 "$gh"
gpg --homedir "$gh" --batch --quiet --passphrase '' --quick-gen-key 'psi bench <b@test.invalid>' ed25519 sign never 2>/dev/null
gpg --homedir "$gh" --export > "$srv/trusted.gpg"
(cd "$srv/www" && sha256sum big_1.psi > SHA256SUMS && gpg --homedir "$gh" --batch --yes --detach-sign -o SHA256SUMS.gpg SHA256SUMS)
eval "$("$top/itest/servers/nginx.sh" start "$srv")"
url=https://127.0.0.1:$PORT

pid=$("$box" start "$state")
R=/proc/$pid/root
mkdir -p "$R/var/lib/portables" "$R/opt/psi/etc" "$R/etc/psi/ca.d" "$R/etc/psi/trusted.gpg.d" "$R/etc/verity.d"
cp "$top/distribution/psi" "$top/distribution/target/psi.jar" "$top/distribution/target/psi-client" "$R/opt/psi/"
: > "$R/opt/psi/etc/gosh_profile"
cp "$srv/pki/ca.crt" "$R/etc/psi/ca.d/bench.crt"
cp "$srv/trusted.gpg" "$R/etc/psi/trusted.gpg.d/bench.gpg"
cp "$srv/verity.crt" "$R/etc/verity.d/bench.crt"
cp "$srv/pki/ca.crt" "$R/opt/psi/ca.crt"
inbox() { "$box" exec "$state" "$@"; }
. "$(dirname "$(readlink -f "$0")")/bench-lib.sh"
ms() { awk -v n="$1" 'BEGIN {printf "%.0f", n / 1e6}'; }

# psi_run N PATH: ns for one psi shell pulling URL/PATH N times (removing it after each)
psi_run() {
	local n=$1 path=$2 t0 t1 done
	for ((i = 0; i < n; i++)); do printf 'psi:pull %s\npsi:remove big_1\n' "$url/$path"; done > "$R/opt/psi/run.gosh"
	t0=$(now); inbox sh -c '/opt/psi/psi < /opt/psi/run.gosh > /opt/psi/run.out 2>&1 || true'; t1=$(now)
	done=$(grep -c -- "^Pulled: /var/lib/portables/big_1.raw" "$R/opt/psi/run.out" || true)
	[ "$done" -eq "$n" ] || { tail -5 "$R/opt/psi/run.out" >&2; fail "psi pulled $done of $n times"; }
	echo $((t1 - t0))
}
# per pull in a running, warmed-up psi: (T(W + N) - T(W)) / N, W = 2 pulls that let the
# JIT compile the TLS, hashing and copying paths; medians of 3
psi_warm() {
	local base full
	base=$( (for k in 1 2 3; do psi_run 2 "$1"; done) | median)
	full=$( (for k in 1 2 3; do psi_run $((N + 2)) "$1"; done) | median)
	echo $(( (full - base) / N ))
}
psi_cold() {
	for ((i = 0; i < N; i++)); do
		local t0 t1
		t0=$(now); inbox /opt/psi/psi pull "$url/$1" > /dev/null 2>&1 || fail "psi pull $1 failed"; t1=$(now)
		inbox rm -f /var/lib/portables/big_1.raw
		echo $((t1 - t0))
	done | median
}
# curl_run PATH [sync]: ns for curl -o, then (as psi's loop does psi:remove) rm, in one
# command in the box; with "sync", curl's file is also fsynced before the rm (psi fsyncs
# every image before its rename)
curl_run() {
	local extra=
	[ "${2:-}" = sync ] && extra='&& sync /var/lib/portables/curl.raw'
	for ((i = 0; i < N; i++)); do
		local t0 t1
		t0=$(now)
		inbox sh -c "curl -sS --fail --cacert /opt/psi/ca.crt -o /var/lib/portables/curl.raw '$url/$1' $extra && rm -f /var/lib/portables/curl.raw"
		t1=$(now)
		echo $((t1 - t0))
	done | median
}

# psi_daemon PATH: per pull through a resident psi daemon (the thin client, whole
# commands, each followed by a remove), after 2 warm-up pulls; median of N
psi_daemon() {
	for ((i = 0; i < N + 2; i++)); do
		local t0 t1
		t0=$(now); inbox /opt/psi/psi pull "$url/$1" > /dev/null 2>&1 || fail "psi pull $1 through the daemon failed"; t1=$(now)
		inbox /opt/psi/psi remove big_1 >/dev/null
		[ "$i" -ge 2 ] && echo $((t1 - t0))
	done | median
}

declare -A curl_ns
for kind in gpt verity; do
	path=big_1.psi; [ $kind = verity ] && path=verity/big_1.psi
	c=$(curl_run "$path"); cs=$(curl_run "$path" sync); w=$(psi_warm "$path"); k=$(psi_cold "$path")
	curl_ns[$kind]=$c
	size=$(stat -c %s "$srv/www/$path")
	echo "$kind ($((size >> 20)) MiB): curl $(ms "$c") ms, curl+fsync $(ms "$cs") ms; psi pull in a running psi $(ms "$w") ms" \
		"($(ratio "$w" "$c")x curl, $(ratio "$w" "$cs")x curl+fsync); cold psi pull $(ms "$k") ms ($(ratio "$k" "$c")x curl)"
done
# through the daemon: started only now, so that the cold pulls above ran in-process
inbox /opt/psi/psi daemon --background >/dev/null 2>&1 || fail "psi daemon --background did not start"
for kind in gpt verity; do
	path=big_1.psi; [ $kind = verity ] && path=verity/big_1.psi
	d=$(psi_daemon "$path")
	echo "$kind: psi pull through the daemon $(ms "$d") ms ($(ratio "$d" "${curl_ns[$kind]}")x curl)"
done
served=$(inbox grep -c -- 'pull .* -> 0 ' /var/log/psi/psi.log)
[ "$served" -eq $((2 * (N + 2))) ] || fail "the daemon served $served of $((2 * (N + 2))) pulls: some ran in-process"
