#!/bin/bash
# make-delivery-images.sh OUTDIR - what psi's delivery tests serve over
# https, ssh and file:, made by the real tools (mksquashfs, sfdisk,
# systemd-repart, gpg):
#   www/foobar_1.psi            GPT image, unit foobar.service (busybox sleep)
#   www/SHA256SUMS[.gpg]        its checksum (and other_1.psi's), signed by the trusted OpenPGP key
#   www/verity/vfoo_1.psi       systemd-repart image with a signed dm-verity root hash
#                               (certificate OUTDIR/verity.crt), unit vfoo.service; no SHA256SUMS
#   www/flip-image/             foobar_1.psi with one byte flipped; the good SHA256SUMS[.gpg]
#   www/flip-sums/              one hex digit of other_1.psi's line in SHA256SUMS changed; the old signature
#   www/flip-sig/               one byte of SHA256SUMS.gpg flipped
#   www/untrusted/              SHA256SUMS signed by a key nobody trusts
#   www/escape/                 SHA256SUMS naming ../foobar_1.psi, signed by the trusted key
#   www/verity-flip/vfoo_1.psi  one byte of the verity data partition flipped
#   www/verity-roothash/        vfoo_1.psi beside a vfoo_1.roothash that is not its root hash
#   www/updates/                foobar_1.psi and its signed SHA256SUMS
#   www/updates-next/           foobar_2.psi (unit "psi test: foobar version 2") and a signed SHA256SUMS
#                               listing foobar_1.psi and foobar_2.psi: a new release for the update test
#   trusted.gpg                 the trusted public key (binary keyring)
#   verity.crt, verity.key      the dm-verity signing certificate
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(dirname "$(readlink -f "$0")")
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/psi-dlv.XXXXXX")
gh=$(mktemp -d /tmp/psi-gpg.XXXXXX)   # short: gpg-agent's socket path is limited
trap 'gpgconf --homedir "$gh/t" --kill gpg-agent 2>/dev/null || true; gpgconf --homedir "$gh/u" --kill gpg-agent 2>/dev/null || true; rm -rf "$work" "$gh"' EXIT
"$here/make-images.sh" "$work/dirs" >/dev/null
. "$here/raw-lib.sh"

www=$out/www
rm -rf "$www"
mkdir -p "$www"/{verity,flip-image,flip-sums,flip-sig,untrusted,escape,verity-flip,verity-roothash}

tree foobar; gpt "$work/foobar" "$www/foobar_1.psi" "$root_type"
verity_image vfoo "$www/verity/vfoo_1.psi" "$out/verity.key" "$out/verity.crt"

# flip BYTE-OFFSET FILE: inverts one byte in place
flip() { printf "$(printf '\\%03o' $(( $(od -An -tu1 -j "$1" -N1 "$2") ^ 255 )))" | dd of="$2" bs=1 seek="$1" conv=notrunc status=none; }

# OpenPGP keys: the trusted one and another
for k in t u; do
	mkdir -m 700 "$gh/$k"
	gpg --homedir "$gh/$k" --batch --quiet --passphrase '' --quick-gen-key "psi test $k <psi-$k@test.invalid>" ed25519 sign never 2>/dev/null
done
gpg --homedir "$gh/t" --export > "$out/trusted.gpg"
sign() { gpg --homedir "$gh/$1" --batch --yes --quiet --detach-sign -o "$2.gpg" "$2"; }

head -c 4096 /dev/urandom > "$www/other_1.psi"
(cd "$www" && sha256sum foobar_1.psi other_1.psi > SHA256SUMS)
sign t "$www/SHA256SUMS"

cp "$www/foobar_1.psi" "$www/SHA256SUMS" "$www/SHA256SUMS.gpg" "$www/flip-image/"
flip $((1048576 + 4096)) "$www/flip-image/foobar_1.psi"

cp "$www/foobar_1.psi" "$www/SHA256SUMS.gpg" "$www/flip-sums/"
# the other image's line: foobar_1.psi's checksum still holds, the signature does not
# (its first hex digit becomes 1 if it was 0, else 0)
sed '/other_1.psi/ { s/^0/X/; s/^[0-9a-f]/0/; s/^X/1/ }' "$www/SHA256SUMS" > "$www/flip-sums/SHA256SUMS"
cmp -s "$www/SHA256SUMS" "$www/flip-sums/SHA256SUMS" && { echo "flip-sums: nothing changed" >&2; exit 1; }

cp "$www/foobar_1.psi" "$www/SHA256SUMS" "$www/SHA256SUMS.gpg" "$www/flip-sig/"
flip $(( $(stat -c %s "$www/SHA256SUMS.gpg") - 8 )) "$www/flip-sig/SHA256SUMS.gpg"

cp "$www/foobar_1.psi" "$www/SHA256SUMS" "$www/untrusted/"
sign u "$www/untrusted/SHA256SUMS"

cp "$www/foobar_1.psi" "$www/escape/"
sed 's#  foobar_1.psi#  ../foobar_1.psi#' "$www/SHA256SUMS" > "$www/escape/SHA256SUMS"
sign t "$www/escape/SHA256SUMS"

cp "$www/verity/vfoo_1.psi" "$www/verity-flip/"
start=$(sfdisk --json "$www/verity-flip/vfoo_1.psi" | python3 -c 'import json,sys; print(min(p["start"] for p in json.load(sys.stdin)["partitiontable"]["partitions"]))')
flip $(( start * 512 + 3 * 4096 + 17 )) "$www/verity-flip/vfoo_1.psi"

cp "$www/verity/vfoo_1.psi" "$www/verity-roothash/"
printf '%064d\n' 1 > "$www/verity-roothash/vfoo_1.roothash"

# updates/: foobar_1.psi and its signed SHA256SUMS; updates-next/: foobar_2.psi (unit description
# "psi test: foobar version 2") and a signed SHA256SUMS listing both, which the update test
# publishes into updates/ as a new release would be
mkdir -p "$www/updates" "$www/updates-next"
cp "$www/foobar_1.psi" "$www/updates/"
(cd "$www/updates" && sha256sum foobar_1.psi > SHA256SUMS)
sign t "$www/updates/SHA256SUMS"
tree foobar "version 2"; gpt "$work/foobar" "$www/updates-next/foobar_2.psi" "$root_type"
cp "$www/foobar_1.psi" "$www/updates-next/"
(cd "$www/updates-next" && sha256sum foobar_1.psi foobar_2.psi > SHA256SUMS && rm foobar_1.psi)
sign t "$www/updates-next/SHA256SUMS"
