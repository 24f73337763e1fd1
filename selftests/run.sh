#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the selftests inside the VM (tools/vm/run -- selftests/run.sh), one
# boot for the whole suite; on each of two hosts (tools/vm/run --hosts 2
# -- selftests/run.sh), the two-host suite. Counts TAP results across all tests, prints
# "N passed, N failed, N skipped" and stores the counts for check.sh.
#   selftests/run.sh [TEST...]   (default: all, in the order below)
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
bin=${BUILD:-$top/build}/selftests

TESTS=(
	btf.sh
	udmabuf
	netdevsim_wire.sh
	devmem_rx.sh
	devmem_genl.sh
	devmem_trace.sh
	devmem_bpf.sh
	devmemctl.sh
	devmem_fuzz.sh
	devmem_tx.sh
	libdevmem.sh
	devmem_tcp_paths.sh
	devmem_semantics.sh
	devmem_exporters.sh
	devmem_faults.sh
)
# on two hosts (tools/vm/run --hosts 2): each runs on both at once
TWO_HOST_TESTS=(
	twohost_wire.sh
	twohost_devmem.sh
)
[ -n "${DEVMEM_HOST:-}" ] && TESTS=("${TWO_HOST_TESTS[@]}")
[ $# -gt 0 ] && TESTS=("$@")
# a suite that hangs is killed (with everything it started: timeout signals
# its process group) and fails, and the rest still run; the longest takes
# ~7 min on the debug kernel
limit=${DEVMEM_SUITE_TIMEOUT:-900}

passed=0 failed=0 skipped=0
for t in "${TESTS[@]}"; do
	case $t in
	*.sh) cmd=("$here/$t") ;;
	*) cmd=("$bin/$t") ;;
	esac
	echo "# ---- $t"
	out=$(mktemp)
	start=$(date +%s)
	timeout -k 30 "$limit" "${cmd[@]}" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "# $t did not finish in ${limit}s: killed"
	fi
	# top-level TAP results only (the C harness indents nothing here)
	p=$(grep -Ec '^ok [0-9]+' "$out")
	s=$(grep -Ec '^ok [0-9]+.*# SKIP' "$out")
	f=$(grep -Ec '^not ok [0-9]+' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $t exited with status $rc"
		f=1
	fi
	if [ $((p + f)) -eq 0 ]; then
		echo "not ok - $t reported no results"
		f=1
	fi
	echo "# ---- $t: $((p - s)) passed, $f failed, $s skipped ($(($(date +%s) - start))s)"
	passed=$((passed + p - s)) failed=$((failed + f)) skipped=$((skipped + s))
	rm -f "$out"
done

echo "$passed $failed $skipped" > "${VM_SCRATCH:-/tmp}/selftests.counts"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
