#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side sanity checks of devmem-nc, no VM or patched kernel needed:
# --help, option conflicts, and the devmem family requests and replies
# against an LD_PRELOAD stand-in for the family (fake-devmem-genl.c), with
# plain loopback transfers. Needs cc and a built build/tools/devmem-nc.
# Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
NC=${NC:-${BUILD:-$top/build}/tools/devmem-nc}
[ -x "$NC" ] || { echo "sanity: $NC missing (make tools)" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cc -Wall -Wextra -shared -fPIC -I "$top/include/uapi" -o "$T/fake.so" \
	"$here/fake-devmem-genl.c" -ldl || exit 2
head -c 65536 /dev/zero > "$T/buf"
export FAKE_BUF=$T/buf FAKE_LOG=$T/log

pass=0 failed=0
ok() {
	local name=$1; shift
	if "$@"; then pass=$((pass + 1)); echo "ok - $name"
	else failed=$((failed + 1)); echo "not ok - $name"; fi
}

# usage ARGS... MESSAGE: exit 2 with MESSAGE on stderr
usage() {
	local want=${*: -1} out rc
	out=$("$NC" "${@:1:$#-1}" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] && grep -qF -- "$want" <<< "$out" ||
		{ echo "  rc=$rc: $out"; return 1; }
}

ok "--help names the new options" \
	bash -c "'$NC' --help | grep -q -- --binding && '$NC' --help | grep -q -- --netdev-bind && '$NC' --help | grep -q -- '--lifetime'"
ok "--binding with --dmabuf-fd" usage -l -p 1 --binding 3 --dmabuf-fd 5 "--dmabuf-fd conflicts with --binding"
ok "--binding with -b" usage -l -p 1 --binding 3 -b 4M "-b conflicts with --binding"
ok "--binding with --no-bind" usage -l -p 1 --binding 3 --no-bind "--no-bind conflicts with --binding"
ok "--binding with --netdev-bind" usage -l -p 1 --binding 3 --netdev-bind "--netdev-bind conflicts with --binding"
ok "--binding with -i" usage -l -p 1 --binding 3 -i lo "-i conflicts with --binding"
ok "--binding 0" usage -l -p 1 --binding 0 "binding ids start at 1"
ok "--binding in plain mode" usage -l -p 1 --binding 3 --plain "--binding only applies to --mode devmem"
ok "--lifetime bad value" usage -l -p 1 -i lo -q 2 --lifetime forever "unknown lifetime 'forever'"
ok "--netdev-bind --lifetime persistent" usage -l -p 1 -i lo -q 2 --netdev-bind --lifetime persistent "conflicts with --netdev-bind"
ok "--no-bind --lifetime" usage -l -p 1 --no-bind --dmabuf-fd 0 --lifetime socket "--no-bind makes no binding"
ok "client with --binding" usage -c 127.0.0.1 -p 1 -s 1M --binding 3 "--binding is a server option"

port=5390
# srv NAME ARGS...: server under the fake family, a 256K loopback transfer
srv() {
	local name=$1; shift
	port=$((port + 1))
	: > "$T/log"
	LD_PRELOAD=$T/fake.so "$NC" -l -a 127.0.0.1 -p $port -j --timeout 5 -s 256K "$@" \
		> "$T/$name.json" 2> "$T/$name.err" &
	local s=$! i
	for i in $(seq 50); do grep -q listening "$T/$name.err" && break; sleep 0.1; done
	"$NC" -c 127.0.0.1 -p $port -s 256K --timeout 5 > /dev/null 2>&1
	wait $s || { cat "$T/$name.err"; return 1; }
}
j() { jq -r "$2" "$T/$1.json"; }

bind_socket() {
	srv bind -i lo -q 2-3 --dmabuf-fd 3 3<> "$T/buf" || return 1
	# bind: ifindex 1, fd 3, queues 2 and 3, direction rx (0), lifetime socket (1)
	grep -qx 'cmd=1 2=1 3=3 4=2 4=3 5=0 6=1' "$T/log" || { cat "$T/log"; return 1; }
	[ "$(j bind '.family, ."binding-id", .lifetime, ."dmabuf-id"' | paste -sd' ')" = "devmem 42 socket 42" ]
}
ok "devmem bind request and reply (lifetime socket)" bind_socket

bind_persistent() {
	FAKE_ID=9 srv pers -i lo -q 2 --dmabuf-fd 3 --lifetime persistent 3<> "$T/buf" || return 1
	grep -qx 'cmd=1 2=1 3=3 4=2 5=0 6=0' "$T/log" &&
	grep -q 'binding 9 is persistent' "$T/pers.err" &&
	[ "$(j pers '.lifetime')" = persistent ]
}
ok "--lifetime persistent is passed and the id printed" bind_persistent

use_binding() {
	srv use --binding 7 || return 1
	# binding-get {id 7}, then dmabuf-get {id 7}
	[ "$(cat "$T/log")" = $'cmd=3 1=7\ncmd=5 1=7' ] || { cat "$T/log"; return 1; }
	grep -q 'using binding 7: dmabuf fd [0-9]* (65536 bytes), bound to lo (ifindex 1) rx queues 2,3' "$T/use.err" &&
	[ "$(j use '.family, ."binding-id", .bytes, .errors' | paste -sd' ')" = "none 7 262144 0" ]
}
ok "--binding: binding-get, dmabuf-get, map the returned fd" use_binding

# fails ENV... -- ARGS... -- MESSAGE: exit 1 with MESSAGE
fails() {
	local envs=() args=() out rc
	while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
	while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
	out=$(env "${envs[@]}" LD_PRELOAD="$T/fake.so" "$NC" -l -a 127.0.0.1 -p 5399 --timeout 1 "${args[@]}" 3<> "$T/buf" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 1 ] && grep -qF -- "$1" <<< "$out" || { echo "  rc=$rc: $out"; return 1; }
}
ok "bind error shows extack and errno name" \
	fails FAKE_ERR=1 "FAKE_EXT=queue 2 is already bound" -- -i lo -q 2 --dmabuf-fd 3 -- \
	"devmem bind: queue 2 is already bound (EBUSY)"
ok "bind error without extack shows strerror" \
	fails FAKE_ERR=1 -- -i lo -q 2 --dmabuf-fd 3 -- "devmem bind: Device or resource busy (EBUSY)"
ok "dmabuf-get error" fails FAKE_ERR=5 -- --binding 7 -- "devmem dmabuf-get: Device or resource busy (EBUSY)"
ok "size mismatch with binding-get" fails FAKE_BADSIZE=1 -- --binding 7 -- "binding-get says 69632"
ok "tx binding refused" fails FAKE_TX=1 -- --binding 7 -- "not an rx binding"
ok "no devmem family (bind)" fails FAKE_NOFAM=1 -- -i lo -q 2 --dmabuf-fd 3 -- "kernel has no devmem family"
ok "no devmem family (--binding)" fails FAKE_NOFAM=1 -- --binding 7 -- "kernel has no devmem family"

echo "$pass passed, $failed failed"
[ $failed -eq 0 ]
