#!/bin/sh
# build-deb.sh TARGET VERSION - the Debian package of psi, from what the build
# made in TARGET (psi.jar, psi-client, psi-exec): TARGET/psi_VERSION_ARCH.deb,
# made by dpkg-deb, files owned by root. Run by Maven (distribution/pom.xml,
# phase verify); by hand: distribution/deb/build-deb.sh distribution/target 0.1.0
#
# The package is of the machine's architecture, not "all": psi-client and
# psi-exec are compiled C. psi(1) and the bash and zsh completions are written
# here by psi itself (psi --reference), from the commands' own descriptions.
set -eu
target=$(cd "$1" && pwd)
version=$2
here=$(cd "$(dirname "$0")" && pwd)
dist=$(dirname "$here")
arch=$(dpkg --print-architecture)
pkg="$target/deb-root"
rm -rf "$pkg"
umask 022

install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/share/psi/etc" "$pkg/usr/lib/psi" "$pkg/usr/lib/systemd/system" \
	"$pkg/usr/lib/tmpfiles.d" "$pkg/usr/share/dbus-1/system.d" "$pkg/usr/share/psi/dbus" "$pkg/usr/share/man/man1" "$pkg/usr/share/man/man5" \
	"$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" "$pkg/usr/share/doc/psi" \
	"$pkg/etc/psi" "$pkg/var/lib/psi/plugins" "$pkg/usr/share/lintian/overrides"
install -m 0755 "$dist/psi" "$pkg/usr/share/psi/psi"
ln -s ../share/psi/psi "$pkg/usr/bin/psi"
install -m 0644 "$target/psi.jar" "$pkg/usr/share/psi/psi.jar"
install -m 0644 "$dist/etc/gosh_profile" "$pkg/usr/share/psi/etc/gosh_profile"
install -s -m 0755 "$target/psi-client" "$target/psi-exec" "$pkg/usr/lib/psi/"
install -m 0644 "$dist/systemd/psi.socket" "$dist/systemd/psi.service" "$dist/systemd/psi-update.service" \
	"$dist/systemd/psi-update.timer" "$pkg/usr/lib/systemd/system/"
# psi's own interface on the bus; serving org.freedesktop.portable1 in portabled's place is
# the admin's choice (README, "psi as portabled"): those two files are only shipped
install -m 0644 "$dist/dbus/org.freedesktop.portable1.psi.conf" "$pkg/usr/share/dbus-1/system.d/"
install -m 0644 "$dist/dbus/org.freedesktop.portable1.conf" "$dist/dbus/org.freedesktop.portable1.service" "$pkg/usr/share/psi/dbus/"
echo 'd /run/psi 0755 root root -' > "$pkg/usr/lib/tmpfiles.d/psi.conf"
install -m 0644 "$here/psi.engine.cfg" "$pkg/etc/psi/psi.engine.cfg"

ref="$target/reference"
PSI_JAR="$target/psi.jar" PSI_IN_PROCESS=1 "$dist/psi" --no-daemon --reference "$ref" >/dev/null
gzip -9n < "$ref/psi.1" > "$pkg/usr/share/man/man1/psi.1.gz"
gzip -9n < "$ref/psi.conf.5" > "$pkg/usr/share/man/man5/psi.conf.5.gz"
install -m 0644 "$ref/psi.bash" "$pkg/usr/share/bash-completion/completions/psi"
install -m 0644 "$ref/_psi" "$pkg/usr/share/zsh/vendor-completions/_psi"
gzip -9n < "$dist/../README.md" > "$pkg/usr/share/doc/psi/README.md.gz"
install -m 0644 "$here/copyright" "$pkg/usr/share/doc/psi/copyright"
printf 'psi (%s) unstable; urgency=medium\n\n  * Built from the psi source tree.\n\n -- psi developers <psi@example.org>  %s\n' \
	"$version" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$dist" log -1 --format=%ct 2>/dev/null || echo 0)}")" \
	| gzip -9n > "$pkg/usr/share/doc/psi/changelog.gz"
install -m 0644 "$here/lintian-overrides" "$pkg/usr/share/lintian/overrides/psi"

for f in postinst prerm postrm; do install -m 0755 "$here/$f" "$pkg/DEBIAN/$f"; done
echo /etc/psi/psi.engine.cfg > "$pkg/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$here/control" > "$pkg/DEBIAN/control"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort | xargs md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"
out="$target/psi_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out.tmp" >/dev/null
mv -f "$out.tmp" "$out"
echo "Wrote $out"
