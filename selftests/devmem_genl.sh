#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The devmem generic netlink family: every bind refusal with its errno and
# extack (through devmem_nl and, independently, the base tree's YNL);
# persistent bindings that outlive their maker and carry a transfer into
# another process, with counters equal to what it received; draining while
# an app holds buffers; bindings of another process's dmabuf (pidfd);
# lifetime socket; netdev bind-rx bindings listed and unbound here;
# CAP_NET_ADMIN; netns isolation; the mgmt notifications; a fuzzer;
# bindings ending with their device (netns move, deletion).
#
# Every process start costs ~0.4 s in the VM and a python start ~10 s, so
# devmem_nl enters the netns itself (-n) and one YNL process answers all
# YNL requests but one.
. "$(dirname "$0")/lib.sh"

DNL=$BUILD/selftests/devmem_nl
SIZE=16M
size_bytes=$((16 << 20))
SMALL=4M
NS_MOVE=devmem-move
# no binding has this id (ids count up from 1)
NO_ID=4000000000
T=/tmp/devmem_genl
rm -rf "$T"
mkdir -p "$T"

tap_plan 43

# -- helpers ------------------------------------------------------------------

dnl() { "$DNL" -n "$NS_SRV" "$@"; }
# bind_q QUEUES [ARGS...]: bind a 4M udmabuf to queues of the server port;
# prints the id
bind_q() { local q=$1; shift; dnl bind --ifindex "$SRV_IFINDEX" --queues "$q" --udmabuf $SMALL "$@"; }

# field LINE KEY: the value of KEY in a line of devmem_nl's text output
field() { [[ " $1 " =~ \ $2\ ([^ ]+)\  ]] && echo "${BASH_REMATCH[1]}"; }

# state_of ID [NETNS]: active or draining; nothing once the binding is gone
state_of() {
	local out
	if out=$("$DNL" -n "${2:-$NS_SRV}" get "$1" 2>&1); then
		field "$out" state
		return 0
	fi
	[[ $out == *": ENOENT: "* ]] && return 0
	diag "get $1: $out"
	return 1
}

# wait_gone ID [SECONDS]: until the binding is no longer listed (default
# 10 s). Nothing here helps it along: skbs an idle CPU holds for deferred
# freeing are the kernel's to kick (page_pool release retry).
wait_gone() {
	local s end=$((SECONDS + ${2:-10}))
	while :; do
		s=$(state_of "$1") || return 1
		[ -z "$s" ] && return 0
		[ $SECONDS -ge $end ] && break
		sleep 0.25
	done
	diag "binding $1 still listed after ${2:-10} s: $(dnl get "$1" 2>&1)"
	return 1
}

# unbound_now ID: right after an unbind, the binding is draining or gone
unbound_now() {
	local s
	s=$(state_of "$1") || return 1
	[ -z "$s" ] || [ "$s" = draining ] || { diag "binding $1 is '$s' after unbind"; return 1; }
}

