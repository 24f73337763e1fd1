#!/bin/bash
# The devmem TCP demo, run inside the VM by 'make demo': a report a newcomer
# can read top to bottom. Today: the test wire and a TCP transfer over it;
# the devmem steps join as the device, the family, BPF and devmemctl land.
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/lib.sh"

SIZE_MB=${DEMO_SIZE_MB:-32}
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

step "Server port counters (ip -s link)"
in_srv ip -s link show dev "$SRV_IF" | sed -n '1p;4,5p'

wire_down
step "Done"
