// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The devmem family: bind, unbind, binding-get (do and dump), stats-get,
 * dmabuf-get and the mgmt group's notifications; and bind through the
 * netdev family's bind-rx/bind-tx on a kernel without the devmem family.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/devmem.h>
#include <linux/genetlink.h>
#include <linux/netdev.h>
#include <linux/netlink.h>

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "internal.h"

/* our kernel's netdev family (upstream numbering) */
#ifndef NETDEV_CMD_BIND_TX
#define NETDEV_CMD_BIND_TX	15
#endif

_Static_assert(DEVMEM_STATS_SLOTS > DEVMEM_A_STATS_MAX,
	       "struct devmem_stats is too small for the family's counters");
_Static_assert((int)DEVMEM_RX == (int)DEVMEM_DIRECTION_RX &&
	       (int)DEVMEM_TX == (int)DEVMEM_DIRECTION_TX &&
	       (int)DEVMEM_PERSISTENT == (int)DEVMEM_LIFETIME_PERSISTENT &&
	       (int)DEVMEM_SOCKET == (int)DEVMEM_LIFETIME_SOCKET,
	       "libdevmem enums mirror the uAPI's");

static bool env_forces_netdev(void)
{
	const char *v = getenv(DEVMEM_ENV_FORCE_NETDEV);

	return v && !strcmp(v, "1");
}

DM_API int devmem_nl_open(struct devmem_nl **out, unsigned int flags,
			  struct devmem_err *e)
{
	struct devmem_nl *nl = calloc(1, sizeof(*nl));
	bool netdev = (flags & DEVMEM_OPEN_NETDEV) || env_forces_netdev();
	int ret;

	dm_err_clear(e);
	*out = NULL;
	if (!nl) {
		dm_err_set(e, ENOMEM, "out of memory");
		return -ENOMEM;
	}
	ret = dm_sock_open(nl, e);
	if (ret)
		goto fail;
	if (!netdev) {
		nl->family = genl_ctrl_resolve(nl->sk, DEVMEM_FAMILY_NAME);
		if (nl->family >= 0) {
			nl->devmem = true;
			*out = nl;
			return 0;
		}
		if (flags & DEVMEM_OPEN_NO_FALLBACK) {
			dm_err_set(e, ENOENT, "the kernel has no \"devmem\" netlink family (not a devmem TCP kernel?)");
			ret = -ENOENT;
			goto fail;
		}
	}
	nl->family = genl_ctrl_resolve(nl->sk, NETDEV_FAMILY_NAME);
	if (nl->family < 0) {
		dm_err_set(e, ENOENT, "the kernel has neither the \"devmem\" nor the \"netdev\" netlink family");
		ret = -ENOENT;
		goto fail;
	}
	nl->netdev = true;
	*out = nl;
	return 0;
fail:
	devmem_nl_close(nl);
	return ret;
}

DM_API bool devmem_nl_has_family(const struct devmem_nl *nl)
{
	return nl->devmem;
}

/* the devmem family only: what the netdev fallback cannot do */
static int need_family(struct devmem_nl *nl, const char *what,
		       struct devmem_err *e)
{
	if (nl->devmem)
		return 0;
	dm_err_set(e, EOPNOTSUPP, "%s needs the \"devmem\" netlink family, which %s",
		   what, nl->netdev ? "this handle does not use (netdev bind-rx/bind-tx fallback)"
				    : "is not this handle's family");
	return -EOPNOTSUPP;
}

static int request(struct devmem_nl *nl, uint8_t cmd, int flags,
		   devmem_put_cb put, void *put_arg, devmem_data_cb data,
		   void *arg, struct devmem_err *e)
{
	return devmem_genl_request(nl, cmd, DEVMEM_FAMILY_VERSION, flags, put,
				   put_arg, data, arg, e);
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

static int parse_binding(struct nlattr *attrs, int len,
			 struct devmem_binding *b)
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
			uint32_t *q = realloc(b->queues,
					      (b->nr_queues + 1) * sizeof(*q));

			if (!q)
				return -ENOMEM;
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
	return 0;
}

