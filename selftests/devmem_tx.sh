#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# devmem TCP transmit on netdevsim: devmem-nc sends from a udmabuf bound for
# tx (sendmsg(MSG_ZEROCOPY) + SCM_DEVMEM_DMABUF) to a receiver that checks
# every byte - into host memory, and device to device into a devmem rx
# queue - with one completion per call, none copied, and the binding's
# tx-bytes equal to what was sent; the netdev family's bind-tx; every
# refusal (the C prober, devmem_tx); the binding unbound, or its sender
# SIGKILLed, mid-transfer: draining, then freed, the kernel clean.
. "$(dirname "$0")/lib.sh"
kernel_log_mark

SIZE=${DEVMEM_TX_SIZE:-128M}
SMALL=16M
# the client's udmabuf: at most this much in flight, each lap written anew
WINDOW=16M
# transfers cut short on purpose: long enough to still run when cut, on
# any kernel
ENDLESS=64G
DNL=$BUILD/selftests/devmem_nl
CTL=$BUILD/ctl/devmemctl
PROBER=$BUILD/selftests/devmem_tx
NS_OTHER_ID=3
T=/tmp/devmem_tx
rm -rf "$T"
mkdir -p "$T"
size_bytes=$(numfmt --from=iec "$SIZE")
small_bytes=$(numfmt --from=iec "$SMALL")

# The prober's results are counted in as they come: the plan is at the end.
echo "TAP version 13"


dnl() { "$DNL" -n "$NS_CLI" "$@"; }

# lib.sh's ok, saying how long the slower steps took
eval "lib_$(declare -f ok)"
ok() {
	local t=$SECONDS rc
	lib_ok "$@"
	rc=$?
	[ $((SECONDS - t)) -lt 5 ] || diag "($((SECONDS - t)) s)"
	return $rc
}

# txc NAME PORT SIZE ARGS...: a devmem-nc client sending SIZE to the
# server port, JSON summary in $T/NAME.json, stderr in $T/NAME.err
txc() {
	local name=$1 port=$2 size=$3; shift 3
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p "$port" -s "$size" \
		--timeout 60 -j "$@" > "$T/$name.json" 2> "$T/$name.err"
}
# txc_bg NAME PORT SIZE ARGS...: the same in the background, pid in $pid_NAME
txc_bg() {
	local name=$1 port=$2 size=$3; shift 3
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p "$port" -s "$size" \
		--timeout 60 -j "$@" > "$T/$name.json" 2> "$T/$name.err" &
	eval "pid_$name=$!"
}

# state_of ID: active or draining; nothing once the binding is gone
state_of() {
	local out
	if out=$(dnl -j get "$1" 2>&1); then
		jq -r .state <<< "$out"
		return 0
	fi
	[[ $out == *": ENOENT: "* ]] && return 0
	diag "get $1: $out"
	return 1
}

# wait_gone ID [SECONDS]: until binding ID is no longer listed (default 10 s)
wait_gone() {
	local s end=$((SECONDS + ${2:-10}))
	while :; do
		s=$(state_of "$1") || return 1
		[ -z "$s" ] && return 0
		[ $SECONDS -ge $end ] && break
		sleep 0.25
	done
	diag "binding $1 still listed ($s) after ${2:-10} s"
	return 1
}

# tx_binding: the id of the newest active tx binding of the client port,
# once there is one (10 s)
tx_binding() {
	local id
	for _ in $(seq 40); do
		id=$(dnl -j dump --ifindex "$CLI_IFINDEX" 2> /dev/null |
			jq -r '[.[] | select(.direction == "tx" and .state == "active") | .id] | max // empty')
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.25
	done
	diag "no tx binding on $CLI_IF"
	return 1
}

