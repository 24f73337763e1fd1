#!/bin/bash
# The devmem TCP demo, run inside the VM by 'make demo': a report a newcomer
# can read top to bottom. The test wire and a plain TCP transfer over it;
# then an admin's session with devmemctl: the netdevsim port set up as a
# devmem NIC, a udmabuf bound to two rx queues, the BPF accounting and a
# steering policy attached; an application receives into the binding
# (every byte validated) with nobody writing an ntuple rule by hand; the
# binding, its counters and the BPF maps shown; everything taken down.
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
CTL=$BUILD/ctl/devmemctl
PORT=5201
run() { echo "\$ $*"; "$@"; }
ctl() { echo "\$ devmemctl -n $NS_SRV $*"; "$CTL" -n "$NS_SRV" "$@"; }
nynl() { in_srv "$YNL" netdev --output-json "$@"; }

step "Make the server port a devmem NIC: header split, ntuple on, RSS away from queues 2-3"
ctl dev setup "$SRV_IF" devmem-queues 2-3 || die "dev setup failed"
ctl dev show "$SRV_IF" || die "dev show failed"

step "Bind a ${DEVMEM_MB} MiB udmabuf (standing in for GPU memory) to rx queues 2-3"
id=$("$CTL" -n "$NS_SRV" -j binding add dev "$SRV_IF" queues 2-3 dmabuf udmabuf size "${DEVMEM_MB}M" | jq -r .id)
echo "\$ devmemctl -n $NS_SRV binding add dev $SRV_IF queues 2-3 dmabuf udmabuf size ${DEVMEM_MB}M"
[[ $id =~ ^[0-9]+$ ]] || die "binding add failed"
echo "binding $id"
ctl binding show || die "binding show failed"

step "Attach BPF: accounting, and a steering policy \"port $PORT -> binding $id\""
ctl stats attach || die "stats attach failed"
ctl steer attach || die "steer attach failed"
ctl steer policy add port "$PORT" binding "$id" || die "policy add failed"
echo "\$ bpftool prog show   (our programs)"
bpftool prog show | grep -E -A1 'name (steer|acct)_' | grep -v '^--' | sed -n '1~2p' | awk '{print "  " $2, $3, $4, $5}'

step "An application receives $SIZE_MB MiB into the binding: devmem-nc -l -p $PORT --binding $id"
echo "(devmem-nc maps the binding's dmabuf with the devmem family's dmabuf-get,"
echo " receives with recvmsg(MSG_SOCK_DEVMEM) and checks every byte in the dmabuf)"
in_srv "$NC" -l -a "$SRV_IP" -p "$PORT" --binding "$id" -j > /tmp/demo.json 2> /tmp/demo.err &
srv=$!
wait_listen "$NS_SRV" "$PORT" || die "devmem server did not start: $(cat /tmp/demo.err)"
for _ in $(seq 50); do
	in_srv ethtool -n "$SRV_IF" | grep -q "Dest port: $PORT " && break
	sleep 0.1
done
echo "The steering agent saw the listen() and put a rule on the NIC:"
echo "\$ ethtool -n $SRV_IF"
in_srv ethtool -n "$SRV_IF" | sed -n '/^Filter/,$p' | sed 's/^/  /'
in_cli "$NC" -c "$SRV_IP" -p "$PORT" -s "${SIZE_MB}M" 2> /tmp/demo-cli.err ||
	die "devmem client failed: $(cat /tmp/demo-cli.err)"
wait $srv || die "devmem server failed: $(cat /tmp/demo.err)"
grep -v 'listening' /tmp/demo.err
jq -M -c '{bytes, "dmabuf-bytes", "dmabuf-frags", "plain-bytes", validated, errors}' /tmp/demo.json
[ "$(jq '."dmabuf-bytes"' /tmp/demo.json)" = $((SIZE_MB << 20)) ] ||
	die "not all of the payload landed in the dmabuf"
for _ in $(seq 50); do
	in_srv ethtool -n "$SRV_IF" | grep -q "Dest port: $PORT " || break
	sleep 0.1
done
echo "The connection closed; the agent took its rule away: $(in_srv ethtool -n "$SRV_IF" | grep -c Filter) rules left."

step "What the binding did: the kernel's counters and the BPF accounting"
ctl stats show binding "$id" || die "stats show failed"
ctl stats bpf || die "stats bpf failed"
echo "\$ bpftool map dump pinned /sys/fs/bpf/devmem/acct_binding"
bpftool map dump pinned /sys/fs/bpf/devmem/acct_binding
step "Per-queue counters (qstats): the flow went to a bound queue"
nynl --dump qstats-get --json '{"scope": "queue"}' |
	jq -M -r --argjson i "$SRV_IFINDEX" '.[] | select(.ifindex == $i and ."queue-type" == "rx") | "rx queue \(."queue-id"): \(."rx-packets") packets, \(."rx-bytes") bytes"'

step "Take it down: steering and accounting detached, the binding unbound"
ctl steer detach || die "steer detach failed"
ctl stats detach || die "stats detach failed"
echo "pinned under /sys/fs/bpf/devmem: $(ls /sys/fs/bpf/devmem 2> /dev/null | wc -l) entries"
ctl binding del id "$id" || die "binding del failed"
# it drains until the last dmabuf buffer is back, then it is freed
for _ in $(seq 20); do
	[ "$("$CTL" -n "$NS_SRV" -j binding show | jq '.binding | length')" = 0 ] && break
	sleep 0.5
done
ctl binding show
echo "bindings left: $("$CTL" -n "$NS_SRV" -j binding show | jq '.binding | length')"

wire_down
step "Done"