DM_API void devmem_binding_free(struct devmem_binding *b)
{
	free(b->queues);
	b->queues = NULL;
	b->nr_queues = 0;
}

static int put_id(struct nl_msg *msg, void *arg)
{
	return nla_put_u32(msg, DEVMEM_A_BINDING_ID, *(uint32_t *)arg);
}

struct one_binding {
	struct devmem_binding *b;
	int err;
};

static void binding_cb(struct nlattr *attrs, int len, void *arg)
{
	struct one_binding *c = arg;

	devmem_binding_free(c->b);
	c->err = parse_binding(attrs, len, c->b);
}

DM_API int devmem_binding_get(struct devmem_nl *nl, uint32_t id,
			      struct devmem_binding *b, struct devmem_err *e)
{
	struct one_binding c = { .b = b };
	int ret;

	memset(b, 0, sizeof(*b));
	ret = need_family(nl, "binding-get", e);
	if (!ret)
		ret = request(nl, DEVMEM_CMD_BINDING_GET, 0, put_id, &id,
			      binding_cb, &c, e);
	if (!ret && c.err) {
		dm_err_set(e, -c.err, "out of memory");
		ret = c.err;
	}
	if (ret)
		devmem_binding_free(b);
	return ret;
}

struct dump_ctx {
	devmem_binding_cb cb;
	void *arg;
	int err;
};

static void dump_cb(struct nlattr *attrs, int len, void *arg)
{
	struct dump_ctx *c = arg;
	struct devmem_binding b;

	if (parse_binding(attrs, len, &b))
		c->err = -ENOMEM;
	else
		c->cb(&b, c->arg);
	devmem_binding_free(&b);
}

static int put_ifindex(struct nl_msg *msg, void *arg)
{
	uint32_t ifindex = *(uint32_t *)arg;

	return ifindex ? nla_put_u32(msg, DEVMEM_A_BINDING_IFINDEX, ifindex) : 0;
}

DM_API int devmem_binding_dump(struct devmem_nl *nl, uint32_t ifindex,
			       devmem_binding_cb cb, void *arg,
			       struct devmem_err *e)
{
	struct dump_ctx c = { .cb = cb, .arg = arg };
	int ret = need_family(nl, "binding-get", e);

	if (!ret)
		ret = request(nl, DEVMEM_CMD_BINDING_GET, NLM_F_DUMP,
			      put_ifindex, &ifindex, dump_cb, &c, e);
	if (!ret && c.err) {
		dm_err_set(e, -c.err, "out of memory");
		ret = c.err;
	}
	return ret;
}

/* ---- bind, unbind ---- */

static int put_bind(struct nl_msg *msg, void *arg)
{
	const struct devmem_bind_opts *o = arg;
	unsigned int i;

	if (nla_put_u32(msg, DEVMEM_A_BINDING_IFINDEX, o->ifindex) ||
	    nla_put_u32(msg, DEVMEM_A_BINDING_FD, o->dmabuf_fd) ||
	    nla_put_u32(msg, DEVMEM_A_BINDING_DIRECTION, o->direction) ||
	    nla_put_u32(msg, DEVMEM_A_BINDING_LIFETIME, o->lifetime))
		return -1;
	for (i = 0; i < o->nr_queues; i++)
		if (nla_put_u32(msg, DEVMEM_A_BINDING_QUEUES, o->queues[i]))
			return -1;
	return 0;
}