# tx_stats_and_unbind NAME BYTES: client NAME's persistent binding
# counted BYTES in tx-bytes (and at least a frag per page); unbound, it
# is freed
tx_stats_and_unbind() {
	local id out r=0
	id=$(j "$1" '."binding-id"')
	[[ $id =~ ^[0-9]+$ ]] || { diag "client $1 reports no binding id"; return 1; }
	out=$(dnl -j stats "$id") || { diag "stats $id: $out"; return 1; }
	expect_eq "tx-bytes of binding $id" "$2" "$(jq -r '."tx-bytes"' <<< "$out")" || r=1
	[ "$(jq -r '."tx-frags" // 0' <<< "$out")" -ge $(($2 / 4096)) ] ||
		{ diag "tx-frags: $out"; r=1; }
	expect_eq "rx-bytes of a tx binding" 0 "$(jq -r '."rx-bytes" // 0' <<< "$out")" || r=1
	dnl unbind "$id" || r=1
	wait_gone "$id" || r=1
	return $r
}

setup() {
	wire_up 4 || return 1
	# the prober's devices in the sender's netns: a second netdevsim port
	# (not linked), and a veth, which cannot send from device memory
	OTHER_IF=$(nsim_new "$NS_CLI" $NS_OTHER_ID 4) || return 1
	ip -n "$NS_CLI" link set "$OTHER_IF" up &&
	ip -n "$NS_CLI" addr add 198.51.100.2/24 dev "$OTHER_IF" &&
	ip -n "$NS_CLI" link add veth0 type veth peer name veth1 &&
	ip -n "$NS_CLI" link set veth0 up && ip -n "$NS_CLI" link set veth1 up &&
	# and header split on the sender's port, for the prober's RX binding
	# on queue 3 (the sender receives only acks). devmemctl, not lib.sh's
	# hds: a python start costs ~10 s in the VM.
	"$CTL" -n "$NS_CLI" dev setup "$CLI_IF" devmem-queues 3 > /dev/null
}

teardown() {
	[ -e /sys/bus/netdevsim/devices/netdevsim$NS_OTHER_ID ] &&
		echo $NS_OTHER_ID > /sys/bus/netdevsim/del_device
	wire_down
}
ok "setup: netdevsim wire, a second netdevsim port, a veth" setup ||
	{ echo "Bail out! no netdevsim wire"; teardown; exit 1; }

# -- the prober: every refusal, each followed by a send that works ---------------
# Its TAP results become this script's (run below, after the transfers);
# its other lines are diagnostics.
# all of it over IPv4; over IPv6 what depends on the route and the
# address family (the refusals before the route lookup do not)
PROBER_TESTS=(-v ipv4 -f bind)
for pt in sends_arrive_with_completions ordinary_and_devmem_data_on_one_socket \
	enodev_binding_of_another_device enodev_route_through_loopback \
	unbind_while_in_flight; do
	PROBER_TESTS+=(-r "tx.ipv6.$pt")
done
prober() {
	local line name n=0 plan=0 t=$SECONDS
	while IFS= read -r line; do
		case $line in
		"1.."*)
			plan=${line#1..}
			;;
		"ok "[0-9]*"# SKIP"*)
			name=${line#ok * } n=$((n + 1))
			skip "devmem_tx ${name%% # SKIP*}" "${name#* # SKIP }"
			;;
		"ok "[0-9]*)
			name=${line#ok * } n=$((n + 1))
			ok "devmem_tx $name ($((SECONDS - t)) s)" true
			t=$SECONDS
			;;
		"not ok "[0-9]*)
			name=${line#not ok * } n=$((n + 1))
			ok "devmem_tx $name ($((SECONDS - t)) s)" false
			t=$SECONDS
			;;
		*)
			echo "# $line"
			;;
		esac
	done < <(ip netns exec "$NS_CLI" env \
		DEVMEM_TX_IF="$CLI_IF" \
		DEVMEM_TX_PEER_NETNS="$NS_SRV" \
		DEVMEM_TX_PEER_ADDR="$SRV_IP" \
		DEVMEM_TX_PEER_ADDR6="$SRV_IP6" \
		DEVMEM_TX_PEER_IF="$SRV_IF" \
		DEVMEM_TX_RX_QUEUE=3 \
		DEVMEM_TX_OTHER_IF="$OTHER_IF" \
		DEVMEM_TX_VETH_IF=veth0 \
		"$PROBER" "${PROBER_TESTS[@]}" 2>&1; echo "exit $?")
	if [ "$plan" -eq 0 ] || [ "$n" -lt "$plan" ]; then
		ok "devmem_tx reported $n of ${plan} results" false
	fi
}

