#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# devmem TCP receive on netdevsim: payloads land in a udmabuf bound to rx
# queues, every byte validated by devmem-nc; flows elsewhere stay readable;
# the device, the binding and the app can go away at any time without
# corrupting data or the kernel (the VM runner checks the log and kmemleak).
. "$(dirname "$0")/lib.sh"

SIZE=${DEVMEM_RX_SIZE:-128M}
SMALL=16M
T=/tmp/devmem_rx
mkdir -p $T

tap_plan 24

eth() { in_srv ethtool "$@"; }
# qstat QUEUE FIELD: a per-queue rx counter the device reports (qstats,
# read with the base tree's YNL CLI as an independent client)
qstat() {
	in_srv "$YNL" netdev --dump qstats-get --json '{"scope": "queue"}' --output-json |
		jq --argjson ifi "$SRV_IFINDEX" --argjson q "$1" --arg f "$2" \
		'[.[] | select(.ifindex == $ifi and ."queue-type" == "rx" and ."queue-id" == $q)][0][$f] // 0'
}


setup() {
	wire_up 4 && devmem_port 5201 &&
	eth -N "$SRV_IF" flow-type tcp4 dst-port 5203 action 3 loc 2
}
ok "setup: netdevsim wire, header split, ntuple rules, RSS on queues 0-1" setup ||
	{ echo "Bail out! no devmem-capable wire"; wire_down; exit 1; }

stock_tools() {
	expect_eq "tcp-data-split" on "$(hds_get "$NS_SRV" "$SRV_IF")" || return 1
	[ "$(eth -n "$SRV_IF" | grep -c '^Filter:')" = 2 ] || { diag "ethtool -n: expected 2 rules"; return 1; }
	eth -n "$SRV_IF" rule 1 | grep -q 'Action: Direct to queue 2' || { diag "rule 1 does not point at queue 2"; return 1; }
	# the RSS table only uses queues 0 and 1
	eth -x "$SRV_IF" | awk '/^ *[0-9]+:/ { for (i = 2; i <= NF; i++) if ($i > 1) bad = 1 } END { exit bad }' ||
		{ diag "ethtool -x: table points past queue 1"; return 1; }
	eth -l "$SRV_IF" | grep -q 'Combined:[[:space:]]*4'
}
ok "ethtool reads back tcp-data-split, -n, -x, -l" stock_tools

bind_refused_without_hds() {
	hds "$NS_SRV" "$SRV_IF" off || return 1
	in_srv "$NC" -l -a "$SRV_IP" -p 5299 -i "$SRV_IF" -q 2 -b 4M --timeout 5 2> "$T/hds.err"
	local rc=$?
	hds "$NS_SRV" "$SRV_IF" on
	[ $rc -eq 1 ] && grep -q 'tcp-data-split is disabled' "$T/hds.err" ||
		{ diag "rc=$rc: $(cat "$T/hds.err")"; return 1; }
}
ok "bind refused while tcp-data-split is off (extack shown)" bind_refused_without_hds

# -- the main transfer -------------------------------------------------------
q2_before=$(qstat 2 rx-bytes)
main_transfer() {
	srv main 5201 -i "$SRV_IF" -q 2-3 -b 64M -s "$SIZE"
	wait_listen "$NS_SRV" 5201 || return 1
	cli 5201 "$SIZE" || { diag "client: $(cat "$T/cli.err")"; return 1; }
	wait_srv main || { diag "server: $(cat "$T/main.err")"; return 1; }
	diag "$(j main '"\(.bytes) bytes, \(."dmabuf-bytes") via dmabuf (\(."dmabuf-frags") frags), \(."linear-bytes") linear, in \(.seconds)s"')"
}
ok "$SIZE through a 64M udmabuf bound to queues 2-3" main_transfer
size_bytes=$(numfmt --from=iec "$SIZE")
ok "every byte arrived and was validated" \
	test "$(j main '.bytes')" = "$size_bytes" -a "$(j main '.errors')" = 0 -a "$(j main '.validated')" = true
ok "payload came through the dmabuf" test "$(j main '."dmabuf-bytes"')" -gt $((size_bytes - 65536))
linear=$(j main '."linear-bytes"')
ok "linear (host memory) bytes are at most headers' worth ($linear)" test "$linear" -le 65536
ok "all tokens handed out came back" test "$(j main '."tokens-held"')" = 0
q2_after=$(qstat 2 rx-bytes)
ok "qstats: queue 2 received the transfer ($((q2_after - q2_before)) bytes)" \
	test $((q2_after - q2_before)) -ge "$size_bytes"

# -- flows that are not devmem flows ------------------------------------------
unbound_queue_readable() {
	srv plainrss 5202 --plain -s $SMALL
	wait_listen "$NS_SRV" 5202 || return 1
	cli 5202 $SMALL && wait_srv plainrss && [ "$(j plainrss .errors)" = 0 ]
}
ok "a flow RSS puts on queues 0-1 is received by a plain socket" unbound_queue_readable