# refused ERRNAME TEXT DEVMEM_NL-ARGS...: devmem_nl exits 1 and prints
# exactly "devmem_nl: CMD: ERRNAME: TEXT". Runs in netns $ref_ns, under
# the command in ref_as (e.g. setpriv) if set.
ref_ns=$NS_SRV
ref_as=()
refused() {
	local err=$1 text=$2 out rc; shift 2
	local want="devmem_nl: $1: $err: $text"
	if [ ${#ref_as[@]} -eq 0 ]; then
		out=$("$DNL" -n "$ref_ns" "$@" 2>&1 > /dev/null)
	else
		out=$(ip netns exec "$ref_ns" "${ref_as[@]}" "$DNL" "$@" 2>&1 > /dev/null)
	fi
	rc=$?
	[ $rc -eq 1 ] && [ "$out" = "$want" ] && return 0
	diag "devmem_nl $*: exit $rc, stderr: $out"
	diag "expected exit 1 and: $want"
	return 1
}

# One process of the base tree's YNL library (what tools/ynl's cli.py
# drives), in the server netns, answers "FAMILY do|dump OP JSON" with one
# JSON line: {"reply": ...}, or {"errno": N, "extack": {...}}.
YNL_PY='
import json, os, sys
sys.path.insert(0, sys.argv[1])
from lib import YnlFamily, NlError
fams = {}
for line in sys.stdin:
    fam, mode, op, attrs = line.split(None, 3)
    try:
        if fam not in fams:
            spec = [p for p in (os.path.join(d, fam + ".yaml") for d in sys.argv[2:])
                    if os.path.exists(p)][0]
            fams[fam] = YnlFamily(spec, "")
        vals = json.loads(attrs)
        out = {"reply": fams[fam].do(op, vals) if mode == "do" else fams[fam].dump(op, vals)}
    except NlError as e:
        out = {"errno": e.error, "extack": e.nl_msg.extack}
    except Exception as e:
        out = {"exception": repr(e)}
    print(json.dumps(out, default=str), flush=True)
'
ynl_start() {
	coproc YNLP {
		ip netns exec "$NS_SRV" python3 -c "$YNL_PY" "$KSRC/tools/net/ynl" \
			"$KSRC/Documentation/netlink/specs" "$LIB_TOP/Documentation/netlink/specs" \
			2> "$T/ynl.err"
	}
}
# ynl FAMILY do|dump OP JSON: prints the answer
ynl() {
	local line
	echo "$*" >&"${YNLP[1]}" &&
	read -r -t 120 line <&"${YNLP[0]}" ||
		{ diag "no answer from YNL: $(cat "$T/ynl.err")" >&2; return 1; }
	echo "$line"
}
# ynl_refused ERRNO TEXT OP JSON: YNL's devmem request fails with errno
# ERRNO and extack TEXT
ynl_refused() {
	local out
	out=$(ynl devmem "do" "$3" "$4") || return 1
	expect_eq "YNL $3 $4" "[$1,\"$2\"]" "$(jq -c '[.errno, .extack.msg]' <<<"$out")" ||
		{ diag "$out"; return 1; }
}
# ynl_ok FAMILY do|dump OP JSON: the request succeeds; prints the reply
ynl_ok() {
	local out
	out=$(ynl "$@") || return 1
	jq -ce 'has("reply")' <<<"$out" > /dev/null || { diag "YNL $*: $out" >&2; return 1; }
	jq -c .reply <<<"$out"
}


# transfer NAME PORT SIZE: the client sends SIZE to server NAME; every
# byte arrived and was validated, nearly all through the dmabuf
transfer() {
	wait_listen "$NS_SRV" "$2" || return 1
	cli "$2" "$3" || { diag "client: $(cat "$T/cli.err")"; return 1; }
	wait_srv "$1" || { diag "server: $(cat "$T/$1.err")"; return 1; }
	diag "$1: $(jq -c '{bytes, "dmabuf-bytes", "dmabuf-frags", "linear-bytes", errors, validated}' "$T/$1.json")"
	jq -e --argjson n "$(numfmt --from=iec "$3")" '.bytes == $n and .errors == 0 and
		.validated and ."dmabuf-bytes" > $n - 65536' "$T/$1.json" > /dev/null
}

# stats_equal ID NAME DMABUF_SIZE: the binding's counters equal what
# devmem-nc NAME received (all tokens returned)
stats_equal() {
	local s
	s=$(dnl -j stats "$1") || return 1
	expect_eq "stats of binding $1 against devmem-nc's counts" \
		"$(jq -c --argjson total $(($(numfmt --from=iec "$3") / 4096)) '{"niovs-total": $total,
			"niovs-user": 0, "rx-bytes": ."dmabuf-bytes", "rx-frags": ."dmabuf-frags",
			"rx-linear-bytes": ."linear-bytes", "tokens-out": ."tokens-returned",
			"tokens-returned": ."tokens-returned", "tokens-reclaimed": 0}' "$T/$2.json")" \
		"$(jq -c '{"niovs-total", "niovs-user", "rx-bytes", "rx-frags", "rx-linear-bytes",
			"tokens-out", "tokens-returned", "tokens-reclaimed"}' <<<"$s")"
}

finish() {
	[ -n "${YNLP_PID:-}" ] && kill "$YNLP_PID" 2> /dev/null
	ip netns del $NS_MOVE 2> /dev/null
	wire_down
	rm -rf "$T"
}

# -- setup --------------------------------------------------------------------

setup() {
	wire_up 4 && devmem_port 5201 &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5203 action 3 loc 2
}
ok "setup: netdevsim wire, header split, port 5201 steered to queue 2" setup ||
	{ echo "Bail out! no devmem-capable wire"; finish; exit 1; }
family_there() {
	local out
	out=$(dnl -j dump 2>&1) || { diag "$out"; return 1; }
	expect_eq "bindings at the start" "[]" "$out"
}
ok "the devmem family answers a dump: no bindings yet" family_there ||
	{ echo "Bail out! no devmem family"; finish; exit 1; }

# started now, ready by the time they are needed: the YNL process, the
# YNL CLI itself as an unprivileged admin would run it, the XDP program
ynl_start
ip netns exec "$NS_SRV" "${NOBODY[@]}" env BUILD="$(nobody_path "$BUILD")" KSRC="$(nobody_path "$KSRC")" \
	"$(nobody_path "$YNL")" devmem --dump binding-get > "$T/ynl_cli.out" 2>&1 &
pid_ynl_cli=$!
# XDP_PASS, built here: the suite has no BPF objects yet
xdp_build() {
	command -v clang > /dev/null || return 1
	printf '%s\n' \
		'__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; }' \
		'char _license[] __attribute__((section("license"), used)) = "GPL";' \
		> "$T/xdp_pass.c"
	clang -O2 -target bpf -c "$T/xdp_pass.c" -o "$T/xdp_pass.o"
}
xdp_build 2> "$T/clang.err" &
pid_clang=$!

# -- every bind refusal, through devmem_nl ----------------------------------

B=(bind --ifindex "$SRV_IFINDEX")
ok "bind without ifindex: EINVAL 'ifindex is required'" \
	refused EINVAL "ifindex is required" bind --omit ifindex --queues 2 --udmabuf $SMALL
ok "bind without fd: EINVAL 'fd is required'" \
	refused EINVAL "fd is required" "${B[@]}" --queues 2 --omit fd
ok "bind without queues: EINVAL 'queues is required'" \
	refused EINVAL "queues is required" "${B[@]}" --omit queues --udmabuf $SMALL
ok "bind direction tx with queues: EINVAL 'tx bindings take no queues'" \
	refused EINVAL "tx bindings take no queues" "${B[@]}" --queues 2 --udmabuf $SMALL --direction tx
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

# rings_hds VALUE: tcp-data-split through YNL's ethtool family (1 off, 2 on)
rings_hds() {
	ynl_ok ethtool "do" rings-set "{\"header\": {\"dev-name\": \"$SRV_IF\"}, \"tcp-data-split\": $1}" > /dev/null
}
bind_no_hds() {
	rings_hds 1 || return 1
	refused EINVAL "tcp-data-split is disabled" "${B[@]}" --queues 2 --udmabuf $SMALL
	local r=$?
	rings_hds 2 || r=1
	return $r
}
ok "bind with tcp-data-split off: EINVAL" bind_no_hds

bind_with_xdp() {
	in_srv ip link set dev "$SRV_IF" xdpgeneric obj "$T/xdp_pass.o" sec xdp || return 1
	refused EBUSY "unable to bind dmabuf to device with XDP program attached" \
		"${B[@]}" --queues 2 --udmabuf $SMALL
	local r=$?
	in_srv ip link set dev "$SRV_IF" xdpgeneric off || r=1
	return $r
}
if wait $pid_clang; then
	ok "bind with an XDP program attached: EBUSY" bind_with_xdp
else
	skip "bind with an XDP program attached: EBUSY" "cannot build an XDP program: $(head -c 200 "$T/clang.err")"
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

# -- the same refusals through YNL -------------------------------------------------
# The fd is checked after all of these, so fd 0 (YNL's stdin) does.

ok "YNL: bind without queues: EINVAL" \
	ynl_refused 22 "queues is required" bind "{\"ifindex\": $SRV_IFINDEX, \"fd\": 0}"
ok "YNL: bind to an unknown ifindex: ENODEV" \
	ynl_refused 19 "no device with this ifindex" bind '{"ifindex": 9999, "fd": 0, "queues": [2]}'
ok "YNL: bind queue 9 of 4: ERANGE" \
	ynl_refused 34 "rx queue 9 is out of range (the device has 4)" bind \
	"{\"ifindex\": $SRV_IFINDEX, \"fd\": 0, \"queues\": [9]}"
ok "YNL: bind direction tx with queues: EINVAL" \
	ynl_refused 22 "tx bindings take no queues" bind \
	"{\"ifindex\": $SRV_IFINDEX, \"fd\": 0, \"queues\": [2], \"direction\": \"tx\"}"
ynl_enoent() {
	ynl_refused 2 "no binding with this id" unbind "{\"id\": $NO_ID}" &&
	ynl_refused 2 "no binding with this id" binding-get "{\"id\": $NO_ID}" &&
	ynl_refused 2 "no binding with this id" stats-get "{\"id\": $NO_ID}"
}
ok "YNL: unbind, binding-get, stats-get of an unknown id: ENOENT" ynl_enoent
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
	# not through dnl: $! must be devmem_nl itself
	"$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 2 --udmabuf $SIZE \
		> "$T/pers.id" 2> "$T/pers.bind.err" &
	local pid=$!
	wait $pid || { diag "bind: $(cat "$T/pers.bind.err")"; return 1; }
	t1=$(date +%s%N)
	pers_id=$(cat "$T/pers.id")
	b=$(dnl get "$pers_id") || { diag "binding '$pers_id' is not listed after its maker exited"; return 1; }
	diag "$b"
	expect_eq "binding" \
		"ifindex $SRV_IFINDEX queues 2 direction rx lifetime persistent dmabuf-size $size_bytes owner-pid $pid owner-comm devmem_nl state active" \
		"$(for k in ifindex queues direction lifetime dmabuf-size owner-pid owner-comm state; do
			echo -n "$k $(field "$b" $k) "; done | sed 's/ $//')" || r=1
	ct=$(field "$b" create-time)
	[ -n "$ct" ] && [ "$ct" -ge "$t0" ] && [ "$ct" -le "$t1" ] ||
		{ diag "create-time '$ct' not within [$t0, $t1]"; r=1; }
	return $r
}
ok "persistent bind of a 16M udmabuf: listed after its maker exited, with every attribute" persistent_bind

