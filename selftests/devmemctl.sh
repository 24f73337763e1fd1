#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# devmemctl as an admin uses it, on a netdevsim pair whose server port is
# renamed eth1 (so the man page's examples run as written):
#  - dev setup makes the port a devmem NIC (header split, ntuple, RSS over
#    the other queues), as ethtool sees it; dev show reports it;
#  - a udmabuf bound by devmemctl carries a transfer into devmem-nc
#    --binding, every byte validated and in the dmabuf; binding show, dev
#    show, stats show (and its -w rates) agree with what arrived;
#  - monitor sees bind, unbind and free, and exits 0 on SIGINT;
#  - the production flow: an application's own dmabuf bound by pid and fd
#    while it runs, the application receives; the binding outlives it;
#  - a table of bad command lines, each with its exit status and message,
#    unprivileged ones included;
#  - the man page's EXAMPLES, run as written;
#  - iproute2's conventions: duplicate keywords refused, an object alone
#    shows, -p is JSON, long options, help after a command; with -j every
#    command prints exactly one JSON document, failing or not;
#  - devmemctl runs built with ASan and UBSan.
. "$(dirname "$0")/lib.sh"

DNL=$BUILD/selftests/devmem_nl
MAN=$LIB_TOP/Documentation/devmemctl.8
SIZE=16M
size_bytes=$((16 << 20))
SMALL=4M
# no binding has this id (ids count up from 1)
NO_ID=4000000000
T=/tmp/devmemctl
rm -rf "$T"
mkdir -p "$T"
# devmemctl built with ASan and UBSan: a report fails the test
sanitized_ctl "$T"

tap_plan 74

ctl() { "$CTL" -n "$NS_SRV" "$@"; }

# wait_joined PID: until the netlink socket of process PID is in a
# multicast group (its monitor listens). /proc/net/netlink shows groups
# 0-31 only; libnl's port ids are the pid plus a count in the top 10 bits.
wait_joined() {
	local i
	for i in $(seq 50); do
		awk -v p="$1" '$2 == 16 && $3 % 4194304 == p && $4 != "00000000" { f = 1 }
			END { exit !f }' "/proc/$1/net/netlink" 2> /dev/null && return 0
		sleep 0.1
	done
	diag "cannot tell whether process $1 joined the mgmt group; going on"
}

# transfer NAME PORT SIZE: the client sends SIZE to devmem-nc server NAME,
# which received all of it through the dmabuf, every byte validated
transfer() {
	wait_listen "$NS_SRV" "$2" || return 1
	cli "$2" "$3" || { diag "client: $(cat "$T/cli.err")"; return 1; }
	wait_srv "$1" || { diag "server: $(cat "$T/$1.err")"; return 1; }
	diag "$1: $(jq -c '{bytes, "dmabuf-bytes", "linear-bytes", errors, validated}' "$T/$1.json")"
	jq -e --argjson n "$(numfmt --from=iec "$3")" '.bytes == $n and .errors == 0 and
		.validated and ."dmabuf-bytes" == $n' "$T/$1.json" > /dev/null
}

# gone ID: until binding ID is no longer listed (10 s); then it is unknown
gone() {
	local out
	for _ in $(seq 40); do
		out=$(ctl binding show id "$1" 2>&1) || break
		sleep 0.25
	done
	expect_eq "binding show id $1 once it is gone" \
		"Error: binding $1: no binding with this id (ENOENT); see 'devmemctl binding show'." "$out"
}

finish() {
	local p
	for p in "${pid_mon:-}" "${pid_hold:-}" "${pid_trainer:-}" "${pid_watch:-}"; do
		[ -n "$p" ] && kill "$p" 2> /dev/null
	done
	"$CTL" -n "$NS_SRV" steer detach > /dev/null 2>&1
	"$CTL" -n "$NS_SRV" stats detach > /dev/null 2>&1
	wire_down
	rm -rf "$T"
}

# -- setup ------------------------------------------------------------------------

setup() {
	wire_up 4 || return 1
	in_srv ip link set "$SRV_IF" down && in_srv ip link set "$SRV_IF" name eth1 &&
		in_srv ip link set eth1 up || return 1
	SRV_IF=eth1
}
ok "a netdevsim pair, the server port renamed eth1" setup ||
	{ echo "Bail out! no netdevsim wire"; finish; exit 1; }
family_there() {
	local out
	out=$(ctl -j binding show) || { diag "$out"; return 1; }
	expect_eq "bindings at the start" '{"binding":[]}' "$out"
}
ok "binding show answers: no bindings yet" family_there ||
	{ echo "Bail out! no devmem family"; finish; exit 1; }

# -- dev setup, dev show -------------------------------------------------------------

