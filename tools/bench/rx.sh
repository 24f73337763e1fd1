#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# RX benchmark, run inside the VM (tools/bench/run.sh, 'make bench'): the
# same transfer received three ways, each on the same steered rx queue:
#   bounce  recv() into a user buffer, then memcpy into the dmabuf's mmap
#           (what applications do without devmem TCP)
#   devmem  recvmsg(MSG_SOCK_DEVMEM): payload lands in the bound dmabuf
#   trunc   recv(MSG_TRUNC): discarded without a copy (the floor)
# Reports goodput, the receiver's CPU time per GiB and the bytes the
# receiving process copied per payload byte, as a markdown table, and the
# targets met or missed. It never fails on a missed target: the exit status
# is non-zero only when a transfer fails.
#
#   BENCH_SIZE  bytes per transfer (default 1G; K, M, G suffixes)
#   BENCH_RUNS  runs per mode, interleaved, the median reported (default 3)
# shellcheck source=selftests/lib.sh
. "$(dirname "$0")/../../selftests/lib.sh"

NC=$BUILD/tools/devmem-nc
SIZE=${BENCH_SIZE:-1G}
RUNS=${BENCH_RUNS:-3}
PORT=5201
MODES=(bounce devmem trunc)
T=/tmp/bench-rx
export LC_ALL=C

# targets (issue): devmem >= 1.5x bounce goodput, <= 1/3 of bounce's CPU
# per GiB, >= 0.8x trunc goodput

die() { echo "bench-rx: $*" >&2; exit 1; }

size_bytes=$(numfmt --from=iec "$SIZE" 2> /dev/null)
[[ $size_bytes =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE '$SIZE' is not a size"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS '$RUNS' is not a positive number"
[ -x "$NC" ] || die "$NC missing (make tools)"
command -v jq > /dev/null || die "jq missing"

setup() {
	# the benchmark's flow steered to queue 2 (bound in devmem mode)
	wire_up 4 && devmem_port "$PORT"
}

# one MODE RUN: one transfer; the server's JSON summary in $T/MODE-RUN.json
one() {
	local mode=$1 run=$2 out=$T/$1-$2 srv cli_rc srv_rc
	local args=(-l -a "$SRV_IP" -p "$PORT" -j --timeout 60 --no-validate
		    -s "$SIZE" --mode "$mode")

	case $mode in
	devmem) args+=(-i "$SRV_IF" -q 2-3 -b 64M) ;;
	bounce) args+=(-b 64M) ;;
	esac
	in_srv "$NC" "${args[@]}" > "$out.json" 2> "$out.err" &
	srv=$!
	if ! wait_listen "$NS_SRV" "$PORT"; then
		kill "$srv" 2> /dev/null
		wait "$srv"
		echo "bench-rx: $mode run $run: the server did not start: $(cat "$out.err")" >&2
		return 1
	fi
	in_cli "$NC" -c "$SRV_IP" -p "$PORT" -s "$SIZE" --timeout 60 \
		> /dev/null 2> "$out.cli.err"
	cli_rc=$?
	wait "$srv"
	srv_rc=$?
	if [ $cli_rc -ne 0 ] || [ $srv_rc -ne 0 ]; then
		echo "bench-rx: $mode run $run failed: server: $(cat "$out.err"); client: $(cat "$out.cli.err")" >&2
		return 1
	fi
	# the fields the table needs (an old devmem-nc lacks the CPU ones)
	jq -e --argjson n "$size_bytes" '.bytes == $n and .seconds > 0 and
		(."cpu-user-seconds" | type) == "number" and
		(."cpu-sys-seconds" | type) == "number" and
		(."bytes-copied" | type) == "number"' "$out.json" > /dev/null || {
		echo "bench-rx: $mode run $run: unexpected summary: $(cat "$out.json")" >&2
		return 1
	}
	# devmem must really have been devmem: payload through the dmabuf
	if [ "$mode" = devmem ] &&
	   [ "$(jq '."plain-bytes"' "$out.json")" != 0 ]; then
		echo "bench-rx: devmem run $run: the flow was not on a bound queue: $(cat "$out.json")" >&2
		return 1
	fi
	# one line per run: goodput MiB/s, CPU s/GiB, bytes copied per byte
	jq -r '[.bytes / .seconds / 1048576,
		(."cpu-user-seconds" + ."cpu-sys-seconds") / (.bytes / 1073741824),
		."bytes-copied" / .bytes] | @tsv' "$out.json" >> "$T/$mode.tsv"
	local g c b
	read -r g c b < <(tail -n 1 "$T/$mode.tsv")
	printf '# %-6s run %d: %8.1f MiB/s, %.3f CPU s/GiB, %.6f bytes copied per byte\n' \
		"$mode" "$run" "$g" "$c" "$b" >&2
}

