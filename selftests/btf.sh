#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest kernel carries BTF, and bpftool (the host's, over 9p) reads it:
# the BPF programs are compiled CO-RE against these types.
. "$(dirname "$0")/lib.sh"

tap_plan 3
ok "/sys/kernel/btf/vmlinux exists" test -s /sys/kernel/btf/vmlinux
bpftool btf dump file /sys/kernel/btf/vmlinux format c > /tmp/vmlinux.h 2>/dev/null
ok "bpftool dumps the kernel BTF as C" grep -q '^struct sk_buff {' /tmp/vmlinux.h
ok "the devmem types are in it (struct net_iov)" grep -q '^struct net_iov {' /tmp/vmlinux.h
rm -f /tmp/vmlinux.h
tap_done
