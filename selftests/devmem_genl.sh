#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The devmem generic netlink family: every bind refusal with its errno and
# extack (through devmem_nl and, independently, the base tree's YNL CLI);
# persistent bindings that outlive their maker and carry a transfer into
# another process, with counters equal to what it received; bindings of
# another process's dmabuf (pidfd); lifetime socket; netdev bind-rx
# bindings listed and unbound here; CAP_NET_ADMIN in the netns's user ns;
# netns isolation; the mgmt notifications; a fuzzer; bindings ending with
# their device (netns move, deletion).
. "$(dirname "$0")/lib.sh"

DNL=$BUILD/selftests/devmem_nl
NC=$BUILD/tools/devmem-nc
SIZE=16M
size_bytes=$((16 << 20))
SMALL=4M
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# no binding has this id (ids are small and counted up)
NO_ID=4000000000
T=/tmp/devmem_genl
rm -rf "$T"
mkdir -p "$T"

tap_plan 45

# -- helpers ------------------------------------------------------------------

dnl() { in_srv "$DNL" "$@"; }
# bind_q QUEUES [ARGS...]: a binding of a 4M udmabuf on the server port,
# prints its id
bind_q() { local q=$1; shift; dnl bind --ifindex "$SRV_IFINDEX" --queues "$q" --udmabuf $SMALL "$@"; }

# listed ID [NETNS]: the binding's JSON object in NETNS's dump (default
# the server's), nothing if it is not listed; fails if the dump fails
listed() {
	local out
	out=$(ip netns exec "${2:-$NS_SRV}" "$DNL" -j dump) || { diag "dump failed"; return 1; }
	jq -c --argjson id "$1" '.[] | select(.id == $id)' <<<"$out"
}
state_of() { local b; b=$(listed "$@") || return 1; jq -r '.state // empty' <<<"$b"; }

# wait_gone ID [SECONDS]: until the binding is no longer listed
wait_gone() {
	local i b
	for i in $(seq $((${2:-10} * 4))); do
		b=$(listed "$1") || return 1
		[ -z "$b" ] && return 0
		sleep 0.25
	done
	diag "binding $1 still listed after ${2:-10}s: $b"
	return 1
}

# unbound_now ID: right after an unbind, the binding is draining or gone
unbound_now() {
	local s
	s=$(state_of "$1") || return 1
	[ -z "$s" ] || [ "$s" = draining ] || { diag "binding $1 is '$s' after unbind"; return 1; }
}

# refused ERRNAME TEXT DEVMEM_NL-ARGS...: devmem_nl exits 1 and prints
# exactly "devmem_nl: CMD: ERRNAME: TEXT". Runs in $ref_ns, under the
# command in ref_as (e.g. setpriv) if set.
ref_ns=$NS_SRV
ref_as=()
refused() {
	local err=$1 text=$2 out rc; shift 2
	local want="devmem_nl: $1: $err: $text"
	out=$(ip netns exec "$ref_ns" "${ref_as[@]}" "$DNL" "$@" 2>&1 > /dev/null)
	rc=$?
	[ $rc -eq 1 ] && [ "$out" = "$want" ] && return 0
	diag "devmem_nl $*: exit $rc, stderr: $out"
	diag "expected exit 1 and: $want"
	return 1
}

# ynl_refused ERRNO TEXT YNL-ARGS...: the YNL CLI (devmem spec) fails with
# error -ERRNO and the extack message TEXT
ynl_refused() {
	local num=$1 text=$2 out rc; shift 2
	out=$(ip netns exec "$ref_ns" "${ref_as[@]}" "$YNL" devmem "$@" 2>&1)
	rc=$?
	[ $rc -eq 1 ] && grep -Eq "error: -$num([^0-9]|\$)" <<<"$out" &&
		grep -qF "'msg': '$text'" <<<"$out" && return 0
	diag "ynl devmem $*: exit $rc: $out"
	diag "expected error -$num and extack '$text'"
	return 1
}
ynl() { in_srv "$YNL" devmem "$@" --output-json; }

