// SPDX-License-Identifier: GPL-2.0
/*
 * The devmem generic netlink family, through libnl-genl-3 with extended
 * ACKs on: requests with their errno and extack text, and the mgmt
 * multicast group's notifications.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/devmem.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "devmemctl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

struct dm_nl {
	struct nl_sock *sk;
	int family;
};

/* the outcome of one request */
struct dm_req {
	uint32_t seq;
	bool done;
	struct dm_err *e;
	void (*data)(struct nlattr *attrs, int len, void *arg);
	void *arg;
};

static void set_err(struct dm_err *e, int err, const char *msg)
{
	e->err = err;
	snprintf(e->extack, sizeof(e->extack), "%s", msg ?: "");
}

struct dm_nl *dm_open(struct dm_err *e)
{
	struct dm_nl *nl = calloc(1, sizeof(*nl));
	int one = 1, ret;

	set_err(e, 0, NULL);
	if (!nl || !(nl->sk = nl_socket_alloc())) {
		set_err(e, ENOMEM, "cannot allocate a netlink socket");
		goto fail;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		set_err(e, EIO,
			"cannot open a generic netlink socket");
		goto fail;
	}
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, DEVMEM_FAMILY_NAME);
	if (nl->family < 0) {
		set_err(e, ENOENT, "the kernel has no \"devmem\" netlink family (not a devmem TCP kernel?)");
		goto fail;
	}
	return nl;
fail:
	dm_close(nl);
	return NULL;
}

void dm_close(struct dm_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	free(nl);
}

int dm_fd(struct dm_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/* ---- attributes ---- */

static uint64_t get_uint(const struct nlattr *a)
{
	if (nla_len(a) == 8)
		return nla_get_u64((struct nlattr *)a);
	if (nla_len(a) >= 4)
		return nla_get_u32((struct nlattr *)a);
	return 0;
}

static void parse_binding(struct nlattr *attrs, int len, struct dm_binding *b)
{
	struct nlattr *a;
	int rem;

	memset(b, 0, sizeof(*b));
	nla_for_each_attr(a, attrs, len, rem) {
		switch (nla_type(a)) {
		case DEVMEM_A_BINDING_ID:
			b->id = get_uint(a);
			break;
		case DEVMEM_A_BINDING_IFINDEX:
			b->ifindex = get_uint(a);
			break;
		case DEVMEM_A_BINDING_QUEUES: {
			uint32_t *q = realloc(b->queues, (b->nr_queues + 1) * sizeof(*q));

			if (!q)
				break;
			b->queues = q;
			b->queues[b->nr_queues++] = get_uint(a);
			break;
		}
		case DEVMEM_A_BINDING_DIRECTION:
			b->direction = get_uint(a);
			break;
		case DEVMEM_A_BINDING_LIFETIME:
			b->lifetime = get_uint(a);
			break;
		case DEVMEM_A_BINDING_DMABUF_SIZE:
			b->dmabuf_size = get_uint(a);
			break;
		case DEVMEM_A_BINDING_OWNER_PID:
			b->owner_pid = get_uint(a);
			break;
		case DEVMEM_A_BINDING_OWNER_COMM:
			snprintf(b->owner_comm, sizeof(b->owner_comm), "%.*s",
				 (int)strnlen(nla_data(a), nla_len(a)),
				 (char *)nla_data(a));
			break;
		case DEVMEM_A_BINDING_STATE:
			b->state = get_uint(a);
			break;
		case DEVMEM_A_BINDING_CREATE_TIME:
			b->create_time = get_uint(a);
			break;
		}
	}
}

void dm_binding_free(struct dm_binding *b)
{
	free(b->queues);
	b->queues = NULL;
	b->nr_queues = 0;
}

/* ---- requests ---- */

static void parse_extack(struct dm_err *e, struct nlmsghdr *nlh, size_t off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + off),
		      nlh->nlmsg_len - NLMSG_HDRLEN - off, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(e->extack, sizeof(e->extack), "%.*s",
			 (int)strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]),
				      nla_len(tb[NLMSGERR_ATTR_MSG])),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct dm_req *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (nlh->nlmsg_seq != r->seq)
		return NL_SKIP;
	if (r->data)
		r->data(genlmsg_attrdata(nlmsg_data(nlh), 0),
			genlmsg_attrlen(nlmsg_data(nlh), 0), r->arg);
	return NL_OK;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct dm_req *r = arg;

	r->done = true;
	return NL_STOP;
}

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	struct dm_req *r = arg;

	if (nlh->nlmsg_seq != r->seq)
		return NL_SKIP;
	r->done = true;
	r->e->err = -err->error;
	parse_extack(r->e, nlh, sizeof(*err));
	return NL_STOP;
}

static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct dm_req *r = arg;
	int err = 0;

	r->done = true;
	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (err < 0) {
		r->e->err = -err;
		parse_extack(r->e, nlh, sizeof(int));
	}
	return NL_STOP;
}