dev_show_before() {
	expect_eq "dev show before setup" \
		"{\"dev\":\"eth1\",\"ifindex\":$SRV_IFINDEX,\"rx-queues\":4,\"tcp-data-split\":\"off\",\"ntuple\":\"off\",\"rss-queues\":[0,1,2,3],\"bound-queues\":[],\"binding\":[]}" \
		"$(ctl -j dev show eth1)"
}
ok "dev show of a fresh port: 4 rx queues, header split and ntuple off, RSS over all" dev_show_before

# rss_queues: the queues in eth1's RSS table, as ethtool -x shows it
rss_queues() {
	in_srv ethtool -x eth1 | awk '/^ *[0-9]+:/ { for (i = 2; i <= NF; i++) q[$i] = 1 }
		END { for (k in q) print k }' | sort -n | tr '\n' ' ' | sed 's/ $//'
}
dev_setup() {
	local out r=0
	out=$(ctl dev setup eth1 devmem-queues 2-3 2>&1) || { diag "$out"; return 1; }
	expect_eq "dev setup's output" "" "$out" || r=1
	expect_eq "dev show after setup" \
		"{\"dev\":\"eth1\",\"ifindex\":$SRV_IFINDEX,\"rx-queues\":4,\"tcp-data-split\":\"on\",\"ntuple\":\"on\",\"rss-queues\":[0,1],\"bound-queues\":[],\"binding\":[]}" \
		"$(ctl -j dev show eth1)" || r=1
	expect_eq "ethtool -k ntuple" "ntuple-filters: on" \
		"$(in_srv ethtool -k eth1 | grep -o 'ntuple-filters: [a-z]*')" || r=1
	expect_eq "queues in ethtool -x" "0 1" "$(rss_queues)" || r=1
	expect_eq "a second dev setup" "0" "$(ctl dev setup eth1 devmem-queues 2-3; echo $?)" || r=1
	# the admin's rule for the flows of the tests: port 5201 to queue 2
	in_srv ethtool -N eth1 flow-type tcp4 dst-port 5201 action 2 loc 1 || r=1
	return $r
}
ok "dev setup eth1 devmem-queues 2-3: header split and ntuple on, RSS over 0-1 (ethtool agrees)" dev_setup

# -- a udmabuf bound by devmemctl -----------------------------------------------------

srv_cmd mon "$CTL" -j monitor
wait_joined "$pid_mon"

bind_udmabuf() {
	local t0 t1 pid r=0 b ct
	t0=$(date +%s%N)
	# not through ctl: $! must be devmemctl itself
	"$CTL" -n "$NS_SRV" -j binding add dev eth1 queues 2-3 dmabuf udmabuf size $SIZE \
		> "$T/add.json" 2> "$T/add.err" &
	pid=$!
	wait $pid || { diag "binding add: $(cat "$T/add.err")"; return 1; }
	t1=$(date +%s%N)
	b=$(cat "$T/add.json")
	diag "$b"
	ID=$(jq .id <<<"$b")
	expect_eq "the new binding" \
		"{\"dev\":\"eth1\",\"ifindex\":$SRV_IFINDEX,\"queues\":[2,3],\"direction\":\"rx\",\"lifetime\":\"persistent\",\"state\":\"active\",\"dmabuf-size\":$size_bytes,\"owner-pid\":$pid,\"owner-comm\":\"devmemctl\"}" \
		"$(jq -c 'del(.id, ."create-time")' <<<"$b")" || r=1
	# (not through jq, whose numbers are doubles)
	ct=$(sed -n 's/.*"create-time":\([0-9]*\).*/\1/p' <<<"$b")
	[ -n "$ct" ] && [ "$ct" -ge "$t0" ] && [ "$ct" -le "$t1" ] ||
		{ diag "create-time $ct not within [$t0, $t1]"; r=1; }
	OWNER=$pid
	return $r
}
ok "binding add ... dmabuf udmabuf size $SIZE: prints the binding, every attribute right" bind_udmabuf
ID=${ID:-0}

binding_show() {
	local want r=0
	want="{\"binding\":[$(cat "$T/add.json")]}"
	expect_eq "binding show" "$want" "$(ctl -j binding show)" || r=1
	expect_eq "binding show dev eth1" "$want" "$(ctl -j binding show dev eth1)" || r=1
	expect_eq "binding show id $ID" "$want" "$(ctl -j binding show id "$ID")" || r=1
	expect_eq "binding show dev lo" '{"binding":[]}' "$(ctl -j binding show dev lo)" || r=1
	# text: the words of the grammar, queues as a range, units
	expect_eq "text" \
		"binding $ID dev eth1 ifindex $SRV_IFINDEX queues 2-3 direction rx lifetime persistent state active dmabuf-size 16MiB owner-pid $OWNER owner-comm devmemctl create-time" \
		"$(ctl binding show id "$ID" | sed 's/ create-time .*/ create-time/')" || r=1
	return $r
}
ok "binding show (all, dev, id) lists it in JSON and text; dev lo has none" binding_show