# median MODE COLUMN: the median of a column over the mode's runs
median() {
	cut -f "$2" "$T/$1.tsv" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (!NR) exit 1
			if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.17g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# target WHAT RATIO OP NUM DEN: one line, "RATIO (target OP NUM/DEN) PASS|MISS"
target() {
	local what=$1 ratio=$2 op=$3 num=$4 den=$5 verdict limit=$4
	[ "$den" = 1 ] || limit=$num/$den
	if [ -z "$ratio" ]; then
		printf -- '- %s: n/a, nothing to compare (target %s %sx) MISS\n' \
			"$what" "$op" "$limit"
		return
	fi
	verdict=$(awk -v r="$ratio" -v n="$num" -v d="$den" -v op="$op" 'BEGIN {
		ok = op == ">=" ? r >= n / d : r <= n / d
		print ok ? "PASS" : "MISS" }')
	printf -- '- %s: %.2fx (target %s %sx) %s\n' "$what" "$ratio" "$op" \
		"$limit" "$verdict"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.17g\n", a / b }'; }

rm -rf "$T"
mkdir -p "$T" || die "cannot create $T"
setup || { wire_down; die "could not set up the netdevsim wire"; }

echo "# RX benchmark: $SIZE per transfer, $RUNS runs per mode, interleaved" >&2
failed=0
for run in $(seq "$RUNS"); do
	for mode in "${MODES[@]}"; do
		one "$mode" "$run" || failed=$((failed + 1))
	done
done
wire_down

declare -A gp cpu cp
for mode in "${MODES[@]}"; do
	gp[$mode]=$(median "$mode" 1 2> /dev/null)
	cpu[$mode]=$(median "$mode" 2 2> /dev/null)
	cp[$mode]=$(median "$mode" 3 2> /dev/null)
done

report() {
	local mode n vs
	echo "RX benchmark: $SIZE per transfer ($size_bytes bytes), median of $RUNS runs per mode;" \
		"kernel $(uname -r)${DEVMEM_KERNEL:+ ($DEVMEM_KERNEL)}, $(nproc) vCPUs, netdevsim under QEMU."
	echo
	echo "| mode | goodput MiB/s | receiver CPU s/GiB | bytes copied per payload byte | vs bounce (goodput ratio) |"
	echo "|---|---:|---:|---:|---:|"
	for mode in "${MODES[@]}"; do
		n=0
		[ -f "$T/$mode.tsv" ] && n=$(wc -l < "$T/$mode.tsv")
		if [ -z "${gp[$mode]}" ]; then
			echo "| $mode | failed | failed | failed | - |"
			continue
		fi
		vs=$(ratio "${gp[$mode]}" "${gp[bounce]}")
		printf '| %s%s | %.1f | %.3f | %.6f | %s |\n' "$mode" \
			"$([ "$n" -lt "$RUNS" ] && echo " ($n of $RUNS runs)")" \
			"${gp[$mode]}" "${cpu[$mode]}" "${cp[$mode]}" \
			"$([ -n "$vs" ] && printf '%.2fx' "$vs" || echo -)"
	done
	echo
	target "devmem goodput vs bounce" \
		"$(ratio "${gp[devmem]}" "${gp[bounce]}")" ">=" 1.5 1
	target "devmem receiver CPU per GiB vs bounce" \
		"$(ratio "${cpu[devmem]}" "${cpu[bounce]}")" "<=" 1 3
	target "devmem goodput vs trunc" \
		"$(ratio "${gp[devmem]}" "${gp[trunc]}")" ">=" 0.8 1
	[ $failed -eq 0 ] || echo "- $failed of $((RUNS * ${#MODES[@]})) transfers FAILED"
}

report | tee "$T/report.md"
[ -n "${VM_SCRATCH:-}" ] && cp "$T/report.md" "$VM_SCRATCH/bench-rx.md"
rm -rf "$T"
[ $failed -eq 0 ]