static int dm_request(struct dm_nl *nl, uint8_t cmd, int flags,
		      int (*put)(struct nl_msg *msg, void *arg), void *put_arg,
		      void (*data)(struct nlattr *attrs, int len, void *arg),
		      void *arg, struct dm_err *e)
{
	struct dm_req r = { .e = e, .data = data, .arg = arg };
	struct nl_msg *msg = nlmsg_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	set_err(e, 0, NULL);
	if (!msg || !cb ||
	    !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 NLM_F_REQUEST | NLM_F_ACK | flags, cmd, DEVMEM_FAMILY_VERSION) ||
	    (put && put(msg, put_arg))) {
		set_err(e, ENOMEM, "cannot build a netlink request");
		goto out;
	}
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		set_err(e, EIO, "cannot send a netlink request");
		goto out;
	}
	r.seq = nlmsg_hdr(msg)->nlmsg_seq;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, &r);
	while (!r.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !r.done) {
			set_err(e, EIO, "no answer from the kernel");
			break;
		}
	}
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return e->err ? -e->err : 0;
}

static int put_id(struct nl_msg *msg, void *arg)
{
	return nla_put_u32(msg, DEVMEM_A_BINDING_ID, *(uint32_t *)arg);
}

static void binding_cb(struct nlattr *attrs, int len, void *arg)
{
	struct dm_binding *b = arg;

	dm_binding_free(b);
	parse_binding(attrs, len, b);
}

int dm_binding_get(struct dm_nl *nl, uint32_t id, struct dm_binding *b,
		   struct dm_err *e)
{
	memset(b, 0, sizeof(*b));
	return dm_request(nl, DEVMEM_CMD_BINDING_GET, 0, put_id, &id,
			  binding_cb, b, e);
}

int dm_error(const char *what, const struct dm_err *e, const char *hint)
{
	return error("%s%s%s (%s)%s%s", what ?: "", what ? ": " : "",
		     *e->extack ? e->extack : strerror(e->err),
		     errno_name(e->err), hint ? "; " : "", hint ?: "");
}

/* ---- notifications ---- */

int dm_mgmt_join(struct dm_nl *nl, struct dm_err *e)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, DEVMEM_FAMILY_NAME,
					DEVMEM_MCGRP_MGMT);

	set_err(e, 0, NULL);
	if (grp < 0) {
		set_err(e, ENOENT, "the devmem family has no mgmt group");
		return -ENOENT;
	}
	if (nl_socket_add_membership(nl->sk, grp)) {
		set_err(e, EPERM, "cannot join the devmem mgmt group");
		return -EPERM;
	}
	nl_socket_disable_seq_check(nl->sk);
	nl_socket_set_nonblocking(nl->sk);
	return 0;
}

struct ntf_ctx {
	void (*cb)(int cmd, const struct dm_binding *b, void *arg);
	void *arg;
};

static int ntf_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct ntf_ctx *c = arg;
	struct dm_binding b;

	parse_binding(genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), &b);
	c->cb(g->cmd, &b, c->arg);
	dm_binding_free(&b);
	return NL_OK;
}

/* notifications carry sequence number 0 */
static int ntf_seq_any(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

int dm_ntf_read(struct dm_nl *nl,
		void (*cb)(int cmd, const struct dm_binding *b, void *arg),
		void *arg)
{
	struct ntf_ctx c = { .cb = cb, .arg = arg };
	struct nl_cb *ncb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!ncb)
		return -ENOMEM;
	nl_cb_set(ncb, NL_CB_VALID, NL_CB_CUSTOM, ntf_cb, &c);
	nl_cb_set(ncb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, ntf_seq_any, NULL);
	ret = nl_recvmsgs(nl->sk, ncb);
	nl_cb_put(ncb);
	return ret == -NLE_AGAIN ? 0 : ret;
}

/* ---- stats ---- */

struct stats_ctx {
	void (*cb)(const struct dm_stats *s, void *arg);
	void *arg;
};

/* every counter has its slot */
_Static_assert(ARRAY_SIZE(((struct dm_stats *)0)->v) > DEVMEM_A_STATS_MAX,
	       "struct dm_stats is too small for the devmem family's counters");

static void stats_cb(struct nlattr *attrs, int len, void *arg)
{
	struct stats_ctx *c = arg;
	struct dm_stats s = {};
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, attrs, len, rem) {
		int t = nla_type(a);

		if (t > 0 && t <= DEVMEM_A_STATS_MAX) {
			s.v[t] = get_uint(a);
			s.present |= 1ULL << t;
		}
	}
	c->cb(&s, c->arg);
}

static int put_stats_filter(struct nl_msg *msg, void *arg)
{
	const uint32_t *f = arg;	/* { id, ifindex } */

	if (f[0] && nla_put_u32(msg, DEVMEM_A_STATS_ID, f[0]))
		return -1;
	if (f[1] && nla_put_u32(msg, DEVMEM_A_STATS_IFINDEX, f[1]))
		return -1;
	return 0;
}

