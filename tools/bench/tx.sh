#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TX benchmark, run inside the VM (tools/bench/run.sh, 'make bench'): the
# same bytes sent four ways by the devmem-nc client, to the same receiver:
#   devmem    sendmsg(MSG_ZEROCOPY) from a udmabuf bound for tx, iovs being
#             dmabuf offsets (SCM_DEVMEM_DMABUF): no CPU touches the payload
#   bounce    memcpy out of the udmabuf's mmap, then send() (what
#             applications do without devmem TX)
#   zerocopy  sendmsg(MSG_ZEROCOPY) from host memory (pinned user pages)
#   copy      send() from host memory (the reference)
#   raw       devmem sent by a minimal hand-written loop (devmem-nc
#             --raw-loop) instead of libdevmem: what the library costs is
#             devmem's CPU per GiB over raw's
# Every mode writes the pattern into its buffer once per lap of its 64M
# window, as an application producing the data would; that cost is in
# every mode's CPU time. The receiver is the same plain socket for all:
# an unbound queue of a port with header split on (the payload lands in
# host pages, the copy a NIC's DMA would do), read with recv(MSG_TRUNC)
# so that the receiver is not the bottleneck.
# Reports goodput, the sender's CPU time per GiB, the bytes the sender
# copied per payload byte and the share of zerocopy completions the kernel
# copied, as a markdown table, and the targets met or missed. It never
# fails on a missed target: the exit status is non-zero only when a
# transfer fails.
#
#   BENCH_SIZE  bytes per transfer (default 1G; K, M, G suffixes)
#   BENCH_RUNS  runs per mode, interleaved (reversed on even runs), the median reported (default 3)
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-1G}
RUNS=${BENCH_RUNS:-3}
# a port no ntuple rule steers: RSS puts it on queues 0-1, none bound
PORT=5202
WINDOW=64M
MODES=(devmem bounce zerocopy copy raw)
T=/tmp/bench-tx

# targets (issue): devmem >= 1.3x bounce goodput, <= 1/2 of bounce's
# sender CPU per GiB; libdevmem (devmem) <= 1.03x the sender CPU per GiB of
# the hand-written loop (raw)

setup() {
	# header split on the receiving port, whatever the mode
	wire_up 4 && devmem_port 5201
}

# send MODE RUN: one transfer sent in MODE; appends "goodput MiB/s, sender
# CPU s/GiB, bytes copied per byte, share of completions copied" to
# $T/MODE.tsv
send_one() {
	local mode=$1 run=$2 out=$T/$1-$2 srv cli_rc srv_rc
	local args=(--tx "$mode") tx=$mode

	case $mode in
	devmem) args+=(-i "$CLI_IF" -b "$WINDOW") ;;
	raw) tx=devmem args=(--tx devmem --raw-loop -i "$CLI_IF" -b "$WINDOW") ;;
	bounce|zerocopy) args+=(-b "$WINDOW") ;;
	esac
	in_srv "$NC" -l -a "$SRV_IP" -p "$PORT" -j --timeout 60 --mode trunc \
		-s "$SIZE" > "$out.srv.json" 2> "$out.srv.err" &
	srv=$!
	if ! wait_listen "$NS_SRV" "$PORT"; then
		kill "$srv" 2> /dev/null
		wait "$srv"
		echo "bench: $mode run $run: the server did not start: $(cat "$out.srv.err")" >&2
		return 1
	fi
	in_cli "$NC" -c "$SRV_IP" -p "$PORT" -s "$SIZE" --timeout 60 -j "${args[@]}" \
		> "$out.json" 2> "$out.err"
	cli_rc=$?
	wait "$srv"
	srv_rc=$?
	if [ $cli_rc -ne 0 ] || [ $srv_rc -ne 0 ]; then
		echo "bench: $mode run $run failed: client: $(cat "$out.err"); server: $(cat "$out.srv.err")" >&2
		return 1
	fi
	jq -e --argjson n "$size_bytes" --arg tx "$tx" '.bytes == $n and .tx == $tx and
		.seconds > 0 and (."cpu-user-seconds" | type) == "number" and
		(."cpu-sys-seconds" | type) == "number" and
		(."bytes-copied" | type) == "number" and
		(.completions == null or .completions == ."sendmsg-calls")' \
		"$out.json" > /dev/null || {
		echo "bench: $mode run $run: unexpected summary: $(cat "$out.json")" >&2
		return 1
	}
	jq -r '[.bytes / .seconds / 1048576,
		(."cpu-user-seconds" + ."cpu-sys-seconds") / (.bytes / 1073741824),
		."bytes-copied" / .bytes,
		(if .completions then ."completions-copied" / .completions else 0 end)] | @tsv' \
		"$out.json" >> "$T/$mode.tsv"
	local g c b z
	read -r g c b z < <(tail -n 1 "$T/$mode.tsv")
	printf '# %-8s run %d: %8.1f MiB/s, %.3f sender CPU s/GiB, %.6f bytes copied per byte, %.3f of completions copied\n' \
		"$mode" "$run" "$g" "$c" "$b" "$z" >&2
}

