#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The VM runner's log checker is what turns a kernel splat into a failed
# test. Prove it: a WARNING provoked with LKDTM must fail the run, and the
# runner must print the report. Runs on the host; boots the VM once.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib.sh"

tap_plan 3
scratch=${BUILD:-$top/build}/vm/logcheck
err=$(mktemp)
"$top/tools/vm/run" -s "$scratch" -- sh -c 'echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' 2> "$err"
rc=$?
ok "a guest WARNING fails the run (exit $rc)" test "$rc" -eq 1
ok "the runner names the failure" grep -q 'the kernel log has a report' "$err"
ok "the runner prints the WARNING and its source" grep -q 'WARNING:.*lkdtm' "$err"
[ "$__tap_failed" -eq 0 ] || sed 's/^/# /' "$err"
rm -f "$err"
tap_done
