#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The two-host wire (tools/vm/run --hosts 2): hosts a and b, one e1000e
# NIC each, QEMU's socket netdev between them. Plain TCP from a to b
# arrives byte for byte and went over the e1000e NICs, both directions
# answer ping, the NIC's driver and addresses are what the runner says.
# Runs on both hosts at once; each prints its own TAP results.
. "$(dirname "$0")/lib.sh"

SIZE=${WIRE_SIZE:-16M}
PORT=5301
T=$(mktemp -d)

if ! two_hosts; then
	tap_plan 1
	skip "two-host wire" "not one of two hosts (tools/vm/run --hosts 2)"
	exit 0
fi
tap_plan 5

nic_is_e1000e() {
	local drv
	drv=$(basename "$(readlink -f "/sys/class/net/$DEVMEM_NIC/device/driver")")
	expect_eq "$DEVMEM_NIC's driver" e1000e "$drv" &&
	ip -4 -br addr show dev "$DEVMEM_NIC" | grep -qw "$DEVMEM_ADDR/24" &&
	expect_eq "carrier" 1 "$(cat "/sys/class/net/$DEVMEM_NIC/carrier")"
}
ok "host $DEVMEM_HOST: $DEVMEM_NIC is an e1000e with $DEVMEM_ADDR/24, carrier up" nic_is_e1000e

ping_peer() {
	ping -q -c 3 -i 0.2 -W 5 -I "$DEVMEM_NIC" "$DEVMEM_PEER" > "$T/ping" ||
		{ diag "$(cat "$T/ping")"; return 1; }
}
ok "host $DEVMEM_HOST: ping $DEVMEM_PEER over the wire" ping_peer

# a sends SIZE bytes of devmem-nc's pattern, b receives with recv() and
# checks every byte; the NICs' counters show the bytes crossed the wire
case $SIZE in *M) bytes=$((${SIZE%M} << 20)) ;; *K) bytes=$((${SIZE%K} << 10)) ;; *) bytes=$SIZE ;; esac
kernel_log_mark
if [ "$DEVMEM_HOST" = b ]; then
	rx0=$(nic_stat rx_bytes)
	"$NC" -l -a "$DEVMEM_ADDR" -p $PORT --plain -s "$SIZE" -j --timeout 60 \
		> "$T/srv.json" 2> "$T/srv.err" &
	srv=$!
	wait_listen_here() {
		local i
		for i in $(seq 100); do
			[ -n "$(ss -Hltn "sport = :$PORT")" ] && return 0
			sleep 0.1
		done
		return 1
	}
	wait_listen_here && peer_post listening
	wait $srv
	srv_rc=$?
	rx=$(($(nic_stat rx_bytes) - rx0))
	received() {
		[ $srv_rc -eq 0 ] || { diag "devmem-nc -l exit $srv_rc: $(cat "$T/srv.err")"; return 1; }
		validated srv "$bytes"
	}
	ok "b: $SIZE of plain TCP from a arrived and every byte is right" received
	ok "b: $DEVMEM_NIC received them ($rx bytes counted)" test "$rx" -ge "$bytes"
	mib_s=$(jq -r --argjson b "$bytes" '$b / 1048576 / .seconds | . * 10 | floor / 10' "$T/srv.json")
	diag "$SIZE in $(jq -r .seconds "$T/srv.json")s: $mib_s MiB/s"
	peer_post received
else
	tx0=$(nic_stat tx_bytes)
	send() {
		peer_wait listening 120 > /dev/null || return 1
		"$NC" -c "$DEVMEM_PEER" -p $PORT -s "$SIZE" --timeout 60 > /dev/null 2> "$T/cli.err" ||
			{ diag "devmem-nc -c: $(cat "$T/cli.err")"; return 1; }
	}
	ok "a: sent $SIZE of plain TCP to b" send
	tx=$(($(nic_stat tx_bytes) - tx0))
	ok "a: $DEVMEM_NIC sent them ($tx bytes counted)" test "$tx" -ge "$bytes"
	peer_wait received 120 > /dev/null
fi
ok "host $DEVMEM_HOST: kernel log clean" kernel_clean
rm -rf "$T"
tap_done