# srv_cmd NAME COMMAND...: a command in the server netns, in the
# background (not through in_srv: killing a backgrounded function would
# leave its command running); stdout in $T/NAME.json, stderr in
# $T/NAME.err, pid in $pid_NAME
srv_cmd() {
	local name=$1; shift
	ip netns exec "$NS_SRV" "$@" > "$T/$name.json" 2> "$T/$name.err" &
	eval "pid_$name=$!"
}
# srv NAME PORT ARGS...: a devmem-nc server
srv() {
	local name=$1 port=$2; shift 2
	srv_cmd "$name" "$NC" -l -a "$SRV_IP" -p "$port" -j --timeout 60 "$@"
}
cli() { in_cli "$NC" -c "$SRV_IP" -p "$1" -s "$2" --timeout 60 > /dev/null 2> "$T/cli.err"; }
cli_bg() {
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p "$1" -s "$2" --timeout 60 \
		> /dev/null 2> "$T/cli.err" &
	pid_cli=$!
}
wait_srv() { local p="pid_$1"; wait "${!p}"; }
j() { jq -r "$2" "$T/$1.json"; }

# transfer NAME PORT: the client sends $SIZE to server NAME; every byte
# arrived, was validated, and most came through the dmabuf
transfer() {
	wait_listen "$NS_SRV" "$2" || return 1
	cli "$2" $SIZE || { diag "client: $(cat "$T/cli.err")"; return 1; }
	wait_srv "$1" || { diag "server: $(cat "$T/$1.err")"; return 1; }
	[ "$(j "$1" .bytes)" = $size_bytes ] && [ "$(j "$1" .errors)" = 0 ] &&
		[ "$(j "$1" .validated)" = true ] &&
		[ "$(j "$1" '."dmabuf-bytes"')" -gt $((size_bytes - 65536)) ] ||
		{ diag "$1: $(cat "$T/$1.json")"; return 1; }
	diag "$1: $(j "$1" '"\(."dmabuf-bytes") bytes via dmabuf (\(."dmabuf-frags") frags), \(."linear-bytes") linear"')"
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s)
wait_for() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "$1: no '$2': $(cat "$1" 2>/dev/null)"
	return 1
}

# -- setup --------------------------------------------------------------------

setup() {
	wire_up 4 && devmem_port 5201 &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5203 action 3 loc 2
}
ok "setup: netdevsim wire, header split, port 5201 steered to queue 2" setup ||
	{ echo "Bail out! no devmem-capable wire"; wire_down; exit 1; }
family_there() {
	local out
	out=$(dnl -j dump 2>&1) || { diag "$out"; return 1; }
	expect_eq "bindings at the start" "[]" "$out"
}
ok "the devmem family answers a dump: no bindings yet" family_there ||
	{ echo "Bail out! no devmem family"; wire_down; exit 1; }

# -- every bind refusal, through devmem_nl ----------------------------------

B=(bind --ifindex "$SRV_IFINDEX")
ok "bind without ifindex: EINVAL 'ifindex is required'" \
	refused EINVAL "ifindex is required" bind --omit ifindex --queues 2 --udmabuf $SMALL
ok "bind without fd: EINVAL 'fd is required'" \
	refused EINVAL "fd is required" "${B[@]}" --queues 2 --omit fd
ok "bind without queues: EINVAL 'queues is required'" \
	refused EINVAL "queues is required" "${B[@]}" --omit queues --udmabuf $SMALL
ok "bind direction tx: EOPNOTSUPP" \
	refused EOPNOTSUPP "tx bindings are not supported" "${B[@]}" --queues 2 --udmabuf $SMALL --direction tx
ok "bind to an ifindex not in this netns: ENODEV" \
	refused ENODEV "no device with this ifindex" bind --ifindex 9999 --queues 2 --udmabuf $SMALL

bind_down() {
	in_srv ip link set "$SRV_IF" down || return 1
	refused ENETDOWN "device is down" "${B[@]}" --queues 2 --udmabuf $SMALL
	local r=$?
	in_srv ip link set "$SRV_IF" up || r=1
	return $r
}
ok "bind to a device that is down: ENETDOWN" bind_down