# -- sends from the dmabuf --------------------------------------------------------
to_host_memory() {
	[ "$(hds_get "$NS_SRV" "$SRV_IF")" = off ] || hds "$NS_SRV" "$SRV_IF" off || return 1
	srv plain 5202 --timeout 120 --plain -s "$SIZE"
	wait_listen "$NS_SRV" 5202 || return 1
	txc a 5202 "$SIZE" --tx devmem -i "$CLI_IF" -b $WINDOW --lifetime persistent ||
		{ diag "client: $(cat "$T/a.err")"; srv_kill plain; diag "server: $(cat "$T/plain.err")"; return 1; }
	wait_srv plain || { diag "server: $(cat "$T/plain.err")"; return 1; }
	diag "$(j a '"\(.bytes) bytes in \(."sendmsg-calls") sendmsg calls, \(.seconds)s, CPU \(."cpu-user-seconds") user \(."cpu-sys-seconds") sys"')"
}
ok "$SIZE sent from a $WINDOW udmabuf bound for tx, received into host memory (header split off)" \
	to_host_memory
ok "...every byte arrived and was validated" validated plain "$size_bytes"
ok "...every sendmsg completed, none copied" zc_ok a
ok "...the binding's tx-bytes is $SIZE; unbound, it is freed" \
	tx_stats_and_unbind a "$size_bytes"

device_to_device() {
	devmem_port 5201 || return 1
	srv dd 5201 --timeout 120 -i "$SRV_IF" -q 2-3 -b 32M -s "$SIZE"
	wait_listen "$NS_SRV" 5201 || return 1
	txc b 5201 "$SIZE" --tx devmem -i "$CLI_IF" -b $WINDOW --lifetime persistent ||
		{ diag "client: $(cat "$T/b.err")"; srv_kill dd; diag "server: $(cat "$T/dd.err")"; return 1; }
	wait_srv dd || { diag "server: $(cat "$T/dd.err")"; return 1; }
	diag "$(j dd '"\(.bytes) bytes, \(."dmabuf-bytes") into the receiver'\''s dmabuf, \(."linear-bytes") linear, \(.seconds)s"')"
}
ok "$SIZE device to device: from a tx-bound udmabuf into a devmem rx queue's dmabuf" \
	device_to_device
ok "...every byte arrived and was validated" validated dd "$size_bytes"
ok "...the payload landed in the receiver's dmabuf" \
	test "$(j dd '."dmabuf-bytes"')" -gt $((size_bytes - 65536))
ok "...every sendmsg completed, none copied" zc_ok b
ok "...the binding's tx-bytes is $SIZE; unbound, it is freed" \
	tx_stats_and_unbind b "$size_bytes"

netdev_bind_tx() {
	srv nd 5202 --timeout 120 --plain -s $SMALL
	wait_listen "$NS_SRV" 5202 || return 1
	txc nd_c 5202 $SMALL --tx devmem -i "$CLI_IF" -b 4M --netdev-bind ||
		{ diag "client: $(cat "$T/nd_c.err")"; srv_kill nd; return 1; }
	wait_srv nd || { diag "server: $(cat "$T/nd.err")"; return 1; }
	expect_eq "binding family" netdev "$(j nd_c .family)" &&
	validated nd "$small_bytes" && zc_ok nd_c &&
	wait_gone "$(j nd_c '."binding-id"')"
}
ok "$SMALL from a netdev bind-tx binding; it ends with the client" netdev_bind_tx

prober

