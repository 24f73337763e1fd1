#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The BPF side: devmemctl's steering policy and agent, and the accounting
# programs.
#  - a policy "port P -> binding B" makes a listener's flow land in the
#    dmabuf with nobody running ethtool by hand; the rule is on the device
#    while it listens and gone after it closes; other flows stay readable;
#  - cgroup policies, connects (4-tuple rules), policy del, unbind;
#  - the agent killed and restarted mid-flow: no rule leaked or doubled;
#  - accounting counters equal the transfer; a misrouted plain socket is
#    listed with its 4-tuple; maps dump with named fields in bpftool;
#  - detach leaves no programs, links, maps, pins or rules; an admin's own
#    ntuple rule survives;
#  - the agent converges with the device: two bindings at once, a rule
#    deleted behind its back comes back, kill -9 and restart while flows
#    and rules change, detach after kill -9; liveness by its lock, not by
#    a pid (a recycled pid is never signalled); one attach at a time; a
#    daemon that cannot start says why;
#  - devmemctl and the agent run built with ASan and UBSan.
. "$(dirname "$0")/lib.sh"

DNL=$BUILD/selftests/devmem_nl
PIN=/sys/fs/bpf/devmem
SIZE=16M
size_bytes=$((16 << 20))
CG=/sys/fs/cgroup/devmem-selftest
T=/tmp/devmem_bpf
rm -rf "$T"
mkdir -p "$T"
# devmemctl and its agent with ASan and UBSan: a report fails the test
sanitized_ctl "$T"

tap_plan 28

ctl() { "$CTL" -n "$NS_SRV" "$@"; }

# rules PORT: how many ntuple rules of the server port match dst port PORT
rules() { in_srv ethtool -n "$SRV_IF" | grep -c "Dest port: $1 "; }

# rule_queue PORT: the queue the (single) rule for dst port PORT points at
rule_queue() {
	in_srv ethtool -n "$SRV_IF" |
		awk -v p="Dest port: $1 " 'index($0, p) { f = 1 } f && /Action/ { print $NF; exit }'
}

# wait_rules PORT N: until exactly N rules match dst port PORT (10 s)
wait_rules() {
	local i n
	for i in $(seq 100); do
		n=$(rules "$1")
		[ "$n" -eq "$2" ] && return 0
		sleep 0.1
	done
	diag "rules for port $1: $n, expected $2"
	in_srv ethtool -n "$SRV_IF" | sed 's/^/#   /'
	return 1
}

# gone WHAT COMMAND...: until COMMAND prints nothing (5 s)
gone() {
	local what=$1 i out; shift
	for i in $(seq 50); do
		out=$("$@" 2>&1)
		[ -z "$out" ] && return 0
		sleep 0.1
	done
	diag "$what stayed: $out"
	return 1
}

# retrans: TCP segments the client side has retransmitted so far
retrans() { in_cli nstat -az TcpRetransSegs | awk '/TcpRetransSegs/ { print $2 }'; }

# transfer NAME PORT: the client sends $SIZE, server NAME must have
# received all of it, validated
transfer() {
	wait_listen "$NS_SRV" "$2" || return 1
	cli "$2" $SIZE || { diag "client: $(cat "$T/cli.err")"; return 1; }
	wait_srv "$1" || { diag "server: $(cat "$T/$1.err")"; return 1; }
	diag "$1: $(jq -c '{mode, bytes, "dmabuf-bytes", "plain-bytes", errors, validated}' "$T/$1.json")"
	jq -e --argjson n $size_bytes '.bytes == $n and .errors == 0 and .validated' \
		"$T/$1.json" > /dev/null
}

# all_in_dmabuf NAME: every byte server NAME received came in the dmabuf
all_in_dmabuf() {
	expect_eq "$1: dmabuf bytes" "$size_bytes" "$(j "$1" '."dmabuf-bytes"')"
}