bind_no_hds() {
	hds "$NS_SRV" "$SRV_IF" off || return 1
	refused EINVAL "tcp-data-split is disabled" "${B[@]}" --queues 2 --udmabuf $SMALL
	local r=$?
	hds "$NS_SRV" "$SRV_IF" on || r=1
	return $r
}
ok "bind with tcp-data-split off: EINVAL" bind_no_hds

# XDP_PASS, built here: the suite has no BPF objects of its own yet
xdp_obj() {
	command -v clang > /dev/null || return 1
	printf '%s\n' \
		'__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; }' \
		'char _license[] __attribute__((section("license"), used)) = "GPL";' \
		> "$T/xdp_pass.c"
	clang -O2 -target bpf -c "$T/xdp_pass.c" -o "$T/xdp_pass.o"
}
bind_with_xdp() {
	in_srv ip link set dev "$SRV_IF" xdpgeneric obj "$T/xdp_pass.o" sec xdp || return 1
	refused EBUSY "unable to bind dmabuf to device with XDP program attached" \
		"${B[@]}" --queues 2 --udmabuf $SMALL
	local r=$?
	in_srv ip link set dev "$SRV_IF" xdpgeneric off || r=1
	return $r
}
if xdp_obj 2> "$T/clang.err"; then
	ok "bind with an XDP program attached: EBUSY" bind_with_xdp
else
	skip "bind with an XDP program attached: EBUSY" "no clang to build an XDP program"
fi

ok "bind queue 9 of 4: ERANGE" \
	refused ERANGE "rx queue 9 is out of range (the device has 4)" "${B[@]}" --queues 9 --udmabuf $SMALL
ok "bind a queue listed twice: EINVAL" \
	refused EINVAL "rx queue 2 is listed twice" "${B[@]}" --queue 2 --queue 2 --udmabuf $SMALL
ok "bind an fd that is not open: EBADF" \
	refused EBADF "fd is not an open file" "${B[@]}" --queues 2 --bad-fd
ok "bind an fd that is not a dmabuf (/dev/null): EINVAL" \
	refused EINVAL "fd is not a dmabuf" "${B[@]}" --queues 2 --fd-path /dev/null
skip "bind a dmabuf whose size is not page aligned: EINVAL" \
	"udmabuf sizes are always page aligned, and the VM has no other exporter"

bind_already_bound() {
	local id r=0
	id=$(bind_q 3) || return 1
	# queue 2 is free, queue 3 is not: nothing may stay bound
	refused EBUSY "rx queue 3 is already bound" "${B[@]}" --queues 2-3 --udmabuf $SMALL || r=1
	dnl unbind "$id" && wait_gone "$id" || r=1
	return $r
}
ok "bind a queue another binding holds: EBUSY" bind_already_bound

refusals_changed_nothing() {
	local out id
	out=$(dnl -j dump) || return 1
	expect_eq "bindings after the refusals" "[]" "$out" || return 1
	# every queue a refused bind named binds now
	id=$(bind_q 2-3) || return 1
	dnl unbind "$id" && wait_gone "$id"
}
ok "refused binds left nothing behind: no bindings, queues 2-3 bind" refusals_changed_nothing

# -- the same refusals through the YNL CLI ------------------------------------
# The fd is checked after everything below, so fd 0 (YNL's stdin) does.

ok "YNL: bind without queues: EINVAL" \
	ynl_refused 22 "queues is required" --do bind --json "{\"ifindex\": $SRV_IFINDEX, \"fd\": 0}"
ok "YNL: bind to an unknown ifindex: ENODEV" \
	ynl_refused 19 "no device with this ifindex" --do bind --json '{"ifindex": 9999, "fd": 0, "queues": [2]}'
ok "YNL: bind queue 9 of 4: ERANGE" \
	ynl_refused 34 "rx queue 9 is out of range (the device has 4)" \
	--do bind --json "{\"ifindex\": $SRV_IFINDEX, \"fd\": 0, \"queues\": [9]}"
ok "YNL: bind direction tx: EOPNOTSUPP" \
	ynl_refused 95 "tx bindings are not supported" \
	--do bind --json "{\"ifindex\": $SRV_IFINDEX, \"fd\": 0, \"queues\": [2], \"direction\": \"tx\"}"