dump_filters() {
	local n
	n=$(dnl -j dump --ifindex "$SRV_IFINDEX") && n=$(jq -c 'map(.id)' <<<"$n")
	expect_eq "ids in the dump of the server port" "[$pers_id]" "$n" || return 1
	n=$(dnl -j dump --ifindex 1)
	expect_eq "dump of lo" "[]" "$n" || return 1
	n=$(dnl -j stats-dump) && n=$(jq -c 'map(.id)' <<<"$n")
	expect_eq "ids in stats-dump" "[$pers_id]" "$n"
}
ok "dump and stats-dump list it; the ifindex filter selects by device" dump_filters

dmabuf_get() {
	local o
	o=$(dnl dmabuf-get "$pers_id" --check-size $SIZE) || return 1
	expect_eq "dmabuf-get" "size $size_bytes cloexec true mapped true" \
		"size $(field "$o" size) cloexec $(field "$o" cloexec) mapped $(field "$o" mapped)"
}
ok "dmabuf-get: a new close-on-exec fd of the 16M dmabuf, mapped" dmabuf_get

persistent_transfer() {
	srv pers 5201 --binding "$pers_id" -s $SIZE
	transfer pers 5201 $SIZE || return 1
	expect_eq "dmabuf id in the cmsgs" "$pers_id" "$(jq '."dmabuf-id"' "$T/pers.json")"
}
ok "devmem-nc --binding receives $SIZE into it, every byte validated" persistent_transfer
ok "stats equal devmem-nc's counts: bytes, frags, linear bytes, tokens" stats_equal "$pers_id" pers $SIZE

