#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# devmem TCP through the TCP paths that rebuild skbs out of other skbs'
# frags: MTU probing, retransmits (tcp_fragment, retransmit collapsing),
# SACK shifting under reordering, software GSO with TSO off, and the
# receiver's out-of-order queue and coalescing. Each runs a devmem TX
# transfer (and, where it matters, device to device into a devmem rx
# queue) whose every byte is validated on the far side, and shows with
# the TCP MIB counters that the path really ran.
. "$(dirname "$0")/lib.sh"
kernel_log_mark

SIZE=${DEVMEM_PATHS_SIZE:-16M}
WINDOW=8M
CTL=$BUILD/ctl/devmemctl
T=/tmp/devmem_tcp_paths
rm -rf "$T"
mkdir -p "$T"
size_bytes=$(numfmt --from=iec "$SIZE")

tap_plan 20


# mib NETNS NAME: a TCP MIB counter of NETNS (nstat's names, e.g.
# TcpRetransSegs, TcpExtTCPMTUPSuccess), absolute
mib() { ip netns exec "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'; }

# txc NAME PORT SIZE ARGS...: a devmem-nc client in the client netns, JSON
# summary in $T/NAME.json
txc() {
	local name=$1 port=$2 size=$3; shift 3
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p "$port" -s "$size" \
		--timeout 120 -j "$@" > "$T/$name.json" 2> "$T/$name.err"
}

# transfer NAME PORT SERVER-ARGS -- CLIENT-ARGS: SIZE bytes from the client
# to a server on PORT; fails with both sides' stderr
transfer() {
	local name=$1 port=$2 sargs=() cargs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	cargs=("$@")
	srv "$name" "$port" --timeout 120 -s "$SIZE" "${sargs[@]}"
	wait_listen "$NS_SRV" "$port" || return 1
	txc "${name}_c" "$port" "$SIZE" "${cargs[@]}" ||
		{ diag "client: $(cat "$T/${name}_c.err")"; srv_kill "$name"; diag "server: $(cat "$T/$name.err")"; return 1; }
	wait_srv "$name" || { diag "server: $(cat "$T/$name.err")"; return 1; }
	diag "$(j "${name}_c" '"\(.bytes) bytes in \(.seconds)s"')"
}

DEVMEM_TX=()

setup() {
	wire_up 4 || return 1
	# the receiver's devmem queues 2-3, dst-port 5201 steered to queue 2
	"$CTL" -n "$NS_SRV" dev setup "$SRV_IF" devmem-queues 2-3 > /dev/null &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5201 action 2 loc 1 &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp6 dst-port 5201 action 2 loc 2 &&
	DEVMEM_TX=(--tx devmem -i "$CLI_IF" -b "$WINDOW")
}
ok "setup: netdevsim wire, receiver queues 2-3 for devmem" setup ||
	{ echo "Bail out! no netdevsim wire"; wire_down; exit 1; }

# -- MTU probing ----------------------------------------------------------------
# tcp_mtu_probing=2 probes from the first window on: tcp_mtu_probe() builds
# a probe skb out of the write queue's frags (tcp_clone_payload()). Devmem
# skbs are never probed (their frags are net_iovs no probe may merge or
# read), so a devmem flow keeps its MSS; ordinary flows of the same
# socket setup do probe.
mtu_probing() {
	ip netns exec "$NS_CLI" sysctl -qw net.ipv4.tcp_mtu_probing=2 net.ipv4.tcp_base_mss=512
}
probes() { echo $(($(mib "$NS_CLI" TcpExtTCPMTUPSuccess) + $(mib "$NS_CLI" TcpExtTCPMTUPFail))); }

probing_copy() {
	local before
	mtu_probing || return 1
	before=$(probes)
	transfer pc 5202 --plain -- || return 1
	validated pc "$size_bytes" || return 1
	PROBES_COPY=$(($(probes) - before))
	[ "$PROBES_COPY" -gt 0 ] || { diag "no MTU probe in an ordinary transfer"; return 1; }
	diag "$PROBES_COPY MTU probes"
}
ok "mtu probing: an ordinary flow probes ($SIZE, validated)" probing_copy

probing_devmem() {
	local before
	before=$(probes)
	transfer pd 5202 --plain -- "${DEVMEM_TX[@]}" || return 1
	validated pd "$size_bytes" && zc_ok pd_c || return 1
	diag "MTU probes during the devmem transfer: $(($(probes) - before))"
}
ok "mtu probing: $SIZE devmem TX, every byte validated, every send completed" probing_devmem

probing_d2d() {
	transfer pdd 5201 -i "$SRV_IF" -q 2-3 -b 32M -- "${DEVMEM_TX[@]}" || return 1
	validated pdd "$size_bytes" && zc_ok pdd_c &&
	test "$(j pdd '."dmabuf-bytes"')" -gt $((size_bytes - 65536))
}
ok "mtu probing: $SIZE device to device, in the receiver's dmabuf, validated" probing_d2d
ip netns exec "$NS_CLI" sysctl -qw net.ipv4.tcp_mtu_probing=0 net.ipv4.tcp_base_mss=1024

# -- loss: retransmits, tcp_fragment, retransmit collapsing, SACK ---------------
netem() { ip netns exec "$1" tc qdisc replace dev "$2" root netem "${@:3}"; }
netem_off() { ip netns exec "$1" tc qdisc del dev "$2" root 2> /dev/null; return 0; }

lossy() {
	local name=$1 port=$2 before after r=0
	shift 2
	before=$(mib "$NS_CLI" TcpRetransSegs)
	transfer "$name" "$port" "$@" || r=1
	after=$(mib "$NS_CLI" TcpRetransSegs)
	[ $r -eq 0 ] || return 1
	diag "retransmitted segments: $((after - before)), SACK shifted/merged/fallback:" \
		"$(mib "$NS_CLI" TcpExtTCPSackShifted)/$(mib "$NS_CLI" TcpExtTCPSackMerged)/$(mib "$NS_CLI" TcpExtTCPSackShiftFallback)"
	[ $((after - before)) -gt 0 ] || { diag "nothing was retransmitted"; return 1; }
}

loss_devmem() {
	netem "$NS_CLI" "$CLI_IF" loss 2% || return 1
	lossy ld 5202 --plain -- "${DEVMEM_TX[@]}"
	local r=$?
	netem_off "$NS_CLI" "$CLI_IF"
	[ $r -eq 0 ] && validated ld "$size_bytes" && zc_ok ld_c
}
ok "2% loss: $SIZE devmem TX retransmitted (fragment, collapse, SACK), validated" loss_devmem

loss_d2d() {
	netem "$NS_CLI" "$CLI_IF" loss 2% || return 1
	lossy ldd 5201 -i "$SRV_IF" -q 2-3 -b 32M -- "${DEVMEM_TX[@]}"
	local r=$?
	netem_off "$NS_CLI" "$CLI_IF"
	[ $r -eq 0 ] && validated ldd "$size_bytes" && zc_ok ldd_c &&
	test "$(j ldd '."dmabuf-bytes"')" -gt $((size_bytes - 65536))
}
ok "2% loss device to device: retransmits and the receiver's out-of-order queue, validated" loss_d2d

reorder_devmem() {
	local before
	before=$(mib "$NS_CLI" TcpExtTCPSACKReorder)
	netem "$NS_CLI" "$CLI_IF" delay 2ms reorder 20% 50% || return 1
	transfer ro 5201 -i "$SRV_IF" -q 2-3 -b 32M -- "${DEVMEM_TX[@]}"
	local r=$?
	netem_off "$NS_CLI" "$CLI_IF"
	[ $r -eq 0 ] && validated ro "$size_bytes" && zc_ok ro_c || return 1
	diag "SACK reorderings seen: $(($(mib "$NS_CLI" TcpExtTCPSACKReorder) - before))," \
		"out-of-order queued at the receiver: $(mib "$NS_SRV" TcpExtTCPOFOQueue)"
	[ "$(mib "$NS_SRV" TcpExtTCPOFOQueue)" -gt 0 ] || { diag "nothing arrived out of order"; return 1; }
}
ok "reordering device to device: SACK and out-of-order delivery, validated" reorder_devmem

# ordinary receive of ordinary data over the same loss, the control
loss_copy() {
	netem "$NS_CLI" "$CLI_IF" loss 2% || return 1
	lossy lc 5202 --plain --
	local r=$?
	netem_off "$NS_CLI" "$CLI_IF"
	[ $r -eq 0 ] && validated lc "$size_bytes"
}
ok "2% loss, ordinary data (control): retransmitted, validated" loss_copy

# -- segmentation ---------------------------------------------------------------
# netdevsim has no TSO for IPv6: the stack segments IPv6 devmem skbs itself
# (skb_segment()), each segment keeping its net_iov frags and its
# unreadable mark; with a packet socket open on both ports the taps see
# (and fail to copy) every segment
gso_devmem() {
	local r=0 capc caps
	ip netns exec "$NS_CLI" tcpdump -i "$CLI_IF" -s 256 -w /dev/null 2> /dev/null &
	capc=$!
	ip netns exec "$NS_SRV" tcpdump -i "$SRV_IF" -s 256 -w /dev/null 2> /dev/null &
	caps=$!
	sleep 1
	srv_cmd gso "$NC" -l -a "$SRV_IP6" -p 5201 -j --timeout 120 -s "$SIZE" -i "$SRV_IF" -q 2-3 -b 32M
	wait_listen "$NS_SRV" 5201 || r=1
	[ $r -eq 0 ] && { ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP6" -p 5201 -s "$SIZE" --timeout 120 -j \
		"${DEVMEM_TX[@]}" > "$T/gso_c.json" 2> "$T/gso_c.err" || { diag "client: $(cat "$T/gso_c.err")"; r=1; }; }
	wait_srv gso || { diag "server: $(cat "$T/gso.err")"; r=1; }
	kill $capc $caps 2> /dev/null
	wait $capc $caps 2> /dev/null
	[ $r -eq 0 ] && validated gso "$size_bytes" && zc_ok gso_c &&
	test "$(j gso '."dmabuf-bytes"')" -gt $((size_bytes - 65536))
}
ok "IPv6 (software GSO), packet sockets open: device to device, in the dmabuf, validated" gso_devmem

# -- an urgent byte into a bound queue ---------------------------------------------
# tcp_urg() reads the byte the urgent pointer names; in device memory it
# cannot: the mark is dropped and the byte stays in the stream
urgent_byte() {
	local r=0
	srv urg 5201 --timeout 60 -s 1M -i "$SRV_IF" -q 2-3 -b 8M
	wait_listen "$NS_SRV" 5201 || return 1
	txc urg_c 5201 1048576 --urgent 300000 || { diag "client: $(cat "$T/urg_c.err")"; r=1; }
	wait_srv urg || { diag "server: $(cat "$T/urg.err")"; r=1; }
	[ $r -eq 0 ] && validated urg 1048576 &&
	test "$(j urg '."dmabuf-bytes"')" -gt $((1048576 - 65536)) &&
	expect_eq "SIGURGs" 1 "$(j urg '."urgent-signals"')"
}
ok "MSG_OOB into a flow on a bound queue: no crash, the byte arrives inline, validated" urgent_byte

# Under loss, segments before an urgent byte are retransmitted after it
# came (out of order) and carry its pointer again; the byte itself may come
# before its pointer, or after segments that follow it. Every byte arrives
# inline all the same, and each urgent byte raises SIGURG. Retransmits of
# data more than 64 KiB before the sender's urgent pointer carry a pointer
# of their own (urg_ptr 0xffff, RFC 6093), which signals again, as it does
# on a readable flow: so at least one SIGURG per urgent byte, not exactly.
urgent_lossy() {
	local r=0 n=20 size=2097152 before
	before=$(mib "$NS_CLI" TcpRetransSegs)
	netem "$NS_CLI" "$CLI_IF" loss 10% || return 1
	srv url 5201 --timeout 90 -s $size -i "$SRV_IF" -q 2-3 -b 8M
	wait_listen "$NS_SRV" 5201 || r=1
	[ $r -eq 0 ] && { in_cli python3 "$(dirname "$0")/devmem_oob.py" "$SRV_IP" 5201 $size $n \
		2> "$T/url_c.err" || { diag "client: $(cat "$T/url_c.err")"; r=1; }; }
	netem_off "$NS_CLI" "$CLI_IF"
	wait_srv url || { diag "server: $(cat "$T/url.err")"; r=1; }
	diag "$(($(mib "$NS_CLI" TcpRetransSegs) - before)) retransmits"
	[ $r -eq 0 ] && validated url $size &&
	test "$(j url '."dmabuf-bytes"')" -gt $((size - 65536)) &&
	diag "$(j url '."urgent-signals"') SIGURGs for $n urgent bytes" &&
	test "$(j url '."urgent-signals"')" -ge $n &&
	test "$(mib "$NS_CLI" TcpRetransSegs)" -gt "$before"
}
# twice: a lost byte showed in about half of the runs before 0006 was
# complete (a header byte taken for an urgent byte that had come out of order)
urgent_lossy2() { urgent_lossy && urgent_lossy; }
ok "20 urgent bytes under 10% loss into a bound queue, twice: every byte inline, validated, a SIGURG each" urgent_lossy2

# An urgent byte in device memory leaves its pointer remembered (so that
# retransmits carrying it do not signal again) until the application has
# read past it. Sequence numbers compare modulo 2^32: a pointer remembered
# for good took a new one 2-4 GiB later for an old one, and dropped it
# (no SIGURG) before 0006 cleared it on reading. Two urgent bytes 2 GiB +
# 16 MiB apart (just past 2^31: the cheapest gap that wraps), each sent
# once all before it is acknowledged: two SIGURGs.
urgent_wrap() {
	local r=0 first=1048576 gap=$(((1 << 31) + (16 << 20))) size
	size=$((first + gap + 1048576))
	srv urw 5201 --timeout 120 -s $size -i "$SRV_IF" -q 2-3 -b 8M
	wait_listen "$NS_SRV" 5201 || return 1
	txc urw_c 5201 $size --urgent $first --urgent $((first + gap)) ||
		{ diag "client: $(cat "$T/urw_c.err")"; r=1; }
	wait_srv urw || { diag "server: $(cat "$T/urw.err")"; r=1; }
	[ $r -eq 0 ] && validated urw $size &&
	diag "$(j urw_c '"\(.bytes) bytes in \(.seconds)s"')" &&
	test "$(j urw '."dmabuf-bytes"')" -gt $((size - 65536)) &&
	expect_eq "SIGURGs" 2 "$(j urw '."urgent-signals"')"
}
# 2 GiB take 2-3 min in the debug kernel: make check-long (DEVMEM_LONG=1)
if [ -n "${DEVMEM_LONG:-}" ]; then
	ok "two urgent bytes 2 GiB + 16 MiB apart into a bound queue: a SIGURG each, every byte validated" urgent_wrap
else
	skip "two urgent bytes 2 GiB + 16 MiB apart into a bound queue" "2 GiB: make check-long (DEVMEM_LONG=1)"
fi

# -- nfqueue on a bound queue ---------------------------------------------------------
# nfqueue hands user space a copy of each packet (skb_zerocopy()). With a
# copy range within the headers (the linear part on a header-split queue)
# a devmem flow passes through it; payload in device memory cannot be
# copied (see Documentation/netdevsim-devmem.rst).
nfqueue_headers() {
	local r=0 size=4194304 q=$T/nfqr.json
	# not in_srv: $! must be the reader itself (ip netns exec execs it),
	# not a subshell running a function, which SIGTERM would kill instead
	ip netns exec "$NS_SRV" python3 "$(dirname "$0")/devmem_nfqueue.py" 3 40 > "$q" 2> "$T/nfqr.err" &
	local qpid=$!
	wait_for "$T/nfqr.err" listening || { kill $qpid; return 1; }
	in_srv nft -f - <<-NFT || { kill $qpid; return 1; }
	table inet devmem_nfq {
		chain in {
			type filter hook input priority 0;
			tcp dport 5201 queue num 3
		}
	}
	NFT
	srv nfq 5201 --timeout 90 -s $size -i "$SRV_IF" -q 2-3 -b 8M
	wait_listen "$NS_SRV" 5201 || r=1
	[ $r -eq 0 ] && { txc nfq_c 5201 $size || { diag "client: $(cat "$T/nfq_c.err")"; r=1; }; }
	wait_srv nfq || { diag "server: $(cat "$T/nfq.err")"; r=1; }
	in_srv nft delete table inet devmem_nfq || r=1
	kill -TERM $qpid
	wait $qpid || { diag "nfqueue reader: $(cat "$T/nfqr.err")"; r=1; }
	diag "nfqueue: $(cat "$q")"
	[ $r -eq 0 ] && validated nfq $size &&
	test "$(j nfq '."dmabuf-bytes"')" -gt $((size - 65536)) &&
	test "$(jq -r .packets "$q")" -gt 10 &&
	expect_eq "copied lengths" "[40]" "$(jq -c '."copy-lengths"' "$q")"
}
ok "nfqueue with a 40-byte copy range over a devmem flow: headers queued, payload in the dmabuf, validated" \
	nfqueue_headers

# the MSS shrinks mid-transfer: queued skbs are split again (tcp_fragment,
# tso_fragment) at the new size
mss_shrinks() {
	local r=0
	srv ms 5202 --timeout 120 -s "$SIZE" --plain
	wait_listen "$NS_SRV" 5202 || return 1
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p 5202 -s "$SIZE" --timeout 120 -j \
		"${DEVMEM_TX[@]}" > "$T/ms_c.json" 2> "$T/ms_c.err" &
	local pid=$!
	sleep 2
	ip -n "$NS_CLI" link set "$CLI_IF" mtu 1280 && ip -n "$NS_SRV" link set "$SRV_IF" mtu 1280 || r=1
	wait $pid || { diag "client: $(cat "$T/ms_c.err")"; r=1; }
	wait_srv ms || { diag "server: $(cat "$T/ms.err")"; r=1; }
	ip -n "$NS_CLI" link set "$CLI_IF" mtu 1500
	ip -n "$NS_SRV" link set "$SRV_IF" mtu 1500
	[ $r -eq 0 ] && validated ms "$size_bytes" && zc_ok ms_c
}
ok "MTU lowered mid-transfer on both ends: queued devmem skbs re-split, validated" mss_shrinks

# -- a packet socket sees devmem skbs on both sides (IPv4, TSO) ----------------------
packet_socket() {
	local r=0 capc caps
	ip netns exec "$NS_CLI" tcpdump -i "$CLI_IF" -s 128 -w /dev/null -c 100000 2> /dev/null &
	capc=$!
	ip netns exec "$NS_SRV" tcpdump -i "$SRV_IF" -s 128 -w /dev/null -c 100000 2> /dev/null &
	caps=$!
	sleep 1
	transfer pk 5201 -i "$SRV_IF" -q 2-3 -b 32M -- "${DEVMEM_TX[@]}" || r=1
	kill $capc $caps 2> /dev/null
	wait $capc $caps 2> /dev/null
	[ $r -eq 0 ] && validated pk "$size_bytes" && zc_ok pk_c
}
ok "a packet socket open on both ports: devmem device to device, validated" packet_socket

# IPv6: the same probe and loss paths (netdevsim has no TSO for IPv6, so
# every devmem skb is segmented in software too)
v6() {
	local r=0
	ip netns exec "$NS_CLI" sysctl -qw net.ipv4.tcp_mtu_probing=2 &&
	netem "$NS_CLI" "$CLI_IF" loss 1% || return 1
	srv_cmd v6 "$NC" -l -a "$SRV_IP6" -p 5202 -j --timeout 120 -s "$SIZE" --plain
	wait_listen "$NS_SRV" 5202 || r=1
	[ $r -eq 0 ] && { ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP6" -p 5202 -s "$SIZE" --timeout 120 -j \
		"${DEVMEM_TX[@]}" > "$T/v6_c.json" 2> "$T/v6_c.err" || { diag "client: $(cat "$T/v6_c.err")"; r=1; }; }
	wait_srv v6 || { diag "server: $(cat "$T/v6.err")"; r=1; }
	netem_off "$NS_CLI" "$CLI_IF"
	ip netns exec "$NS_CLI" sysctl -qw net.ipv4.tcp_mtu_probing=0
	[ $r -eq 0 ] && validated v6 "$size_bytes" && zc_ok v6_c
}
ok "IPv6, mtu probing and 1% loss: $SIZE devmem TX, validated" v6

no_binding_left() {
	expect_eq "bindings left" 0 "$("$CTL" -n "$NS_CLI" -j binding show | jq '.binding | length')" &&
	expect_eq "bindings left" 0 "$("$CTL" -n "$NS_SRV" -j binding show | jq '.binding | length')"
}
wait_no_binding() {
	local i
	for i in $(seq 40); do
		no_binding_left 2> /dev/null > /dev/null && return 0
		sleep 0.5
	done
	no_binding_left
}
ok "every binding of these transfers is freed" wait_no_binding

after_all() {
	transfer fin 5201 -i "$SRV_IF" -q 2-3 -b 32M -- "${DEVMEM_TX[@]}" &&
	validated fin "$size_bytes" && zc_ok fin_c
}
ok "a clean transfer afterwards, device to device, validated" after_all

wire_down
ok "the kernel log has no report from these tests" kernel_clean
ok "ordinary flows did MTU probe (${PROBES_COPY:-0} probes): the probe path ran" test "${PROBES_COPY:-0}" -gt 0

if ! tap_done && [ -n "${VM_SCRATCH:-}" ]; then
	cp -r "$T" "$VM_SCRATCH/devmem_tcp_paths" && diag "outputs kept in $VM_SCRATCH/devmem_tcp_paths"
fi
rm -rf "$T"
tap_done
