#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test wire: two netns joined by linked netdevsim ports carry ping and
# a TCP transfer whose content arrives intact.
. "$(dirname "$0")/lib.sh"

SIZE_MB=${WIRE_SIZE_MB:-64}
tap_plan 5

ok "wire_up: two netns, linked netdevsim ports" wire_up 4
ping_peer() { in_cli ping -q -c 2 -W 5 "$1" > /dev/null; }
ok "ping over the wire (IPv4)" ping_peer "$SRV_IP"
ok "ping over the wire (IPv6)" ping_peer "$SRV_IP6"

tcp_transfer() {
	local in=/tmp/wire.in out=/tmp/wire.out
	dd if=/dev/urandom of=$in bs=1M count="$SIZE_MB" status=none || return 1
	in_srv nc -l "$SRV_IP" 5201 > $out &
	local srv=$!
	wait_listen "$NS_SRV" 5201 || return 1
	local t0=$(date +%s.%N)
	in_cli nc -N "$SRV_IP" 5201 < $in || return 1
	wait $srv || return 1
	diag "$SIZE_MB MiB in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5)s"
	cmp $in $out || return 1
	rm -f $in $out
}
ok "TCP: $SIZE_MB MiB arrive byte for byte" tcp_transfer

tx_bytes_counted() {
	local tx
	tx=$(in_cli cat "/sys/class/net/$CLI_IF/statistics/tx_bytes")
	[ "$tx" -ge $((SIZE_MB << 20)) ] || { diag "client tx_bytes $tx < $((SIZE_MB << 20))"; return 1; }
}
ok "client port counted the bytes it sent" tx_bytes_counted

wire_down
tap_done
