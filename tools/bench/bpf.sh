#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# BPF benchmark, run inside the VM (tools/bench/run.sh, 'make bench'): the
# same devmem transfer with
#   none     no BPF attached
#   acct     the accounting programs attached ('devmemctl stats attach')
#   acct+steer  and the steering policy, its agent and a policy for the
#           benchmark's port (its rule joins the admin's on the bound queues)
# interleaved, the median reported; and what each program costs per run
# from kernel.bpf_stats_enabled (run_time_ns / run_cnt, summed over the
# attached runs). Never fails on a missed target, only on a failed transfer.
#
#   BENCH_SIZE  bytes per transfer (default 1G); BENCH_RUNS (default 3)
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"

SIZE=${BENCH_SIZE:-1G}
RUNS=${BENCH_RUNS:-3}
PORT=5201
MODES=(none acct acct+steer)
T=/tmp/bench-bpf
CTL=$BUILD/ctl/devmemctl
PROGS=(acct_rx_skb acct_recvmsg acct_tok_release acct_rcv_efault acct_alloc_fail steer_sockops)

# target (issue): accounting costs <= 3% of devmem goodput

ctl() { "$CTL" -n "$NS_SRV" "$@"; }

attach() {
	ctl stats attach || return 1
	case $1 in
	*steer*)
		ctl steer attach > /dev/null &&
		ctl steer policy add port "$PORT" binding "$BINDING" ;;
	esac
}

# detach: first add what the programs ran to $T/prog-NAME
detach() {
	local p
	for p in "${PROGS[@]}"; do
		bpftool -j prog show name "$p" 2> /dev/null |
			jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"' >> "$T/prog-$p"
	done
	ctl stats detach
	[ -e /sys/fs/bpf/devmem/links/steer_sockops ] && ctl steer detach
	return 0
}

bench_init
[ -x "$CTL" ] || die "$CTL missing (make tools)"
wire_up 4 && devmem_port "$PORT" || { wire_down; die "could not set up the netdevsim wire"; }
# one persistent binding for every run, so that attach/detach is all that changes
BINDING=$("$BUILD/selftests/devmem_nl" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" \
	--queues 2-3 --udmabuf 64M) || { wire_down; die "cannot bind"; }
sysctl -qw kernel.bpf_stats_enabled=1

echo "# BPF benchmark: $SIZE per transfer, $RUNS runs per mode, interleaved, every other run in reverse" >&2
failed=0
for run in $(seq "$RUNS"); do
	# shellcheck disable=SC2046 # mode names are words
	for mode in $(run_order "$run" "${MODES[@]}"); do
		if [ "$mode" != none ] && ! attach "$mode"; then
			failed=$((failed + 1))
			detach
			continue
		fi
		transfer "$mode" "$run" --mode devmem --binding "$BINDING" || failed=$((failed + 1))
		[ "$mode" = none ] || detach
	done
done
sysctl -qw kernel.bpf_stats_enabled=0
"$BUILD/selftests/devmem_nl" -n "$NS_SRV" unbind "$BINDING"
wire_down

report() {
	local mode n p
	echo "BPF benchmark: devmem RX of $SIZE per transfer ($size_bytes bytes), median of $RUNS runs per mode;" \
		"kernel $(uname -r)${DEVMEM_KERNEL:+ ($DEVMEM_KERNEL)}, $(nproc) vCPUs, netdevsim under QEMU."
	echo
	echo "| BPF attached | goodput MiB/s | receiver CPU s/GiB | vs none (goodput ratio) |"
	echo "|---|---:|---:|---:|"
	for mode in "${MODES[@]}"; do
		n=$(runs "$mode")
		if [ "$n" -eq 0 ]; then
			echo "| $mode | failed | failed | - |"
			continue
		fi
		printf '| %s%s | %.1f | %.3f | %.3fx |\n' "$mode" \
			"$([ "$n" -lt "$RUNS" ] && echo " ($n of $RUNS runs)")" \
			"$(median "$mode" 1)" "$(median "$mode" 2)" \
			"$(ratio "$(median "$mode" 1)" "$(median none 1)")"
	done
	echo
	echo "| program | runs | total ms | ns per run |"
	echo "|---|---:|---:|---:|"
	for p in "${PROGS[@]}"; do
		[ -f "$T/prog-$p" ] || continue
		awk -v p="$p" '{ t += $1; c += $2 } END {
			printf "| %s | %d | %.1f | %s |\n", p, c, t / 1e6, c ? sprintf("%.0f", t / c) : "-" }' \
			"$T/prog-$p"
	done
	echo
	target "devmem goodput with accounting vs none" \
		"$(ratio "$(median acct 1)" "$(median none 1)")" ">=" 0.97 1
	[ $failed -eq 0 ] || echo "- $failed of $((RUNS * ${#MODES[@]})) transfers FAILED"
}

report | tee "$T/report.md"
[ -n "${VM_SCRATCH:-}" ] && cp "$T/report.md" "$VM_SCRATCH/bench-bpf.md"
rm -rf "$T"
[ $failed -eq 0 ]