efault_on_bound_queue() {
	# queue 3 is bound while this devmem server holds its binding
	srv holder 5201 -i "$SRV_IF" -q 2-3 -b 16M --timeout 30
	wait_listen "$NS_SRV" 5201 || return 1
	srv efault 5203 --plain --expect-efault --timeout 20
	wait_listen "$NS_SRV" 5203 || return 1
	cli 5203 $SMALL
	wait_srv efault || { diag "$(cat "$T/efault.err")"; return 1; }
	kill "$pid_holder"; wait "$pid_holder"
	return 0
}
ok "a plain socket whose flow lands on a bound queue gets EFAULT" efault_on_bound_queue

# -- the pool is the dmabuf ---------------------------------------------------
# net_iovs the server port's devmem page pools have handed out
pp_inflight() {
	in_srv "$YNL" netdev --dump page-pool-get --output-json |
		jq --argjson ifi "$SRV_IFINDEX" \
		'[.[] | select(.ifindex == $ifi and .dmabuf != null) | .inflight] | add // 0'
}

pool_is_dmabuf_size() {
	srv hoard 5201 -i "$SRV_IF" -q 2 -b 16M --hoard --timeout 20
	wait_listen "$NS_SRV" 5201 || return 1
	cli_bg 5201 64M
	local c=$pid_cli n max=0
	# the app returns no tokens: the pool runs dry at the dmabuf's size
	# and stays there until the server gives up (20 s without data).
	# Keep the highest count seen while the server lives: a slow machine
	# may need several seconds per sample.
	while kill -0 "$pid_hoard" 2>/dev/null; do
		n=$(pp_inflight)
		[ "$n" -gt "$max" ] && max=$n
		[ "$max" -ge 4096 ] && break
		sleep 1
	done
	wait_srv hoard
	kill $c 2>/dev/null; wait $c
	grep -q 'dmabuf exhausted' "$T/hoard.err" || { diag "$(cat "$T/hoard.err")"; return 1; }
	expect_eq "most net_iovs in flight from a 16 MiB dmabuf" 4096 "$max"
}
ok "hoarding tokens exhausts exactly the dmabuf's 4096 pages (page pool inflight)" pool_is_dmabuf_size
ok "exhaustion is counted as rx alloc failures on queue 2" test "$(qstat 2 rx-alloc-fail)" -gt 0

# -- admin changes while bound ------------------------------------------------
refusals_while_bound() {
	srv adm 5201 -i "$SRV_IF" -q 2-3 -b 16M --timeout 30
	wait_listen "$NS_SRV" 5201 || return 1
	local r=0
	# without ntuple rules on queues 2-3, only the binding holds them
	eth -N "$SRV_IF" delete 1 && eth -N "$SRV_IF" delete 2 || r=1
	eth -L "$SRV_IF" combined 2 2> "$T/L.err" && { diag "ethtool -L 2 succeeded"; r=1; }
	grep -q 'too low for existing memory provider setting' "$T/L.err" || { diag "ethtool -L: $(cat "$T/L.err")"; r=1; }
	eth -N "$SRV_IF" flow-type tcp4 dst-port 5201 action 2 loc 1 &&
	eth -N "$SRV_IF" flow-type tcp4 dst-port 5203 action 3 loc 2 || r=1
	hds "$NS_SRV" "$SRV_IF" off 2> "$T/G.err" && { diag "tcp-data-split off succeeded"; r=1; }
	grep -q "can't disable tcp-data-split" "$T/G.err" || { diag "tcp-data-split off: $(cat "$T/G.err")"; r=1; }
	# a second binding of a bound queue is refused
	in_srv "$NC" -l -a "$SRV_IP" -p 5298 -i "$SRV_IF" -q 3 -b 4M --timeout 5 2> "$T/dup.err" && r=1
	grep -q 'already' "$T/dup.err" || { diag "second bind: $(cat "$T/dup.err")"; r=1; }
	# link down/up keeps the binding; data still lands in the dmabuf
	in_srv ip link set "$SRV_IF" down && in_srv ip link set "$SRV_IF" up || r=1
	sleep 1
	cli 5201 $SMALL || { diag "client after down/up: $(cat "$T/cli.err")"; r=1; }
	wait_srv adm || { diag "server after down/up: $(cat "$T/adm.err")"; r=1; }
	[ "$(j adm '."dmabuf-bytes"')" -gt 0 ] || { diag "no dmabuf bytes after down/up"; r=1; }
	return $r
}
ok "while bound: -L below the queue, header split off and a second bind are refused; link down/up keeps it" refusals_while_bound
channels_after_unbind() {
	eth -N "$SRV_IF" delete 1 && eth -N "$SRV_IF" delete 2 &&
	eth -L "$SRV_IF" combined 2 && eth -L "$SRV_IF" combined 4 &&
	eth -X "$SRV_IF" equal 2 &&
	eth -N "$SRV_IF" flow-type tcp4 dst-port 5201 action 2 loc 1 &&
	eth -N "$SRV_IF" flow-type tcp4 dst-port 5203 action 3 loc 2
}
ok "after unbind, the channel count can shrink and grow again" channels_after_unbind

