#!/bin/bash
# Coverage-guided fuzzing (Jazzer) of every parser psi has, one after the other
# (or several at once with -j), each for SECONDS; prints one line per parser:
# executions, coverage (libFuzzer's covered edges and features), corpus size,
# findings. A finding is saved by Jazzer under the module's
# src/test/resources/.../*FuzzTargetTestInputs/METHOD/crash-* and then runs as
# a regression test in every build; fix the parser, keep the input.
#
#   itest/harness/fuzz.sh [-j JOBS] SECONDS [NAME...]
#
# NAMEs are the first column below (default: all); a fourth column names
# libraries whose classes are instrumented too (Bouncy Castle, which parses
# OpenPGP for psi), besides psi's own. The corpus each run grows is
# kept in the module's .cifuzz-corpus/ (not committed) and reused by the next
# run. Logs: target/fuzz/NAME.log. Exit status 1 when any parser had a finding.
set -uo pipefail
cd "$(dirname "$0")/../.."

targets=(
	"gpt             plugins/format-raw   psi.format.raw.internal.gpt.GptFuzzTargetTest#gpt"
	"squashfs        plugins/format-raw   psi.format.raw.internal.squashfs.SquashfsFuzzTargetTest#squashfs"
	"verity-sb       plugins/format-raw   psi.format.raw.internal.verity.VerityFuzzTargetTest#superblock"
	"verity-sig      plugins/format-raw   psi.format.raw.internal.verity.VerityFuzzTargetTest#signature"
	"os-release      bundles/core         psi.core.internal.OsReleaseFuzzTargetTest#osRelease"
	"unit-file       bundles/core         psi.core.internal.UnitFileFuzzTargetTest#unit"
	"sha256sums      plugins/verify-sums  psi.verify.sums.internal.Sha256SumsFuzzTargetTest#sums"
	"openpgp-sig     plugins/verify-sums  psi.verify.sums.internal.OpenPgpFuzzTargetTest#signature  org.bouncycastle.**"
	"openpgp-keyring plugins/verify-sums  psi.verify.sums.internal.OpenPgpFuzzTargetTest#keyring    org.bouncycastle.**"
	"sftp            plugins/transport-ssh psi.transport.ssh.internal.SftpFuzzTargetTest#download"
)

jobs=1
if [ "${1:-}" = "-j" ]; then
	jobs="$2"
	shift 2
fi
seconds="${1:?usage: itest/harness/fuzz.sh [-j JOBS] SECONDS [NAME...]}"
shift
wanted=("$@")

mkdir -p target/fuzz
modules="$(printf '%s\n' "${targets[@]}" | awk '{print $2}' | sort -u | paste -sd,)"
# compile once; each run then starts surefire alone
mvn -B -q -o -pl "$modules" -am test-compile -Dbnd.baseline.skip=true >target/fuzz/compile.log 2>&1 || {
	echo "fuzz.sh: the build failed, see target/fuzz/compile.log" >&2
	exit 2
}

run() {
	local name="$1" module="$2" test="$3" extra="$4" log="target/fuzz/$1.log"
	local include=()
	[ -n "$extra" ] && include=(-Djazzer.instrumentation_includes="psi.**:$extra")
	# a surefire directory of its own: runs in one module at once must not delete each other's booter;
	# libFuzzer's arguments: argument 0 is a program name; the time limit of the run
	JAZZER_FUZZ=1 mvn -B -o -pl "$module" surefire:test -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false -DtempDir="fuzz-$name" \
		-Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time="$seconds" -DargLine=-Xmx1g "${include[@]}" >"$log" 2>&1
	local status=$?
	local done cov
	done="$(grep -aoE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | awk '{print $2" executions in "$5" s"}')"
	cov="$(grep -aoE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1 | awk '{print "coverage "$2" edges, "$4" features, corpus "$6}')"
	local found="no finding"
	if [ "$status" -ne 0 ] || grep -aq '== Java Exception\|ERROR: libFuzzer\|Timeout\|Out of memory' "$log"; then
		found="FINDING (exit $status), see $log"
	fi
	printf '%-16s %s; %s; %s\n' "$name" "${done:-no run}" "${cov:-no coverage}" "$found"
	[ "$found" = "no finding" ]
}

failed=0
running=0
for t in "${targets[@]}"; do
	read -r name module test extra <<<"$t"
	if [ "${#wanted[@]}" -gt 0 ] && [[ ! " ${wanted[*]} " =~ " $name " ]]; then
		continue
	fi
	run "$name" "$module" "$test" "${extra:-}" >"target/fuzz/$name.result" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || failed=1
		running=$((running - 1))
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n || failed=1
	running=$((running - 1))
done
for t in "${targets[@]}"; do
	read -r name _ <<<"$t"
	[ -f "target/fuzz/$name.result" ] && cat "target/fuzz/$name.result" && rm -f "target/fuzz/$name.result"
done
exit "$failed"