ynl_enoent() {
	ynl_refused 2 "no binding with this id" --do unbind --json "{\"id\": $NO_ID}" &&
	ynl_refused 2 "no binding with this id" --do binding-get --json "{\"id\": $NO_ID}"
}
ok "YNL: unbind and binding-get of an unknown id: ENOENT" ynl_enoent
devmem_nl_enoent() {
	local c
	for c in unbind get stats dmabuf-get; do
		refused ENOENT "no binding with this id" $c $NO_ID || return 1
	done
}
ok "devmem_nl: unbind, get, stats, dmabuf-get of an unknown id: ENOENT" devmem_nl_enoent

# -- a persistent binding ---------------------------------------------------------

persistent_bind() {
	local t0 t1 b ct r=0
	t0=$(date +%s%N)
	# not through in_srv: $! is devmem_nl itself (ip netns exec execs)
	ip netns exec "$NS_SRV" "$DNL" bind --ifindex "$SRV_IFINDEX" --queues 2 \
		--udmabuf $SIZE > "$T/pers.id" 2> "$T/pers.bind.err" &
	local pid=$!
	wait $pid || { diag "bind: $(cat "$T/pers.bind.err")"; return 1; }
	t1=$(date +%s%N)
	pers_id=$(cat "$T/pers.id")
	b=$(listed "$pers_id") || return 1
	[ -n "$b" ] || { diag "binding '$pers_id' is not listed after its maker exited"; return 1; }
	diag "$b"
	expect_eq state active "$(jq -r .state <<<"$b")" || r=1
	expect_eq lifetime persistent "$(jq -r .lifetime <<<"$b")" || r=1
	expect_eq direction rx "$(jq -r .direction <<<"$b")" || r=1
	expect_eq ifindex "$SRV_IFINDEX" "$(jq -r .ifindex <<<"$b")" || r=1
	expect_eq queues "[2]" "$(jq -c .queues <<<"$b")" || r=1
	expect_eq dmabuf-size $size_bytes "$(jq -r '."dmabuf-size"' <<<"$b")" || r=1
	expect_eq owner-comm devmem_nl "$(jq -r '."owner-comm"' <<<"$b")" || r=1
	expect_eq owner-pid "$pid" "$(jq -r '."owner-pid"' <<<"$b")" || r=1
	# jq's numbers are doubles: read the nanoseconds from the text output
	ct=$(dnl get "$pers_id" | grep -o 'create-time [0-9]*' | cut -d' ' -f2)
	[ -n "$ct" ] && [ "$ct" -ge "$t0" ] && [ "$ct" -le "$t1" ] ||
		{ diag "create-time '$ct' not within [$t0, $t1]"; r=1; }
	return $r
}
ok "persistent bind of a 16M udmabuf: listed after its maker exited, with every attribute" persistent_bind

dump_filters() {
	local n
	n=$(dnl -j dump --ifindex "$SRV_IFINDEX" | jq --argjson id "$pers_id" 'map(select(.id == $id)) | length')
	expect_eq "dump of the server port" 1 "$n" || return 1
	n=$(dnl -j dump --ifindex 1 | jq 'length')
	expect_eq "dump of lo" 0 "$n" || return 1
	n=$(dnl -j stats-dump | jq --argjson id "$pers_id" 'map(select(.id == $id)) | length')
	expect_eq "stats-dump entries of the binding" 1 "$n"
}
ok "dump and stats-dump list it; the ifindex filter selects by device" dump_filters

ynl_sees_binding() {
	local g d
	g=$(ynl --do binding-get --json "{\"id\": $pers_id}") || { diag "$g"; return 1; }
	jq -e --argjson ifi "$SRV_IFINDEX" '.state == "active" and .lifetime == "persistent" and
		."owner-comm" == "devmem_nl" and ."dmabuf-size" == 16777216 and
		.queues == [2] and .ifindex == $ifi and .direction == "rx"' <<<"$g" > /dev/null ||
		{ diag "ynl binding-get: $g"; return 1; }
	d=$(ynl --dump binding-get) || { diag "$d"; return 1; }
	jq -e --argjson id "$pers_id" 'map(select(.id == $id and .state == "active")) | length == 1' \
		<<<"$d" > /dev/null || { diag "ynl dump: $d"; return 1; }
}
ok "YNL binding-get and dump show the same binding" ynl_sees_binding

