#!/bin/bash
# Refresh the baseline that bnd's baseliner checks exported package versions
# against (see README.md here): rebuild the exporting bundles from a commit,
# normally the one that just landed, and store them in this folder as a Maven
# repository. Commit the result.
#
#   cnf/baseline/update.sh [COMMIT [MAVEN-ARGUMENTS...]]
#
# COMMIT defaults to HEAD; MAVEN-ARGUMENTS go to that build (for example -o).
# The commit is built in a throwaway git worktree, never from the work tree,
# and only packaged, so ~/.m2 keeps this work tree's SNAPSHOTs.
set -euo pipefail

# Modules whose bundles export packages (bundles/dbus-java is left out on
# purpose: its exports are dbus-java's own, versioned 5.2.2 by upstream).
# bundles/shell exports psi.shell.command since the engine was reshaped (issue 9).
modules=(bundles/api bundles/shell)

here="$(cd "$(dirname "$0")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel)"
commit="$(git -C "$root" rev-parse --verify "${1:-HEAD}^{commit}")"
shift || true

# A version Maven orders below the project's (0.x.y-SNAPSHOT and up), new for
# every refresh, so a ~/.m2 that cached an older baseline jar does not keep it.
stamp="$(TZ=UTC git -C "$root" show -s --date=format-local:%Y%m%d%H%M%S --format=%cd "$commit")"
version="0.0.0-landed-${stamp}-$(git -C "$root" rev-parse --short=7 "$commit")"

work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach --quiet "$work/src" "$commit"

list="$(IFS=,; echo "${modules[*]}")"
(cd "$work/src" && mvn -B -q -DskipTests -Dbnd.baseline.skip=true "$@" -pl "$list" -am package)

checksums() {
	sha1sum "$1" | cut -d' ' -f1 | tr -d '\n' >"$1.sha1"
	md5sum "$1" | cut -d' ' -f1 | tr -d '\n' >"$1.md5"
}

for m in "${modules[@]}"; do
	pom="$work/src/$m/pom.xml"
	# the module's own coordinates: the first ones outside <parent>, the
	# groupId inherited from the parent when the module names none
	coordinates="$(perl -0777 -ne 's:<parent>(.*?)</parent>::s; my $p = $1 // ""; m:^(.*?)<artifactId>([^<]+)</artifactId>:s or exit 1;
		my ($head, $a) = ($1, $2); my ($g) = $head =~ m:<groupId>([^<]+)</groupId>:; ($g) = $p =~ m:<groupId>([^<]+)</groupId>: unless $g;
		print "$g $a"' "$pom")"
	read -r groupId artifactId <<<"$coordinates"
	jars=()
	for j in "$work/src/$m/target/$artifactId"-*.jar; do
		case "$j" in *-sources.jar | *-tests.jar | *-javadoc.jar) ;; *) jars+=("$j") ;; esac
	done
	if [ "${#jars[@]}" -ne 1 ]; then
		echo "update.sh: expected one bundle jar in $m/target, found ${#jars[@]}" >&2
		exit 1
	fi
	dir="$here/${groupId//.//}/$artifactId"
	rm -rf "$dir"
	mkdir -p "$dir/$version"
	cp "${jars[0]}" "$dir/$version/$artifactId-$version.jar"
	checksums "$dir/$version/$artifactId-$version.jar"
	cat >"$dir/maven-metadata.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>$groupId</groupId>
  <artifactId>$artifactId</artifactId>
  <versioning>
    <latest>$version</latest>
    <release>$version</release>
    <versions>
      <version>$version</version>
    </versions>
    <lastUpdated>$stamp</lastUpdated>
  </versioning>
</metadata>
EOF
	checksums "$dir/maven-metadata.xml"
	echo "$groupId:$artifactId:$version <- $m at $commit"
done
