// SPDX-License-Identifier: GPL-2.0
/*
 * devmem steering policy: decides which TCP sockets are devmem flows.
 *
 * A sock_ops program on the root cgroup sees every TCP socket listen,
 * connect, get established and close. A socket whose local port (when it
 * listens) or remote port (when it connects) and cgroup match an entry of
 * steer_policy in its netns is a devmem flow of that entry's binding: it is
 * recorded in steer_flows and announced on the steer_events ring buffer.
 * devmemctl's steering agent turns flows into ethtool ntuple rules that put
 * them on the binding's queues. A listener is announced from listen(), so
 * its dst-port rule is in place before a peer's data can arrive; its
 * accepted children are tracked too and keep that rule while they live.
 *
 * Policies apply to sockets that listen or connect after they are added.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "devmem_bpf.h"

#define AF_INET		2
#define AF_INET6	10

/* how many cgroup levels below the root a policy's cgroup may sit */
#define MAX_CGROUP_LEVEL	16

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct devmem_policy_key);
	__type(value, struct devmem_policy_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct devmem_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct devmem_listen_key);
	__type(value, struct devmem_listen_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_listen SEC(".maps");

/* written by devmemctl only; here so that it is created and pinned with
 * the others and carries BTF
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct devmem_rule_key);
	__type(value, struct devmem_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct devmem_steer_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_events SEC(".maps");

/* events the ring buffer had no room for (the agent re-syncs from
 * steer_flows, so nothing is lost but the log line)
 */
__u64 events_dropped;

static __always_inline void fill_flow(struct bpf_sock_ops *skops,
				      struct devmem_flow *f)
{
	__u32 *l = (__u32 *)f->laddr, *r = (__u32 *)f->raddr;

	f->family = skops->family;
	f->lport = skops->local_port;
	f->rport = bpf_ntohl(skops->remote_port);
	if (skops->family == AF_INET) {
		l[0] = skops->local_ip4;
		r[0] = skops->remote_ip4;
	} else {
		l[0] = skops->local_ip6[0];
		l[1] = skops->local_ip6[1];
		l[2] = skops->local_ip6[2];
		l[3] = skops->local_ip6[3];
		r[0] = skops->remote_ip6[0];
		r[1] = skops->remote_ip6[1];
		r[2] = skops->remote_ip6[2];
		r[3] = skops->remote_ip6[3];
	}
}

/* @proc: called in the process that acted (not in softirq) */
static __always_inline void emit(__u32 type, __u64 cookie,
				 const struct devmem_flow *f, bool proc)
{
	struct devmem_event *e;

	e = bpf_ringbuf_reserve(&steer_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_dropped, 1);
		return;
	}
	e->cookie = cookie;
	e->time_ns = bpf_ktime_get_ns();
	e->type = type;
	e->pid = proc ? bpf_get_current_pid_tgid() >> 32 : 0;
	e->flow = *f;
	bpf_ringbuf_submit(e, 0);
}

/* The most specific entry: the process's cgroup or its nearest ancestor
 * with an entry (port-specific before any-port), then the port alone.
 * Runs in the listening or connecting process.
 */
static __always_inline int policy_match(__u64 netns, __u16 port,
					struct devmem_policy_key *key,
					__u32 *binding_id)
{
	struct devmem_policy_val *v;
	int level;

	__builtin_memset(key, 0, sizeof(*key));
	key->netns_cookie = netns;
	/* down to level 0, the root: a policy may name the root cgroup */
	for (level = MAX_CGROUP_LEVEL; level >= 0; level--) {
		__u64 cg = bpf_get_current_ancestor_cgroup_id(level);

		if (!cg)
			continue;
		key->cgroup_id = cg;
		key->port = port;
		v = bpf_map_lookup_elem(&steer_policy, key);
		if (v)
			goto found;
		key->port = 0;
		v = bpf_map_lookup_elem(&steer_policy, key);
		if (v)
			goto found;
	}
	key->cgroup_id = 0;
	key->port = port;
	v = bpf_map_lookup_elem(&steer_policy, key);
	if (!v)
		return 0;
found:
	*binding_id = v->binding_id;
	return 1;
}