dmabuf_get() {
	local o
	o=$(dnl -j dmabuf-get "$pers_id" --check-size $SIZE) || return 1
	jq -e '.cloexec == true and .mapped == true and .size == 16777216' <<<"$o" > /dev/null ||
		{ diag "$o"; return 1; }
}
ok "dmabuf-get: a new close-on-exec fd of the 16M dmabuf, mapped" dmabuf_get

persistent_transfer() {
	srv pers 5201 --binding "$pers_id" -s $SIZE
	transfer pers 5201 || return 1
	expect_eq "dmabuf id in the cmsgs" "$pers_id" "$(j pers '."dmabuf-id"')"
}
ok "devmem-nc --binding receives $SIZE into it, every byte validated" persistent_transfer

# stats_equal ID NAME: the binding's counters equal what devmem-nc NAME got
stats_equal() {
	local s r=0 pair
	s=$(dnl -j stats "$1") || return 1
	diag "stats: $s"
	for pair in rx-bytes:dmabuf-bytes rx-frags:dmabuf-frags \
		    rx-linear-bytes:linear-bytes tokens-out:tokens-returned \
		    tokens-returned:tokens-returned; do
		expect_eq "${pair%%:*} (devmem-nc ${pair#*:})" "$(j "$2" ".\"${pair#*:}\"")" \
			"$(jq -r ".\"${pair%%:*}\"" <<<"$s")" || r=1
	done
	expect_eq niovs-user 0 "$(jq -r '."niovs-user"' <<<"$s")" || r=1
	expect_eq tokens-reclaimed 0 "$(jq -r '."tokens-reclaimed"' <<<"$s")" || r=1
	expect_eq niovs-total $((size_bytes / 4096)) "$(jq -r '."niovs-total"' <<<"$s")" || r=1
	return $r
}
ok "stats equal devmem-nc's counts: bytes, frags, linear bytes, tokens" stats_equal "$pers_id" pers

ynl_stats() {
	local s
	s=$(ynl --do stats-get --json "{\"id\": $pers_id}") || { diag "$s"; return 1; }
	expect_eq "YNL stats-get rx-bytes" "$(j pers '."dmabuf-bytes"')" "$(jq -r '."rx-bytes"' <<<"$s")"
}
ok "YNL stats-get agrees" ynl_stats

unbind_persistent() {
	dnl unbind "$pers_id" && unbound_now "$pers_id" && wait_gone "$pers_id" || return 1
	refused ENOENT "no binding with this id" unbind "$pers_id" &&
	refused ENOENT "no binding with this id" get "$pers_id" || return 1
	# its queue binds again
	local id
	id=$(bind_q 2) && dnl unbind "$id" && wait_gone "$id"
}
ok "unbind: draining then gone, its id unknown, its queue free" unbind_persistent

# -- draining: buffers held by an application ---------------------------------

draining_while_held() {
	local id s r=0 i
	id=$(dnl bind --ifindex "$SRV_IFINDEX" --queues 2 --udmabuf $SIZE) || return 1
	# the server keeps every token; 64M do not fit in the 16M dmabuf
	srv hoard 5201 --binding "$id" --hoard --timeout 60
	wait_listen "$NS_SRV" 5201 || return 1
	cli_bg 5201 64M
	for i in $(seq 60); do
		s=$(dnl -j stats "$id" | jq -r '."niovs-user"')
		[ "${s:-0}" -ge 2048 ] && break
		sleep 1
	done
	diag "the server holds $s net_iovs"
	[ "${s:-0}" -ge 2048 ] || r=1
	# no more packets: the client's port goes down
	in_cli ip link set "$CLI_IF" down
	dnl unbind "$id" || r=1
	expect_eq "state while buffers are held" draining "$(state_of "$id")" || r=1
	refused EALREADY "binding is already unbound" unbind "$id" || r=1
	s=$(dnl -j stats "$id") || r=1
	[ "$(jq -r '."niovs-user"' <<<"$s")" -gt 0 ] || { diag "stats while draining: $s"; r=1; }
	# the application exits: its tokens come back, the binding is freed
	kill "$pid_hoard" 2> /dev/null
	wait "$pid_hoard" 2> /dev/null
	wait_gone "$id" || r=1
	kill "$pid_cli" 2> /dev/null
	wait "$pid_cli" 2> /dev/null
	in_cli ip link set "$CLI_IF" up || r=1
	return $r
}
ok "unbound while an app holds its buffers: draining, EALREADY, freed when the app exits" draining_while_held