setup() {
	wire_up || return 1
	# no ntuple rule of ours: the steering agent adds them
	devmem_nic || return 1
	# an admin's own rule, which nothing here may touch
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 7000 action 1 loc 100 || return 1
	B=$("$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 2-3 --udmabuf $SIZE) ||
		return 1
	diag "binding $B on $SRV_IF queues 2-3"
}
ok "a netdevsim pair with header split, RSS over queues 0-1, a persistent binding on 2-3" setup
B=${B:-0}

attach() {
	local out
	ctl stats attach || return 1
	out=$(ctl -j steer attach) || return 1
	AGENT=$(jq -r '."agent-pid"' <<<"$out")
	diag "agent pid $AGENT"
	[ -d "/proc/$AGENT" ] || { diag "no agent process"; return 1; }
	expect_eq "the agent's lock file" "$AGENT" "$(cat /run/devmemctl/steer.lock)" || return 1
	local p
	for p in steer_sockops acct_rx_skb acct_recvmsg acct_tok_release acct_rcv_efault acct_alloc_fail; do
		bpftool prog show name "$p" > /dev/null 2>&1 || { diag "no program $p"; return 1; }
		[ -e "$PIN/links/$p" ] || { diag "no link pinned for $p"; return 1; }
	done
	for p in steer_policy steer_flows steer_listen steer_rules steer_state steer_events \
		acct_queue acct_binding acct_socket acct_efault; do
		[ -e "$PIN/$p" ] || { diag "$PIN/$p is not pinned"; return 1; }
	done
	expect_eq "show" "attached $AGENT" \
		"$(ctl -j steer show | jq -r '"\(.state) \(."agent-pid")"')"
}
ok "steer attach and stats attach: programs named, links and maps pinned under $PIN, agent running" attach

refusals() {
	local r=0 out rc
	check() {	# check RC MESSAGE ARGS...
		local want_rc=$1 want=$2; shift 2
		out=$(ctl "$@" 2>&1); rc=$?
		if [ $rc -ne "$want_rc" ] || [[ $out != *"$want"* ]]; then
			diag "devmemctl $*: exit $rc '$out', expected exit $want_rc '$want'"
			r=1
		fi
	}
	check 1 "binding 4000000: no binding with this id (ENOENT)" steer policy add port 5301 binding 4000000
	check 2 'invalid port "0"' steer policy add port 0 binding "$B"
	check 2 'invalid port "70000"' steer policy add port 70000 binding "$B"
	check 2 'a policy needs a port, a cgroup or both' steer policy add binding "$B"
	check 2 '"binding" needs a value' steer policy add port 5301
	check 2 'invalid cgroup "no-such-cgroup"' steer policy add cgroup no-such-cgroup binding "$B"
	check 2 'unknown argument "bogus"' steer policy add port 5301 bogus 1
	check 1 "steering is already attached (agent pid $AGENT)" steer attach
	check 1 "no such policy" steer policy del port 5301
	[ "$(ctl -j steer show policy | jq -c .policy)" = "[]" ] || { diag "a refused add changed the policy"; r=1; }
	return $r
}
ok "bad policies are refused with the argument or the kernel's reason, nothing added" refusals

# -- a listener ------------------------------------------------------------------

listener() {
	local q
	ctl steer policy add port 5301 binding "$B" || return 1
	bpftool map dump pinned $PIN/steer_policy | grep -q '"binding_id": '"$B" ||
		{ diag "steer_policy has no named binding_id $B"; return 1; }
	srv l1 5301 --binding "$B"
	wait_listen "$NS_SRV" 5301 && wait_rules 5301 1 || return 1
	q=$(rule_queue 5301)
	[ "$q" = 2 ] || [ "$q" = 3 ] || { diag "rule points at queue '$q', not one of 2-3"; return 1; }
	L1_RETRANS=$(retrans)
	transfer l1 5301 && all_in_dmabuf l1 || return 1
	L1_RETRANS=$(($(retrans) - L1_RETRANS))
	wait_rules 5301 0
}
ok "policy port 5301 -> binding: rule while the server listens, all $SIZE in the dmabuf, rule gone after" listener

unmatched() {
	srv u1 5302 --plain
	transfer u1 5302 || return 1
	[ "$(rules 5302)" -eq 0 ] || { diag "a rule for the unmatched port"; return 1; }
}
ok "a server on a port no policy names stays on the RSS queues, readable" unmatched

# unreadable_ok WHAT BYTES: the NIC put the transfer in device memory once,
# plus at most what the client retransmitted (TCP drops the duplicates)
unreadable_ok() {
	[ "$2" -ge $size_bytes ] && [ "$2" -le $((size_bytes + ${L1_RETRANS:-0} * 1448)) ] && return 0
	diag "$1: $2 bytes for a transfer of $size_bytes with ${L1_RETRANS:-0} segments retransmitted"
	return 1
}

acct_equal() {
	local s k
	s=$(ctl -j stats bpf binding "$B" | jq -c '.binding[0]') || return 1
	k=$(ctl -j stats show binding "$B" | jq -c '.stats[0]') || return 1
	diag "bpf: $s (client retransmitted ${L1_RETRANS:-?} segments)"
	expect_eq "bpf counters against devmem-nc and the kernel" \
		"$(jq -c --argjson k "$k" '{"recvmsg-bytes": ."dmabuf-bytes", "recvmsg-frags": ."dmabuf-frags",
			"recvmsg-linear-bytes": ."linear-bytes", "tokens-released": ."tokens-returned",
			"tokens-outstanding": 0, "efault": 0, "kernel-rx-frags": $k."rx-frags"}' "$T/l1.json")" \
		"$(jq -c --argjson k "$k" '{"recvmsg-bytes", "recvmsg-frags",
			"recvmsg-linear-bytes", "tokens-released", "tokens-outstanding", "efault",
			"kernel-rx-frags": ."recvmsg-frags"}' <<<"$s")" || return 1
	unreadable_ok "unreadable bytes of the binding" "$(jq '."unreadable-bytes"' <<<"$s")" || return 1
	# per queue: what arrived on 2 and 3 is the whole transfer
	k=$(ctl -j stats bpf dev "$SRV_IF" | jq '[.queue[] | select(.queue >= 2) | ."unreadable-bytes"] | add')
	unreadable_ok "unreadable bytes on queues 2-3" "$k" || return 1
	k=$(ctl -j stats bpf dev "$SRV_IF" | jq '[.queue[] | select(.queue < 2)] | length')
	expect_eq "queues 0-1 with unreadable skbs" 0 "$k"
}
ok "accounting: unreadable and recvmsg bytes, frags, tokens equal the transfer and the kernel's counters" acct_equal

