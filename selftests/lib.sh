# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers for the shell selftests: TAP output and the netdevsim wire
# (two netns, one netdevsim port each, linked).

LIB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$LIB_TOP/build}
KSRC=${KSRC:-$BUILD/linux}

NS_SRV=devmem-srv
NS_CLI=devmem-cli
SRV_IP=192.0.2.1
CLI_IP=192.0.2.2
SRV_IP6=2001:db8::1
CLI_IP6=2001:db8::2

__tap_n=0
__tap_failed=0

tap_plan() { echo "TAP version 13"; echo "1..$1"; }

# ok DESCRIPTION COMMAND... : one TAP result from a command's status
ok() {
	local desc=$1 t0=$SECONDS; shift
	__tap_n=$((__tap_n + 1))
	if "$@" && san_clean; then
		echo "ok $__tap_n $desc"
	else
		san_clean
		echo "not ok $__tap_n $desc"
		__tap_failed=$((__tap_failed + 1))
	fi
	# where a suite's time goes: the tests that took 10 s or more
	[ $((SECONDS - t0)) -lt 10 ] || echo "#   took $((SECONDS - t0))s"
}

skip() {
	__tap_n=$((__tap_n + 1))
	echo "ok $__tap_n $1 # SKIP $2"
}

tap_done() { san_clean || __tap_failed=$((__tap_failed + 1)); [ "$__tap_failed" -eq 0 ]; }

# -- the sanitized devmemctl ----------------------------------------------------
# sanitized_ctl DIR: sets CTL to the AddressSanitizer/UBSan build of
# devmemctl (DEVMEMCTL overrides it), its reports written under DIR; from
# then on a test during which a report appeared fails, the report shown
# (san_clean). Reports of daemons count too: they go to files, not stderr.
SAN_DIR=
sanitized_ctl() {
	CTL=${DEVMEMCTL:-$BUILD/ctl/asan/devmemctl}
	[ -x "$CTL" ] || { echo "Bail out! no $CTL (make tools)"; exit 1; }
	SAN_DIR=$1/sanitizer
	rm -rf "$SAN_DIR"
	# unprivileged runs write their reports here too
	mkdir -p "$SAN_DIR/seen" && chmod 1777 "$SAN_DIR" "$SAN_DIR/seen"
	export ASAN_OPTIONS="log_path=$SAN_DIR/asan:halt_on_error=1:detect_leaks=1:abort_on_error=0"
	# (UBSan reports go where ASan's do: asan.PID)
	export UBSAN_OPTIONS="log_path=$SAN_DIR/ubsan:halt_on_error=1:print_stacktrace=1"
}
# san_clean: no new sanitizer report since the last call (new ones are
# shown, then kept aside in $SAN_DIR/seen)
san_clean() {
	local f r=0
	[ -n "$SAN_DIR" ] || return 0
	for f in "$SAN_DIR"/asan.* "$SAN_DIR"/ubsan.*; do
		[ -e "$f" ] || continue
		diag "sanitizer report $f:"
		sed -n '1,40s/^/#   /p' "$f"
		mv "$f" "$SAN_DIR/seen/"
		r=1
	done
	return $r
}