# -- an application's own dmabuf, bound by pid and fd (pidfd_getfd) ---------------

pidfd_bind() {
	local id r=0
	# the app: devmem-nc with a udmabuf it owns as fd 5, binding nothing
	srv_cmd own "$DNL" udmabuf $SIZE --fd 5 -- "$NC" -l -a "$SRV_IP" -p 5201 -j \
		--timeout 60 --dmabuf-fd 5 --no-bind -s $SIZE
	wait_listen "$NS_SRV" 5201 || { diag "$(cat "$T/own.err")"; return 1; }
	id=$(dnl bind --ifindex "$SRV_IFINDEX" --queues 2 --pid "$pid_own" --fd 5) || return 1
	transfer own 5201 || r=1
	expect_eq "dmabuf id in the app's cmsgs" "$id" "$(j own '."dmabuf-id"')" || r=1
	dnl unbind "$id" && wait_gone "$id" || r=1
	return $r
}
ok "bind --pid/--fd: another process's dmabuf, that process receives $SIZE validated" pidfd_bind

# -- lifetime socket ----------------------------------------------------------------

socket_lifetime() {
	local id b pid i
	ip netns exec "$NS_SRV" "$DNL" bind --ifindex "$SRV_IFINDEX" --queues 3 \
		--udmabuf $SMALL --lifetime socket --hold 120 > "$T/held.id" 2> "$T/held.err" &
	pid=$!
	for i in $(seq 100); do
		[ -s "$T/held.id" ] || ! kill -0 $pid 2> /dev/null && break
		sleep 0.1
	done
	id=$(cat "$T/held.id")
	[ -n "$id" ] || { diag "bind --hold: $(cat "$T/held.err")"; kill $pid; return 1; }
	b=$(listed "$id")
	jq -e '.state == "active" and .lifetime == "socket"' <<<"$b" > /dev/null ||
		{ diag "while held: '$b'"; kill $pid; return 1; }
	# its maker exits: the socket closes
	kill $pid
	wait $pid 2> /dev/null
	unbound_now "$id" && wait_gone "$id"
}
ok "lifetime socket: listed while its socket is open, gone when it closes" socket_lifetime

# -- a netdev-family binding ----------------------------------------------------------

netdev_binding() {
	local opt='' id b r=0
	# devmem-nc binds with the devmem family unless told otherwise
	"$NC" -h | grep -q -- --netdev-bind && opt=--netdev-bind
	srv legacy 5201 -i "$SRV_IF" -q 2 -b $SMALL $opt --timeout 60
	wait_listen "$NS_SRV" 5201 || { diag "$(cat "$T/legacy.err")"; return 1; }
	id=$(sed -n 's/.*bound dmabuf id \([0-9]*\).*/\1/p' "$T/legacy.err")
	b=$(listed "${id:-0}")
	diag "bind-rx binding: $b"
	jq -e '.state == "active" and .lifetime == "socket" and ."owner-comm" == "devmem-nc" and
		.queues == [2]' <<<"$b" > /dev/null || { diag "not listed as expected"; r=1; }
	refused EBUSY "rx queue 2 is already bound" "${B[@]}" --queues 2 --udmabuf $SMALL || r=1
	dnl unbind "${id:-0}" && unbound_now "$id" && wait_gone "$id" || r=1
	# the queue is free; the app's socket closing later finds nothing to undo
	local id2
	id2=$(bind_q 2) && dnl unbind "$id2" && wait_gone "$id2" || r=1
	kill "$pid_legacy" 2> /dev/null
	wait "$pid_legacy" 2> /dev/null
	return $r
}
ok "a netdev bind-rx binding: listed (lifetime socket), holds its queue, unbound here" netdev_binding

