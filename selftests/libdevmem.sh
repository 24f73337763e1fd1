#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libdevmem as an application sees it: installed with make install-libdevmem
# into a DESTDIR, the two programs of libdevmem(3)'s EXAMPLES extracted and
# compiled against it with pkg-config, then run on the netdevsim wire (a
# devmem RX receiver and a devmem TX sender, every byte checked); the same
# programs through the netdev bind-rx/bind-tx fallback
# (LIBDEVMEM_FORCE_NETDEV=1); and a receiver releasing its tokens late, a
# thousand at a time from a small dmabuf, still completes.
. "$(dirname "$0")/lib.sh"

SIZE=64M
CTL=$BUILD/ctl/devmemctl
T=${VM_SCRATCH:-/tmp}/libdevmem
DEST=$T/dest
rm -rf "$T"
mkdir -p "$T"
size_bytes=$(numfmt --from=iec "$SIZE")

tap_plan 12

# the examples, as the man page shows them (troff escapes undone)
example() {
	sed -n "/^\.\\\\\" example: $1/,/^\.\\\\\" end example/p" "$LIB_TOP/Documentation/libdevmem.3" |
		sed '/^\.\(in\|EX\|EE\|\\"\)/d' | sed 's/^\\&//; s/\\e/\\/g'
}

install_lib() {
	make -s -C "$LIB_TOP" --no-print-directory BUILD="$BUILD" DESTDIR="$DEST" \
		install-libdevmem > "$T/install.log" 2>&1 || { diag "$(cat "$T/install.log")"; return 1; }
	local lib=$DEST/usr/local/lib
	[ -f "$DEST/usr/local/include/libdevmem.h" ] && [ -f "$lib/pkgconfig/libdevmem.pc" ] &&
	[ -L "$lib/libdevmem.so.0" ] && [ -f "$lib/libdevmem.a" ] || { diag "$(find "$DEST")"; return 1; }
	expect_eq soname libdevmem.so.0 \
		"$(readelf -d "$lib/libdevmem.so.0" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
}
ok "make install-libdevmem DESTDIR=...: header, static and shared library (soname libdevmem.so.0), pkg-config file" install_lib

export PKG_CONFIG_PATH=$DEST/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST
build_examples() {
	local x
	for x in receiver sender; do
		example "$x.c" > "$T/$x.c"
		[ -s "$T/$x.c" ] || { diag "no $x.c in libdevmem(3)"; return 1; }
		# shellcheck disable=SC2046
		cc -Wall -Wextra -Werror -o "$T/$x" "$T/$x.c" $(pkg-config --cflags --libs libdevmem) \
			2> "$T/$x.cc" || { diag "$(cat "$T/$x.cc")"; return 1; }
	done
	# linked against the installed library, not one in the build tree
	LD_LIBRARY_PATH=$DEST/usr/local/lib ldd "$T/receiver" | grep -q "$DEST/usr/local/lib/libdevmem.so.0" ||
		{ diag "$(LD_LIBRARY_PATH=$DEST/usr/local/lib ldd "$T/receiver")"; return 1; }
}
ok "libdevmem(3)'s receiver and sender compile with pkg-config against the installed library" build_examples
export LD_LIBRARY_PATH=$DEST/usr/local/lib

setup() {
	wire_up 4 &&
	"$CTL" -n "$NS_SRV" dev setup "$SRV_IF" devmem-queues 2-3 > /dev/null &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5201 action 2 loc 1 &&
	in_srv ethtool -N "$SRV_IF" flow-type tcp4 dst-port 5202 action 3 loc 2
}
ok "setup: netdevsim wire, the server port a devmem NIC (queues 2-3 steered)" setup ||
	{ echo "Bail out! no netdevsim wire"; wire_down; exit 1; }

