#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Device memory as other exporters make it, bound the production way.
# For each exporter - udmabuf (4 KiB pages), udmabuf over a hugetlb memfd
# (2 MiB pages), vgem (a DRM dumb buffer exported through PRIME, the path a
# GPU driver's buffer takes) and the system dma-heap (high-order pages,
# scatterlist entries up to 1 MiB) - an owner process makes the dmabuf
# (selftests/devmem_export.c) and keeps running; the admin binds it by pid
# and fd; the owner receives into it, every byte checked through its own
# mapping; the owner exits while bound and the binding keeps the memory
# (a second transfer through dmabuf-get proves it); unbind frees it. Then
# TX from each exporter's memory, every byte checked on the far side.
. "$(dirname "$0")/lib.sh"
kernel_log_mark

DNL=$BUILD/selftests/devmem_nl
CTL=$BUILD/ctl/devmemctl
EXPORT=$BUILD/selftests/devmem_export
T=/tmp/devmem_exporters
rm -rf "$T"
mkdir -p "$T"
# DEVMEM_EXPORTERS="heap vgem" runs a subset
read -r -a EXPORTERS <<< "${DEVMEM_EXPORTERS:-udmabuf udmabuf-hugetlb vgem heap}"
DMABUF=8388608	# 8 MiB, 2 MiB pages for hugetlb
XFER=16777216	# twice the dmabuf: net_iovs are recycled
HUGEPAGES=8

tap_plan $((1 + 3 * ${#EXPORTERS[@]} + 1))

setup() {
	wire_up 4 && devmem_port 5201 &&
	echo $HUGEPAGES > /proc/sys/vm/nr_hugepages &&
	expect_eq "2 MiB hugepages reserved" $HUGEPAGES "$(cat /proc/sys/vm/nr_hugepages)"
}
ok "setup: netdevsim wire, header split on the receiver, $HUGEPAGES hugepages" setup ||
	{ echo "Bail out! no netdevsim wire"; wire_down; exit 1; }

# state ID: the binding's state, nothing once it is gone
state() { "$DNL" -n "$NS_SRV" -j get "$1" 2> /dev/null | jq -r .state; }
wait_gone() {
	local i
	for i in $(seq 40); do
		[ -z "$(state "$1")" ] && return 0
		sleep 0.25
	done
	diag "binding $1 still listed: $(state "$1")"
	return 1
}
rx_bytes() { "$DNL" -n "$NS_SRV" -j stats "$1" | jq -r '."rx-bytes"'; }

# rx_owner EXPORTER: the owner receives into its own dmabuf, bound by the
# admin by pid and fd; it exits, the binding stays and carries a second
# transfer (through dmabuf-get); unbind frees it
rx_owner() {
	local e=$1 n=rx_${1//-/_} pid out r=0
	ID=
	srv_cmd "$n" "$EXPORT" "$e" $DMABUF 10 -- \
		"$NC" -l -a "$SRV_IP" -p 5201 -j --timeout 60 -s $XFER --dmabuf-fd 10 --no-bind
	pid=$(eval echo "\$pid_$n")
	wait_listen "$NS_SRV" 5201 || { diag "owner: $(cat "$T/$n.err")"; srv_kill "$n"; return 1; }
	out=$("$CTL" -n "$NS_SRV" -j binding add dev "$SRV_IF" queues 2 dmabuf pid "$pid" fd 10 2>&1) &&
		ID=$(jq -r .id <<< "$out") ||
		{ diag "bind pid $pid fd 10: $out"; srv_kill "$n"; return 1; }
	expect_eq "dmabuf-size of the binding" $DMABUF \
		"$("$DNL" -n "$NS_SRV" -j get "$ID" | jq -r '."dmabuf-size"')" || r=1
	cli 5201 $XFER || { diag "client: $(cat "$T/cli.err")"; r=1; }
	wait_srv "$n" || { diag "owner: $(cat "$T/$n.err")"; r=1; }
	[ $r -eq 0 ] && validated "$n" $XFER || r=1
	[ "$(j "$n" '."dmabuf-bytes"')" -gt $((XFER - 65536)) ] ||
		{ diag "dmabuf-bytes $(j "$n" '."dmabuf-bytes"')"; r=1; }
	expect_eq "binding rx-bytes = the owner's dmabuf-bytes" "$(j "$n" '."dmabuf-bytes"')" "$(rx_bytes "$ID")" || r=1
	return $r
}

after_owner() {
	local e=$1 n=again_${1//-/_} r=0 before
	[ -n "$ID" ] || return 1
	expect_eq "binding after its owner exited" active "$(state "$ID")" || r=1
	before=$(rx_bytes "$ID")
	srv "$n" 5201 -s $XFER --binding "$ID"
	wait_listen "$NS_SRV" 5201 || r=1
	cli 5201 $XFER || { diag "client: $(cat "$T/cli.err")"; r=1; }
	wait_srv "$n" || { diag "server: $(cat "$T/$n.err")"; r=1; }
	[ $r -eq 0 ] && validated "$n" $XFER || r=1
	expect_eq "rx-bytes of the second transfer" "$(j "$n" '."dmabuf-bytes"')" \
		$(($(rx_bytes "$ID") - before)) || r=1
	"$CTL" -n "$NS_SRV" binding del id "$ID" || r=1
	wait_gone "$ID" || r=1
	return $r
}

tx_owner() {
	local e=$1 n=tx_${1//-/_} r=0
	srv "$n" 5202 --plain -s $XFER
	wait_listen "$NS_SRV" 5202 || return 1
	ip netns exec "$NS_CLI" "$EXPORT" "$e" $DMABUF 10 -- \
		"$NC" -c "$SRV_IP" -p 5202 -s $XFER --timeout 60 -j --tx devmem -i "$CLI_IF" \
		--dmabuf-fd 10 > "$T/${n}_c.json" 2> "$T/${n}_c.err" ||
		{ diag "sender: $(cat "$T/${n}_c.err")"; srv_kill "$n"; return 1; }
	wait_srv "$n" || { diag "server: $(cat "$T/$n.err")"; r=1; }
	[ $r -eq 0 ] && validated "$n" $XFER && zc_ok "${n}_c"
}

for e in "${EXPORTERS[@]}"; do
	# a kernel without the exporter (exit 3): skip its cases
	out=$(ip netns exec "$NS_SRV" "$EXPORT" "$e" $DMABUF 10 -- true 2>&1)
	if [ $? -eq 3 ]; then
		for c in rx "owner gone" tx; do skip "$e: $c" "$out"; done
		continue
	fi
	ok "$e: bound by the owner's pid and fd, received into it, every byte valid in its mapping" rx_owner "$e"
	ok "$e: the owner exited, the binding kept the memory: a second transfer, then unbind frees it" \
		after_owner "$e"
	ok "$e: devmem TX from its memory, every byte valid on the far side, no copy" tx_owner "$e"
done

teardown() {
	local r=0
	expect_eq "bindings left" 0 "$("$DNL" -n "$NS_SRV" -j dump | jq length)" || r=1
	wire_down
	echo 0 > /proc/sys/vm/nr_hugepages
	kernel_clean || r=1
	return $r
}
ok "no binding left, hugepages released, no kernel report" teardown
tap_done