# -- CAP_NET_ADMIN --------------------------------------------------------------------

unprivileged() {
	local id r=0 c
	id=$(bind_q 3) || return 1
	ref_as=("${NOBODY[@]}")
	refused EPERM "CAP_NET_ADMIN is required" "${B[@]}" --queues 2 --fd-path /dev/null || r=1
	for c in dump stats-dump; do
		refused EPERM "CAP_NET_ADMIN is required" $c || r=1
	done
	for c in get stats dmabuf-get unbind; do
		refused EPERM "CAP_NET_ADMIN is required" $c "$id" || r=1
	done
	refused EPERM "cannot join the mgmt group" monitor --count 1 --timeout 5 || r=1
	ref_as=()
	expect_eq "the binding after the refusals" active "$(state_of "$id")" || r=1
	unpriv_id=$id
	return $r
}
ok "an unprivileged user: every op EPERM 'CAP_NET_ADMIN is required', no mgmt group" unprivileged

ynl_unprivileged() {
	ref_as=("${NOBODY[@]}")
	ynl_refused 1 "CAP_NET_ADMIN is required" --dump binding-get &&
	ynl_refused 1 "CAP_NET_ADMIN is required" --do unbind --json "{\"id\": ${unpriv_id:-1}}"
	local r=$?
	ref_as=()
	return $r
}
ok "YNL as an unprivileged user: EPERM with the extack" ynl_unprivileged

userns() {
	local r=0 out
	# root of a new user ns is not root of the netns's owner
	ref_as=(unshare -U -r)
	refused EPERM "CAP_NET_ADMIN is required" dump || r=1
	refused EPERM "CAP_NET_ADMIN is required" unbind "${unpriv_id:-1}" || r=1
	# ...but it owns a netns of its own (whose lo is down)
	ref_as=(unshare -U -r -n)
	out=$(ip netns exec "$NS_SRV" "${ref_as[@]}" "$DNL" -j dump) && expect_eq "dump in an own netns" "[]" "$out" || r=1
	refused ENETDOWN "device is down" bind --ifindex 1 --queues 0 --fd-path /dev/null || r=1
	ref_as=()
	expect_eq "the binding after the refusals" active "$(state_of "${unpriv_id:-1}")" || r=1
	dnl unbind "${unpriv_id:-1}" && wait_gone "${unpriv_id:-1}" || r=1
	return $r
}
ok "CAP_NET_ADMIN counts in the netns's user ns: a user ns root is refused, allowed in its own netns" userns

# -- netns isolation ------------------------------------------------------------------

other_netns() {
	local id r=0 c out
	id=$(bind_q 2) || return 1
	out=$(in_cli "$DNL" -j dump) && expect_eq "client netns dump" "[]" "$out" || r=1
	out=$(in_cli "$DNL" -j stats-dump) && expect_eq "client netns stats-dump" "[]" "$out" || r=1
	out=$("$DNL" -j dump) && expect_eq "init netns dump" "[]" "$out" || r=1
	ref_ns=$NS_CLI
	for c in get stats dmabuf-get unbind; do
		refused ENOENT "no binding with this id" $c "$id" || r=1
	done
	ref_ns=$NS_SRV
	expect_eq "the binding after the client's unbind" active "$(state_of "$id")" || r=1
	dnl unbind "$id" && wait_gone "$id" || r=1
	return $r
}
ok "another netns sees no bindings; get/stats/dmabuf-get/unbind of the id: ENOENT" other_netns

# -- notifications ---------------------------------------------------------------------

