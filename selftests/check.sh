#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: the whole suite in one VM boot, then the host-side tests of
# the platform itself. Prints one closing line: N passed, N failed, N skipped.
top=$(cd "$(dirname "$0")/.." && pwd)
scratch=${BUILD:-$top/build}/vm/check

# the suite takes ~35 min on the debug kernel: more than the runner's default
"$top/tools/vm/run" -t "${DEVMEM_CHECK_TIMEOUT:-3300}" -s "$scratch" -- "$top/selftests/run.sh" "$@"
vmrc=$?
read -r passed failed skipped < "$scratch/selftests.counts" 2>/dev/null || {
	passed=0 failed=1 skipped=0
}
# a clean suite in a dirty kernel log is still a failure
[ $vmrc -ne 0 ] && [ "$failed" -eq 0 ] && failed=1

if [ $# -eq 0 ]; then
	for t in "$top"/selftests/host/*.sh; do
		echo "# ---- host/$(basename "$t")"
		out=$("$t" 2>&1)
		echo "$out"
		p=$(grep -Ec '^ok [0-9]+' <<<"$out")
		f=$(grep -Ec '^not ok [0-9]+' <<<"$out")
		passed=$((passed + p)) failed=$((failed + f))
	done
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
