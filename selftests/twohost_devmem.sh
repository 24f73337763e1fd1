#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# devmem TCP over a real PCI NIC driver: b binds a udmabuf to its e1000e
# rx queue, a sends plain TCP, and QEMU's 82574 model - not b's CPU -
# writes every payload byte into b's dmabuf (packet-split descriptors
# carry the net_iovs' DMA addresses). Then a sends from a udmabuf of its
# own bound for tx: a's model reads the payload from a's dmabuf by DMA. Checked on b: every byte validated
# in the dmabuf, all of it in the dmabuf, the binding's counters equal to
# what arrived; with the devmem family and with netdev bind-rx; a restart
# of the queue (unbind) under traffic and a link down/up while bound
# corrupt nothing. Runs on both hosts (tools/vm/run --hosts 2).
. "$(dirname "$0")/lib.sh"

SIZE=${TWOHOST_DEVMEM_SIZE:-8M}
CTL=$BUILD/ctl/devmemctl
T=$(mktemp -d)
PORT=5401

if ! two_hosts; then
	tap_plan 1
	skip "devmem over e1000e" "not one of two hosts (tools/vm/run --hosts 2)"
	exit 0
fi

size_bytes() { case $1 in *M) echo $((${1%M} << 20)) ;; *K) echo $((${1%K} << 10)) ;; *) echo "$1" ;; esac; }
# hds_here on|off, hds_now: tcp-data-split of this host's NIC
hds_here() {
	local v
	case $1 in on) v=2 ;; off) v=1 ;; esac
	"$YNL" ethtool --do rings-set --json "{\"header\": {\"dev-name\": \"$DEVMEM_NIC\"}, \"tcp-data-split\": $v}" \
		> /dev/null 2> "$T/hds.err" || { diag "rings-set: $(cat "$T/hds.err")"; return 1; }
}
hds_now() {
	"$YNL" ethtool --do rings-get --output-json --json "{\"header\": {\"dev-name\": \"$DEVMEM_NIC\"}}" |
		jq -r '."tcp-data-split" // 0 | if . == 2 then "on" elif . == 1 then "off" else "unknown" end'
}
# rx_ring_now: the RX ring size ethtool -g reports as current
rx_ring_now() { ethtool -g "$DEVMEM_NIC" | awk '/^Current/ { c = 1 } c && $1 == "RX:" { print $2; exit }'; }
hdr_split() { ethtool -S "$DEVMEM_NIC" | awk '$1 == "rx_header_split:" { print $2 }'; }

# round N SIZE: a sends SIZE when b posts ready-N; b posts done-N
send_round() {
	peer_wait "ready-$1" 120 > /dev/null || return 1
	"$NC" -c "$DEVMEM_PEER" -p $((PORT + $1)) -s "$2" --timeout 60 > /dev/null 2> "$T/cli$1.err"
	local rc=$?
	[ $rc -eq 0 ] || diag "round $1: devmem-nc -c: $(cat "$T/cli$1.err")"
	peer_wait "done-$1" 180 > /dev/null
	return $rc
}
# rx NAME N ARGS...: b's devmem-nc server for round N, in the background
rx() {
	local name=$1 n=$2; shift 2
	"$NC" -l -a "$DEVMEM_ADDR" -p $((PORT + n)) -j --timeout 60 "$@" > "$T/$name.json" 2> "$T/$name.err" &
	eval "pid_$name=$!"
	local i
	for i in $(seq 100); do
		[ -n "$(ss -Hltn "sport = :$((PORT + n))")" ] && break
		sleep 0.1
	done
	peer_post "ready-$n"
}
# all_in_dmabuf NAME BYTES: validated, and all the payload came through the dmabuf
all_in_dmabuf() {
	local r=0
	wait_srv "$1" || { diag "$1: exit $?: $(cat "$T/$1.err")"; r=1; }
	diag "$1: $(jq -c '{bytes, "dmabuf-bytes", "linear-bytes", "dmabuf-frags", errors, validated, seconds}' "$T/$1.json")"
	validated "$1" "$2" || r=1
	expect_eq "dmabuf-bytes" "$2" "$(j "$1" '."dmabuf-bytes"')" || r=1
	expect_eq "linear-bytes" 0 "$(j "$1" '."linear-bytes"')" || r=1
	return $r
}

