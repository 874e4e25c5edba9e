# raw-lib.sh - functions for the scripts that make raw test images; sourced
# after setting $work (a scratch directory) and running make-images.sh into
# $work/dirs. Needs squashfs-tools, fdisk, systemd-container (repart),
# openssl.
case $(uname -m) in
	x86_64) root_type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 ;;
	aarch64) root_type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE ;;
	*) echo "make-raw-images: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

# tree NAME: a copy of the `single` image whose unit is NAME.service
tree() {
	rm -rf "$work/$1"
	cp -a "$work/dirs/single" "$work/$1"
	mv "$work/$1/usr/lib/systemd/system/single.service" "$work/$1/usr/lib/systemd/system/$1.service"
	sed -i "s/psi test: single/psi test: $1 ${2:-}/" "$work/$1/usr/lib/systemd/system/$1.service"
}
squash() { mksquashfs "$1" "$2" -comp zstd -noappend -all-root -quiet -no-progress >/dev/null; }
# gpt TREE OUT TYPE: a GPT image with the squashfs of TREE in one partition of TYPE
gpt() {
	local fs=$work/fs.sqfs size sectors
	squash "$1" "$fs"
	size=$(stat -c %s "$fs")
	sectors=$(( (size + 511) / 512 ))
	rm -f "$2"
	truncate -s $(( (2048 + sectors + 2048 + 34) * 512 )) "$2"
	echo "start=2048, size=$sectors, type=$3, name=\"root\"" | sfdisk -q --label gpt "$2" >/dev/null
	dd if="$fs" of="$2" bs=512 seek=2048 conv=notrunc status=none
}

# verity_image NAME OUT KEY CRT [DATA_MIN HASH_MIN]: systemd-repart's root
# squashfs + root-verity + root-verity-sig image of tree NAME, signed by
# KEY/CRT (made when missing). repart 252's --size=auto cannot size a large
# squashfs or its hash partition: give their minimum sizes (SizeMinBytes=)
# for trees of more than a few MB.
verity_image() {
	tree "$1"
	[ -f "$3" ] || openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=psi test verity" -days 3650 \
		-keyout "$3" -out "$4" 2>/dev/null
	mkdir -p "$work/defs"
	cat > "$work/defs/10-root.conf" <<'DEF'
[Partition]
Type=root
Format=squashfs
CopyFiles=/
Verity=data
VerityMatchKey=root
DEF
	[ -z "${5:-}" ] || echo "SizeMinBytes=$5" >> "$work/defs/10-root.conf"
	cat > "$work/defs/20-verity.conf" <<'DEF'
[Partition]
Type=root-verity
Verity=hash
VerityMatchKey=root
DEF
	[ -z "${6:-}" ] || echo "SizeMinBytes=$6" >> "$work/defs/20-verity.conf"
	cat > "$work/defs/30-verity-sig.conf" <<'DEF'
[Partition]
Type=root-verity-sig
Verity=signature
VerityMatchKey=root
DEF
	rm -f "$2"
	systemd-repart --empty=create --size=auto --dry-run=no --no-pager --definitions="$work/defs" \
		--root="$work/$1" --private-key="$3" --certificate="$4" \
		"$2" >"$work/repart.log" 2>&1 || { cat "$work/repart.log" >&2; exit 1; }
}