dev_show_bound() {
	local r=0
	expect_eq "dev show JSON" \
		"{\"dev\":\"eth1\",\"ifindex\":$SRV_IFINDEX,\"rx-queues\":4,\"tcp-data-split\":\"on\",\"ntuple\":\"on\",\"rss-queues\":[0,1],\"bound-queues\":[2,3],\"binding\":[{\"id\":$ID,\"queues\":[2,3],\"state\":\"active\"}]}" \
		"$(ctl -j dev show eth1)" || r=1
	expect_eq "dev show text" \
		"dev eth1 ifindex $SRV_IFINDEX rx-queues 4 tcp-data-split on ntuple on rss-queues 0-1 bound-queues 2-3
binding $ID queues 2-3 state active" "$(ctl dev show eth1)" || r=1
	return $r
}
ok "dev show: queues 2-3 bound by the binding" dev_show_bound

# the rates, every second, through the transfer
srv_cmd watch "$CTL" -j stats show binding "$ID" -w 1

receive() {
	srv rx 5201 --binding "$ID" -s $SIZE
	transfer rx 5201 $SIZE || return 1
	expect_eq "dmabuf id in the cmsgs" "$ID" "$(j rx '."dmabuf-id"')"
}
ok "devmem-nc --binding $ID receives $SIZE, every byte validated, all in the dmabuf" receive

stats_show() {
	local s
	s=$(ctl -j stats show binding "$ID" | jq -c '.stats[0]') || return 1
	diag "$s"
	expect_eq "stats against devmem-nc's counts" \
		"$(jq -c --argjson id "$ID" --argjson ifi "$SRV_IFINDEX" '{id: $id, dev: "eth1", ifindex: $ifi,
			"niovs-total": 4096, "niovs-user": 0, "rx-bytes": ."dmabuf-bytes",
			"rx-frags": ."dmabuf-frags", "tokens-out": ."tokens-returned",
			"tokens-returned": ."tokens-returned", "tokens-reclaimed": 0}' "$T/rx.json")" \
		"$(jq -c '{id, dev, ifindex, "niovs-total", "niovs-user", "rx-bytes", "rx-frags",
			"tokens-out", "tokens-returned", "tokens-reclaimed"}' <<<"$s")"
}
ok "stats show: rx-bytes, rx-frags and tokens equal what devmem-nc received" stats_show

stats_watch() {
	local r=0 sum n
	# one more interval, so the last bytes are in a sample
	sleep 2.2
	kill -INT "$pid_watch"
	wait "$pid_watch" || { diag "stats show -w: exit $?: $(cat "$T/watch.err")"; r=1; }
	n=$(wc -l < "$T/watch.json")
	diag "$n intervals; the busiest: $(jq -c 'select(.stats[0]."rx-bytes" > 0) | {"interval-ms", "rx-bytes": .stats[0]."rx-bytes"}' "$T/watch.json" | sort -t: -k3 -n | tail -n1)"
	jq -e --argjson id "$ID" '."interval-ms" >= 900 and (.stats | length) == 1 and
		.stats[0].id == $id and .stats[0]."niovs-total" == 4096' "$T/watch.json" > /dev/null ||
		{ diag "an interval is off: $(head -n 3 "$T/watch.json")"; r=1; }
	# rate x interval, summed, is what arrived (rounding: 1 %)
	sum=$(jq -s 'map(.stats[0]."rx-bytes" * ."interval-ms" / 1000) | add | floor' "$T/watch.json")
	[ "${sum:-0}" -ge $((size_bytes * 99 / 100)) ] && [ "$sum" -le $((size_bytes * 101 / 100)) ] ||
		{ diag "the rx-bytes rates add up to $sum bytes, not $size_bytes"; r=1; }
	# text: a header per interval and units (not a terminal: nothing redrawn)
	timeout -s INT --preserve-status 2.5 "$CTL" -n "$NS_SRV" stats show dev eth1 -w 1 > "$T/watch.txt"
	expect_eq "text watch's status" 0 $? || r=1
	grep -Eq "^every [0-9]+ ms, per second:\$" "$T/watch.txt" &&
		grep -Eq "^binding $ID dev eth1 ifindex $SRV_IFINDEX niovs-total 4096 .* rx-bytes 0.0B/s " "$T/watch.txt" ||
		{ diag "text watch: $(cat "$T/watch.txt")"; r=1; }
	return $r
}
ok "stats show -w 1: per-second rates that add up to the bytes moved, exit 0 on SIGINT" stats_watch