# round 6, on a: SIZE sent from a's tx binding TXID (devmem TX) to b's
# binding; the client's summary in $T/cliN.json
TXID=
send_devmem_round() {
	[ -n "$TXID" ] || return 1
	peer_wait "ready-$1" 120 > /dev/null || return 1
	"$NC" -c "$DEVMEM_PEER" -p $((PORT + $1)) -s "$SIZE" --timeout 60 -j \
		--tx devmem --binding "$TXID" -i "$DEVMEM_NIC" > "$T/cli$1.json" 2> "$T/cli$1.err"
	local rc=$?
	[ $rc -eq 0 ] || diag "round $1: devmem-nc -c --tx devmem: $(cat "$T/cli$1.err")"
	peer_wait "done-$1" 180 > /dev/null || rc=1
	[ $rc -eq 0 ] &&
	diag "$(jq -c '{bytes, "sendmsg-calls", completions, "completions-copied", seconds}' "$T/cli$1.json")" &&
	expect_eq "bytes sent" "$bytes" "$(j "cli$1" .bytes)" &&
	expect_eq "completions the kernel copied" 0 "$(j "cli$1" '."completions-copied"')"
}
# tx_bytes_are N: a's tx binding counted N bytes sent
tx_bytes_are() {
	expect_eq "tx-bytes of binding $TXID" "$1" \
		"$("$CTL" -j stats show binding "$TXID" | jq -r '.stats[0]."tx-bytes"')"
}

kernel_log_mark
bytes=$(size_bytes "$SIZE")
if [ "$DEVMEM_HOST" = a ]; then
	tap_plan 8
	ok "a: round 1, $SIZE to b's binding made with the devmem family" send_round 1 "$SIZE"
	ok "a: round 2, $SIZE to b's netdev bind-rx binding" send_round 2 "$SIZE"
	# b's receiver may end the connection when its binding goes: b judges
	send_round 3 16M
	ok "a: round 4, $SIZE after b's link went down and up while bound" send_round 4 "$SIZE"
	ok "a: round 5, $SIZE after b's rx ring was resized while bound" send_round 5 "$SIZE"
	bind_tx() {
		"$CTL" -j binding add dev "$DEVMEM_NIC" direction tx dmabuf udmabuf size 16M \
			lifetime persistent > "$T/txbind.json" 2> "$T/txbind.err" ||
			{ diag "binding add: $(cat "$T/txbind.err")"; return 1; }
		TXID=$(jq .id "$T/txbind.json")
		[ -n "$TXID" ] && [ "$TXID" != null ]
	}
	ok "a: devmemctl binding add dev $DEVMEM_NIC direction tx (16M udmabuf)" bind_tx
	# TSO on for this round (the runner turns it off: QEMU 7.2's model
	# sends IP fragments for TSO, which b cannot take into its dmabuf):
	# e1000e segments devmem skbs in software, and b takes every byte
	# into its dmabuf (b's round 6)
	devmem_tx() {
		local r=0
		ethtool -K "$DEVMEM_NIC" tso on || return 1
		send_devmem_round 6 && tx_bytes_are "$bytes" || r=1
		ethtool -K "$DEVMEM_NIC" tso off || r=1
		return $r
	}
	ok "a: round 6, TSO on: $SIZE sent from a's dmabuf by the NIC's DMA, segmented in software, none copied, tx-bytes $SIZE" devmem_tx
	# unbound, the binding is freed once the NIC has let go of its frags
	expect_tx_freed() {
		local i
		"$CTL" binding del id "$TXID" || return 1
		for i in $(seq 40); do
			"$CTL" binding show id "$TXID" > /dev/null 2>&1 || return 0
			sleep 0.25
		done
		diag "still listed: $("$CTL" binding show id "$TXID" 2>&1)"
		return 1
	}
	ok "a: the tx binding unbound, gone" expect_tx_freed
	ok "host a: kernel log clean" kernel_clean
	rm -rf "$T"
	tap_done
	exit
fi

tap_plan 13
refused_without_hds() {
	hds_here off || return 1
	"$CTL" binding add dev "$DEVMEM_NIC" queues 0 dmabuf udmabuf size 16M > /dev/null 2> "$T/refused.err" &&
		{ diag "bound with tcp-data-split off"; return 1; }
	grep -q "tcp-data-split" "$T/refused.err" || { diag "$(cat "$T/refused.err")"; return 1; }
}
ok "b: a bind with tcp-data-split off is refused, naming it" refused_without_hds
hds_on() { hds_here on && expect_eq "tcp-data-split" on "$(hds_now)"; }
ok "b: tcp-data-split on at MTU $(cat "/sys/class/net/$DEVMEM_NIC/mtu"), reported on" hds_on