ynl_agrees() {
	local r=0 want got
	# YNL and devmem_nl decode the same binding and counters alike. (No
	# pipe from ynl: bash closes the coprocess's fds in pipelines.)
	want=$(dnl -j get "$pers_id" | jq -Sc .) &&
	got=$(ynl_ok devmem "do" binding-get "{\"id\": $pers_id}") &&
	expect_eq "YNL binding-get" "$want" "$(jq -Sc . <<<"$got")" || r=1
	got=$(ynl_ok devmem dump binding-get '{}') &&
	expect_eq "YNL dump" "$want" \
		"$(jq -Sc --argjson id "$pers_id" 'map(select(.id == $id)) | .[0]' <<<"$got")" || r=1
	want=$(dnl -j stats "$pers_id" | jq -Sc .) &&
	got=$(ynl_ok devmem "do" stats-get "{\"id\": $pers_id}") &&
	expect_eq "YNL stats-get" "$want" "$(jq -Sc . <<<"$got")" || r=1
	return $r
}
ok "YNL binding-get, dump and stats-get show the same binding and counters" ynl_agrees

unbind_persistent() {
	dnl unbind "$pers_id" && unbound_now "$pers_id" && wait_gone "$pers_id" || return 1
	refused ENOENT "no binding with this id" unbind "$pers_id" &&
	refused ENOENT "no binding with this id" get "$pers_id"
}
ok "unbind: draining then gone, its id unknown (its queue binds in the next test)" unbind_persistent

