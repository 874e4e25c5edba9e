#!/bin/bash
# The crash-consistency harness, long run: psi killed with SIGKILL at random
# instants of attach, detach, reattach, remove and pull, RUNS times (default
# 200), each followed by the next psi command, which must find the host
# exactly before or after the operation with nothing left over
# (bundles/core CrashConsistencyTest; every build runs it 30 times).
# Prints the outcomes; SEED replays a run.
#
#   itest/harness/crash-consistency.sh [RUNS [SEED]]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-200}"
seed=()
[ -n "${2:-}" ] && seed=(-Dpsi.crash.seed="$2")
mkdir -p target
log=target/crash-consistency.log
mvn -B -q -o -pl bundles/core -am test-compile -Dbnd.baseline.skip=true >"$log" 2>&1 || {
	echo "crash-consistency.sh: the build failed, see $log" >&2
	exit 2
}
if mvn -B -o -pl bundles/core surefire:test -Dtest=CrashConsistencyTest -Dpsi.crash.runs="$runs" "${seed[@]}" >>"$log" 2>&1; then
	sed -n '/^crash consistency:/,/^\[/p' "$log" | grep -v '^\['
else
	grep -E 'run [0-9]+ \(seed|neither|leftovers|FAIL' "$log" | head -20
	echo "crash-consistency.sh: failed, see $log" >&2
	exit 1
fi
