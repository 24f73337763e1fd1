// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Generic netlink requests over libnl-genl-3 with extended ACKs: one
 * request, its replies (one, or a dump's), and the kernel's verdict with
 * its extack message and the attribute it blames.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

void dm_err_clear(struct devmem_err *e)
{
	if (!e)
		return;
	e->err = 0;
	e->msg[0] = '\0';
	e->bad_attr = 0;
	e->missing_attr = 0;
}

void dm_err_set(struct devmem_err *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	dm_err_clear(e);
	e->err = err;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
}

int dm_sock_open(struct devmem_nl *nl, struct devmem_err *e)
{
	int one = 1;

	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		dm_err_set(e, ENOMEM, "cannot allocate a netlink socket");
		return -ENOMEM;
	}
	if (genl_connect(nl->sk) < 0) {
		dm_err_set(e, EIO, "cannot open a generic netlink socket");
		return -EIO;
	}
	/* extack text and attribute offsets; no echo of the request */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	return 0;
}

DM_API int devmem_genl_open(struct devmem_nl **out, const char *family,
			    struct devmem_err *e)
{
	struct devmem_nl *nl = calloc(1, sizeof(*nl));
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
	nl->family = genl_ctrl_resolve(nl->sk, family);
	if (nl->family < 0) {
		dm_err_set(e, ENOENT, "the kernel has no \"%s\" netlink family",
			   family);
		ret = -ENOENT;
		goto fail;
	}
	*out = nl;
	return 0;
fail:
	devmem_nl_close(nl);
	return ret;
}

DM_API void devmem_nl_close(struct devmem_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	free(nl);
}

DM_API int devmem_nl_fd(const struct devmem_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

DM_API int devmem_genl_family(const struct devmem_nl *nl)
{
	return nl->family;
}

/* the outcome of one request */
struct dm_req {
	struct nl_msg *msg;	/* the request, for NLMSGERR_ATTR_OFFS */
	uint32_t seq;
	struct devmem_err *e;
	int err;
	devmem_data_cb data;
	void *arg;
	struct devmem_answer *a;
};

/* the type of the request's attribute at byte @off of its nlmsghdr */
static int attr_at(struct nl_msg *msg, uint32_t off)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;

	if (off < NLMSG_HDRLEN + GENL_HDRLEN ||
	    (uint64_t)off + NLA_HDRLEN > nlh->nlmsg_len)
		return 0;
	a = (struct nlattr *)((char *)nlh + off);
	return nla_type(a);
}

/* the extack TLVs after @off bytes of an NLMSG_ERROR or NLMSG_DONE */
static void parse_extack(struct dm_req *r, struct nlmsghdr *nlh, size_t off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct devmem_err *e = r->e;

	if (!e || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + off),
		      nlh->nlmsg_len - NLMSG_HDRLEN - off, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG]) {
		snprintf(e->msg, sizeof(e->msg), "%.*s",
			 (int)strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]),
				      nla_len(tb[NLMSGERR_ATTR_MSG])),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
		e->msg[strcspn(e->msg, "\n")] = '\0';
	}
	if (tb[NLMSGERR_ATTR_OFFS] && nla_len(tb[NLMSGERR_ATTR_OFFS]) >= 4)
		e->bad_attr = attr_at(r->msg,
				      nla_get_u32(tb[NLMSGERR_ATTR_OFFS]));
	if (tb[NLMSGERR_ATTR_MISS_TYPE] &&
	    nla_len(tb[NLMSGERR_ATTR_MISS_TYPE]) >= 4)
		e->missing_attr = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
}

static void set_verdict(struct dm_req *r, int err)
{
	r->err = err;
	if (r->e)
		r->e->err = err;
	if (r->a) {
		r->a->answered = true;
		r->a->acked = !err;
	}
}