# -- draining: buffers held by an application ---------------------------------

draining_while_held() {
	local id s r=0 i
	id=$(bind_q 2) || return 1
	# the server keeps every token: 256M do not fit in the 4M dmabuf
	srv hoard 5201 --binding "$id" --hoard
	wait_listen "$NS_SRV" 5201 || return 1
	cli_bg 5201 256M
	for i in $(seq 60); do
		s=$(field "$(dnl stats "$id")" niovs-user)
		[ "${s:-0}" -ge 512 ] && break
		sleep 1
	done
	diag "the app holds $s of the 1024 net_iovs"
	[ "${s:-0}" -ge 512 ] || r=1
	# frozen, it holds them while the binding is unbound
	kill -STOP "$pid_hoard"
	dnl unbind "$id" || r=1
	expect_eq "state while the app holds buffers" draining "$(state_of "$id")" || r=1
	refused EALREADY "binding is already unbound" unbind "$id" || r=1
	s=$(field "$(dnl stats "$id")" niovs-user)
	[ "${s:-0}" -gt 0 ] || { diag "niovs-user while draining: '$s'"; r=1; }
	# the app dies: its socket goes, its tokens come back, the binding is freed
	kill -KILL "$pid_hoard"
	wait "$pid_hoard" 2> /dev/null
	wait_gone "$id" || r=1
	kill "$pid_cli" 2> /dev/null
	wait "$pid_cli" 2> /dev/null
	return $r
}
ok "unbound while an app holds its buffers: draining, EALREADY, freed when the app dies" draining_while_held

# -- an application's own dmabuf, bound by pid and fd (pidfd_getfd) ---------------

