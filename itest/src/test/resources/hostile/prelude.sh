# Helpers for the hostile-input corpus (cases.txt), sourced before each
# case's setup and run. ROOT is the case's scratch root, REPO a repository
# directory for file:// pulls, OUT a directory outside the root that no case
# may change, PSI the launcher.

# mkimg DIR [UNIT...]: a directory image with an os-release and simple units
mkimg() {
	_d=$1
	shift
	mkdir -p "$_d/usr/lib/systemd/system" "$_d/etc"
	printf 'ID=test\n' >"$_d/usr/lib/os-release"
	for _u in "$@"; do
		printf '[Service]\nExecStart=/bin/true\n' >"$_d/usr/lib/systemd/system/$_u"
	done
}

# mkraw FILE DIR: a naked squashfs image of DIR
mkraw() {
	mksquashfs "$2" "$1" -noappend -quiet -all-root >/dev/null
}