bench_init
setup || { wire_down; die "could not set up the netdevsim wire"; }

echo "# TX benchmark: $SIZE per transfer, $RUNS runs per mode, interleaved, every other run in reverse" >&2
failed=0
for run in $(seq "$RUNS"); do
	# shellcheck disable=SC2046 # mode names are words
	for mode in $(run_order "$run" "${MODES[@]}"); do
		send_one "$mode" "$run" || failed=$((failed + 1))
	done
done
wire_down

declare -A gp cpu cp zc
for mode in "${MODES[@]}"; do
	gp[$mode]=$(median "$mode" 1 2> /dev/null)
	cpu[$mode]=$(median "$mode" 2 2> /dev/null)
	cp[$mode]=$(median "$mode" 3 2> /dev/null)
	zc[$mode]=$(median "$mode" 4 2> /dev/null)
done

# x RATIO: "1.23x", or "-" when there is nothing to compare
x() { [ -n "$1" ] && printf '%.2fx' "$1" || echo -; }

report() {
	local mode n
	echo "TX benchmark: $SIZE per transfer ($size_bytes bytes), median of $RUNS runs per mode;" \
		"kernel $(uname -r)${DEVMEM_KERNEL:+ ($DEVMEM_KERNEL)}, $(nproc) vCPUs, netdevsim under QEMU."
	echo "The receiver discards with recv(MSG_TRUNC); every sender writes the pattern into its"
	echo "$WINDOW buffer once per lap, as an application producing the data would."
	echo
	echo "| mode | goodput MiB/s | sender CPU s/GiB | bytes copied per payload byte | completions copied | goodput vs bounce | CPU vs bounce |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for mode in "${MODES[@]}"; do
		n=$(runs "$mode")
		if [ -z "${gp[$mode]}" ]; then
			echo "| $mode | failed | failed | failed | failed | - | - |"
			continue
		fi
		printf '| %s%s | %.1f | %.3f | %.6f | %s | %s | %s |\n' "$mode" \
			"$([ "$n" -lt "$RUNS" ] && echo " ($n of $RUNS runs)")" \
			"${gp[$mode]}" "${cpu[$mode]}" "${cp[$mode]}" \
			"$(case $mode in devmem|zerocopy) printf '%.3f' "${zc[$mode]}" ;; *) echo - ;; esac)" \
			"$(x "$(ratio "${gp[$mode]}" "${gp[bounce]}")")" \
			"$(x "$(ratio "${cpu[$mode]}" "${cpu[bounce]}")")"
	done
	echo
	target "devmem goodput vs bounce" \
		"$(ratio "${gp[devmem]}" "${gp[bounce]}")" ">=" 1.3 1
	target "devmem sender CPU per GiB vs bounce" \
		"$(ratio "${cpu[devmem]}" "${cpu[bounce]}")" "<=" 1 2
	target "libdevmem sender CPU per GiB vs a hand-written loop" \
		"$(ratio "${cpu[devmem]}" "${cpu[raw]}")" "<=" 1.03 1
	[ $failed -eq 0 ] || echo "- $failed of $((RUNS * ${#MODES[@]})) transfers FAILED"
}

report | tee "$T/report.md"
[ -n "${VM_SCRATCH:-}" ] && cp "$T/report.md" "$VM_SCRATCH/bench-tx.md"
rm -rf "$T"
[ $failed -eq 0 ]