/* a matched socket: remember it, get told when it closes, announce it */
static __always_inline void track(struct bpf_sock_ops *skops, __u8 kind,
				  __u16 port)
{
	__u64 netns = bpf_get_netns_cookie(skops);
	struct devmem_flow f = {};
	__u64 cookie;

	if (!policy_match(netns, port, &f.policy, &f.binding_id))
		return;
	cookie = bpf_get_socket_cookie(skops);
	f.kind = kind;
	f.cgroup_id = bpf_get_current_cgroup_id();
	fill_flow(skops, &f);
	if (bpf_map_update_elem(&steer_flows, &cookie, &f, BPF_ANY))
		return;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					 BPF_SOCK_OPS_STATE_CB_FLAG);

	if (kind == DEVMEM_FLOW_LISTEN) {
		struct devmem_listen_key lk = { .netns_cookie = netns,
						.port = f.lport };
		struct devmem_listen_val lv = { .policy = f.policy,
						.binding_id = f.binding_id,
						.listeners = 1 };
		struct devmem_listen_val *old;

		old = bpf_map_lookup_elem(&steer_listen, &lk);
		if (old)
			__sync_fetch_and_add(&old->listeners, 1);
		else
			bpf_map_update_elem(&steer_listen, &lk, &lv, BPF_ANY);
	}
	emit(kind == DEVMEM_FLOW_LISTEN ? DEVMEM_EV_LISTEN : DEVMEM_EV_CONNECT,
	     cookie, &f, true);
}

static __always_inline void untrack(struct bpf_sock_ops *skops)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct devmem_flow *f, copy;

	f = bpf_map_lookup_elem(&steer_flows, &cookie);
	if (!f)
		return;
	copy = *f;
	bpf_map_delete_elem(&steer_flows, &cookie);
	if (copy.kind == DEVMEM_FLOW_LISTEN) {
		struct devmem_listen_key lk = {
			.netns_cookie = copy.policy.netns_cookie,
			.port = copy.lport,
		};
		struct devmem_listen_val *lv;

		lv = bpf_map_lookup_elem(&steer_listen, &lk);
		if (lv && __sync_fetch_and_add(&lv->listeners, -1) <= 1)
			bpf_map_delete_elem(&steer_listen, &lk);
	}
	emit(DEVMEM_EV_CLOSE, cookie, &copy, false);
}

/* An accepted child of a tracked listener is tracked too: it keeps the
 * listener's dst-port rule while it lives, even after the listener closed.
 * A tracked connect announces its handshake's end.
 */
static __always_inline void established(struct bpf_sock_ops *skops,
					bool passive)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct devmem_flow f = {}, *tracked;

	if (passive) {
		struct devmem_listen_key lk = {
			.netns_cookie = bpf_get_netns_cookie(skops),
			.port = skops->local_port,
		};
		struct devmem_listen_val *lv;

		lv = bpf_map_lookup_elem(&steer_listen, &lk);
		if (!lv)
			return;
		f.policy = lv->policy;
		f.binding_id = lv->binding_id;
		f.kind = DEVMEM_FLOW_ACCEPTED;
		fill_flow(skops, &f);
		if (bpf_map_update_elem(&steer_flows, &cookie, &f, BPF_ANY))
			return;
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags |
					  BPF_SOCK_OPS_STATE_CB_FLAG);
		emit(DEVMEM_EV_ESTABLISHED, cookie, &f, false);
		return;
	}
	tracked = bpf_map_lookup_elem(&steer_flows, &cookie);
	if (tracked)
		emit(DEVMEM_EV_ESTABLISHED, cookie, tracked, false);
}

SEC("sockops")
int steer_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		track(skops, DEVMEM_FLOW_LISTEN, skops->local_port);
		break;
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		track(skops, DEVMEM_FLOW_CONNECT,
		      bpf_ntohl(skops->remote_port));
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		established(skops, true);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		established(skops, false);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE)
			untrack(skops);
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