pidfd_bind() {
	local id r=0
	# the app: devmem-nc with a udmabuf it owns as fd 5, binding nothing
	srv_cmd own "$DNL" udmabuf $SMALL --fd 5 -- "$NC" -l -a "$SRV_IP" -p 5201 -j \
		--timeout 60 --dmabuf-fd 5 --no-bind -s $SMALL
	wait_listen "$NS_SRV" 5201 || { diag "$(cat "$T/own.err")"; return 1; }
	id=$(dnl bind --ifindex "$SRV_IFINDEX" --queues 2 --pid "$pid_own" --fd 5) || return 1
	transfer own 5201 $SMALL || r=1
	expect_eq "dmabuf id in the app's cmsgs" "$id" "$(jq '."dmabuf-id"' "$T/own.json")" || r=1
	dnl unbind "$id" && wait_gone "$id" || r=1
	return $r
}
ok "bind --pid/--fd: another process's dmabuf, that process receives $SMALL validated" pidfd_bind

# -- lifetime socket ----------------------------------------------------------------

socket_lifetime() {
	local id b pid i
	"$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 3 --udmabuf $SMALL \
		--lifetime socket --hold 120 > "$T/held.id" 2> "$T/held.err" &
	pid=$!
	for i in $(seq 100); do
		[ -s "$T/held.id" ] || ! kill -0 $pid 2> /dev/null && break
		sleep 0.1
	done
	id=$(cat "$T/held.id")
	[ -n "$id" ] || { diag "bind --hold: $(cat "$T/held.err")"; kill $pid; return 1; }
	b=$(dnl get "$id")
	expect_eq "while its socket is open" "state active lifetime socket" \
		"state $(field "$b" state) lifetime $(field "$b" lifetime)" || { kill $pid; return 1; }
	# its maker exits: the socket closes
	kill $pid
	wait $pid 2> /dev/null
	unbound_now "$id" && wait_gone "$id"
}
ok "lifetime socket: listed while its socket is open, gone when it closes" socket_lifetime

# -- a netdev-family binding ----------------------------------------------------------

netdev_binding() {
	local opt='' id b r=0 id2
	# devmem-nc binds with the devmem family unless told otherwise
	"$NC" -h | grep -q -- --netdev-bind && opt=--netdev-bind
	srv legacy 5201 -i "$SRV_IF" -q 2 -b $SMALL $opt
	wait_listen "$NS_SRV" 5201 || { diag "$(cat "$T/legacy.err")"; return 1; }
	id=$(sed -n 's/.*bound dmabuf id \([0-9]*\).*/\1/p' "$T/legacy.err")
	b=$(dnl get "${id:-0}")
	diag "bind-rx binding: $b"
	expect_eq "bind-rx binding" "queues 2 lifetime socket owner-comm devmem-nc state active" \
		"$(for k in queues lifetime owner-comm state; do echo -n "$k $(field "$b" $k) "; done | sed 's/ $//')" || r=1
	refused EBUSY "rx queue 2 is already bound" "${B[@]}" --queues 2 --udmabuf $SMALL || r=1
	dnl unbind "${id:-0}" && unbound_now "$id" && wait_gone "$id" || r=1
	# the queue is free; the app's socket closing later finds nothing to undo
	id2=$(bind_q 2) && dnl unbind "$id2" && wait_gone "$id2" || r=1
	kill "$pid_legacy" 2> /dev/null
	wait "$pid_legacy" 2> /dev/null
	return $r
}
ok "a netdev bind-rx binding: listed (lifetime socket), holds its queue, unbound here" netdev_binding

# -- CAP_NET_ADMIN --------------------------------------------------------------------