/* netdev bind-rx: queues nested as (id, type); bind-tx: no queues */
static int put_netdev_bind(struct nl_msg *msg, void *arg)
{
	const struct devmem_bind_opts *o = arg;
	unsigned int i;

	if (nla_put_u32(msg, NETDEV_A_DMABUF_IFINDEX, o->ifindex) ||
	    nla_put_u32(msg, NETDEV_A_DMABUF_FD, o->dmabuf_fd))
		return -1;
	for (i = 0; i < o->nr_queues; i++) {
		struct nlattr *nest = nla_nest_start(msg, NETDEV_A_DMABUF_QUEUES |
							  NLA_F_NESTED);

		if (!nest ||
		    nla_put_u32(msg, NETDEV_A_QUEUE_ID, o->queues[i]) ||
		    nla_put_u32(msg, NETDEV_A_QUEUE_TYPE, NETDEV_QUEUE_TYPE_RX))
			return -1;
		nla_nest_end(msg, nest);
	}
	return 0;
}

struct id_reply {
	int type;
	uint32_t id;
};

static void id_cb(struct nlattr *attrs, int len, void *arg)
{
	struct id_reply *r = arg;
	struct nlattr *a = nla_find(attrs, len, r->type);

	if (a)
		r->id = get_uint(a);
}

DM_API int devmem_bind(struct devmem_nl *nl,
		       const struct devmem_bind_opts *opts, uint32_t *id,
		       struct devmem_err *e)
{
	struct devmem_bind_opts o = { 0 };
	struct id_reply r = { 0 };
	size_t need;
	int ret;

	*id = 0;
	if (!opts || opts->sz < offsetof(struct devmem_bind_opts, lifetime) +
				sizeof(opts->lifetime)) {
		dm_err_set(e, EINVAL, "struct devmem_bind_opts: bad sz");
		return -EINVAL;
	}
	memcpy(&o, opts, sizeof(o) < opts->sz ? sizeof(o) : opts->sz);

	/* every queue is an attribute: a long list outgrows libnl's default */
	need = 256 + (size_t)o.nr_queues * NLA_HDRLEN * 4;
	if (need > 4096)
		nlmsg_set_default_size(need);

	if (nl->devmem) {
		r.type = DEVMEM_A_BINDING_ID;
		ret = request(nl, DEVMEM_CMD_BIND, 0, put_bind, &o, id_cb, &r,
			      e);
	} else if (nl->netdev) {
		if (o.lifetime != DEVMEM_SOCKET) {
			dm_err_set(e, EOPNOTSUPP, "persistent bindings need the \"devmem\" netlink family; netdev %s binds for the netlink socket's lifetime only",
				   o.direction == DEVMEM_TX ? "bind-tx" : "bind-rx");
			return -EOPNOTSUPP;
		}
		if (o.direction == DEVMEM_TX && o.nr_queues) {
			dm_err_set(e, EINVAL, "tx bindings take no queues");
			return -EINVAL;
		}
		r.type = NETDEV_A_DMABUF_ID;
		ret = devmem_genl_request(nl, o.direction == DEVMEM_TX ?
					  NETDEV_CMD_BIND_TX : NETDEV_CMD_BIND_RX,
					  NETDEV_FAMILY_VERSION, 0,
					  put_netdev_bind, &o, id_cb, &r, e);
	} else {
		return need_family(nl, "bind", e);
	}
	if (!ret && !r.id) {
		dm_err_set(e, EPROTO, "the kernel's bind reply has no binding id");
		ret = -EPROTO;
	}
	*id = r.id;
	return ret;
}

DM_API int devmem_unbind(struct devmem_nl *nl, uint32_t id,
			 struct devmem_err *e)
{
	if (nl->netdev) {
		dm_err_set(e, EOPNOTSUPP, "unbind needs the \"devmem\" netlink family; on the netdev fallback a binding ends when its handle is closed");
		return -EOPNOTSUPP;
	}
	if (need_family(nl, "unbind", e))
		return -EOPNOTSUPP;
	return request(nl, DEVMEM_CMD_UNBIND, 0, put_id, &id, NULL, NULL, e);
}

