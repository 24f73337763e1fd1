/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by the devmem BPF programs and devmemctl: the keys and
 * values of the pinned maps and the steering ring buffer's events. The
 * maps carry BTF, so 'bpftool map dump pinned /sys/fs/bpf/devmem/<map>'
 * prints these field names.
 *
 * Everything here is fixed-width and explicitly padded: the same layout on
 * both sides. Ports are in host byte order, addresses in network byte
 * order (IPv4 in the first 4 bytes of the 16).
 */
#ifndef DEVMEM_BPF_H
#define DEVMEM_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* where the maps (and, under links/, the links) are pinned; the
 * DEVMEM_BPFFS environment variable overrides it
 */
#define DEVMEM_BPFFS_DIR	"/sys/fs/bpf/devmem"

/* ---- steering ---------------------------------------------------------- */

/* steer_policy: which sockets are devmem flows. A socket that listens on
 * local port @port, or connects to remote port @port, made by a process in
 * cgroup @cgroup_id or below it, in the netns @netns_cookie, belongs to
 * binding @binding_id. port 0 or cgroup_id 0 match any.
 */
struct devmem_policy_key {
	__u64 netns_cookie;
	__u64 cgroup_id;
	__u16 port;
	__u16 pad[3];
};

struct devmem_policy_val {
	__u32 binding_id;
	__u32 pad;
};

enum devmem_flow_kind {
	DEVMEM_FLOW_LISTEN = 1,		/* a listener: one dst-port rule */
	DEVMEM_FLOW_CONNECT = 2,	/* an active open: a 4-tuple rule */
	DEVMEM_FLOW_ACCEPTED = 3,	/* a listener's child: keeps the
					 * listener's rule while it lives
					 */
};

/* steer_flows, keyed by socket cookie: the live sockets the policy matched,
 * with the policy entry that matched them (a flow whose policy entry is
 * gone or names another binding loses its rule)
 */
struct devmem_flow {
	struct devmem_policy_key policy;
	__u64 cgroup_id;	/* of the process that listened or connected */
	__u32 binding_id;
	__u8 kind;		/* enum devmem_flow_kind */
	__u8 family;		/* AF_INET or AF_INET6 */
	__u16 lport;
	__u16 rport;
	__u16 pad[3];
	__u8 laddr[16];
	__u8 raddr[16];
};

enum devmem_event_type {
	DEVMEM_EV_LISTEN = 1,
	DEVMEM_EV_CONNECT = 2,
	DEVMEM_EV_ESTABLISHED = 3,	/* an accepted or connected flow */
	DEVMEM_EV_CLOSE = 4,		/* a listener or connected flow closed */
};

/* steer_events: the ring buffer the agent reads */
struct devmem_event {
	__u64 cookie;
	__u64 time_ns;
	__u32 type;		/* enum devmem_event_type */
	__u32 pid;
	struct devmem_flow flow;
};

/* steer_listen: listeners by (netns, port), so an accepted child can be
 * told apart without its listener's cookie
 */
struct devmem_listen_key {
	__u64 netns_cookie;
	__u16 port;
	__u16 pad[3];
};

struct devmem_listen_val {
	struct devmem_policy_key policy;
	__u32 binding_id;
	__u32 listeners;	/* SO_REUSEPORT: more than one */
};

/* steer_rules: the ntuple rules the agent made, written only by devmemctl.
 * It deletes only rules recorded here, and only while the device still
 * holds the same rule at that location.
 */
struct devmem_rule_key {
	__u32 ifindex;
	__u32 location;
};

struct devmem_rule {
	__u64 netns_cookie;
	__u32 binding_id;
	__u32 queue;
	__u32 flow_type;	/* TCP_V4_FLOW or TCP_V6_FLOW */
	__u16 sport;		/* 0: any */
	__u16 dport;
	__u8 src[16];		/* all zero: any */
	__u8 dst[16];
};

/* steer_state[0]: the agent's pid and netns */
struct devmem_steer_state {
	__u64 netns_cookie;
	__u32 agent_pid;
	__u32 pad;
};

/* ---- accounting --------------------------------------------------------- */

/* acct_queue: what arrived in device memory per (ifindex, rx queue) */
struct devmem_queue_key {
	__u32 ifindex;
	__u32 queue;
};

struct devmem_queue_stats {
	__u64 unreadable_skbs;
	__u64 unreadable_frags;
	__u64 unreadable_bytes;
	__u64 alloc_fail;
};

/* acct_binding: per binding id */
struct devmem_binding_stats {
	__u64 unreadable_skbs;
	__u64 unreadable_frags;
	__u64 unreadable_bytes;
	__u64 recvmsg_calls;
	__u64 recvmsg_frags;	/* = tokens handed out */
	__u64 recvmsg_bytes;
	__u64 recvmsg_linear;
	__u64 tokens_released;
	__u64 efault;
	__u64 alloc_fail;
};

/* acct_socket, keyed by socket cookie (LRU): devmem sockets */
struct devmem_socket_stats {
	__u32 binding_id;
	__u32 pad;
	__u64 recvmsg_bytes;
	__u64 tokens_out;
	__u64 tokens_released;
};

/* acct_efault, keyed by socket cookie (LRU): plain sockets that met device
 * memory, i.e. misrouted flows
 */
struct devmem_efault {
	__u64 netns_cookie;
	__u64 count;
	__u64 last_ns;
	__u32 binding_id;
	__u32 pid;
	__u8 family;
	__u8 pad;
	__u16 lport;
	__u16 rport;
	__u16 pad2;
	__u8 laddr[16];
	__u8 raddr[16];
	char comm[16];
};

#endif /* DEVMEM_BPF_H */