unprivileged() {
	local r=0 c want='' got
	unpriv_id=$(bind_q 3) || return 1
	local cmds=("bind --ifindex $SRV_IFINDEX --queues 2 --fd-path /dev/null" dump stats-dump
		"get $unpriv_id" "stats $unpriv_id" "dmabuf-get $unpriv_id" "unbind $unpriv_id"
		"monitor --count 1 --timeout 5")
	for c in "${cmds[@]}"; do
		case $c in
		monitor*) want+="devmem_nl: monitor: EPERM: cannot join the mgmt group; exit 1; " ;;
		*) want+="devmem_nl: ${c%% *}: EPERM: CAP_NET_ADMIN is required; exit 1; " ;;
		esac
	done
	# one unprivileged shell runs them all (a process start is dear here)
	got=$(printf '%s\n' "${cmds[@]}" | ip netns exec "$NS_SRV" "${NOBODY[@]}" bash -c '
		while read -r args; do
			echo -n "$("$0" $args 2>&1 > /dev/null); exit $?; "
		done' "$(nobody_path "$DNL")")
	expect_eq "as nobody" "$want" "$got" || r=1
	expect_eq "the binding after the refusals" active "$(state_of "$unpriv_id")" || r=1
	return $r
}
ok "an unprivileged user: every op EPERM 'CAP_NET_ADMIN is required', no mgmt group" unprivileged

ynl_cli_unprivileged() {
	local out rc
	wait "$pid_ynl_cli"
	rc=$?
	out=$(cat "$T/ynl_cli.out")
	[ $rc -eq 1 ] && grep -Eq "error: -1([^0-9]|\$)" <<<"$out" &&
		grep -qF "'msg': 'CAP_NET_ADMIN is required'" <<<"$out" && return 0
	diag "tools/ynl devmem --dump binding-get as nobody: exit $rc: $out"
	return 1
}
ok "the YNL CLI as an unprivileged user: EPERM with the extack" ynl_cli_unprivileged

userns() {
	local r=0 out
	# root of a new user ns is not root of the netns's owner
	ref_as=(unshare -U -r)
	refused EPERM "CAP_NET_ADMIN is required" dump || r=1
	refused EPERM "CAP_NET_ADMIN is required" unbind "${unpriv_id:-1}" || r=1
	# ...but it owns a netns of its own (whose lo is down)
	ref_as=(unshare -U -r -n)
	out=$(ip netns exec "$NS_SRV" "${ref_as[@]}" "$DNL" -j dump) &&
		expect_eq "dump in an own netns" "[]" "$out" || r=1
	refused ENETDOWN "device is down" bind --ifindex 1 --queues 0 --fd-path /dev/null || r=1
	ref_as=()
	expect_eq "the binding after the refusals" active "$(state_of "${unpriv_id:-1}")" || r=1
	return $r
}
if unshare -U true 2> /dev/null; then
	ok "CAP_NET_ADMIN counts in the netns's user ns: a user ns root is refused, allowed in its own netns" userns
else
	skip "CAP_NET_ADMIN counts in the netns's user ns" "the kernel has no user namespaces (CONFIG_USER_NS)"
fi
dnl unbind "${unpriv_id:-1}" && wait_gone "${unpriv_id:-1}" > /dev/null

# -- netns isolation ------------------------------------------------------------------

other_netns() {
	local id r=0 c out
	id=$(bind_q 2) || return 1
	out=$("$DNL" -n "$NS_CLI" -j dump) && expect_eq "client netns dump" "[]" "$out" || r=1
	out=$("$DNL" -n "$NS_CLI" -j stats-dump) && expect_eq "client netns stats-dump" "[]" "$out" || r=1
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
	local id r=0 ev moncli
	srv_cmd mon "$DNL" -j monitor --count 3 --timeout 60
	"$DNL" -n "$NS_CLI" -j monitor --count 1 --timeout 120 > "$T/moncli.json" 2> "$T/moncli.err" &
	moncli=$!
	wait_for "$T/mon.err" listening && wait_for "$T/moncli.err" listening || r=1
	id=$(bind_q 3) && dnl unbind "$id" || r=1
	wait "$pid_mon" || { diag "monitor: $(cat "$T/mon.err")"; r=1; }
	ev=$(jq -sc 'map([.event, .id, .state])' "$T/mon.json")
	# a freed binding has no state; no pid: listeners sit in any pid namespace
	expect_eq "events" "[[\"bind-ntf\",$id,\"active\"],[\"unbind-ntf\",$id,\"draining\"],[\"free-ntf\",$id,null]]" "$ev" || r=1
	expect_eq "events with owner-pid" 0 "$(jq -s 'map(select(has("owner-pid"))) | length' "$T/mon.json")" || r=1
	expect_eq "bind-ntf" "{\"ifindex\":$SRV_IFINDEX,\"queues\":[3],\"lifetime\":\"persistent\",\"owner-comm\":\"devmem_nl\",\"dmabuf-size\":4194304}" \
		"$(jq -sc '.[0] | {ifindex, queues, lifetime, "owner-comm", "dmabuf-size"}' "$T/mon.json")" || r=1
	# the client netns heard nothing
	kill $moncli
	wait $moncli 2> /dev/null
	[ -s "$T/moncli.json" ] && { diag "client netns monitor: $(cat "$T/moncli.json")"; r=1; }
	return $r
}
ok "mgmt group: bind-ntf, unbind-ntf, free-ntf with the binding's attributes, only in its netns" notifications

