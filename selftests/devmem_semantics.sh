#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What applications written for upstream see, and who may do what:
# netdev bind-rx keeps 6.12's EEXIST for a bound queue (the devmem family
# answers EBUSY); netdev bind-tx needs no CAP_NET_ADMIN, as mainline
# declares it, while bind-rx and the devmem family do; dmabuf-get hands a
# binding's dmabuf only to an admin of the user namespace that made it, and
# owner-pid is shown only in pid namespaces that can see the owner; replies
# that cannot be delivered leave no binding and no descriptor behind
# (devmem_reply.py).
. "$(dirname "$0")/lib.sh"
kernel_log_mark

DNL=$BUILD/selftests/devmem_nl
CTL=$BUILD/ctl/devmemctl
T=/tmp/devmem_semantics
rm -rf "$T"
mkdir -p "$T"

echo "TAP version 13"


setup() {
	wire_up 4 && devmem_port 5201
}
ok "setup: netdevsim wire, header split on the receiver" setup ||
	{ echo "Bail out! no netdevsim wire"; wire_down; exit 1; }

# -- errnos ------------------------------------------------------------------------
# a queue the devmem family holds: netdev bind-rx says EEXIST, as in 6.12
# and mainline; the devmem family says EBUSY (documented in
# Documentation/devmem-family.rst)
bound_queue_errnos() {
	local id out r=0
	id=$("$DNL" -n "$NS_SRV" -j bind --ifindex "$SRV_IFINDEX" --queues 2 --udmabuf 4M |
		jq -r .id) || return 1
	out=$(in_srv "$NC" -l -a "$SRV_IP" -p 5299 -i "$SRV_IF" -q 2 -b 4M --netdev-bind \
		--timeout 5 2>&1 > /dev/null)
	[[ $out == *"rx queue 2 is already bound"*"EEXIST"* ]] ||
		{ diag "netdev bind-rx on a bound queue: $out"; r=1; }
	out=$("$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 2 --udmabuf 4M 2>&1 > /dev/null)
	[[ $out == *"EBUSY: rx queue 2 is already bound" ]] ||
		{ diag "devmem bind on a bound queue: $out"; r=1; }
	"$DNL" -n "$NS_SRV" unbind "$id" || r=1
	return $r
}
ok "a bound queue: netdev bind-rx EEXIST, devmem bind EBUSY, both name the queue" bound_queue_errnos

# -- permissions ---------------------------------------------------------------------
netdev_bind_tx_unprivileged() {
	local r=0
	srv txu 5202 --plain -s 4M
	wait_listen "$NS_SRV" 5202 || return 1
	ip netns exec "$NS_CLI" setpriv --bounding-set -net_admin --inh-caps -net_admin \
		"$NC" -c "$SRV_IP" -p 5202 -s 4M --timeout 60 -j --tx devmem -i "$CLI_IF" \
		-b 1M --netdev-bind > "$T/txu_c.json" 2> "$T/txu_c.err" ||
		{ diag "client without CAP_NET_ADMIN: $(cat "$T/txu_c.err")"; srv_kill txu; return 1; }
	wait_srv txu || { diag "server: $(cat "$T/txu.err")"; return 1; }
	expect_eq "bytes validated" "4194304 0 true" "$(j txu '"\(.bytes) \(.errors) \(.validated)"')" || r=1
	expect_eq "client" "devmem netdev" "$(jq -r '"\(.tx) \(.family)"' "$T/txu_c.json")" || r=1
	return $r
}
ok "netdev bind-tx without CAP_NET_ADMIN: binds, sends 4M from the dmabuf, validated" \
	netdev_bind_tx_unprivileged

admin_still_needed() {
	local out r=0
	out=$(in_srv setpriv --bounding-set -net_admin --inh-caps -net_admin \
		"$NC" -l -a "$SRV_IP" -p 5298 -i "$SRV_IF" -q 3 -b 4M --netdev-bind --timeout 5 2>&1 > /dev/null)
	[[ $out == *EPERM* ]] || { diag "netdev bind-rx without CAP_NET_ADMIN: $out"; r=1; }
	out=$(ip netns exec "$NS_CLI" setpriv --bounding-set -net_admin --inh-caps -net_admin \
		"$DNL" bind --ifindex "$CLI_IFINDEX" --direction tx --udmabuf 1M --omit queues 2>&1 > /dev/null)
	[[ $out == *"EPERM: CAP_NET_ADMIN is required" ]] || { diag "devmem bind (tx) without CAP_NET_ADMIN: $out"; r=1; }
	return $r
}
ok "without CAP_NET_ADMIN: netdev bind-rx and the devmem family refuse (EPERM)" admin_still_needed

# -- a container: a netns owned by a child user namespace ------------------------------
# the host admin binds a dmabuf to the container's device; the container's
# admin (CAP_NET_ADMIN over its netns) may list it, not map its memory
CONTAINER=
container_up() {
	local dev
	unshare --user --map-root-user --net --pid --fork --mount-proc sleep 600 > /dev/null 2>&1 &
	CONTAINER_UNSHARE=$!
	for _ in $(seq 50); do
		CONTAINER=$(pgrep -P $CONTAINER_UNSHARE -x sleep) && break
		sleep 0.1
	done
	[ -n "$CONTAINER" ] || { diag "no container process"; return 1; }
	dev=$(nsim_new "$NS_CLI" 3 2) || return 1
	ip -n "$NS_CLI" link set "$dev" netns "/proc/$CONTAINER/ns/net" || return 1
	C_IF=$dev
	C_IFINDEX=$(nsenter -t "$CONTAINER" -n cat "/sys/class/net/$dev/ifindex" 2>/dev/null ||
		nsenter -t "$CONTAINER" -n ip -j link show "$dev" | jq -r '.[0].ifindex')
	nsenter -t "$CONTAINER" -n ip link set "$dev" up
}
in_container() { nsenter -t "$CONTAINER" -U -n -p "$@"; }
container_down() {
	# the container's init: only SIGKILL reaches it from outside
	[ -n "$CONTAINER" ] && kill -9 "$CONTAINER" 2> /dev/null
	[ -n "${CONTAINER_UNSHARE:-}" ] && wait "$CONTAINER_UNSHARE" 2> /dev/null
	[ -e /sys/bus/netdevsim/devices/netdevsim3 ] && echo 3 > /sys/bus/netdevsim/del_device
	return 0
}

container_dmabuf_get() {
	local host_id own_id out r=0
	container_up || return 1
	host_id=$("$DNL" -n "/proc/$CONTAINER/ns/net" -j bind --ifindex "$C_IFINDEX" --direction tx \
		--lifetime persistent --udmabuf 1M --omit queues | jq -r .id) ||
		{ diag "host bind in the container's netns failed"; return 1; }
	out=$(in_container "$DNL" dmabuf-get "$host_id" 2>&1 > /dev/null)
	[[ $out == *"EPERM: dmabuf-get needs CAP_NET_ADMIN in the user namespace that made the binding" ]] ||
		{ diag "container dmabuf-get of the host's binding: $out"; r=1; }
	# the host's own admin may
	"$DNL" -n "/proc/$CONTAINER/ns/net" dmabuf-get "$host_id" --check-size 1048576 > /dev/null ||
		{ diag "host dmabuf-get failed"; r=1; }
	# listed in the container, without the host's pid
	out=$(in_container "$DNL" -j get "$host_id") || { diag "container get: $out"; r=1; }
	expect_eq "owner-pid the container sees" null "$(jq -r '."owner-pid"' <<< "$out")" || r=1
	out=$("$DNL" -n "/proc/$CONTAINER/ns/net" -j get "$host_id")
	[ "$(jq -r '."owner-pid"' <<< "$out")" -gt 0 ] || { diag "host get: $out"; r=1; }
	# a binding the container made itself: its memory, its pid
	own_id=$(in_container "$DNL" -j bind --ifindex "$C_IFINDEX" --direction tx --lifetime persistent \
		--udmabuf 1M --omit queues | jq -r .id) || { diag "container bind failed"; r=1; }
	in_container "$DNL" dmabuf-get "$own_id" --check-size 1048576 > /dev/null ||
		{ diag "container dmabuf-get of its own binding failed"; r=1; }
	out=$(in_container "$DNL" -j get "$own_id")
	[ "$(jq -r '."owner-pid" // 0' <<< "$out")" -gt 0 ] || { diag "container get own: $out"; r=1; }
	"$DNL" -n "/proc/$CONTAINER/ns/net" unbind "$host_id" || r=1
	"$DNL" -n "/proc/$CONTAINER/ns/net" unbind "$own_id" || r=1
	container_down
	return $r
}
ok "container: dmabuf-get of the host's binding EPERM, of its own works; no host pid shown" \
	container_dmabuf_get

# -- receiving: control buffers and token arrays ------------------------------------------
# devmem_tokens is the application: it makes its dmabuf, the admin binds it
# by pid and fd, it receives 8M with odd control buffers and odd
# SO_DEVMEM_DONTNEED arrays, and closes with 40 tokens held
TOKENS=$BUILD/selftests/devmem_tokens
tokens_and_cmsgs() {
	local line pid fd id held='' out r=0
	local from to
	coproc TOK { ip netns exec "$NS_SRV" "$TOKENS" 5201 8388608 4194304 40 2>&1; }
	# bash closes a coproc's fds when it exits: read from copies
	exec {from}<&"${TOK[0]}" {to}>&"${TOK[1]}"
	read -r -t 10 -u "$from" line || { ok "devmem_tokens started" false; return; }
	read -r _ pid _ fd <<< "$line"
	id=$("$DNL" -n "$NS_SRV" bind --ifindex "$SRV_IFINDEX" --queues 2 --pid "$pid" --fd "$fd" \
		--lifetime persistent) || { ok "bind devmem_tokens' dmabuf by pid $pid fd $fd" false; kill "$TOK_PID"; return; }
	echo bound >&"$to"
	while read -r -t 60 -u "$from" line; do
		case $line in
		"# listening") cli_bg 5201 8M ;;
		"ok "*) ok "tokens: ${line#ok * }" true ;;
		"not ok "*) ok "tokens: ${line#not ok * }" false ;;
		"held "*) held=${line#held } ;;
		"Bail out!"*) diag "$line"; r=1 ;;
		"1.."*) break ;;
		*) echo "$line" ;;
		esac
	done
	wait "$TOK_PID" 2> /dev/null
	exec {from}<&- {to}>&-
	wait "$pid_cli" 2> /dev/null
	# the kernel took back what the closed socket held
	for _ in $(seq 20); do
		out=$("$DNL" -n "$NS_SRV" -j stats "$id")
		[ "$(jq -r '."niovs-user"' <<< "$out")" = 0 ] && break
		sleep 0.25
	done
	expect_eq "tokens reclaimed at close" "${held:-?}" "$(jq -r '."tokens-reclaimed"' <<< "$out")" || r=1
	expect_eq "tokens still held" 0 "$(jq -r '."niovs-user"' <<< "$out")" || r=1
	expect_eq "tokens out = returned + reclaimed" "$(jq -r '."tokens-out"' <<< "$out")" \
		"$(jq -r '."tokens-returned" + ."tokens-reclaimed"' <<< "$out")" || r=1
	"$DNL" -n "$NS_SRV" unbind "$id" || r=1
	ok "tokens held at close: reclaimed by the kernel, counted ($held), none left" test $r -eq 0
}
tokens_and_cmsgs

# -- replies that are lost --------------------------------------------------------------
reply_lost() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "reply: ${line#ok * }" true ;;
		"not ok "*) ok "reply: ${line#not ok * }" false ;;
		*) echo "$line" ;;
		esac
	done < <(ip netns exec "$NS_CLI" python3 "$(dirname "$0")/devmem_reply.py" "$CLI_IFINDEX" 2>&1)
}
reply_lost

no_binding_left() {
	expect_eq "bindings left in the client netns" 0 "$("$DNL" -n "$NS_CLI" -j dump | jq length)" &&
	expect_eq "bindings left in the server netns" 0 "$("$DNL" -n "$NS_SRV" -j dump | jq length)"
}
ok "no binding is left" no_binding_left
wire_down

ok "the kernel log has no report from these tests" kernel_clean

# shellcheck disable=SC2154
echo "1..$__tap_n"
rm -rf "$T"
tap_done