acct_bpftool() {
	local d
	d=$(bpftool map dump pinned $PIN/acct_binding) || return 1
	expect_eq "bpftool acct_binding recvmsg_bytes of binding $B" "$size_bytes" \
		"$(jq --argjson b "$B" '.[] | select(.key == $b) | .value.recvmsg_bytes' <<<"$d")"
}
ok "bpftool map dump pinned $PIN/acct_binding prints the named counters" acct_bpftool

misrouted() {
	local m port
	# the admin steers port 5303 onto a bound queue; a plain server there
	# meets device memory
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5303 action 2 loc 101 || return 1
	srv m1 5303 --plain
	wait_listen "$NS_SRV" 5303 || return 1
	cli 5303 1M
	wait_srv m1
	in_srv ethtool -N "$SRV_IF" delete 101
	grep -q EFAULT "$T/m1.err" || { diag "the plain server did not fail: $(cat "$T/m1.err")"; return 1; }
	port=$(sed -n 's/.*connection from [0-9.]*:\([0-9]*\).*/\1/p' "$T/m1.err")
	m=$(ctl -j stats misrouted | jq -c '.misrouted[0]')
	diag "$m"
	expect_eq "misrouted socket" \
		"$SRV_IP:5303 $CLI_IP:$port binding $B comm devmem-nc" \
		"$(jq -r '"\(.local) \(.remote) binding \(.binding) comm \(.comm)"' <<<"$m")" || return 1
	[ "$(jq .efault <<<"$m")" -ge 1 ] || return 1
	bpftool map dump pinned $PIN/acct_efault |
		jq -e '.[0].value | .lport == 5303 and .family == 2' > /dev/null ||
		{ diag "bpftool acct_efault: $(bpftool map dump pinned $PIN/acct_efault)"; return 1; }
}
ok "a misrouted plain socket is listed with its 4-tuple, binding and process" misrouted

