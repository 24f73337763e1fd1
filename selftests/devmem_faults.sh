#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Faults under live devmem traffic in both directions: a client sending from
# its TX-bound udmabuf (devmem TX) to a server receiving into its RX-bound
# udmabuf (devmem RX), device to device. Each fault ends with every byte
# that arrived validated, the bindings freed, and no kernel report (the VM
# runner also checks kmemleak at the end of the run):
# link flap, channel change and ring change while bound, the sender's
# device deleted, the sender's netns deleted, and a storm of binds,
# unbinds, dumps and stats from several processes (STORM_SECONDS, 30)
# while a transfer runs.
. "$(dirname "$0")/lib.sh"
kernel_log_mark

SIZE=${DEVMEM_FAULTS_SIZE:-24M}
STORM_SECONDS=${STORM_SECONDS:-30}
ENDLESS=64G
DNL=$BUILD/selftests/devmem_nl
CTL=$BUILD/ctl/devmemctl
T=/tmp/devmem_faults
rm -rf "$T"
mkdir -p "$T"
size_bytes=$(numfmt --from=iec "$SIZE")

echo "TAP version 13"


setup() {
	wire_up 4 &&
	# a killed sender's orphaned socket gives up after one retransmit
	# (its route may be gone with its device), so its binding drains soon
	ip netns exec "$NS_CLI" sysctl -qw net.ipv4.tcp_orphan_retries=1 &&
	"$CTL" -n "$NS_SRV" dev setup "$SRV_IF" devmem-queues 2-3 > /dev/null &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5201 action 2 loc 1
}

# d2d NAME SIZE [SERVER ARGS]: a devmem RX server on queues 2-3 and a devmem
# TX client, in the background; pids in $pid_NAME and $pid_NAME_c
d2d() {
	local name=$1 size=$2
	shift 2
	srv "$name" 5201 --timeout 120 -s "$size" -i "$SRV_IF" -q 2-3 -b 32M "$@"
	wait_listen "$NS_SRV" 5201 || return 1
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p 5201 -s "$size" --timeout 120 -j \
		--tx devmem -i "$CLI_IF" -b 8M > "$T/${name}_c.json" 2> "$T/${name}_c.err" &
	eval "pid_${name}_c=$!"
}
# d2d_ok NAME: both ends of NAME finished: all bytes, validated, none copied
d2d_ok() {
	local p="pid_$1_c" r=0
	wait "${!p}" || { diag "client: $(cat "$T/$1_c.err")"; r=1; }
	wait_srv "$1" || { diag "server: $(cat "$T/$1.err")"; r=1; }
	[ $r -eq 0 ] || return 1
	expect_eq "server" "$size_bytes 0 true" "$(j "$1" '"\(.bytes) \(.errors) \(.validated)"')" || r=1
	[ "$(j "$1" '."dmabuf-bytes"')" -gt $((size_bytes - 65536)) ] || { diag "payload not in the dmabuf"; r=1; }
	expect_eq "client completions copied" 0 "$(jq -r '."completions-copied"' "$T/$1_c.json")" || r=1
	return $r
}
# d2d_cut NAME: a transfer cut short: what arrived is intact
d2d_cut() {
	local p="pid_$1_c"
	kill "${!p}" 2> /dev/null
	wait "${!p}" 2> /dev/null
	srv_kill "$1"
	[ ! -s "$T/$1.json" ] || expect_eq "pattern errors in what arrived" 0 "$(j "$1" .errors)"
}
# bindings NETNS: how many bindings the netns lists
bindings() { "$DNL" -n "$1" -j dump 2> /dev/null | jq length; }
# none_left [SECONDS]: no binding listed in either netns (default 10 s to drain)
none_left() {
	local i
	for i in $(seq $((${1:-10} * 4))); do
		[ "$(bindings "$NS_SRV")" = 0 ] && [ "$(bindings "$NS_CLI")" = 0 ] && return 0
		sleep 0.25
	done
	diag "bindings left: server $(bindings "$NS_SRV"), client $(bindings "$NS_CLI")"
	return 1
}

ok "setup: netdevsim wire, receiver queues 2-3 for devmem" setup ||
	{ echo "Bail out! no netdevsim wire"; wire_down; exit 1; }