/* answers to an earlier request (one that timed out) are not this one's */
static int seq_cb(struct nl_msg *msg, void *arg)
{
	struct dm_req *r = arg;

	if (nlmsg_hdr(msg)->nlmsg_seq != r->seq) {
		if (r->a)
			r->a->nr_stale++;
		return NL_SKIP;
	}
	return NL_OK;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct dm_req *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (r->a) {
		r->a->nr_data++;
		if (r->a->data)
			r->a->data(nlh, r->a->arg);
	}
	if (r->data && nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN)
		r->data(genlmsg_attrdata(nlmsg_data(nlh), 0),
			genlmsg_attrlen(nlmsg_data(nlh), 0), r->arg);
	return NL_OK;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	set_verdict(arg, 0);
	return NL_STOP;
}

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	struct dm_req *r = arg;
	size_t off = sizeof(*err);

	if (nlh->nlmsg_seq != r->seq) {
		if (r->a)
			r->a->nr_stale++;
		return NL_SKIP;
	}
	set_verdict(r, -err->error);
	/* without NETLINK_CAP_ACK (capped), the request follows the errno */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(err->msg.nlmsg_len - NLMSG_HDRLEN);
	parse_extack(r, nlh, off);
	return NL_STOP;
}

/* the end of a dump: NLMSG_DONE carries the dump's errno (and extack) */
static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct dm_req *r = arg;
	int err = 0;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
	set_verdict(r, err < 0 ? -err : 0);
	if (err < 0)
		parse_extack(r, nlh, sizeof(int));
	return NL_STOP;
}

/* send @r->msg, read until its ACK, error or end of dump */
static int transact(struct devmem_nl *nl, struct dm_req *r)
{
	struct devmem_answer local = { 0 };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!r->a)
		r->a = &local;
	r->a->answered = r->a->acked = false;
	r->a->nr_data = r->a->nr_stale = 0;
	if (!cb) {
		dm_err_set(r->e, ENOMEM, "out of memory");
		return -ENOMEM;
	}
	ret = nl_send_auto(nl->sk, r->msg);
	if (ret < 0) {
		nl_cb_put(cb);
		dm_err_set(r->e, EIO, "cannot send a netlink request: %s",
			   nl_geterror(ret));
		return -EIO;
	}
	r->seq = nlmsg_hdr(r->msg)->nlmsg_seq;
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_cb, r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, r);
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, r);
	while (!r->a->answered) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !r->a->answered) {
			int err = ret == -NLE_AGAIN ? ETIMEDOUT : EIO;

			dm_err_set(r->e, err, "no answer from the kernel (%s)",
				   nl_geterror(ret));
			nl_cb_put(cb);
			if (r->a == &local)
				r->a = NULL;
			return -err;
		}
	}
	nl_cb_put(cb);
	if (r->a == &local)
		r->a = NULL;
	return r->err ? -r->err : 0;
}

DM_API int devmem_genl_transact(struct devmem_nl *nl, struct nl_msg *msg,
				struct devmem_answer *a, struct devmem_err *e)
{
	struct dm_req r = { .msg = msg, .e = e, .a = a };

	dm_err_clear(e);
	return transact(nl, &r);
}

DM_API struct nl_sock *devmem_nl_sock(struct devmem_nl *nl)
{
	return nl->sk;
}

DM_API int devmem_genl_request(struct devmem_nl *nl, uint8_t cmd,
			       uint8_t version, int flags, devmem_put_cb put,
			       void *put_arg, devmem_data_cb data,
			       void *data_arg, struct devmem_err *e)
{
	struct dm_req r = { .e = e, .data = data, .arg = data_arg };
	int ret;

	dm_err_clear(e);
	r.msg = nlmsg_alloc();
	if (!r.msg ||
	    !genlmsg_put(r.msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 NLM_F_REQUEST | NLM_F_ACK | flags, cmd, version) ||
	    (put && put(r.msg, put_arg))) {
		dm_err_set(e, ENOMEM, "cannot build a netlink request");
		nlmsg_free(r.msg);
		return -ENOMEM;
	}
	ret = transact(nl, &r);
	nlmsg_free(r.msg);
	return ret;
}
