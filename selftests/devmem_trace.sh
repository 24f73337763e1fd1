#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The devmem tracepoints (include/trace/events/devmem.h) fire with exactly
# what the data path did, and agree with the devmem family's counters:
# bind/unbind/free of a binding, recvmsg bytes and frags, token release,
# EFAULT on a misrouted plain socket, allocation failures of a hoarding app.
# They are the tp_btf targets of the BPF accounting, so their BTF is checked.
. "$(dirname "$0")/lib.sh"

TR=/sys/kernel/tracing
T=/tmp/devmem_trace
mkdir -p $T

tap_plan 9

# stat ID FIELD: a counter of a binding, from the devmem family
stat() {
	"$LIB_CTL" -n "$NS_SRV" -j stats show binding "$1" | jq -r ".stats[0].\"$2\""
}

# ev EVENT [KEY=VALUE]: the lines of one event in the trace buffer
ev() { grep -E " $1: " $T/trace | { if [ -n "${2:-}" ]; then grep -E "(^| )$2( |$)"; else cat; fi; }; }
# sum EVENT FIELD [KEY=VALUE]: sum of FIELD=N over the event's lines
sum() {
	ev "$1" "${3:-}" | sed -nE "s/.* $2=([0-9]+).*/\1/p" | awk '{ s += $1 } END { print s + 0 }'
}
snap() { cat $TR/trace > $T/trace; }
# wait_ev EVENT KEY=VALUE: until the event shows up (free comes from a work item)
wait_ev() {
	local i
	for i in $(seq 50); do
		snap
		[ -n "$(ev "$1" "$2")" ] && return 0
		sleep 0.2
	done
	diag "no $1 $2 in the trace"
	return 1
}

setup() {
	wire_up 4 && devmem_port 5201 &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5203 action 3 loc 2 &&
	echo 8192 > $TR/buffer_size_kb &&
	echo 1 > $TR/events/devmem/enable && echo > $TR/trace
}
ok "setup: wire, devmem port, the devmem trace events on" setup ||
	{ echo "Bail out! no wire or no devmem trace events"; wire_down; exit 1; }

btf_targets() {
	local e r=0
	# one dump (each takes seconds in the VM), then a look per event
	bpftool btf dump file /sys/kernel/btf/vmlinux format raw |
		grep -o "'btf_trace_devmem_[a-z_]*'" > "$T/btf_targets" || return 1
	for e in bind unbind binding_free alloc_fail recvmsg recvmsg_efault token_release; do
		grep -qx "'btf_trace_devmem_$e'" "$T/btf_targets" ||
			{ diag "no BTF for tp_btf/devmem_$e"; r=1; }
	done
	return $r
}
ok "every devmem tracepoint is a tp_btf target (btf_trace_devmem_* in vmlinux BTF)" btf_targets

transfer() {
	srv rx 5201 -i "$SRV_IF" -q 2 -b 16M -s 16M
	wait_listen "$NS_SRV" 5201 || return 1
	cli 5201 16M || { diag "client: $(cat $T/cli.err)"; return 1; }
	wait_srv rx || { diag "server: $(cat $T/rx.err)"; return 1; }
	id=$(j rx '."binding-id"')
	wait_ev devmem_binding_free "binding=$id"
}
ok "a 16 MiB devmem transfer, its binding freed after the server exits" transfer
id=${id:-0}

recv_adds_up() {
	local r=0
	[ -n "$(ev devmem_bind "binding=$id" | grep -E 'size=16777216 queues=1')" ] ||
		{ diag "devmem_bind binding=$id size=16777216 queues=1 missing"; r=1; }
	[ -n "$(ev devmem_unbind "binding=$id")" ] || { diag "no devmem_unbind binding=$id"; r=1; }
	expect_eq "sum of devmem_recvmsg bytes" "$(j rx '."dmabuf-bytes"')" "$(sum devmem_recvmsg bytes "binding=$id")" || r=1
	expect_eq "sum of devmem_recvmsg frags" "$(j rx '."dmabuf-frags"')" "$(sum devmem_recvmsg frags "binding=$id")" || r=1
	expect_eq "sum of devmem_recvmsg linear" "$(j rx '."linear-bytes"')" "$(sum devmem_recvmsg linear "binding=$id")" || r=1
	expect_eq "sum of devmem_token_release count" "$(j rx '."tokens-returned"')" "$(sum devmem_token_release count)" || r=1
	return $r
}
ok "bind/unbind events name the binding; recvmsg bytes, frags and token releases add up to the transfer" recv_adds_up