# -- fuzz ---------------------------------------------------------------------------

fuzz() {
	local seed=${DEVMEM_FUZZ_SEED:-$RANDOM} rc
	fuzz_id=$(bind_q 2) || return 1
	diag "fuzz seed $seed (DEVMEM_FUZZ_SEED=$seed reproduces it)"
	dnl -j fuzz --count 5000 --seed "$seed" --keep-id "$fuzz_id" > "$T/fuzz.json" 2> "$T/fuzz.err"
	rc=$?
	diag "$(jq -c '{sent, refused, accepted, "no-reply", errors}' "$T/fuzz.json" 2> /dev/null)"
	[ $rc -eq 0 ] || { diag "$(head -n 20 "$T/fuzz.err")"; return 1; }
	jq -e '.sent == 5000 and .refused == 5000 and .accepted == 0 and ."no-reply" == 0' \
		"$T/fuzz.json" > /dev/null
}
ok "5000 malformed and random requests: each refused with an error, nothing else" fuzz
after_fuzz() {
	srv fz 5201 --binding "${fuzz_id:-0}" -s $SMALL
	transfer fz 5201 $SMALL && stats_equal "$fuzz_id" fz $SMALL &&
		dnl unbind "$fuzz_id" && wait_gone "$fuzz_id"
}
ok "the binding kept through the fuzz carries a transfer, counts it, unbinds" after_fuzz

# -- the device goes away -----------------------------------------------------------

netns_move() {
	local id r=0 out
	id=$(bind_q 2) || return 1
	ip netns add $NS_MOVE && in_srv ip link set "$SRV_IF" netns $NS_MOVE ||
		{ dnl unbind "$id"; return 1; }
	unbound_now "$id" || r=1
	out=$("$DNL" -n $NS_MOVE -j dump) && expect_eq "bindings in the new netns" "[]" "$out" || r=1
	wait_gone "$id" || r=1
	# back home, up, for the last test
	ip -n $NS_MOVE link set "$SRV_IF" netns "$NS_SRV" && ip netns del $NS_MOVE &&
		in_srv ip link set "$SRV_IF" up || r=1
	SRV_IFINDEX=$(in_srv cat "/sys/class/net/$SRV_IF/ifindex")
	return $r
}
ok "the device moving to another netns unbinds its binding" netns_move

device_deleted() {
	local id r=0 b
	id=$(bind_q 2-3) || return 1
	echo 1 > /sys/bus/netdevsim/del_device || return 1
	if b=$(dnl get "$id" 2> /dev/null); then
		diag "after the device went away: $b"
		expect_eq "state after the device went away" draining "$(field "$b" state)" || r=1
	fi
	wait_gone "$id" || r=1
	refused ENOENT "no binding with this id" unbind "$id" || r=1
	return $r
}
ok "deleting the netdevsim device unbinds its binding" device_deleted

finish
tap_done