# round 1: a persistent binding of the devmem family, devmem-nc receiving into it
ID=
bind_family() {
	"$CTL" -j binding add dev "$DEVMEM_NIC" queues 0 dmabuf udmabuf size 64M > "$T/bind.json" 2> "$T/bind.err" ||
		{ diag "binding add: $(cat "$T/bind.err")"; return 1; }
	ID=$(jq .id "$T/bind.json")
	[ -n "$ID" ] && [ "$ID" != null ]
}
ok "b: devmemctl binding add dev $DEVMEM_NIC queues 0 (64M udmabuf)" bind_family
split0=$(hdr_split)
rx r1 1 --binding "${ID:-0}" -s "$SIZE"
ok "b: round 1: $SIZE from a, every byte validated in the dmabuf, all of it there" all_in_dmabuf r1 "$bytes"
peer_post done-1
counters() {
	local s
	s=$("$CTL" -j stats show binding "$ID" | jq -c '.stats[0]') || return 1
	diag "$s"
	expect_eq "binding counters" \
		"$(jq -c '{"rx-bytes": ."dmabuf-bytes", "rx-frags": ."dmabuf-frags"}' "$T/r1.json")" \
		"$(jq -c '{"rx-bytes", "rx-frags"}' <<<"$s")"
}
ok "b: the binding's rx-bytes and rx-frags equal what devmem-nc received" counters
split_counted() {
	local n=$(($(hdr_split) - split0))
	diag "rx_header_split +$n"
	[ "$n" -ge $((bytes / 1448)) ]
}
ok "b: the NIC counted a header split per data packet" split_counted
unbind() { "$CTL" binding del id "$ID" 2> "$T/del.err" || { diag "$(cat "$T/del.err")"; return 1; }; }
ok "b: binding del" unbind

# round 2: netdev bind-rx, the binding devmem-nc's own
rx r2 2 -i "$DEVMEM_NIC" -q 0 --netdev-bind -b 64M -s "$SIZE"
ok "b: round 2: netdev bind-rx: $SIZE validated, all in the dmabuf" all_in_dmabuf r2 "$bytes"
peer_post done-2

# round 3: the binding goes (queue restart onto host pages) mid-transfer;
# what arrives after comes as linear data: all of it must still be right
bind_family > /dev/null
rx r3 3 --binding "${ID:-0}" -s 16M
unbind_under_traffic() {
	local i
	for i in $(seq 300); do
		[ "$("$CTL" -j stats show binding "$ID" | jq '.stats[0]."rx-bytes"')" -ge $((2 << 20)) ] && break
		sleep 0.1
	done
	unbind || return 1
	wait_srv r3
	local rc=$?
	diag "r3: exit $rc: $(jq -c '{bytes, "dmabuf-bytes", "linear-bytes", errors, validated}' "$T/r3.json") $(head -c 300 "$T/r3.err")"
	# the receiver may fail once its dmabuf is gone, but never on bad bytes
	expect_eq "pattern errors" 0 "$(j r3 '.errors // 0')"
}
ok "b: round 3: unbind under traffic: no byte received wrong" unbind_under_traffic
peer_post done-3

wait_carrier() {
	local i
	for i in $(seq 100); do
		[ "$(cat "/sys/class/net/$DEVMEM_NIC/carrier" 2> /dev/null)" = 1 ] && return 0
		sleep 0.1
	done
	diag "no carrier on $DEVMEM_NIC after 10 s"
	return 1
}

# round 4: bound, link down and up, then a transfer
link_flap() {
	bind_family || return 1
	ip link set "$DEVMEM_NIC" down && ip link set "$DEVMEM_NIC" up || return 1
	wait_carrier
	rx r4 4 --binding "$ID" -s "$SIZE"
	all_in_dmabuf r4 "$bytes"
}
ok "b: round 4: link down/up while bound, then $SIZE validated, all in the dmabuf" link_flap
peer_post done-4

# round 5: ethtool -G while bound: the ring and its page pool are made
# anew (the old pool destroyed with NAPI disabled; a WARN before 0037 was
# mended), the binding stays on the queue
ring_resize() {
	[ -n "$ID" ] || return 1
	local was
	was=$(rx_ring_now)
	ethtool -G "$DEVMEM_NIC" rx 512 || return 1
	expect_eq "rx ring" 512 "$(rx_ring_now)" || return 1
	wait_carrier || return 1
	rx r5 5 --binding "$ID" -s "$SIZE"
	all_in_dmabuf r5 "$bytes" || return 1
	ethtool -G "$DEVMEM_NIC" rx "$was"
}
ok "b: round 5: rx ring resized while bound, then $SIZE validated, all in the dmabuf" ring_resize
peer_post done-5

# round 6: a sends from device memory of its own (devmem TX): b's
# binding receives it like any other stream
rx r6 6 --binding "${ID:-0}" -s "$SIZE"
ok "b: round 6: $SIZE a sent from its dmabuf, validated in b's, all of it there" all_in_dmabuf r6 "$bytes"
peer_post done-6
[ -n "$ID" ] && "$CTL" binding del id "$ID" 2> /dev/null
hds_here off
ok "host b: kernel log clean" kernel_clean
rm -rf "$T"
tap_done