DM_API int devmem_dmabuf_get(struct devmem_nl *nl, uint32_t id, int *fd,
			     struct devmem_err *e)
{
	struct id_reply r = { .type = DEVMEM_A_BINDING_FD, .id = (uint32_t)-1 };
	int ret;

	*fd = -1;
	ret = need_family(nl, "dmabuf-get", e);
	if (!ret)
		ret = request(nl, DEVMEM_CMD_DMABUF_GET, 0, put_id, &id, id_cb,
			      &r, e);
	if (!ret && r.id == (uint32_t)-1) {
		dm_err_set(e, EPROTO, "the kernel's dmabuf-get reply has no fd");
		ret = -EPROTO;
	}
	if (!ret)
		*fd = r.id;
	return ret;
}

/* ---- stats ---- */

struct stats_ctx {
	devmem_stats_cb cb;
	void *arg;
};

static void stats_cb(struct nlattr *attrs, int len, void *arg)
{
	struct stats_ctx *c = arg;
	struct devmem_stats s = { 0 };
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, attrs, len, rem) {
		int t = nla_type(a);

		if (t > 0 && t < DEVMEM_STATS_SLOTS) {
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

DM_API int devmem_stats_get(struct devmem_nl *nl, uint32_t id,
			    uint32_t ifindex, devmem_stats_cb cb, void *arg,
			    struct devmem_err *e)
{
	struct stats_ctx c = { .cb = cb, .arg = arg };
	uint32_t filter[2] = { id, ifindex };

	if (need_family(nl, "stats-get", e))
		return -EOPNOTSUPP;
	return request(nl, DEVMEM_CMD_STATS_GET, id ? 0 : NLM_F_DUMP,
		       put_stats_filter, filter, stats_cb, &c, e);
}

/* ---- notifications ---- */

DM_API int devmem_ntf_subscribe(struct devmem_nl *nl, struct devmem_err *e)
{
	int grp;

	dm_err_clear(e);
	if (need_family(nl, "notifications", e))
		return -EOPNOTSUPP;
	grp = genl_ctrl_resolve_grp(nl->sk, DEVMEM_FAMILY_NAME,
				    DEVMEM_MCGRP_MGMT);
	if (grp < 0) {
		dm_err_set(e, ENOENT, "the devmem family has no mgmt group");
		return -ENOENT;
	}
	if (nl_socket_add_membership(nl->sk, grp)) {
		dm_err_set(e, EPERM, "cannot join the devmem mgmt group");
		return -EPERM;
	}
	nl_socket_disable_seq_check(nl->sk);
	nl_socket_set_nonblocking(nl->sk);
	nl->ntf = true;
	return 0;
}

struct ntf_ctx {
	devmem_ntf_cb cb;
	void *arg;
	int n;
};

static int ntf_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct ntf_ctx *c = arg;
	struct devmem_binding b;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return NL_SKIP;
	if (!parse_binding(genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), &b))
		c->cb(g->cmd, &b, c->arg);
	devmem_binding_free(&b);
	c->n++;
	return NL_OK;
}

/* notifications carry sequence number 0 */
static int ntf_seq_any(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

DM_API int devmem_ntf_read(struct devmem_nl *nl, devmem_ntf_cb cb, void *arg)
{
	struct ntf_ctx c = { .cb = cb, .arg = arg };
	struct nl_cb *ncb;
	int ret;

	if (!nl->ntf)
		return -EINVAL;
	ncb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!ncb)
		return -ENOMEM;
	nl_cb_set(ncb, NL_CB_VALID, NL_CB_CUSTOM, ntf_cb, &c);
	nl_cb_set(ncb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, ntf_seq_any, NULL);
	ret = nl_recvmsgs(nl->sk, ncb);
	nl_cb_put(ncb);
	if (ret == -NLE_AGAIN || ret >= 0)
		return c.n;
	return ret == -NLE_NOMEM ? -ENOBUFS : -EIO;
}