unbind_udmabuf() {
	local out s
	out=$(ctl unbind id "$ID" 2>&1) || { diag "$out"; return 1; }
	expect_eq "unbind's output" "" "$out" || return 1
	# draining (or already gone), never active again
	s=$(ctl -j binding show id "$ID" 2> /dev/null | jq -r '.binding[0].state // empty')
	[ -z "$s" ] || [ "$s" = draining ] || { diag "state after unbind: $s"; return 1; }
	gone "$ID"
}
ok "unbind id $ID (the alias of binding del): draining, then gone" unbind_udmabuf

monitor_events() {
	local r=0
	wait_for "$T/mon.json" '"event":"free"' || r=1
	kill -INT "$pid_mon" 2> /dev/null
	wait "$pid_mon" || { diag "monitor: exit $?: $(cat "$T/mon.err")"; r=1; }
	# a freed binding has no state (the kernel's last one was draining)
	expect_eq "events" "[[\"bind\",$ID,\"active\"],[\"unbind\",$ID,\"draining\"],[\"free\",$ID,null]]" \
		"$(jq -sc 'map([.event, .id, .state])' "$T/mon.json")" || r=1
	# the binding as bind printed it, but for owner-pid: a notification
	# carries none (its listeners sit in any pid namespace)
	expect_eq "the bind event" "$(sed 's/^{/{"event":"bind",/; s/"owner-pid":[0-9]*,//' "$T/add.json")" \
		"$(head -n 1 "$T/mon.json")" || r=1
	return $r
}
ok "monitor -j: bind, unbind, free of the binding, one object per line; SIGINT exits 0" monitor_events

# -- an application's own dmabuf, bound by pid and fd ---------------------------------

pid_fd_flow() {
	local b id r=0
	# the app: devmem-nc with a udmabuf of its own as fd 5, binding nothing
	srv_cmd own "$DNL" udmabuf $SMALL --fd 5 -- "$NC" -l -a "$SRV_IP" -p 5201 -j \
		--timeout 60 --dmabuf-fd 5 --no-bind -s $SMALL
	wait_listen "$NS_SRV" 5201 || { diag "$(cat "$T/own.err")"; return 1; }
	b=$(ctl -j bind dev eth1 queues 2 dmabuf pid "$pid_own" fd 5) || return 1
	id=$(jq .id <<<"$b")
	expect_eq "the binding" "{\"queues\":[2],\"dmabuf-size\":$((4 << 20)),\"owner-comm\":\"devmemctl\"}" \
		"$(jq -c '{queues, "dmabuf-size", "owner-comm"}' <<<"$b")" || r=1
	transfer own 5201 $SMALL || r=1
	expect_eq "dmabuf id in the app's cmsgs" "$id" "$(j own '."dmabuf-id"')" || r=1
	ctl binding del dev eth1 all && gone "$id" || r=1
	return $r
}
ok "bind dmabuf pid PID fd 5 of a running app: the app receives $SMALL into it, validated" pid_fd_flow

# the brief's holder: a udmabuf as fd 5 of a sleeping process; stdout is a file
srv_cmd hold "$DNL" udmabuf $SMALL --fd 5 -- sleep 600
hold_ready() {
	local i
	for i in $(seq 50); do
		[ "$(cat "/proc/$pid_hold/comm" 2> /dev/null)" = sleep ] && return 0
		sleep 0.1
	done
	diag "the holder did not start: $(cat "$T/hold.err")"
	return 1
}
pid_fd_outlives() {
	local r=0
	hold_ready || return 1
	HOLD_ID=$(ctl -j binding add dev eth1 queues 2 dmabuf pid "$pid_hold" fd 5 | jq .id) || return 1
	expect_eq "the holder's fd 5" "dmabuf:" "$(readlink "/proc/$pid_hold/fd/5" | cut -c1-8 | sed 's/^\///')" || r=1
	expect_eq "dmabuf-size" $((4 << 20)) "$(ctl -j binding show id "$HOLD_ID" | jq '.binding[0]."dmabuf-size"')" || r=1
	return $r
}
ok "bind dmabuf pid PID fd 5 of a sleeping holder: bound, the holder keeps its fd" pid_fd_outlives
HOLD_ID=${HOLD_ID:-0}

# -- a tx binding ----------------------------------------------------------------------
# bound by devmemctl on eth1 (the server's port), used by a sender there
# that maps it with dmabuf-get; the receiver is in the client netns

tx_binding() {
	local b r=0
	b=$(ctl -j binding add dev eth1 direction tx dmabuf udmabuf size "$SMALL") || return 1
	diag "$b"
	TXID=$(jq .id <<<"$b")
	expect_eq "the tx binding" \
		"{\"dev\":\"eth1\",\"direction\":\"tx\",\"lifetime\":\"persistent\",\"state\":\"active\",\"dmabuf-size\":$((4 << 20)),\"queues\":null}" \
		"$(jq -c '{dev, direction, lifetime, state, "dmabuf-size", queues}' <<<"$b")" || r=1
	expect_eq "binding show id $TXID" "{\"binding\":[$b]}" "$(ctl -j binding show id "$TXID")" || r=1
	return $r
}
ok "binding add dev eth1 direction tx ...: a tx binding, no queues" tx_binding
TXID=${TXID:-0}

