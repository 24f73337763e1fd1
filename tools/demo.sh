#!/bin/bash
# The devmem TCP demo, run inside the VM by 'make demo': a report a newcomer
# can read top to bottom: the test wire, a TCP transfer over it, then the
# netdevsim port set up as a devmem NIC and a transfer whose payload lands
# in a udmabuf, every byte validated. The devmem family, BPF steering and
# devmemctl join as they land.
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/lib.sh"

SIZE_MB=${DEMO_SIZE_MB:-32}
DEVMEM_MB=${DEMO_DEVMEM_MB:-64}
step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

step "Kernel"
echo "$(uname -r) on $(nproc) vCPUs, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB"
grep -q . /sys/kernel/btf/vmlinux && echo "BTF: /sys/kernel/btf/vmlinux ($(stat -c %s /sys/kernel/btf/vmlinux) bytes)"

step "The wire: two network namespaces, one netdevsim port each, linked"
wire_up 4 || die "could not set up the netdevsim wire"
printf '%-12s %-8s %-16s %s\n' NETNS PORT ADDRESS "RX QUEUES"
printf '%-12s %-8s %-16s %s\n' "$NS_SRV" "$SRV_IF" "$SRV_IP" "$(in_srv ls /sys/class/net/$SRV_IF/queues | grep -c rx-)"
printf '%-12s %-8s %-16s %s\n' "$NS_CLI" "$CLI_IF" "$CLI_IP" "$(in_cli ls /sys/class/net/$CLI_IF/queues | grep -c rx-)"

step "Ping $CLI_IP -> $SRV_IP"
in_cli ping -c 3 -i 0.2 -W 5 "$SRV_IP" | tail -n 2

step "TCP: $SIZE_MB MiB from $NS_CLI to $NS_SRV, content checked"
dd if=/dev/urandom of=/tmp/demo.in bs=1M count="$SIZE_MB" status=none
in_srv nc -l "$SRV_IP" 5201 > /tmp/demo.out &
srv=$!
wait_listen "$NS_SRV" 5201 || die "server did not listen"
t0=$(date +%s.%N)
in_cli nc -N "$SRV_IP" 5201 < /tmp/demo.in || die "client failed"
wait $srv
secs=$(echo "$(date +%s.%N) - $t0" | bc)
if cmp -s /tmp/demo.in /tmp/demo.out; then
	echo "received $(stat -c %s /tmp/demo.out) bytes, identical to what was sent"
else
	die "received data differs from what was sent"
fi
printf 'goodput: %.1f MiB/s (%.2fs, QEMU TCG, %s kernel)\n' "$(echo "$SIZE_MB / $secs" | bc -l)" "$secs" "${DEVMEM_KERNEL:-debug}"

NC=$BUILD/tools/devmem-nc
nynl() { in_srv "$YNL" netdev --output-json "$@"; }
dynl() { in_srv "$YNL" devmem --output-json "$@"; }

step "Make the server port a devmem NIC: header split, ntuple, RSS on queues 0-1"
devmem_port 5201 > /dev/null || die "could not set up $SRV_IF for devmem"
echo "tcp-data-split: $(hds_get "$NS_SRV" "$SRV_IF")   (ethtool netlink rings-get)"
echo "\$ ethtool -n $SRV_IF"
in_srv ethtool -n "$SRV_IF" | sed -n '/^Filter/,$p'

step "devmem TCP: $DEVMEM_MB MiB into a 64 MiB udmabuf bound to rx queues 2-3"
echo "server: devmem-nc -l -p 5201 -i $SRV_IF -q 2-3 -b 64M --lifetime persistent"
echo "        (devmem family bind that outlives the server, recvmsg(MSG_SOCK_DEVMEM))"
echo "client: devmem-nc -c $SRV_IP -p 5201 -s ${DEVMEM_MB}M  (a known pattern)"
q2_before=$(nynl --dump qstats-get --json '{"scope": "queue"}' |
	jq --argjson i "$SRV_IFINDEX" '[.[] | select(.ifindex == $i and ."queue-type" == "rx" and ."queue-id" == 2)][0]."rx-bytes"')
in_srv "$NC" -l -a "$SRV_IP" -p 5201 -i "$SRV_IF" -q 2-3 -b 64M --lifetime persistent -j \
	> /tmp/demo.json 2> /tmp/demo.err &
srv=$!
wait_listen "$NS_SRV" 5201 || die "devmem server did not start: $(cat /tmp/demo.err)"
echo "\$ cli.py --dump page-pool-get   (the bound queues' pools hand out dmabuf pages)"
nynl --dump page-pool-get | jq -M -c --argjson i "$SRV_IFINDEX" '.[] | select(.ifindex == $i and .dmabuf != null) | {id, ifindex, dmabuf, inflight}'
in_cli "$NC" -c "$SRV_IP" -p 5201 -s "${DEVMEM_MB}M" 2> /tmp/demo-cli.err ||
	die "devmem client failed: $(cat /tmp/demo-cli.err)"
wait $srv || die "devmem server failed: $(cat /tmp/demo.err)"
grep -v 'listening\|unbind it' /tmp/demo.err
jq -M '{bytes, "dmabuf-bytes", "dmabuf-frags", "linear-bytes", "tokens-returned", errors, seconds}' /tmp/demo.json
id=$(jq -r '."binding-id"' /tmp/demo.json)

step "The binding outlived the server: the devmem family lists it and counts what it did"
echo "\$ cli.py devmem --dump binding-get"
dynl --dump binding-get | jq -M -c '.[]'
echo "\$ cli.py devmem --do stats-get --json '{\"id\": $id}'"
dynl --do stats-get --json "{\"id\": $id}" | jq -M .

step "Per-queue counters (qstats): the flow was steered to queue 2"
nynl --dump qstats-get --json '{"scope": "queue"}' |
	jq -M -r --argjson i "$SRV_IFINDEX" '.[] | select(.ifindex == $i and ."queue-type" == "rx") | "rx queue \(."queue-id"): \(."rx-packets") packets, \(."rx-bytes") bytes"'
q2_after=$(nynl --dump qstats-get --json '{"scope": "queue"}' |
	jq --argjson i "$SRV_IFINDEX" '[.[] | select(.ifindex == $i and ."queue-type" == "rx" and ."queue-id" == 2)][0]."rx-bytes"')
echo "queue 2 took $((q2_after - q2_before)) bytes during the devmem transfer"

step "Unbind it: the queues go back to host memory, the binding drains and is freed"
echo "\$ cli.py devmem --do unbind --json '{\"id\": $id}'"
dynl --do unbind --json "{\"id\": $id}" > /dev/null || die "unbind failed"
# the old pools go once their last net_iov is back (a deferred release)
for i in $(seq 10); do
	left=$(nynl --dump page-pool-get | jq -M --argjson i "$SRV_IFINDEX" '[.[] | select(.ifindex == $i and .dmabuf != null)] | length')
	[ "$left" = 0 ] && break
	sleep 1
done
echo "devmem page pools left on $SRV_IF: $left"
echo "bindings left: $(dynl --dump binding-get | jq length)"

wire_down
step "Done"