# transfer NAME PORT QUEUE [ENV...]: the examples, receiver and sender
transfer() {
	local name=$1 port=$2 queue=$3; shift 3
	ip netns exec "$NS_SRV" env "$@" "$T/receiver" "$SRV_IF" "$queue" "$port" "$SIZE" \
		> "$T/$name.rx" 2> "$T/$name.rx.err" &
	local rx=$!
	wait_listen "$NS_SRV" "$port" || { kill $rx; return 1; }
	ip netns exec "$NS_CLI" env "$@" timeout 300 "$T/sender" "$CLI_IF" "$SRV_IP" "$port" "$SIZE" \
		> "$T/$name.tx" 2> "$T/$name.tx.err" ||
		{ diag "sender: $(cat "$T/$name.tx.err")"; kill $rx; wait $rx; diag "receiver: $(cat "$T/$name.rx.err")"; return 1; }
	wait $rx || { diag "receiver: $(cat "$T/$name.rx" "$T/$name.rx.err")"; return 1; }
	diag "$(cat "$T/$name.rx" "$T/$name.tx" | tr '\n' ' ')"
}
# all_valid NAME: the receiver's count of bytes, of those in device memory, of wrong ones
all_valid() {
	local line
	line=$(grep '^received' "$T/$1.rx")
	[[ $line =~ ^received\ ([0-9]+)\ bytes\ \(([0-9]+)\ in\ device\ memory\),\ ([0-9]+)\ wrong$ ]] ||
		{ diag "receiver said: $line"; return 1; }
	expect_eq "bytes received" "$size_bytes" "${BASH_REMATCH[1]}" &&
	expect_eq "wrong bytes" 0 "${BASH_REMATCH[3]}" &&
	{ [ "${BASH_REMATCH[2]}" -gt $((size_bytes * 9 / 10)) ] ||
		{ diag "only ${BASH_REMATCH[2]} bytes in device memory"; return 1; }; }
}

ok "$SIZE from the example sender (devmem TX) to the example receiver (devmem RX)" transfer devmem 5201 2
ok "...every byte arrived and was right, the payload in the receiver's dmabuf" all_valid devmem
ok "...both bound with the devmem family" \
	grep -q '(devmem family)' "$T/devmem.rx"

ok "$SIZE again with LIBDEVMEM_FORCE_NETDEV=1: netdev bind-rx and bind-tx" \
	transfer netdev 5202 3 LIBDEVMEM_FORCE_NETDEV=1
ok "...every byte arrived and was right, the payload in the receiver's dmabuf" all_valid netdev
ok "...the receiver bound with the netdev family" grep -q '(netdev family)' "$T/netdev.rx"

# devmem-nc on the fallback: the family is named, persistent refused
nc_fallback() {
	srv nd 5202 -i "$SRV_IF" -q 3 -b 16M -s 16M
	wait_listen "$NS_SRV" 5202 || return 1
	in_cli "$NC" -c "$SRV_IP" -p 5202 -s 16M --timeout 60 > /dev/null 2> "$T/cli.err" ||
		{ diag "client: $(cat "$T/cli.err")"; srv_kill nd; return 1; }
	wait_srv nd || { diag "server: $(cat "$T/nd.err")"; return 1; }
	expect_eq family netdev "$(j nd .family)" && expect_eq errors 0 "$(j nd .errors)" &&
	expect_eq bytes 16777216 "$(j nd .bytes)"
}
export LIBDEVMEM_FORCE_NETDEV=1
ok "devmem-nc with LIBDEVMEM_FORCE_NETDEV=1 binds with netdev bind-rx (family netdev), all bytes valid" nc_fallback
persistent_refused() {
	local out
	out=$(in_srv "$NC" -l -a "$SRV_IP" -p 5203 -i "$SRV_IF" -q 3 -b 4M --lifetime persistent --timeout 5 2>&1)
	[ $? -eq 1 ] && [[ $out == *"persistent bindings need the \"devmem\" netlink family"* ]] ||
		{ diag "$out"; return 1; }
}
ok "...and refuses a persistent binding, saying it needs the devmem family" persistent_refused
unset LIBDEVMEM_FORCE_NETDEV

# late release: 1000 tokens held at a time from an 8 MiB dmabuf
late_release() {
	srv late 5201 -i "$SRV_IF" -q 2 -b 8M --token-batch 1000 -s $SIZE
	wait_listen "$NS_SRV" 5201 || return 1
	in_cli "$NC" -c "$SRV_IP" -p 5201 -s $SIZE --timeout 120 > /dev/null 2> "$T/cli.err" ||
		{ diag "client: $(cat "$T/cli.err")"; srv_kill late; return 1; }
	wait_srv late || { diag "server: $(cat "$T/late.err")"; return 1; }
	expect_eq bytes "$size_bytes" "$(j late .bytes)" && expect_eq errors 0 "$(j late .errors)" &&
	expect_eq "tokens returned" "$(j late '."dmabuf-frags"')" "$(j late '."tokens-returned"')" &&
	expect_eq "tokens held at the end" 0 "$(j late '."tokens-held"')"
}
ok "$SIZE through an 8 MiB dmabuf releasing tokens 1000 at a time: completes, every token returned" late_release

wire_down
tap_done