# -- the binding goes away mid-transfer ---------------------------------------------
unbind_mid_transfer() {
	local id s r=0
	"$DNL" -n "$NS_CLI" -j monitor --timeout 120 > "$T/mon.json" 2> "$T/mon.err" &
	local mon=$!
	srv umid 5202 --timeout 120 --plain -s $ENDLESS
	wait_listen "$NS_SRV" 5202 || return 1
	txc_bg umid_c 5202 $ENDLESS --tx devmem -i "$CLI_IF" -b $WINDOW --lifetime persistent
	id=$(tx_binding) || { kill "$pid_umid_c"; srv_kill umid; kill $mon; return 1; }
	sleep 3
	dnl unbind "$id" || { diag "unbind $id failed"; r=1; }
	# draining while its sends are in flight; the client, refused, may
	# already have exited and taken them with it
	s=$(state_of "$id")
	case $s in draining|"") ;; *) diag "binding $id is '$s' after unbind"; r=1 ;; esac
	wait "$pid_umid_c"
	expect_eq "client exit status" 1 $? || r=1
	grep -q '(ENOENT)' "$T/umid_c.err" || { diag "client: $(cat "$T/umid_c.err")"; r=1; }
	wait_gone "$id" 20 || r=1
	srv_kill umid
	# what did arrive is intact
	[ ! -s "$T/umid.json" ] || expect_eq "pattern errors" 0 "$(j umid .errors)" || r=1
	sleep 1
	kill $mon; wait $mon 2> /dev/null
	for s in unbind-ntf free-ntf; do
		jq -se --arg e $s --argjson id "$id" 'any(.[]; .event == $e and .id == $id)' \
			"$T/mon.json" > /dev/null || { diag "no $s for binding $id"; r=1; }
	done
	[ $r -eq 0 ] || diag "events: $(cat "$T/mon.json" "$T/mon.err")"
	return $r
}
ok "unbound mid-transfer: draining, the next send gets ENOENT, then freed (unbind-ntf, free-ntf)" \
	unbind_mid_transfer

sender_killed() {
	local id r=0
	srv kill9 5202 --timeout 120 --plain -s $ENDLESS
	wait_listen "$NS_SRV" 5202 || return 1
	txc_bg k_c 5202 $ENDLESS --tx devmem -i "$CLI_IF" -b $WINDOW
	id=$(tx_binding) || { kill "$pid_k_c"; srv_kill kill9; return 1; }
	sleep 3
	kill -9 "$pid_k_c"
	wait "$pid_k_c" 2> /dev/null
	# lifetime socket: unbound with the process, freed once its orphaned
	# socket's sends are done
	wait_gone "$id" 30 || r=1
	srv_kill kill9
	[ ! -s "$T/kill9.json" ] || expect_eq "pattern errors" 0 "$(j kill9 .errors)" || r=1
	return $r
}
ok "sender SIGKILLed mid-transfer: its binding is freed" sender_killed

after_all_that() {
	srv final 5202 --timeout 120 --plain -s $SMALL
	wait_listen "$NS_SRV" 5202 || return 1
	txc f 5202 $SMALL --tx devmem -i "$CLI_IF" -b 4M ||
		{ diag "client: $(cat "$T/f.err")"; srv_kill final; return 1; }
	wait_srv final && validated final "$small_bytes" && zc_ok f
}
ok "...and a new binding sends $SMALL again" after_all_that

no_bindings_left() {
	expect_eq "bindings listed in the sender's netns" 0 "$(dnl -j dump | jq length)" &&
	expect_eq "bindings listed in the receiver's netns" 0 \
		"$("$DNL" -n "$NS_SRV" -j dump | jq length)"
}
ok "no binding is left" no_bindings_left
teardown

ok "the kernel log has no report from these tests" kernel_clean

# the plan: how many results lib.sh counted
# shellcheck disable=SC2154
echo "1..$__tap_n"
# what the clients and servers said, for a failed run
if ! tap_done && [ -n "${VM_SCRATCH:-}" ]; then
	cp -r "$T" "$VM_SCRATCH/devmem_tx" && diag "outputs kept in $VM_SCRATCH/devmem_tx"
fi
rm -rf "$T"
tap_done