hoarding() {
	local h r=0 k b q
	# a 4 MiB binding on queue 1 whose application returns no token: its
	# page pool runs dry; the flow gets there by policy
	h=$("$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 1 --udmabuf 4M) || return 1
	ctl steer policy add port 5320 binding "$h" || return 1
	srv h1 5320 --binding "$h" --hoard --timeout 5
	wait_listen "$NS_SRV" 5320 && wait_rules 5320 1 || return 1
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p 5320 -s 64M --timeout 60 > /dev/null 2>&1 &
	local c=$!
	wait_srv h1
	kill $c 2> /dev/null
	wait $c 2> /dev/null
	k=$(ctl -j stats show binding "$h" | jq -c '.stats[0]')
	b=$(ctl -j stats bpf binding "$h" | jq -c '.binding[0]')
	q=$(ctl -j stats bpf dev "$SRV_IF" | jq -c '.queue[] | select(.queue == 1)')
	diag "kernel: $k"
	diag "bpf: $b"
	[ "$(jq '."alloc-fail"' <<<"$k")" -ge 1 ] || { diag "no allocation failure"; r=1; }
	expect_eq "[alloc failures of the binding, of queue 1, tokens out, tokens released]: kernel, bpf" \
		"$(jq -c '[."alloc-fail", ."alloc-fail", ."tokens-out", 0]' <<<"$k")" \
		"$(jq -c --argjson q "$q" '[."alloc-fail", $q."alloc-fail", ."recvmsg-frags", ."tokens-released"]' <<<"$b")" || r=1
	ctl steer policy del port 5320 || r=1
	"$DNL" -n "$NS_SRV" unbind "$h" || r=1
	return $r
}
ok "a hoarding application: allocation failures per binding and per queue equal the kernel's, no token released" hoarding

# tokens_out: the kernel's count of tokens handed out from binding B
tokens_out() { ctl -j stats show binding "$B" | jq '.stats[0]."tokens-out"'; }
tokens_midflow() {
	local s r=0 c w i before
	ctl steer policy add port 5335 binding "$B" || return 1
	# tokens go back only at the end (a batch larger than the transfer)
	srv tk 5335 --binding "$B" --token-batch 1048576 --no-validate
	wait_listen "$NS_SRV" 5335 && wait_rules 5335 1 || return 1
	before=$(tokens_out)
	rm -f "$T/tk.fifo" && mkfifo "$T/tk.fifo" || return 1
	ip netns exec "$NS_CLI" nc -N "$SRV_IP" 5335 < "$T/tk.fifo" > /dev/null 2>&1 &
	c=$!
	exec {w}> "$T/tk.fifo"
	head -c 1M /dev/zero >&$w
	# the server holds tokens of the first 1M (whatever the machine's
	# speed): then accounting is attached anew, and the second 1M sent
	for i in $(seq 100); do
		[ "$(tokens_out)" -gt "$before" ] && break
		sleep 0.2
	done
	[ "$(tokens_out)" -gt "$before" ] || { diag "no token handed out for the first 1M"; r=1; }
	ctl stats detach && ctl stats attach || r=1
	head -c 1M /dev/zero >&$w
	exec {w}>&-
	wait $c
	wait_srv tk
	s=$(ctl -j stats bpf binding "$B" | jq -c '.binding[0]')
	diag "$s"
	jq -e '."tokens-released" > ."recvmsg-frags"' <<<"$s" > /dev/null ||
		{ diag "no token handed out before the attach was released after it: nothing tested"; r=1; }
	# (jq's numbers are doubles: an underflow shows as 1.8e19, not 0)
	expect_eq "tokens-outstanding" 0 "$(jq '."tokens-outstanding"' <<<"$s")" || r=1
	ctl steer policy del port 5335 || r=1
	return $r
}
ok "accounting attached mid-flow: tokens released beyond those counted out leave tokens-outstanding 0, not an underflow" tokens_midflow

# -- other policies ----------------------------------------------------------------

cgroup_policy() {
	local r=0
	mkdir -p "$CG" || return 1
	ctl steer policy add cgroup devmem-selftest binding "$B" || return 1
	# the same server command, once inside the cgroup and once outside
	# (it joins the cgroup before ip netns exec mounts its own /sys)
	sh -c "echo \$\$ > $CG/cgroup.procs && exec ip netns exec $NS_SRV $NC -l -a $SRV_IP -p 5304 -j --timeout 60 --binding $B" \
		> "$T/c1.json" 2> "$T/c1.err" &
	pid_c1=$!
	wait_listen "$NS_SRV" 5304 && wait_rules 5304 1 || r=1
	srv c2 5305 --binding "$B"
	wait_listen "$NS_SRV" 5305 || r=1
	sleep 2.5	# a reconcile period
	[ "$(rules 5305)" -eq 0 ] || { diag "a rule for the server outside the cgroup"; r=1; }
	transfer c1 5304 && all_in_dmabuf c1 || r=1
	transfer c2 5305 || r=1
	expect_eq "dmabuf bytes of the server outside the cgroup" 0 "$(j c2 '."dmabuf-bytes"')" || r=1
	ctl steer policy del cgroup devmem-selftest || r=1
	wait_rules 5304 0 || r=1
	return $r
}
ok "policy cgroup PATH: a server in the cgroup gets a rule and the dmabuf, the same server outside does not" cgroup_policy

root_cgroup_policy() {
	local r=0
	# cgroup PATH: absolute, or relative to /sys/fs/cgroup, in attach too
	# (from / here, where a cwd-relative devmem-selftest does not exist)
	out=$(cd / && ctl steer attach cgroup no-such-cgroup 2>&1)
	expect_eq "attach with a cgroup that is not one" \
		'Error: invalid cgroup "no-such-cgroup": not a cgroup v2 directory.' "${out%%$'\n'*}" || r=1
	ctl steer policy add cgroup /sys/fs/cgroup binding "$B" || return 1
	srv rc1 5336 --plain
	wait_listen "$NS_SRV" 5336 && wait_rules 5336 1 || r=1
	ctl steer policy del cgroup /sys/fs/cgroup || r=1
	wait_rules 5336 0 || r=1
	srv_kill rc1
	return $r
}
ok "a policy on the root cgroup (/sys/fs/cgroup) matches its processes; attach's cgroup PATH is relative to /sys/fs/cgroup" root_cgroup_policy

connect_policy() {
	local sport r=0 l c fd
	ctl steer policy add port 5306 binding "$B" || return 1
	ip netns exec "$NS_CLI" nc -l "$CLI_IP" 5306 > /dev/null &
	l=$!
	wait_listen "$NS_CLI" 5306 || return 1
	# a process in the server netns connects out to port 5306 and stays
	# connected (its stdin a fifo nobody writes) until it is killed
	mkfifo "$T/fifo" && exec {fd}<> "$T/fifo"
	ip netns exec "$NS_SRV" nc "$CLI_IP" 5306 < "$T/fifo" &
	c=$!
	for _ in $(seq 100); do
		sport=$(in_srv ss -Htn "dport = :5306" | awk '{print $4}' | sed 's/.*://')
		[ -n "$sport" ] && break
		sleep 0.1
	done
	wait_rules "$sport" 1 || r=1
	in_srv ethtool -n "$SRV_IF" | grep -A6 "Src IP addr: $CLI_IP " | grep -q "Src port: 5306 " ||
		{ diag "no 4-tuple rule from $CLI_IP:5306 to port $sport"; r=1; }
	kill $c $l 2> /dev/null
	wait $c $l 2> /dev/null
	exec {fd}>&-
	wait_rules "$sport" 0 || r=1
	ctl steer policy del port 5306 || r=1
	return $r
}
ok "a connect to a policy's remote port gets a 4-tuple rule, gone when the flow closes" connect_policy

policy_del() {
	srv d1 5307 --binding "$B"
	wait_listen "$NS_SRV" 5307 || return 1
	ctl steer policy add port 5307 binding "$B" || return 1
	# added after the server listened: policies apply to later sockets
	sleep 2.5
	[ "$(rules 5307)" -eq 0 ] || { diag "a rule for a listener older than its policy"; return 1; }
	srv_kill d1
	ctl steer policy add port 5308 binding "$B" || return 1
	srv d2 5308 --binding "$B"
	wait_listen "$NS_SRV" 5308 && wait_rules 5308 1 || return 1
	ctl steer policy del port 5308 || return 1
	wait_rules 5308 0 || return 1
	srv_kill d2
	ctl steer policy del port 5307
}
ok "policy del takes the rule away while the server still listens; older listeners get none" policy_del

# -- the agent restarted -------------------------------------------------------------

restart_midflow() {
	local r=0 out big=64M
	ctl steer policy add port 5309 binding "$B" || return 1
	srv k1 5309 --binding "$B"
	wait_listen "$NS_SRV" 5309 && wait_rules 5309 1 || return 1
	# 64M lasts seconds here: the agent dies and comes back while it flows
	cli_bg 5309 $big
	sleep 0.5
	kill -9 "$AGENT"
	out=$(ctl -j steer attach) || return 1
	AGENT=$(jq -r '."agent-pid"' <<<"$out")
	if kill -0 "$pid_cli" 2> /dev/null; then
		[ "$(rules 5309)" -eq 1 ] || {
			diag "after the restart: $(rules 5309) rules for 5309; ethtool -n: exit $(in_srv ethtool -n "$SRV_IF" > "$T/n.txt" 2>&1; echo $?)"
			sed 's/^/#   /' "$T/n.txt"
			diag "the agent's records: $(ctl -j steer show rule) flows: $(ctl -j steer show flow)"
			r=1
		}
	else
		diag "the transfer ended before the agent was back: nothing tested"
		r=1
	fi
	wait "$pid_cli" || r=1
	wait_srv k1 || r=1
	jq -e --argjson n $((64 << 20)) '.bytes == $n and ."dmabuf-bytes" == $n and .validated' \
		"$T/k1.json" > /dev/null || { diag "k1: $(cat "$T/k1.json")"; r=1; }
	wait_rules 5309 0 || r=1
	return $r
}
ok "agent killed and restarted mid-flow: one rule throughout, the whole transfer in the dmabuf, rule gone after" restart_midflow

restart_missed_close() {
	local out
	ctl steer policy add port 5310 binding "$B" || return 1
	srv k2 5310 --binding "$B"
	wait_listen "$NS_SRV" 5310 && wait_rules 5310 1 || return 1
	kill -9 "$AGENT"
	srv_kill k2
	sleep 0.5
	[ "$(rules 5310)" -eq 1 ] || { diag "the rule went without an agent?"; return 1; }
	out=$(ctl -j steer attach) || return 1
	AGENT=$(jq -r '."agent-pid"' <<<"$out")
	[ "$(rules 5310)" -eq 0 ] || { diag "the restarted agent left the rule of a closed listener"; return 1; }
}
ok "a listener closed while no agent ran: the restarted agent removes its rule before reporting ready" restart_missed_close

two_bindings() {
	local b2 r=0 q
	b2=$("$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 1 --udmabuf 4M) || return 1
	ctl steer policy add port 5321 binding "$B" && ctl steer policy add port 5322 binding "$b2" || return 1
	srv tb1 5321 --plain
	srv tb2 5322 --plain
	wait_listen "$NS_SRV" 5321 && wait_listen "$NS_SRV" 5322 || r=1
	wait_rules 5321 1 && wait_rules 5322 1 || r=1
	q=$(rule_queue 5321)
	[ "$q" = 2 ] || [ "$q" = 3 ] || { diag "5321's rule on queue '$q', not one of binding $B's 2-3"; r=1; }
	expect_eq "5322's rule's queue (binding $b2)" 1 "$(rule_queue 5322)" || r=1
	kill -0 "$AGENT" 2> /dev/null || { diag "the agent died"; r=1; }
	srv_kill tb1
	srv_kill tb2
	ctl steer policy del port 5321
	ctl steer policy del port 5322
	wait_rules 5321 0 && wait_rules 5322 0 || r=1
	"$DNL" -n "$NS_SRV" unbind "$b2" || r=1
	return $r
}
ok "listeners of two bindings at once: each rule on its own binding's queue, the agent alive" two_bindings

# rule_loc PORT: the location of the agent's rule for dst port PORT
rule_loc() { ctl -j steer show rule | jq --argjson p "$1" '.rule[] | select(."dst-port" == $p) | .location'; }

rule_comes_back() {
	local loc r=0
	ctl steer policy add port 5323 binding "$B" || return 1
	srv rb 5323 --plain
	wait_listen "$NS_SRV" 5323 && wait_rules 5323 1 || return 1
	loc=$(rule_loc 5323)
	in_srv ethtool -N "$SRV_IF" delete "$loc" || r=1
	expect_eq "rules for 5323 right after ethtool -N delete $loc" 0 "$(rules 5323)" || r=1
	# the agent looks at the device every 2 s
	wait_rules 5323 1 || r=1
	expect_eq "the agent's records for 5323" 1 \
		"$(ctl -j steer show rule | jq '[.rule[] | select(."dst-port" == 5323)] | length')" || r=1
	srv_kill rb
	wait_rules 5323 0 || r=1
	ctl steer policy del port 5323 || r=1
	return $r
}
ok "a rule of the agent deleted with ethtool -N delete comes back while its listener lives" rule_comes_back

kill9_converge() {
	local p r=0 loc out
	for p in 5324 5325 5326 5327; do
		ctl steer policy add port $p binding "$B" || return 1
	done
	srv kc4 5324 --plain
	srv kc5 5325 --plain
	srv kc6 5326 --plain
	for p in 5324 5325 5326; do
		wait_listen "$NS_SRV" $p && wait_rules $p 1 || return 1
	done
	kill -9 "$AGENT"
	# while no agent runs: a listener goes, another comes, and an admin
	# deletes one of the agent's rules
	srv_kill kc4
	srv kc7 5327 --plain
	wait_listen "$NS_SRV" 5327 || r=1
	loc=$(rule_loc 5325)
	in_srv ethtool -N "$SRV_IF" delete "$loc" || r=1
	out=$(ctl -j steer attach) || return 1
	AGENT=$(jq -r '."agent-pid"' <<<"$out")
	# ready means converged: no waiting
	expect_eq "rules for 5324 5325 5326 5327 once attach returns" "0 1 1 1" \
		"$(rules 5324) $(rules 5325) $(rules 5326) $(rules 5327)" || r=1
	expect_eq "the agent's records" "5325 5326 5327" \
		"$(ctl -j steer show rule | jq -r '[.rule[]."dst-port"] | sort | map(tostring) | join(" ")')" || r=1
	expect_eq "the admin's rule" 1 "$(rules 7000)" || r=1
	srv_kill kc5
	srv_kill kc6
	srv_kill kc7
	for p in 5324 5325 5326 5327; do
		ctl steer policy del port $p
	done
	for p in 5325 5326 5327; do
		wait_rules $p 0 || r=1
	done
	return $r
}
ok "kill -9, listeners and rules change, restart: the rules converge to the live listeners at once" kill9_converge

kill9_detach() {
	local r=0 out rc
	ctl steer policy add port 5328 binding "$B" || return 1
	srv kd 5328 --plain
	wait_listen "$NS_SRV" 5328 && wait_rules 5328 1 || return 1
	kill -9 "$AGENT"
	out=$(ctl steer detach 2>&1)
	rc=$?
	expect_eq "steer detach after the agent's SIGKILL: exit, output" "0 " "$rc $out" || r=1
	[ "$(rules 5328)" -eq 0 ] || { diag "the dead agent's rule stayed"; r=1; }
	[ -e "$PIN/steer_rules" ] && { diag "the pins stayed: $(ls $PIN)"; r=1; }
	expect_eq "the admin's rule" 1 "$(rules 7000)" || r=1
	srv_kill kd
	out=$(ctl -j steer attach) || return 1
	AGENT=$(jq -r '."agent-pid"' <<<"$out")
	return $r
}
ok "steer detach after the agent was SIGKILLed: exit 0, its rules and the pins gone, the admin's rule kept" kill9_detach

# le N BYTES: N as BYTES little-endian hex bytes, for bpftool
le() { local i; for ((i = 0; i < $2; i++)); do printf '0x%02x ' $((($1 >> (8 * i)) & 255)); done; }

recycled_pid() {
	local r=0 id hold cookie out
	# a devmemctl holding a binding with lifetime socket: SIGHUP would end it
	"$CTL" -n "$NS_SRV" -j binding add dev "$SRV_IF" queues 1 dmabuf udmabuf size 4M \
		lifetime socket > "$T/rp.json" 2> "$T/rp.err" &
	hold=$!
	wait_for "$T/rp.json" '"id"' || { kill $hold; return 1; }
	id=$(jq .id "$T/rp.json")
	# the agent dies; its pid in steer_state is now the holder's, as if recycled
	cookie=$(bpftool map dump pinned $PIN/steer_state | jq '.[0].value.netns_cookie')
	kill -9 "$AGENT"
	sleep 0.2
	# shellcheck disable=SC2046
	bpftool map update pinned $PIN/steer_state key 0 0 0 0 \
		value $(le "$cookie" 8) $(le "$hold" 4) 0 0 0 0 || r=1
	out=$(ctl steer policy add port 5329 binding "$B" 2>&1) || r=1
	expect_eq "policy add with no agent" \
		"Warning: no steering agent runs: the policy applies once one does ('devmemctl steer attach')." "$out" || r=1
	sleep 0.5
	kill -0 $hold 2> /dev/null || { diag "the holder was signalled: $(cat "$T/rp.err")"; r=1; }
	expect_eq "the holder's binding" active "$(ctl -j binding show id "$id" | jq -r '.binding[0].state')" || r=1
	expect_eq "steer show" "gone null" "$(ctl -j steer show | jq -r '"\(.agent) \(."agent-pid")"')" || r=1
	kill -INT $hold
	wait $hold
	ctl steer policy del port 5329 || r=1
	out=$(ctl -j steer attach) || return 1
	AGENT=$(jq -r '."agent-pid"' <<<"$out")
	expect_eq "steer show" "running $AGENT" "$(ctl -j steer show | jq -r '"\(.agent) \(."agent-pid")"')" || r=1
	return $r
}
ok "the agent's pid recycled by a lifetime-socket holder: policy add signals nobody, steer show says the agent is gone" recycled_pid

start_failure() {
	local r=0 out rc mid
	kill -9 "$AGENT"
	sleep 0.2
	# the ring buffer's pin gone: a restarted agent cannot read its events
	mid=$(bpftool -j map show name steer_events | jq 'if type == "array" then .[0].id else .id end')
	rm "$PIN/steer_events" || return 1
	out=$(ctl steer attach 2>&1)
	rc=$?
	expect_eq "attach whose agent fails" \
		"1 Error: the steering agent did not start: cannot read the steering ring buffer." "$rc $out" || r=1
	bpftool map pin id "$mid" "$PIN/steer_events" || r=1
	out=$(ctl -j steer attach) || return 1
	AGENT=$(jq -r '."agent-pid"' <<<"$out")
	return $r
}
ok "a daemon agent that cannot start: attach exits 1 with its reason" start_failure

concurrent_attach() {
	local r=0 a b ra rb
	ctl steer detach || return 1
	"$CTL" -n "$NS_SRV" -j steer attach > "$T/ca1.json" 2> "$T/ca1.err" &
	a=$!
	"$CTL" -n "$NS_SRV" -j steer attach > "$T/ca2.json" 2> "$T/ca2.err" &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	expect_eq "exit statuses, sorted" "0 1" "$(printf '%s\n' $ra $rb | sort | tr '\n' ' ' | sed 's/ $//')" || r=1
	AGENT=$(cat "$T/ca1.json" "$T/ca2.json" | jq -r 'select(."agent-pid") | ."agent-pid"')
	diag "$(cat "$T/ca1.json" "$T/ca2.json" | tr '\n' ' ')"
	expect_eq "steer show" "attached running $AGENT" \
		"$(ctl -j steer show | jq -r '"\(.state) \(.agent) \(."agent-pid")"')" || r=1
	for p in steer_policy steer_flows steer_listen steer_rules steer_state steer_events links/steer_sockops; do
		[ -e "$PIN/$p" ] || { diag "$PIN/$p is not pinned"; r=1; }
	done
	return $r
}
ok "two attaches at once: one agent, the other refused, the pins whole" concurrent_attach

unbind_drops_rules() {
	local b2
	b2=$("$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 1 --udmabuf 4M) || return 1
	ctl steer policy add port 5311 binding "$b2" || return 1
	srv n1 5311 --plain
	wait_listen "$NS_SRV" 5311 && wait_rules 5311 1 || return 1
	expect_eq "queue of binding $b2's rule" 1 "$(rule_queue 5311)" || return 1
	"$DNL" -n "$NS_SRV" unbind "$b2" || return 1
	wait_rules 5311 0 || return 1
	srv_kill n1
	ctl steer policy del port 5311
}
ok "unbinding a binding takes its rules away" unbind_drops_rules

# -- detach ---------------------------------------------------------------------------

detach() {
	local r=0 p
	ctl steer policy add port 5312 binding "$B" || return 1
	srv x2 5312 --binding "$B"
	wait_listen "$NS_SRV" 5312 && wait_rules 5312 1 || return 1
	ctl steer detach || r=1
	ctl stats detach || r=1
	srv_kill x2
	[ -d "/proc/$AGENT" ] && { diag "the agent still runs"; r=1; }
	[ "$(rules 5312)" -eq 0 ] || { diag "the agent's rule stayed"; r=1; }
	# programs and maps are freed after an RCU grace period or a work item
	gone "programs" sh -c "bpftool prog show | grep -E 'name (steer|acct)_'" || r=1
	gone "links" bpftool link show || r=1
	gone "maps" sh -c "bpftool map show | grep -E 'name (steer|acct)_'" || r=1
	[ -e "$PIN" ] && { diag "$PIN stayed: $(ls -R $PIN)"; r=1; }
	expect_eq "the admin's rule" 1 "$(rules 7000)" || r=1
	return $r
}
ok "detach: no programs, links, maps, pins or agent rules left; the admin's rule survives" detach

detached_errors() {
	local out rc
	out=$(ctl steer policy add port 5313 binding "$B" 2>&1); rc=$?
	expect_eq "policy add when detached" "1 Error: steering is not attached; run 'devmemctl steer attach'." "$rc $out" || return 1
	out=$(ctl stats bpf 2>&1); rc=$?
	expect_eq "stats bpf when detached" "1 Error: accounting is not attached; run 'devmemctl stats attach'." "$rc $out"
}
ok "steering and accounting commands say what to attach when nothing is" detached_errors

foreground() {
	# not through ctl(): SIGINT must reach devmemctl itself
	"$CTL" -n "$NS_SRV" -j steer attach foreground > "$T/fg.log" 2> "$T/fg.err" &
	local fg=$!
	wait_for "$T/fg.log" agent-pid && ctl steer policy add port 5314 binding "$B" || return 1
	srv f1 5314 --binding "$B"
	transfer f1 5314 && all_in_dmabuf f1 || return 1
	wait_rules 5314 0 || return 1
	kill -INT $fg
	wait $fg || { diag "foreground agent: exit $? $(cat "$T/fg.err")"; return 1; }
	diag "$(jq -c 'select(.event or .action) | [.event // .action, .kind // ."flow-type", ."dst-port" // .local]' "$T/fg.log" | tr '\n' ' ')"
	expect_eq "events and rule changes logged" "listen add established close close del" \
		"$(jq -r 'select(.event or .action) | .event // .action' "$T/fg.log" | tr '\n' ' ' | sed 's/ $//')"
}
ok "steer attach foreground logs listen/add/established/close/del as JSON lines, exits on SIGINT" foreground

clean_after_foreground() {
	ctl steer detach && ctl stats attach && ctl stats detach || return 1
	[ ! -e "$PIN" ] || { diag "$PIN stayed"; return 1; }
	"$DNL" -n "$NS_SRV" unbind "$B"
}
ok "detach after a foreground agent, unbind" clean_after_foreground

rmdir "$CG" 2> /dev/null
wire_down
tap_done