# -- faults the transfer survives -----------------------------------------------------
link_flap() {
	d2d flap "$SIZE" || return 1
	sleep 3
	ip -n "$NS_SRV" link set "$SRV_IF" down && sleep 0.5 &&
	ip -n "$NS_SRV" link set "$SRV_IF" up || return 1
	sleep 1
	ip -n "$NS_CLI" link set "$CLI_IF" down && sleep 0.5 &&
	ip -n "$NS_CLI" link set "$CLI_IF" up || return 1
	d2d_ok flap && none_left
}
ok "link down/up on both ends mid-transfer: $SIZE device to device, validated, freed" link_flap

rings_and_channels() {
	local r=0
	d2d rc "$SIZE" || return 1
	sleep 3
	# shrinking below a bound queue is refused; ring sizes change
	in_srv ethtool -L "$SRV_IF" combined 2 2> "$T/rc_l.err" && { diag "-L combined 2 accepted"; r=1; }
	in_srv ethtool -G "$SRV_IF" rx 512 2> "$T/rc_g.err" || diag "ethtool -G rx 512: $(cat "$T/rc_g.err")"
	in_cli ethtool -G "$CLI_IF" tx 512 2> /dev/null
	in_srv ethtool -L "$SRV_IF" combined 4 2> /dev/null
	d2d_ok rc && none_left || r=1
	return $r
}
ok "channel shrink refused, ring sizes changed mid-transfer: validated, freed" rings_and_channels

# -- faults that end the transfer ------------------------------------------------------
sender_device_deleted() {
	local r=0
	d2d dd "$ENDLESS" || return 1
	sleep 3
	echo 2 > /sys/bus/netdevsim/del_device || return 1
	d2d_cut dd || r=1
	none_left 60 || r=1
	# the wire again, for the next tests
	wire_down
	setup || r=1
	return $r
}
ok "the sender's netdevsim device deleted mid-transfer: both bindings freed" sender_device_deleted

# attached DEVICES of the dmabufs of SIZE bytes (debugfs bufinfo): one
# line per dmabuf, the names of the devices it is attached to
attached() {
	awk -v size="$(printf %08d "$1")" '
		$1 == size { want = 1; devs = ""; next }
		want && /^Total [0-9]+ devices attached/ { print (devs == "" ? "none" : devs); want = 0; next }
		want && /^\t[^ \t]+$/ { sub(/^\t/, ""); devs = devs " " $0 }
	' /sys/kernel/debug/dma_buf/bufinfo
}

# A binding draining after its device is gone holds no device: its
# mapping is released when the device unregisters (a driver unload would
# otherwise wait for it), while the binding lives on until the last
# buffer comes back
device_gone_releases_mapping() {
	local rx tx r=0 i
	# RX: a server that hoards its tokens (6M udmabuf), a copy client
	srv hoard 5201 --timeout 120 -s "$ENDLESS" -i "$SRV_IF" -q 2 -b 6M --hoard
	wait_listen "$NS_SRV" 5201 || return 1
	cli_bg 5201 "$ENDLESS"
	# TX: a sender stopped with its skbs queued (10M udmabuf)
	srv sink 5202 --timeout 120 -s "$ENDLESS" --plain
	wait_listen "$NS_SRV" 5202 || return 1
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p 5202 -s "$ENDLESS" --timeout 120 \
		--tx devmem -i "$CLI_IF" -b 10M > /dev/null 2> "$T/stopped.err" &
	local stopped=$!
	sleep 4
	kill -STOP "$stopped" "$pid_hoard"
	rx=$("$DNL" -n "$NS_SRV" -j dump | jq -r '.[0].id')
	tx=$("$DNL" -n "$NS_CLI" -j dump | jq -r '.[0].id')
	expect_eq "rx dmabuf attached to" netdevsim1 "$(attached 6291456 | xargs)" || r=1
	expect_eq "tx dmabuf attached to" netdevsim2 "$(attached 10485760 | xargs)" || r=1
	# both devices go
	echo 1 > /sys/bus/netdevsim/del_device
	echo 2 > /sys/bus/netdevsim/del_device
	# the bindings drain (their netns is still there)
	expect_eq "rx binding $rx" draining "$("$DNL" -n "$NS_SRV" -j get "$rx" | jq -r .state)" || r=1
	# the tx binding drains while skbs point into it, or is already gone
	case $("$DNL" -n "$NS_CLI" -j get "$tx" 2> /dev/null | jq -r .state) in
	draining|"") ;; *) diag "tx binding $tx not unbound"; r=1 ;;
	esac
	expect_eq "rx dmabuf attached while draining" none "$(attached 6291456 | xargs)" || r=1
	expect_eq "tx dmabuf attached" "" "$(attached 10485760 | grep -v '^none$' | xargs)" || r=1
	kill -CONT "$stopped" "$pid_hoard"
	kill -9 "$stopped" "$pid_hoard" "$pid_cli" 2> /dev/null
	wait "$stopped" "$pid_hoard" "$pid_cli" 2> /dev/null
	srv_kill sink
	for i in $(seq 120); do
		[ "$(bindings "$NS_SRV")" = 0 ] && [ "$(bindings "$NS_CLI")" = 0 ] && break
		sleep 0.5
	done
	none_left || r=1
	wire_down
	setup || r=1
	return $r
}
ok "devices deleted under draining bindings (tokens held, skbs queued): mapping released at once, freed later" \
	device_gone_releases_mapping