tx_send() {
	local r=0 s
	in_cli "$NC" -l -a "$CLI_IP" -p 5301 --plain -s 8M -j --timeout 60 \
		> "$T/txs.json" 2> "$T/txs.err" &
	local p=$!
	wait_listen "$NS_CLI" 5301 || { kill $p; return 1; }
	in_srv "$NC" -c "$CLI_IP" -p 5301 -s 8M --tx devmem --binding "$TXID" -i eth1 \
		-j --timeout 60 > "$T/txc.json" 2> "$T/txc.err" ||
		{ diag "sender: $(cat "$T/txc.err")"; r=1; }
	wait $p || { diag "receiver: $(cat "$T/txs.err")"; r=1; }
	jq -e '.bytes == 8388608 and .validated and .errors == 0' "$T/txs.json" > /dev/null ||
		{ diag "receiver: $(cat "$T/txs.json")"; r=1; }
	jq -e '.completions == ."sendmsg-calls" and ."completions-copied" == 0' "$T/txc.json" > /dev/null ||
		{ diag "sender: $(cat "$T/txc.json")"; r=1; }
	s=$(ctl -j stats show binding "$TXID" | jq -c '.stats[0]')
	diag "$s"
	expect_eq "tx-bytes" 8388608 "$(jq '."tx-bytes"' <<<"$s")" || r=1
	ctl binding del id "$TXID" && gone "$TXID" || r=1
	return $r
}
ok "devmem-nc --tx devmem --binding $TXID sends 8M from it, every byte validated; stats show tx-bytes; binding del" tx_send

# -- bad command lines ------------------------------------------------------------------