tcpdump_during_transfer() {
	ip netns exec "$NS_SRV" tcpdump -i "$SRV_IF" -s 256 -w /dev/null 2> /dev/null &
	local td=$!
	sleep 2
	srv dump 5201 -i "$SRV_IF" -q 2-3 -b 32M -s 64M
	wait_listen "$NS_SRV" 5201 || return 1
	cli 5201 64M
	local rc=$?
	wait_srv dump || rc=1
	kill $td; wait $td 2>/dev/null
	[ $rc -eq 0 ] && [ "$(j dump .errors)" = 0 ]
}
ok "a packet socket (tcpdump) open during a devmem transfer" tcpdump_during_transfer

app_killed_with_tokens() {
	srv killed 5201 -i "$SRV_IF" -q 2 -b 16M --hoard --timeout 30
	wait_listen "$NS_SRV" 5201 || return 1
	cli_bg 5201 64M
	local c=$pid_cli
	sleep 5
	kill -9 "$pid_killed"; wait "$pid_killed" 2>/dev/null
	kill $c 2>/dev/null; wait $c
	# the queue is free again: a new binding works and carries data
	srv again 5201 -i "$SRV_IF" -q 2 -b 16M -s $SMALL
	wait_listen "$NS_SRV" 5201 || return 1
	cli 5201 $SMALL && wait_srv again && [ "$(j again .errors)" = 0 ]
}
ok "app SIGKILLed while holding tokens; the queue binds again" app_killed_with_tokens

bind_unbind_under_load() {
	# a readable flow on queues 0-1 keeps going while queues 2-3 are
	# bound and unbound (queue restarts) under it
	srv busy 5202 --plain -s 64M
	wait_listen "$NS_SRV" 5202 || return 1
	cli_bg 5202 64M
	local c=$pid_cli i
	for i in 1 2 3; do
		srv cyc 5201 -i "$SRV_IF" -q 2-3 -b 4M --timeout 3
		sleep 1
		kill "$pid_cyc" 2>/dev/null; wait "$pid_cyc" 2>/dev/null
	done
	wait $c && wait_srv busy && [ "$(j busy .errors)" = 0 ]
}
ok "bind/unbind of queues 2-3 while a flow runs on queue 0-1" bind_unbind_under_load

unbind_mid_transfer() {
	# the binding goes away (its owner exits) while data is in flight to
	# it: the sender sees the connection fail, nothing is corrupted
	srv mid 5201 -i "$SRV_IF" -q 2 -b 16M --timeout 30
	wait_listen "$NS_SRV" 5201 || return 1
	cli_bg 5201 256M
	local c=$pid_cli
	sleep 4
	kill "$pid_mid"; wait "$pid_mid" 2>/dev/null
	wait $c
	[ "$(j mid .errors)" = 0 ] || [ ! -s "$T/mid.json" ]
}
ok "binding owner exits in the middle of a transfer" unbind_mid_transfer

plain_after_unbind() {
	srv plain2 5201 --plain -s $SMALL
	wait_listen "$NS_SRV" 5201 || return 1
	cli 5201 $SMALL && wait_srv plain2 && [ "$(j plain2 .errors)" = 0 ]
}
ok "after unbind the steered queue is readable again" plain_after_unbind

ip_s_link() {
	local rx
	rx=$(in_srv ip -j -s link show dev "$SRV_IF" | jq '.[0].stats64.rx.bytes')
	[ "$rx" -ge "$size_bytes" ] || { diag "ip -s link rx bytes $rx"; return 1; }
}
ok "ip -s link counts what the port received" ip_s_link

device_deleted_with_binding() {
	srv gone 5201 -i "$SRV_IF" -q 2 -b 16M --hoard --timeout 20
	wait_listen "$NS_SRV" 5201 || return 1
	cli_bg 5201 32M
	local c=$pid_cli
	sleep 4
	echo 1 > /sys/bus/netdevsim/del_device || return 1
	kill $c 2>/dev/null; wait $c
	kill "$pid_gone" 2>/dev/null; wait "$pid_gone" 2>/dev/null
	[ ! -e /sys/bus/netdevsim/devices/netdevsim1 ]
}
ok "netdevsim device deleted under a live binding with tokens held" device_deleted_with_binding

rebuild() { wire_down; setup; }
ok "the wire can be rebuilt after that" rebuild
again_after_rebuild() {
	srv final 5201 -i "$SRV_IF" -q 2-3 -b 16M -s $SMALL
	wait_listen "$NS_SRV" 5201 || return 1
	cli 5201 $SMALL && wait_srv final &&
		[ "$(j final .errors)" = 0 ] && [ "$(j final '."dmabuf-bytes"')" -gt 0 ]
}
ok "...and carries a devmem transfer again" again_after_rebuild
wire_down
rm -rf $T
tap_done