order() {
	# bind before the first recvmsg, free after the unbind
	local b u f
	b=$(grep -nE " devmem_bind: binding=$id " $T/trace | head -1 | cut -d: -f1)
	u=$(grep -nE " devmem_unbind: binding=$id " $T/trace | head -1 | cut -d: -f1)
	f=$(grep -nE " devmem_binding_free: binding=$id " $T/trace | head -1 | cut -d: -f1)
	[ -n "$b" ] && [ -n "$u" ] && [ -n "$f" ] && [ "$b" -lt "$u" ] && [ "$u" -lt "$f" ] ||
		{ diag "bind at line $b, unbind at $u, free at $f"; return 1; }
}
ok "the binding's life cycle is traced in order: bind, unbind, free" order

misrouted() {
	echo > $TR/trace
	# queue 3 is bound by a persistent binding; a plain server's flow lands there
	srv holder 5201 -i "$SRV_IF" -q 2-3 -b 16M --lifetime persistent -s 4096
	wait_listen "$NS_SRV" 5201 || return 1
	cli 5201 4096 && wait_srv holder || { diag "holder: $(cat $T/holder.err)"; return 1; }
	hid=$(j holder '."binding-id"')
	srv plain 5203 --plain --expect-efault --timeout 20
	wait_listen "$NS_SRV" 5203 || return 1
	cli 5203 1M
	wait_srv plain || { diag "plain: $(cat $T/plain.err)"; return 1; }
	snap
	local n
	n=$(ev devmem_recvmsg_efault "binding=$hid" | wc -l)
	[ "$n" -ge 1 ] || { diag "no devmem_recvmsg_efault binding=$hid"; return 1; }
	expect_eq "efault counter of binding $hid = traced EFAULTs" "$n" "$(stat "$hid" efault)"
}
ok "a plain socket on a bound queue: devmem_recvmsg_efault names the binding, the efault counter agrees" misrouted
hid=${hid:-0}

unbind_holder() {
	"$LIB_CTL" -n "$NS_SRV" binding del id "$hid" &&
	wait_ev devmem_binding_free "binding=$hid"
}
ok "the persistent binding unbinds and is freed" unbind_holder

hoard() {
	echo > $TR/trace
	# a persistent 4 MiB binding whose app returns no token: the pool runs dry
	srv hoard 5201 -i "$SRV_IF" -q 2 -b 4M --lifetime persistent --hoard --timeout 5
	wait_listen "$NS_SRV" 5201 || return 1
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p 5201 -s 64M --timeout 60 \
		> /dev/null 2>&1 &
	local c=$!
	wait_srv hoard
	kill $c 2>/dev/null; wait $c 2>/dev/null
	aid=$(j hoard '."binding-id"')
	# the app is gone: the kernel took its tokens back
	sleep 1
	snap
	local r=0 n
	n=$(ev devmem_alloc_fail "binding=$aid" | grep -c 'queue=2')
	[ "$n" -ge 1 ] || { diag "no devmem_alloc_fail binding=$aid queue=2"; r=1; }
	expect_eq "alloc-fail counter = traced allocation failures" "$n" "$(stat "$aid" alloc-fail)" || r=1
	expect_eq "tokens reclaimed at close = tokens handed out" "$(stat "$aid" tokens-out)" "$(stat "$aid" tokens-reclaimed)" || r=1
	[ "$(stat "$aid" tokens-out)" -gt 0 ] || { diag "no tokens handed out"; r=1; }
	expect_eq "no devmem_token_release (nothing returned)" 0 "$(ev devmem_token_release | wc -l)" || r=1
	"$LIB_CTL" -n "$NS_SRV" binding del id "$aid" || r=1
	return $r
}
ok "a hoarding app: devmem_alloc_fail on queue 2 as often as the alloc-fail counter; its tokens reclaimed at close" hoard

teardown() {
	echo 0 > $TR/events/devmem/enable
	wire_down
}
ok "teardown" teardown
tap_done