# refused RC MESSAGE ARGS...: devmemctl ARGS, in the server netns (as
# "${as[@]}" if set), exits RC with MESSAGE as the first line of stderr
as=()
refused() {
	local rc=$1 want=$2 out got; shift 2
	if [ ${#as[@]} -eq 0 ]; then
		out=$(ctl "$@" 2>&1 > /dev/null)
	else
		out=$(in_srv "${as[@]}" "$(nobody_path "$CTL")" "$@" 2>&1 > /dev/null)
	fi
	got=$?
	[ $got -eq "$rc" ] && [ "${out%%$'\n'*}" = "$want" ] && return 0
	diag "devmemctl $*: exit $got, stderr: $out"
	diag "expected exit $rc and: $want"
	return 1
}
bad() { local rc=$1 want=$2; shift 2; ok "exit $rc: devmemctl $*" refused "$rc" "$want" "$@"; }

U=(dmabuf udmabuf size "$SMALL")
bad 2 'Error: unknown object "bindings".' bindings show
bad 2 'Error: unknown command "list".' binding list
bad 2 'Error: unknown argument "queue".' binding add dev eth1 queue 2 "${U[@]}"
bad 2 'Error: "dev" needs a value.' binding add dev
bad 2 'Error: "queues" needs a value.' binding add dev eth1 queues
bad 2 'Error: binding add needs "queues LIST" (or "direction tx").' binding add dev eth1 "${U[@]}"
bad 2 'Error: "queues" does not go with "direction tx": a tx binding has no queues.' binding add dev eth1 direction tx queues 2 "${U[@]}"
bad 2 'Error: invalid direction "up": expected rx or tx.' binding add dev eth1 direction up "${U[@]}"
bad 2 'Error: binding add needs "dmabuf pid PID fd N" or "dmabuf udmabuf size SIZE".' binding add dev eth1 queues 2
bad 2 'Error: invalid dmabuf "file": expected "pid PID fd N" or "udmabuf size SIZE".' binding add dev eth1 queues 2 dmabuf file
bad 2 'Error: "dmabuf pid PID" needs "fd N".' binding add dev eth1 queues 2 dmabuf pid 1
bad 2 'Error: "dmabuf udmabuf" needs "size SIZE".' binding add dev eth1 queues 2 dmabuf udmabuf
bad 2 'Error: invalid dev "eth9": no such device.' binding add dev eth9 queues 2 "${U[@]}"
bad 2 'Error: invalid queues "3-2": range 3-2 ends before it starts.' binding add dev eth1 queues 3-2 "${U[@]}"
bad 2 'Error: invalid queues "1,0-3": queue 1 is listed twice.' binding add dev eth1 queues 1,0-3 "${U[@]}"
bad 2 'Error: invalid queues "2,": expected queue ids and ranges, like 2, 2-3 or 1,4-5.' binding add dev eth1 queues 2, "${U[@]}"
bad 2 'Error: invalid queues "5000": queue ids go up to 4095.' binding add dev eth1 queues 5000 "${U[@]}"
bad 2 'Error: invalid size "4097": a udmabuf is a non-zero multiple of the page size (4096 bytes).' binding add dev eth1 queues 2 dmabuf udmabuf size 4097
bad 2 'Error: invalid size "4MB": expected bytes, with a K, M, G or T suffix (powers of 1024).' binding add dev eth1 queues 2 dmabuf udmabuf size 4MB
bad 2 'Error: invalid pid "0": expected a number 1..2147483647.' binding add dev eth1 queues 2 dmabuf pid 0 fd 5
bad 2 'Error: invalid fd "five": expected a number 0..2147483647.' binding add dev eth1 queues 2 dmabuf pid 1 fd five
lifetime_socket() {
	local id s out r=0
	"$CTL" -n "$NS_SRV" -j binding add dev eth1 queues 3 "${U[@]}" lifetime socket > "$T/lt.json" 2>&1 &
	local p=$!
	wait_for "$T/lt.json" '"id"' || { kill $p; return 1; }
	id=$(jq -r .id "$T/lt.json")
	s=$(ctl -j binding show id "$id" | jq -r '.binding[0] | "\(.lifetime) \(.state)"')
	expect_eq "while devmemctl runs" "socket active" "$s" || r=1
	kill -INT $p
	wait $p
	expect_eq "devmemctl's status on SIGINT" 0 $? || r=1
	gone "$id" || r=1
	return $r
}
ok "binding add ... lifetime socket: holds the binding in the foreground; SIGINT ends both" lifetime_socket
bad 2 'Error: invalid id "0": expected a number 1..4294967295.' binding del id 0
bad 2 'Error: invalid id "3x": expected a number 1..4294967295.' unbind id 3x
bad 2 'Error: "dev eth1" unbinds every binding of the device: add "all".' binding del dev eth1
bad 2 'Error: "id" needs a value.' binding show id
bad 2 'Error: invalid devmem-queues "9-8": range 9-8 ends before it starts.' dev setup eth1 devmem-queues 9-8
bad 2 'Error: invalid -w "0": expected a number 1..86400.' stats show -w 0
bad 2 'Error: unknown argument "now".' monitor now
bad 2 'Error: duplicate "id": "2" is the second value.' binding del id 1 id 2
bad 2 'Error: duplicate "queues": "3" is the second value.' binding add dev eth1 queues 2 queues 3 "${U[@]}"
bad 2 'Error: duplicate "all".' binding del dev eth1 all all
bad 2 'Error: duplicate "binding": "2" is the second value.' stats show binding 1 binding 2
bad 2 'Error: duplicate "port": "2" is the second value.' steer policy add port 1 port 2 binding 1

bad 1 "Error: binding $NO_ID: no binding with this id (ENOENT); see 'devmemctl binding show'." binding del id $NO_ID
bad 1 "Error: binding $NO_ID: no binding with this id (ENOENT); see 'devmemctl binding show'." binding show id $NO_ID
bad 1 "Error: rx queue 9 is out of range (the device has 4) (ERANGE); see 'devmemctl dev show eth1'." \
	binding add dev eth1 queues 9 "${U[@]}"
bad 1 "Error: rx queue 2 is already bound (EBUSY); see 'devmemctl binding show dev eth1'." \
	binding add dev eth1 queues 2-3 "${U[@]}"
bad 1 "Error: device does not support tcp-data-split (EOPNOTSUPP); lo cannot split headers from payloads, so it cannot receive into device memory." \
	binding add dev lo queues 0 "${U[@]}"
bad 1 'Error: no process with pid 2147483647.' binding add dev eth1 queues 3 dmabuf pid 2147483647 fd 5
bad 1 "Error: process ${pid_hold:-0} has no fd 77." binding add dev eth1 queues 3 dmabuf pid "${pid_hold:-0}" fd 77
bad 1 "Error: fd is not a dmabuf (EINVAL); fd 1 of process ${pid_hold:-0} is $T/hold.json." \
	binding add dev eth1 queues 3 dmabuf pid "${pid_hold:-0}" fd 1
bad 1 'Error: devmem queue 4 is out of range: eth1 has 4 rx queues.' dev setup eth1 devmem-queues 4
bad 1 'Error: devmem-queues 0-3 leave RSS no queue: eth1 has 4 rx queues.' dev setup eth1 devmem-queues 0-3

json_error() {
	local out rc
	out=$(ctl -j binding del id $NO_ID 2> /dev/null)
	rc=$?
	expect_eq "-j binding del id $NO_ID" \
		"1 {\"error\":\"binding $NO_ID: no binding with this id (ENOENT); see 'devmemctl binding show'\"}" "$rc $out"
}
ok "exit 1 with -j: the error as {\"error\": ...} on stdout" json_error

# one_doc RC ARGS...: devmemctl -j ARGS exits RC and prints one JSON document
one_doc() {
	local rc=$1 out got; shift
	out=$(ctl -j "$@" 2> "$T/one_doc.err")
	got=$?
	[ "$got" -eq "$rc" ] && [ "$(jq -s length <<<"$out" 2> /dev/null)" = 1 ] &&
		jq -e 'has("error")' <<<"$out" > /dev/null && return 0
	diag "devmemctl -j $*: exit $got (expected $rc), stdout: $out, stderr: $(cat "$T/one_doc.err")"
	return 1
}
json_one_document() {
	local r=0
	one_doc 1 stats show binding $NO_ID || r=1
	one_doc 1 binding show id $NO_ID || r=1
	one_doc 2 binding del id 0 || r=1
	one_doc 2 binding del id 1 id 2 || r=1
	one_doc 2 || r=1
	one_doc 2 dev || r=1
	one_doc 2 bind || r=1
	one_doc 2 dev show || r=1
	return $r
}
ok "with -j, failing commands and usage errors print exactly one JSON document, {\"error\": ...}" json_one_document

dev_show_unknown() {
	local r=0
	# lo answers no ethtool ring, RSS or rx-queue query: unknown, not 0 or off
	expect_eq "dev show lo" "dev lo ifindex 1 rx-queues unknown tcp-data-split unknown ntuple off rss-queues unknown bound-queues none" \
		"$(ctl dev show lo)" || r=1
	expect_eq "dev show lo, JSON" '{"dev":"lo","ifindex":1,"tcp-data-split":"unknown","ntuple":"off","bound-queues":[],"binding":[]}' \
		"$(ctl -j dev show lo)" || r=1
	return $r
}
ok "dev show of a device that cannot tell its rx queues or RSS: unknown in text, left out of JSON" dev_show_unknown

conventions() {
	local r=0 out
	expect_eq "binding alone" "$(ctl -j binding show)" "$(ctl -j binding)" || r=1
	expect_eq "stats alone" "$(ctl -j stats show)" "$(ctl -j stats)" || r=1
	expect_eq "steer alone" "steer detached" "$(ctl steer)" || r=1
	expect_eq "--json" "$(ctl -j binding show)" "$(ctl --json binding show)" || r=1
	expect_eq "-json" "$(ctl -j binding show)" "$(ctl -json binding show)" || r=1
	# -p is JSON, pretty
	out=$(ctl -p binding show)
	# (not through jq, whose numbers are doubles)
	expect_eq "-p, blanks taken out" "$(ctl -j binding show)" "$(tr -d ' \n' <<<"$out")" || r=1
	[ "$(wc -l <<<"$out")" -gt 1 ] || { diag "-p printed one line: $out"; r=1; }
	expect_eq "--netns" "$(ctl -j binding show)" "$("$CTL" --netns "$NS_SRV" -j binding show)" || r=1
	return $r
}
ok "an object alone shows; -p is pretty JSON; --json, -json and --netns are -j and -n" conventions

helps() {
	local r=0 c out rc
	for c in "binding add" "binding del" "binding show" "bind" "unbind" "dev setup" "dev show" \
		"stats show" "stats bpf" "stats attach" "stats misrouted" "steer attach" "steer detach" \
		"steer show" "steer policy" "steer policy add" "steer policy del" "steer policy show" monitor; do
		# shellcheck disable=SC2086
		out=$(ctl $c help 2> "$T/help.err")
		rc=$?
		[ $rc -eq 0 ] && [ "${out%% *}" = Usage: ] && [ ! -s "$T/help.err" ] && continue
		diag "devmemctl $c help: exit $rc, stdout: ${out%%$'\n'*}, stderr: $(cat "$T/help.err")"
		r=1
	done
	expect_eq "steer policy add help" "Usage: devmemctl steer policy add [ port PORT ] [ cgroup PATH ] binding ID" \
		"$(ctl steer policy add help | head -n 1)" || r=1
	return $r
}
ok "'help' after every command: exit 0, its usage on stdout" helps

as=("${NOBODY[@]}")
bad 1 'Error: CAP_NET_ADMIN is required (EPERM); binding show needs CAP_NET_ADMIN.' binding show
bad 1 'Error: CAP_NET_ADMIN is required (EPERM); binding add needs CAP_NET_ADMIN.' binding add dev eth1 queues 3 "${U[@]}"
bad 1 "Error: binding $HOLD_ID: CAP_NET_ADMIN is required (EPERM); binding del needs CAP_NET_ADMIN." binding del id "$HOLD_ID"
bad 1 'Error: cannot join the devmem mgmt group (EPERM); devmemctl monitor needs CAP_NET_ADMIN.' monitor
bad 1 'Error: tcp-data-split: Operation not permitted (EPERM); dev setup needs CAP_NET_ADMIN.' dev setup eth1 devmem-queues 2-3
bad 1 'Error: bindings: CAP_NET_ADMIN is required (EPERM); dev show lists bindings, which needs CAP_NET_ADMIN.' dev show eth1
as=()

refusals_changed_nothing() {
	expect_eq "bindings after the refusals" "[[$HOLD_ID,[2],\"active\"]]" \
		"$(ctl -j binding show | jq -c '[.binding[] | [.id, .queues, .state]]')" &&
	expect_eq "dev show after the refusals" '"on" "on" [0,1]' \
		"$(ctl -j dev show eth1 | jq -c '."tcp-data-split", .ntuple, ."rss-queues"' | tr '\n' ' ' | sed 's/ $//')"
}
ok "the refused commands changed nothing: the holder's binding, header split, RSS" refusals_changed_nothing

holder_gone() {
	kill "$pid_hold" 2> /dev/null
	wait "$pid_hold" 2> /dev/null
	pid_hold=
	# the binding holds its own reference on the holder's dmabuf
	expect_eq "the binding after its holder exited" active \
		"$(ctl -j binding show id "$HOLD_ID" | jq -r '.binding[0].state')" || return 1
	ctl binding del dev eth1 all && gone "$HOLD_ID"
}
ok "the holder exits, its binding stays active; binding del dev eth1 all, then it is gone" holder_gone

# -- the man page's examples --------------------------------------------------------------

# the EXAMPLES section: commands ("# " prompt) as a bash script; lines after
# a command are its expected output (stdout and stderr)
examples_script() {
	sed -n '/^\.SH EXAMPLES/,/^\.SH SEE/p' "$MAN" |
		awk '/^\.EX/ { ex = 1; next } /^\.EE/ { ex = 0; next } ex' |
		sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' |
		awk '
		function flush() {
			if (cmd == "") return
			if (want == "") { print cmd; cmd = ""; return }
			print "out=$( { " cmd "; } 2>&1 || true)"
			print "[ \"$out\" = \"$(cat <<'\''__WANT__'\''"
			printf "%s", want
			print "__WANT__"
			print ")\" ] || { echo \"example " n ": other output:\"; echo \"$out\"; exit 1; } >&2"
			cmd = ""; want = ""
		}
		/^# / { flush(); n++; cmd = substr($0, 3); next }
		{ want = want $0 "\n" }
		END { flush() }'
}
man_examples() {
	local r=0 i
	# the application the examples bind by pid: named trainer, a udmabuf as fd 7
	ln -sf "$(command -v sleep)" "$T/trainer"
	srv_cmd trainer "$DNL" udmabuf $SIZE --fd 7 -- "$T/trainer" 600
	for i in $(seq 50); do
		[ "$(cat "/proc/$pid_trainer/comm" 2> /dev/null)" = trainer ] && break
		sleep 0.1
	done
	{
		echo 'set -e -o pipefail'
		# devmemctl on the server, which is a netns here (devmemctl -n,
		# not ip netns exec, whose /sys has no bpffs); the commands that
		# run until interrupted get a SIGINT after 10 s (the ASan build under TCG
		# on a loaded machine took longer than 3 s to install its SIGINT handler)
		echo "devmemctl() { case \" \$* \" in *' monitor '*|*' -w '*)"
		echo "	timeout -s INT --preserve-status 10 \"$CTL\" -n $NS_SRV \"\$@\" ;;"
		echo "	*) \"$CTL\" -n $NS_SRV \"\$@\" ;; esac; }"
		# the trace goes where stderr went, not into captured output
		echo 'exec 9>&2; BASH_XTRACEFD=9; set -x'
		examples_script
	} > "$T/examples.sh"
	bash "$T/examples.sh" > "$T/examples.log" 2>&1 ||
		{ diag "examples.sh failed:"; sed 's/^/#   /' "$T/examples.log"; r=1; }
	diag "$(grep -c '^+ devmemctl' "$T/examples.log") devmemctl commands ran"
	kill "$pid_trainer" 2> /dev/null
	wait "$pid_trainer" 2> /dev/null
	pid_trainer=
	# they cleaned up after themselves (draining bindings go soon)
	for _ in $(seq 40); do
		[ "$(ctl -j binding show | jq -c .binding)" = "[]" ] && break
		sleep 0.25
	done
	expect_eq "bindings after the examples" '{"binding":[]}' "$(ctl -j binding show)" || r=1
	expect_eq "steering after the examples" "steer detached" "$(ctl steer show)" || r=1
	if [ $r -ne 0 ]; then
		ctl steer detach > /dev/null 2>&1
		ctl stats detach > /dev/null 2>&1
		ctl unbind dev eth1 all
	fi
	return $r
}
ok "the man page's EXAMPLES run as written, in the server netns" man_examples

finish
tap_done