int dm_stats(struct dm_nl *nl, uint32_t id, uint32_t ifindex,
	     void (*cb)(const struct dm_stats *s, void *arg), void *arg,
	     struct dm_err *e)
{
	struct stats_ctx c = { .cb = cb, .arg = arg };
	uint32_t filter[2] = { id, ifindex };

	return dm_request(nl, DEVMEM_CMD_STATS_GET, id ? 0 : NLM_F_DUMP,
			  put_stats_filter, filter, stats_cb, &c, e);
}

/* ---- bind, unbind, binding dump ---- */

struct bind_req {
	uint32_t ifindex, direction, lifetime;
	int fd;
	const uint32_t *queues;
	unsigned int nr_queues;
};

static int put_bind(struct nl_msg *msg, void *arg)
{
	const struct bind_req *r = arg;
	unsigned int i;

	if (nla_put_u32(msg, DEVMEM_A_BINDING_IFINDEX, r->ifindex) ||
	    nla_put_u32(msg, DEVMEM_A_BINDING_FD, r->fd) ||
	    nla_put_u32(msg, DEVMEM_A_BINDING_DIRECTION, r->direction) ||
	    nla_put_u32(msg, DEVMEM_A_BINDING_LIFETIME, r->lifetime))
		return -1;
	for (i = 0; i < r->nr_queues; i++)
		if (nla_put_u32(msg, DEVMEM_A_BINDING_QUEUES, r->queues[i]))
			return -1;
	return 0;
}

static void id_cb(struct nlattr *attrs, int len, void *arg)
{
	struct nlattr *a = nla_find(attrs, len, DEVMEM_A_BINDING_ID);

	if (a)
		*(uint32_t *)arg = get_uint(a);
}

int dm_bind(struct dm_nl *nl, uint32_t ifindex, int fd, uint32_t direction,
	    const uint32_t *queues, unsigned int nr_queues, uint32_t lifetime,
	    uint32_t *id, struct dm_err *e)
{
	struct bind_req r = {
		.ifindex = ifindex, .fd = fd, .direction = direction,
		.lifetime = lifetime, .queues = queues, .nr_queues = nr_queues,
	};
	size_t need = 256 + (size_t)nr_queues * NLA_HDRLEN * 2;

	/* every queue is an attribute: a long list outgrows libnl's default */
	if (need > 4096)
		nlmsg_set_default_size(need);
	*id = 0;
	return dm_request(nl, DEVMEM_CMD_BIND, 0, put_bind, &r, id_cb, id, e);
}

int dm_unbind(struct dm_nl *nl, uint32_t id, struct dm_err *e)
{
	return dm_request(nl, DEVMEM_CMD_UNBIND, 0, put_id, &id, NULL, NULL, e);
}

struct dump_ctx {
	void (*cb)(const struct dm_binding *b, void *arg);
	void *arg;
};

static void dump_cb(struct nlattr *attrs, int len, void *arg)
{
	struct dump_ctx *c = arg;
	struct dm_binding b;

	parse_binding(attrs, len, &b);
	c->cb(&b, c->arg);
	dm_binding_free(&b);
}

static int put_ifindex(struct nl_msg *msg, void *arg)
{
	uint32_t ifindex = *(uint32_t *)arg;

	return ifindex ? nla_put_u32(msg, DEVMEM_A_BINDING_IFINDEX, ifindex) : 0;
}

int dm_binding_dump(struct dm_nl *nl, uint32_t ifindex,
		    void (*cb)(const struct dm_binding *b, void *arg),
		    void *arg, struct dm_err *e)
{
	struct dump_ctx c = { .cb = cb, .arg = arg };

	return dm_request(nl, DEVMEM_CMD_BINDING_GET, NLM_F_DUMP, put_ifindex,
			  &ifindex, dump_cb, &c, e);
}

/* ---- other generic netlink families (ethtool) on the same requests ----
 * dm_request() puts DEVMEM_FAMILY_VERSION (1) in the genl header, which is
 * also ETHTOOL_GENL_VERSION; the kernel checks neither.
 */

struct dm_nl *genl_open(const char *family, struct dm_err *e)
{
	struct dm_nl *nl = dm_open(e);

	if (!nl)
		return NULL;
	nl->family = genl_ctrl_resolve(nl->sk, family);
	if (nl->family < 0) {
		e->err = ENOENT;
		snprintf(e->extack, sizeof(e->extack),
			 "the kernel has no \"%s\" netlink family", family);
		dm_close(nl);
		return NULL;
	}
	return nl;
}

int genl_request(struct dm_nl *nl, uint8_t cmd, int flags,
		 int (*put)(struct nl_msg *msg, void *arg), void *put_arg,
		 void (*data)(struct nlattr *attrs, int len, void *arg),
		 void *arg, struct dm_err *e)
{
	return dm_request(nl, cmd, flags, put, put_arg, data, arg, e);
}