sender_netns_deleted() {
	local r=0
	d2d nd "$ENDLESS" || return 1
	sleep 3
	kill -9 "$pid_nd_c"
	wait "$pid_nd_c" 2> /dev/null
	ip netns del "$NS_CLI" || r=1
	srv_kill nd
	[ ! -s "$T/nd.json" ] || expect_eq "pattern errors in what arrived" 0 "$(j nd .errors)" || r=1
	expect_eq "server bindings" 0 "$(for _ in $(seq 40); do b=$(bindings "$NS_SRV"); [ "$b" = 0 ] && break; sleep 0.25; done; echo "$b")" || r=1
	wire_down
	setup || r=1
	return $r
}
ok "the sender killed and its netns deleted mid-transfer: freed, nothing corrupted" sender_netns_deleted

# -- a storm of control operations while a transfer runs --------------------------------
storm() {
	local end=$((SECONDS + STORM_SECONDS)) pids=() p n r=0
	d2d st "$ENDLESS" || return 1
	sleep 2
	# bind/unbind of queue 3 (persistent) and of tx bindings, two processes
	( while [ $SECONDS -lt $end ]; do
		id=$("$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 3 --udmabuf 1M 2> /dev/null) &&
		"$DNL" -n "$NS_SRV" unbind "$id" 2> /dev/null
		n=$((n + 1))
	  done; echo "rx binds: $n" ) > "$T/storm1.out" 2>&1 &
	pids+=($!)
	( while [ $SECONDS -lt $end ]; do
		id=$("$DNL" -n "$NS_CLI" bind --ifindex "$CLI_IFINDEX" --direction tx --omit queues \
			--udmabuf 1M 2> /dev/null) && "$DNL" -n "$NS_CLI" unbind "$id" 2> /dev/null
		n=$((n + 1))
	  done; echo "tx binds: $n" ) > "$T/storm2.out" 2>&1 &
	pids+=($!)
	# socket-lifetime binds that die with their process
	( while [ $SECONDS -lt $end ]; do
		"$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 3 --udmabuf 1M --lifetime socket \
			--hold 1 > /dev/null 2>&1
		n=$((n + 1))
	  done; echo "socket binds: $n" ) > "$T/storm3.out" 2>&1 &
	pids+=($!)
	# dumps, stats and gets from two more
	for p in srv cli; do
		( ns=$NS_SRV; [ $p = cli ] && ns=$NS_CLI
		  while [ $SECONDS -lt $end ]; do
			"$DNL" -n "$ns" dump > /dev/null 2>&1
			"$DNL" -n "$ns" stats-dump > /dev/null 2>&1
			n=$((n + 1))
		  done; echo "$p dumps: $n" ) > "$T/storm_$p.out" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	diag "$(cat "$T"/storm*.out | tr '\n' ' ')"
	# the transfer ran through it all
	[ -s "$T/st.json" ] && { diag "server ended during the storm: $(cat "$T/st.err")"; r=1; }
	d2d_cut st || r=1
	none_left || r=1
	return $r
}
ok "${STORM_SECONDS}s of binds, unbinds, dumps and stats from 5 processes under a transfer" storm

after_all() {
	d2d fin "$SIZE" && d2d_ok fin && none_left
}
ok "a clean transfer afterwards, both directions devmem, validated" after_all

wire_down
ok "the kernel log has no report from these tests" kernel_clean

# shellcheck disable=SC2154
echo "1..$__tap_n"
if ! tap_done && [ -n "${VM_SCRATCH:-}" ]; then
	cp -r "$T" "$VM_SCRATCH/devmem_faults" && diag "outputs kept in $VM_SCRATCH/devmem_faults"
fi
rm -rf "$T"
tap_done
