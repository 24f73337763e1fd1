#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: the whole suite in one VM boot, the two-host suite in a
# second boot of two VMs (tools/vm/run --hosts 2), and beside the first
# boot the host-side tests of the platform itself. Prints one closing
# line: N passed, N failed, N skipped.
#   selftests/check.sh [TEST...]   twohost_* tests go to the two-host boot
top=$(cd "$(dirname "$0")/.." && pwd)
scratch=${BUILD:-$top/build}/vm/check
scratch2=${BUILD:-$top/build}/vm/check-twohost

one=() two=()
for t in "$@"; do
	case $t in twohost_*) two+=("$t") ;; *) one+=("$t") ;; esac
done

passed=0 failed=0 skipped=0
# add_counts VM-STATUS COUNTS-FILE...: one boot's results; a clean suite in
# a dirty kernel log (or a boot that died) is still a failure
add_counts() {
	local vmrc=$1 f p x s bad=0; shift
	for f in "$@"; do
		if read -r p x s < "$f" 2>/dev/null; then
			passed=$((passed + p)) failed=$((failed + x)) skipped=$((skipped + s))
			bad=$((bad + x))
		else
			failed=$((failed + 1)) bad=$((bad + 1))
		fi
	done
	[ "$vmrc" -ne 0 ] && [ $bad -eq 0 ] && failed=$((failed + 1))
}

# The host-side tests of the platform (each boots small VMs of its own)
# run beside the main boot; their output is printed and counted at the
# end. (They take ~3 min alone and slow the main boot by ~2 while they
# run: a small gain on 2 cores, more on more.)
host_dir=
if [ $# -eq 0 ]; then
	host_dir=$(mktemp -d)
	(
		for t in "$top"/selftests/host/*.sh; do
			"$t" > "$host_dir/$(basename "$t").out" 2>&1
			echo $? > "$host_dir/$(basename "$t").rc"
		done
	) &
	host_pid=$!
fi

if [ $# -eq 0 ] || [ ${#one[@]} -gt 0 ]; then
	# the suite takes 40-70 min on the debug kernel (a slow day doubles
	# it); run.sh limits each suite to 15 min, so this only ends a hang
	# outside the suites
	"$top/tools/vm/run" -t "${DEVMEM_CHECK_TIMEOUT:-6000}" -s "$scratch" -- \
		${DEVMEM_LONG:+env DEVMEM_LONG=1} "$top/selftests/run.sh" "${one[@]}"
	add_counts $? "$scratch/selftests.counts"
fi
if [ $# -eq 0 ] || [ ${#two[@]} -gt 0 ]; then
	# 8-9 min on the debug kernel: both boot and meet (~30-60 s), then
	# the wire (~30 s) and devmem over e1000e (~7 min) suites
	"$top/tools/vm/run" --hosts 2 -t "${DEVMEM_CHECK_TWOHOST_TIMEOUT:-1500}" -s "$scratch2" -- \
		"$top/selftests/run.sh" "${two[@]}"
	add_counts $? "$scratch2/a/selftests.counts" "$scratch2/b/selftests.counts"
fi

if [ -n "$host_dir" ]; then
	wait "$host_pid"
	for t in "$top"/selftests/host/*.sh; do
		n=$(basename "$t")
		echo "# ---- host/$n"
		out=$(cat "$host_dir/$n.out" 2>/dev/null)
		echo "$out"
		p=$(grep -Ec '^ok [0-9]+' <<<"$out")
		f=$(grep -Ec '^not ok [0-9]+' <<<"$out")
		# a test that died or printed no result fails too
		if [ "$(cat "$host_dir/$n.rc" 2>/dev/null)" != 0 ] && [ "$f" -eq 0 ] ||
			[ $((p + f)) -eq 0 ]; then
			echo "not ok - host/$n exited with status $(cat "$host_dir/$n.rc" 2>/dev/null)"
			f=$((f + 1))
		fi
		passed=$((passed + p)) failed=$((failed + f))
	done
	rm -rf "$host_dir"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
