#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The two-host runner (tools/vm/run --hosts 2) fails when either host
# fails: a command failing on b alone, and a kernel report on b alone,
# each fail the run; each host's output comes back under its name with
# its own environment. Runs on the host; boots two VMs twice.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib.sh"

tap_plan 6
scratch=${BUILD:-$top/build}/vm/twohost
out=$(mktemp) err=$(mktemp)

# a succeeds, b exits 3
"$top/tools/vm/run" --hosts 2 -t 600 -s "$scratch" -- sh -c \
	'echo "env $DEVMEM_HOST $DEVMEM_NIC $DEVMEM_ADDR $DEVMEM_PEER"; touch "$DEVMEM_SHARED/$DEVMEM_HOST"; [ "$DEVMEM_HOST" = a ] || exit 3' \
	> "$out" 2> "$err"
rc=$?
ok "b's command failing fails the run with its status (exit $rc)" test "$rc" -eq 3
ok "a's output comes back prefixed, with a's environment" \
	grep -qx "a: env a eth0 192.0.2.1 192.0.2.2" "$out"
ok "b's output comes back prefixed, with b's environment" \
	grep -qx "b: env b eth0 192.0.2.2 192.0.2.1" "$out"
ok "both wrote to the shared directory" test -f "$scratch/shared/a" -a -f "$scratch/shared/b"
[ "$__tap_failed" -eq 0 ] || sed 's/^/# /' "$out" "$err"

# a clean, a WARNING on b
"$top/tools/vm/run" --hosts 2 -t 600 -s "$scratch" -- sh -c \
	'[ "$DEVMEM_HOST" = a ] || echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
	> "$out" 2> "$err"
rc=$?
ok "a WARNING on b fails the run (exit $rc)" test "$rc" -eq 1
ok "the runner names b and prints its WARNING" \
	sh -c "grep -q 'host b: the kernel log has a report' '$err' && grep -q 'WARNING:.*lkdtm' '$err'"
[ "$__tap_failed" -eq 0 ] || sed 's/^/# /' "$out" "$err"
rm -f "$out" "$err"
tap_done