# -- unprivileged users ---------------------------------------------------------
# A checkout may sit in a directory other users cannot enter (a 0700 home,
# /root): nobody's commands reach this tree and the build through bind
# mounts at a world-reachable place instead (the tree itself is the only
# directory whose mode then counts). nobody_path PATH prints the path under
# which nobody reaches PATH (of the tree or the build).
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
__nobody_root=/tmp/devmem-nobody
nobody_reaches() { "${NOBODY[@]}" test -x "$1" 2> /dev/null; }
nobody_path() {
	local p=$1 top=$LIB_TOP build=$BUILD
	if ! nobody_reaches "$LIB_TOP/selftests" || ! nobody_reaches "$BUILD"; then
		if ! mountpoint -q "$__nobody_root/top"; then
			mkdir -p "$__nobody_root/top" "$__nobody_root/build" &&
				chmod 755 "$__nobody_root" &&
				mount --bind "$LIB_TOP" "$__nobody_root/top" &&
				mount --bind "$BUILD" "$__nobody_root/build" || return 1
		fi
		top=$__nobody_root/top build=$__nobody_root/build
	fi
	case $p in
	"$BUILD") echo "$build" ;;
	"$LIB_TOP") echo "$top" ;;
	"$BUILD"/*) echo "$build/${p#"$BUILD"/}" ;;
	"$LIB_TOP"/*) echo "$top/${p#"$LIB_TOP"/}" ;;
	*) echo "$p" ;;
	esac
}

diag() { echo "# $*"; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] && return 0
	diag "$1: expected '$2', got '$3'"
	return 1
}

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

YNL=$LIB_TOP/tools/ynl
# the plain devmemctl, for the helpers here (suites may test a sanitized one)
LIB_CTL=$BUILD/ctl/devmemctl

# hds NETNS DEV on|off: ethtool's tcp-data-split ring parameter. Debian
# 12's ethtool (6.1) predates it in -G/-g, so talk ethtool netlink directly.
hds() {
	local v
	case $3 in on) v=2 ;; off) v=1 ;; *) return 2 ;; esac
	local out
	out=$(ip netns exec "$1" "$YNL" ethtool --do rings-set \
		--json "{\"header\": {\"dev-name\": \"$2\"}, \"tcp-data-split\": $v}" 2>&1) ||
		{ echo "$out" >&2; return 1; }
}

# hds_get NETNS DEV: prints on, off or unknown (devmemctl dev show)
hds_get() { "$LIB_CTL" -n "$1" -j dev show "$2" | jq -r '."tcp-data-split"'; }

# nsim_new NETNS ID QUEUES: a one-port netdevsim device created inside
# NETNS; prints the port's name.
nsim_new() {
	local ns=$1 id=$2 queues=$3
	ip netns exec "$ns" sh -c "echo '$id 1 $queues' > /sys/bus/netdevsim/new_device" || return 1
	local i
	for i in $(seq 50); do
		ip netns exec "$ns" ls "/sys/bus/netdevsim/devices/netdevsim$id/net/" 2>/dev/null | head -n1 | grep . && return 0
		sleep 0.1
	done
	return 1
}

# wire_up [QUEUES]: netns srv/cli, netdevsim ports $SRV_IF/$CLI_IF linked
# and addressed. Device ids: 1 (server), 2 (client).
wire_up() {
	local queues=${1:-4}
	wire_down
	ip netns add "$NS_SRV" && ip netns add "$NS_CLI" || return 1
	ip -n "$NS_SRV" link set lo up
	ip -n "$NS_CLI" link set lo up
	SRV_IF=$(nsim_new "$NS_SRV" 1 "$queues") || return 1
	CLI_IF=$(nsim_new "$NS_CLI" 2 "$queues") || return 1
	SRV_IFINDEX=$(in_srv cat "/sys/class/net/$SRV_IF/ifindex")
	CLI_IFINDEX=$(in_cli cat "/sys/class/net/$CLI_IF/ifindex")
	local fs fc
	exec {fs}<"/run/netns/$NS_SRV" {fc}<"/run/netns/$NS_CLI"
	echo "$fs:$SRV_IFINDEX $fc:$CLI_IFINDEX" > /sys/bus/netdevsim/link_device
	local rc=$?
	exec {fs}<&- {fc}<&-
	[ $rc -eq 0 ] || return 1
	ip -n "$NS_SRV" addr add "$SRV_IP/24" dev "$SRV_IF" &&
	ip -n "$NS_CLI" addr add "$CLI_IP/24" dev "$CLI_IF" &&
	ip -n "$NS_SRV" addr add "$SRV_IP6/64" dev "$SRV_IF" nodad &&
	ip -n "$NS_CLI" addr add "$CLI_IP6/64" dev "$CLI_IF" nodad &&
	ip -n "$NS_SRV" link set "$SRV_IF" up &&
	ip -n "$NS_CLI" link set "$CLI_IF" up
}

# devmem_nic: make the server port a devmem NIC with 'devmemctl dev
# setup': header split on, ntuple on, RSS over queues 0-1 only (2-3 are
# left for devmem). (Not YNL: python takes 10-20 s to start in the VM, a
# C tool a fraction of a second.)
devmem_nic() { "$LIB_CTL" -n "$NS_SRV" dev setup "$SRV_IF" devmem-queues 2-3 > /dev/null; }
# devmem_port [PORT]: devmem_nic, and TCP dst-port PORT (default 5201)
# steered to queue 2 by ntuple rule 1
devmem_port() {
	devmem_nic &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port "${1:-5201}" action 2 loc 1
}

wire_down() {
	[ -e /sys/bus/netdevsim/devices/netdevsim1 ] && echo 1 > /sys/bus/netdevsim/del_device
	[ -e /sys/bus/netdevsim/devices/netdevsim2 ] && echo 2 > /sys/bus/netdevsim/del_device
	ip netns del "$NS_SRV" 2>/dev/null
	ip netns del "$NS_CLI" 2>/dev/null
	return 0
}

# wait_listen NETNS PORT: until a TCP listener is up on PORT in NETNS
wait_listen() {
	local i
	for i in $(seq 100); do
		[ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ] && return 0
		sleep 0.1
	done
	diag "nothing listens on port $2 in $1"
	return 1
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s)
wait_for() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2> /dev/null && return 0
		sleep 0.1
	done
	diag "$1: no '$2': $(cat "$1" 2> /dev/null)"
	return 1
}

# -- devmem-nc servers and clients --------------------------------------------
# The callers set T, a scratch directory for the outputs.
NC=$BUILD/tools/devmem-nc

# srv_cmd NAME COMMAND...: a command in the server netns, in the
# background (not through in_srv: killing a backgrounded function would
# leave its command, and a binding it holds, running); stdout in
# $T/NAME.json, stderr in $T/NAME.err, pid in $pid_NAME
srv_cmd() {
	local name=$1; shift
	ip netns exec "$NS_SRV" "$@" > "$T/$name.json" 2> "$T/$name.err" &
	eval "pid_$name=$!"
}
# srv NAME PORT ARGS...: a devmem-nc server, JSON summary in $T/NAME.json
srv() {
	local name=$1 port=$2; shift 2
	srv_cmd "$name" "$NC" -l -a "$SRV_IP" -p "$port" -j --timeout 60 "$@"
}
# cli PORT SIZE: send SIZE bytes of the pattern
cli() { in_cli "$NC" -c "$SRV_IP" -p "$1" -s "$2" --timeout 60 > /dev/null 2> "$T/cli.err"; }
# cli_bg PORT SIZE: the same in the background, pid in $pid_cli
cli_bg() {
	ip netns exec "$NS_CLI" "$NC" -c "$SRV_IP" -p "$1" -s "$2" --timeout 60 \
		> /dev/null 2> "$T/cli.err" &
	pid_cli=$!
}
# srv_kill NAME: stop server NAME (its exit status is not of interest)
srv_kill() { local p="pid_$1"; kill "${!p}" 2> /dev/null; wait "${!p}" 2> /dev/null; return 0; }
# wait_srv NAME: the server's exit status
wait_srv() { local p="pid_$1"; wait "${!p}"; }
# j NAME FILTER: a field of server NAME's JSON summary
j() { jq -r "$2" "$T/$1.json"; }

# -- checks shared by the transfer tests -------------------------------------------
# kernel reports, as tools/vm/run looks for them; kernel_clean checks the
# lines the kernel logged since kernel_log_mark
KERNEL_REPORTS='BUG:|WARNING:|Oops|Kernel panic|general protection fault|UBSAN:|KASAN:|'
KERNEL_REPORTS+='possible circular locking|possible recursive locking|inconsistent lock state|'
KERNEL_REPORTS+='suspicious RCU usage|rcu_.* detected stalls|INFO: task .* blocked|refcount_t:|leaked reference'
kernel_log_mark() { dmesg_start=$(dmesg | wc -l); }
kernel_clean() {
	local new
	new=$(dmesg | tail -n +$((dmesg_start + 1)) | grep -E "$KERNEL_REPORTS")
	[ -z "$new" ] || { diag "kernel log: $(head -n 8 <<< "$new")"; return 1; }
}

# validated NAME BYTES: server NAME received exactly BYTES, all checked
validated() {
	local r=0
	expect_eq "bytes received" "$2" "$(j "$1" .bytes)" || r=1
	expect_eq "pattern errors" 0 "$(j "$1" .errors)" || r=1
	expect_eq "validated" true "$(j "$1" .validated)" || r=1
	return $r
}

# zc_ok NAME: client NAME sent all its bytes from the dmabuf, every
# sendmsg completed, none copied
zc_ok() {
	local r=0
	expect_eq "client tx mode" devmem "$(j "$1" .tx)" || r=1
	expect_eq "completions of $(j "$1" '."sendmsg-calls"') sendmsg calls" \
		"$(j "$1" '."sendmsg-calls"')" "$(j "$1" .completions)" || r=1
	expect_eq "completions copied by the kernel" 0 "$(j "$1" '."completions-copied"')" || r=1
	[ "$(j "$1" '."sendmsg-calls"')" -gt 0 ] || { diag "no sendmsg calls"; r=1; }
	return $r
}

# -- two hosts (tools/vm/run --hosts 2) ---------------------------------------
# The same test runs on hosts a and b at once; the two meet in
# $DEVMEM_SHARED. Each test uses its own names there.
PEER_HOST=
case ${DEVMEM_HOST:-} in a) PEER_HOST=b ;; b) PEER_HOST=a ;; esac

# two_hosts: whether this runs on one of two hosts
two_hosts() { [ -n "$PEER_HOST" ] && [ -d "${DEVMEM_SHARED:-}" ]; }

# peer_post NAME [VALUE]: tell the peer NAME (with VALUE, a line)
peer_post() {
	printf '%s\n' "${2:-}" > "$DEVMEM_SHARED/.$DEVMEM_HOST.$1.tmp" &&
		mv "$DEVMEM_SHARED/.$DEVMEM_HOST.$1.tmp" "$DEVMEM_SHARED/$DEVMEM_HOST.$1"
}
# peer_wait NAME [SECONDS]: until the peer posted NAME (default 120 s);
# prints its value. Both hosts give up in time if the other failed.
peer_wait() {
	local f=$DEVMEM_SHARED/$PEER_HOST.$1 i
	for i in $(seq $((${2:-120} * 10))); do
		[ -f "$f" ] && { cat "$f"; return 0; }
		sleep 0.1
	done
	diag "host $PEER_HOST did not post '$1' in ${2:-120}s"
	return 1
}
# barrier NAME [SECONDS]: both hosts got here
barrier() { peer_post "$1" && peer_wait "$1" "${2:-}" > /dev/null; }

# nic_stat NAME: a counter of this host's wire NIC
nic_stat() { cat "/sys/class/net/$DEVMEM_NIC/statistics/$1"; }