notifications() {
	local id r=0 ev
	srv_cmd mon "$DNL" -j monitor --count 3 --timeout 60
	ip netns exec "$NS_CLI" "$DNL" -j monitor --count 1 --timeout 10 \
		> "$T/moncli.json" 2> "$T/moncli.err" &
	local moncli=$!
	wait_for "$T/mon.err" listening && wait_for "$T/moncli.err" listening || r=1
	id=$(bind_q 3) && dnl unbind "$id" || r=1
	wait "$pid_mon" || { diag "monitor: $(cat "$T/mon.err")"; r=1; }
	ev=$(jq -sc 'map([.event, .id, .state])' "$T/mon.json")
	expect_eq "events" "[[\"bind-ntf\",$id,\"active\"],[\"unbind-ntf\",$id,\"draining\"],[\"free-ntf\",$id,$(jq -sc '.[2].state' "$T/mon.json")]]" "$ev" || r=1
	jq -se --argjson ifi "$SRV_IFINDEX" '.[0] | .queues == [3] and .ifindex == $ifi and
		.lifetime == "persistent" and ."owner-comm" == "devmem_nl" and
		."dmabuf-size" == 4194304' "$T/mon.json" > /dev/null ||
		{ diag "bind-ntf: $(head -n1 "$T/mon.json")"; r=1; }
	# the client netns heard nothing
	wait $moncli && { diag "client netns monitor: $(cat "$T/moncli.json")"; r=1; }
	[ -s "$T/moncli.json" ] && r=1
	return $r
}
ok "mgmt group: bind-ntf, unbind-ntf, free-ntf with the binding's attributes, only in its netns" notifications

# -- fuzz ---------------------------------------------------------------------------

fuzz() {
	local seed=${DEVMEM_FUZZ_SEED:-$RANDOM}
	fuzz_id=$(dnl bind --ifindex "$SRV_IFINDEX" --queues 2 --udmabuf $SIZE) || return 1
	diag "fuzz seed $seed (DEVMEM_FUZZ_SEED reproduces it)"
	dnl -j fuzz --count 5000 --seed "$seed" --keep-id "$fuzz_id" > "$T/fuzz.json" 2> "$T/fuzz.err"
	local rc=$?
	diag "$(jq -c '{sent, refused, accepted, "no-reply", errors}' "$T/fuzz.json" 2>/dev/null)"
	[ $rc -eq 0 ] || { diag "$(head -n 20 "$T/fuzz.err")"; return 1; }
	jq -e '.sent == 5000 and .refused == 5000 and .accepted == 0 and ."no-reply" == 0' \
		"$T/fuzz.json" > /dev/null
}
ok "5000 malformed and random requests: each refused with an error, nothing else" fuzz
after_fuzz() {
	srv fz 5201 --binding "${fuzz_id:-0}" -s $SIZE
	transfer fz 5201 && stats_equal "$fuzz_id" fz &&
		dnl unbind "$fuzz_id" && wait_gone "$fuzz_id"
}
ok "the binding kept through the fuzz carries a transfer, counts it, unbinds" after_fuzz

# -- the device goes away -----------------------------------------------------------

netns_move() {
	local id r=0 out
	id=$(dnl bind --ifindex "$SRV_IFINDEX" --queues 2 --udmabuf $SIZE) || return 1
	in_srv ip link set "$SRV_IF" netns "$NS_CLI" 2> "$T/move.err" ||
		{ diag "$(cat "$T/move.err")"; dnl unbind "$id"; return 1; }
	unbound_now "$id" || r=1
	out=$(listed "$id" "$NS_CLI") || r=1
	[ -z "$out" ] || [ "$(jq -r .state <<<"$out")" = draining ] ||
		{ diag "in the new netns: $out"; r=1; }
	wait_gone "$id" || r=1
	out=$(listed "$id" "$NS_CLI") && [ -z "$out" ] || { diag "in the new netns: $out"; r=1; }
	return $r
}
ok "the device moving to another netns unbinds its binding" netns_move

rebuild() { wire_down; setup; }
ok "the wire is rebuilt" rebuild

device_deleted() {
	local id r=0 b
	id=$(dnl bind --ifindex "$SRV_IFINDEX" --queues 2-3 --udmabuf $SIZE) || return 1
	echo 1 > /sys/bus/netdevsim/del_device || return 1
	b=$(listed "$id") || return 1
	[ -z "$b" ] || jq -e '.state == "draining" and (.queues // [] | length) == 0' <<<"$b" > /dev/null ||
		{ diag "after the device went away: $b"; r=1; }
	wait_gone "$id" || r=1
	refused ENOENT "no binding with this id" unbind "$id" || r=1
	return $r
}
ok "deleting the netdevsim device unbinds its binding" device_deleted

wire_down
rm -rf "$T"
tap_done
