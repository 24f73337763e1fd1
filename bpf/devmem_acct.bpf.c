// SPDX-License-Identifier: GPL-2.0
/*
 * devmem accounting: what the devmem path does, per (device, rx queue),
 * per binding and per socket, from
 *  - netif_receive_skb: skbs with payload in device memory (unreadable),
 *    their dmabuf frags and bytes, as the NIC delivered them;
 *  - the devmem tracepoints: recvmsg(MSG_SOCK_DEVMEM) calls, frags (the
 *    tokens handed out) and bytes, tokens given back, page pool allocation
 *    failures, and EFAULTs of plain sockets that met device memory, i.e.
 *    misrouted flows, kept with their 4-tuple in an LRU map.
 * All maps are pinned under /sys/fs/bpf/devmem/ and carry BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "devmem_bpf.h"

#define AF_INET		2
#define NET_IOV		1UL	/* netmem_ref's low bit: a net_iov, not a page */
#define MAX_FRAGS	17	/* CONFIG_MAX_SKB_FRAGS */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct devmem_queue_key);
	__type(value, struct devmem_queue_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} acct_queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct devmem_binding_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} acct_binding SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct devmem_socket_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} acct_socket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct devmem_efault);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} acct_efault SEC(".maps");

/* the entry for @key, created zeroed on first use */
static __always_inline void *get_or_init(void *map, const void *key,
					 const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline struct devmem_binding_stats *binding_stats(__u32 id)
{
	static const struct devmem_binding_stats zero;

	return get_or_init(&acct_binding, &id, &zero);
}

static __always_inline struct devmem_queue_stats *queue_stats(__u32 ifindex,
							      __u32 queue)
{
	static const struct devmem_queue_stats zero;
	struct devmem_queue_key k = { .ifindex = ifindex, .queue = queue };

	return get_or_init(&acct_queue, &k, &zero);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(acct_rx_skb, struct sk_buff *skb)
{
	struct devmem_binding_stats *bs;
	struct devmem_queue_stats *qs;
	struct skb_shared_info *shinfo;
	skb_frag_t frags[MAX_FRAGS];
	__u64 nfrags = 0, bytes = 0;
	__u32 binding_id = 0;
	__u16 qmap;
	int i, nr;

	if (!BPF_CORE_READ_BITFIELD(skb, unreadable))
		return 0;

	/* skb_shinfo(): the head is not BTF-typed memory, so two reads: the
	 * frag count, then the whole frag array at once (cheaper than a
	 * read per frag)
	 */
	shinfo = (struct skb_shared_info *)(skb->head + skb->end);
	nr = BPF_CORE_READ(shinfo, nr_frags);
	if (bpf_core_read(frags, sizeof(frags), &shinfo->frags))
		return 0;
	for (i = 0; i < MAX_FRAGS; i++) {
		if (i >= nr)
			break;
		if (!(frags[i].netmem & NET_IOV))
			continue;
		nfrags++;
		bytes += frags[i].len;
		if (!binding_id) {
			struct net_iov *niov = (void *)(frags[i].netmem & ~NET_IOV);

			binding_id = BPF_CORE_READ(niov, owner, binding, id);
		}
	}

	/* skb_record_rx_queue() stores the rx queue + 1 */
	qmap = skb->queue_mapping;
	qs = queue_stats(skb->dev->ifindex, qmap ? qmap - 1 : 0);
	if (qs) {
		__sync_fetch_and_add(&qs->unreadable_skbs, 1);
		__sync_fetch_and_add(&qs->unreadable_frags, nfrags);
		__sync_fetch_and_add(&qs->unreadable_bytes, bytes);
	}
	bs = binding_id ? binding_stats(binding_id) : NULL;
	if (bs) {
		__sync_fetch_and_add(&bs->unreadable_skbs, 1);
		__sync_fetch_and_add(&bs->unreadable_frags, nfrags);
		__sync_fetch_and_add(&bs->unreadable_bytes, bytes);
	}
	return 0;
}

SEC("tp_btf/devmem_recvmsg")
int BPF_PROG(acct_recvmsg, const struct sock *sk, u32 binding_id,
	     unsigned int frags, u64 bytes, u64 linear)
{
	static const struct devmem_socket_stats zero;
	struct devmem_binding_stats *bs = binding_stats(binding_id);
	struct devmem_socket_stats *ss;
	__u64 cookie;

	if (bs) {
		__sync_fetch_and_add(&bs->recvmsg_calls, 1);
		__sync_fetch_and_add(&bs->recvmsg_frags, frags);
		__sync_fetch_and_add(&bs->recvmsg_bytes, bytes);
		__sync_fetch_and_add(&bs->recvmsg_linear, linear);
	}
	cookie = bpf_get_socket_cookie((void *)sk);
	ss = get_or_init(&acct_socket, &cookie, &zero);
	if (ss) {
		ss->binding_id = binding_id;
		__sync_fetch_and_add(&ss->recvmsg_bytes, bytes);
		__sync_fetch_and_add(&ss->tokens_out, frags);
	}
	return 0;
}

SEC("tp_btf/devmem_token_release")
int BPF_PROG(acct_tok_release, const struct sock *sk, unsigned int count)
{
	struct devmem_binding_stats *bs;
	struct devmem_socket_stats *ss;
	__u64 cookie;

	cookie = bpf_get_socket_cookie((void *)sk);
	ss = bpf_map_lookup_elem(&acct_socket, &cookie);
	if (!ss)
		return 0;
	__sync_fetch_and_add(&ss->tokens_released, count);
	bs = binding_stats(ss->binding_id);
	if (bs)
		__sync_fetch_and_add(&bs->tokens_released, count);
	return 0;
}

SEC("tp_btf/devmem_recvmsg_efault")
int BPF_PROG(acct_rcv_efault, const struct sock *sk, const struct sk_buff *skb,
	     u32 binding_id)
{
	struct devmem_binding_stats *bs = binding_stats(binding_id);
	struct devmem_efault *e, init = {};
	__u64 cookie;

	if (bs)
		__sync_fetch_and_add(&bs->efault, 1);

	cookie = bpf_get_socket_cookie((void *)sk);
	e = bpf_map_lookup_elem(&acct_efault, &cookie);
	if (!e) {
		init.netns_cookie = BPF_CORE_READ(sk, __sk_common.skc_net.net,
						  net_cookie);
		init.binding_id = binding_id;
		init.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		init.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		init.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (init.family == AF_INET) {
			BPF_CORE_READ_INTO((__u32 *)init.laddr, sk,
					   __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO((__u32 *)init.raddr, sk,
					   __sk_common.skc_daddr);
		} else {
			BPF_CORE_READ_INTO(&init.laddr, sk,
					   __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&init.raddr, sk,
					   __sk_common.skc_v6_daddr);
		}
		bpf_map_update_elem(&acct_efault, &cookie, &init, BPF_NOEXIST);
		e = bpf_map_lookup_elem(&acct_efault, &cookie);
		if (!e)
			return 0;
	}
	__sync_fetch_and_add(&e->count, 1);
	e->last_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return 0;
}

SEC("tp_btf/devmem_alloc_fail")
int BPF_PROG(acct_alloc_fail, const struct page_pool *pool,
	     const struct net_devmem_dmabuf_binding *binding)
{
	struct devmem_binding_stats *bs = binding_stats(binding->id);
	struct devmem_queue_stats *qs;

	qs = queue_stats(binding->ifindex, pool->slow.queue_idx);
	if (qs)
		__sync_fetch_and_add(&qs->alloc_fail, 1);
	if (bs)
		__sync_fetch_and_add(&bs->alloc_fail, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
