// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD stand-in for the kernel's devmem generic netlink family, so that
 * tools/devmem-nc/sanity.sh can check devmem-nc's requests and its handling of
 * replies and extack errors on a host without the patched kernel.  It answers
 * bind (id FAKE_ID, default 42), binding-get and dmabuf-get (a new fd of the
 * file FAKE_BUF); FAKE_ERR=CMD fails that command with EBUSY and extack
 * FAKE_EXT; FAKE_TX, FAKE_DRAIN, FAKE_BADSIZE change binding-get's reply;
 * FAKE_NOFAM makes the family missing.  FAKE_LOG names a file that gets one
 * line per request: "cmd=C" and "TYPE=VALUE" for each u32 attribute.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <linux/devmem.h>

#define FAM 0x3f0
struct nl_sock;
int genl_ctrl_resolve(struct nl_sock *sk, const char *name)
{
	static int (*real)(struct nl_sock *, const char *);
	if (!strcmp(name, "devmem") && !getenv("FAKE_NOFAM"))
		return FAM;
	if (!real)
		real = dlsym(RTLD_NEXT, "genl_ctrl_resolve");
	return real(sk, name);
}

static int pfd = -1;
static char pbuf[4096];
static size_t plen;

static void put_attr(char *b, size_t *len, int type, const void *d, int dlen)
{
	struct nlattr *a = (void *)(b + *len);
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + dlen;
	memcpy(b + *len + NLA_HDRLEN, d, dlen);
	*len += NLA_ALIGN(a->nla_len);
}
static void put_u32(char *b, size_t *len, int type, uint32_t v) { put_attr(b, len, type, &v, 4); }

static void add_reply(struct nlmsghdr *req, int cmd)
{
	struct nlmsghdr *h = (void *)(pbuf + plen);
	size_t len = NLMSG_HDRLEN;
	struct genlmsghdr *g = (void *)(pbuf + plen + len);
	char *b = pbuf + plen;

	g->cmd = cmd; g->version = 1; g->reserved = 0;
	len += GENL_HDRLEN;
	if (cmd == DEVMEM_CMD_BIND) {
		put_u32(b, &len, DEVMEM_A_BINDING_ID, atoi(getenv("FAKE_ID") ?: "42"));
	} else if (cmd == DEVMEM_CMD_BINDING_GET) {
		struct stat st;
		uint64_t size;
		stat(getenv("FAKE_BUF"), &st);
		size = st.st_size + (getenv("FAKE_BADSIZE") ? 4096 : 0);
		put_u32(b, &len, DEVMEM_A_BINDING_ID, 7);
		put_u32(b, &len, DEVMEM_A_BINDING_IFINDEX, 1);
		put_u32(b, &len, DEVMEM_A_BINDING_QUEUES, 2);
		put_u32(b, &len, DEVMEM_A_BINDING_QUEUES, 3);
		put_u32(b, &len, DEVMEM_A_BINDING_DIRECTION, getenv("FAKE_TX") ? 1 : 0);
		put_u32(b, &len, DEVMEM_A_BINDING_LIFETIME, 0);
		put_attr(b, &len, DEVMEM_A_BINDING_DMABUF_SIZE, &size, 8);
		put_u32(b, &len, DEVMEM_A_BINDING_STATE, getenv("FAKE_DRAIN") ? 1 : 0);
	} else if (cmd == DEVMEM_CMD_DMABUF_GET) {
		int fd = open(getenv("FAKE_BUF"), O_RDWR | O_CLOEXEC);
		put_u32(b, &len, DEVMEM_A_BINDING_FD, fd);
	}
	h->nlmsg_len = len;
	h->nlmsg_type = FAM;
	h->nlmsg_flags = 0;
	h->nlmsg_seq = req->nlmsg_seq;
	h->nlmsg_pid = req->nlmsg_pid;
	plen += NLMSG_ALIGN(len);
}

static void add_ack(struct nlmsghdr *req, int err, const char *ext)
{
	struct nlmsghdr *h = (void *)(pbuf + plen);
	struct nlmsgerr *e = (void *)(pbuf + plen + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + sizeof(*e);

	e->error = err;
	e->msg = *req;
	h->nlmsg_flags = NLM_F_CAPPED;
	if (ext) {
		put_attr(pbuf + plen, &len, NLMSGERR_ATTR_MSG, ext, strlen(ext) + 1);
		h->nlmsg_flags |= NLM_F_ACK_TLVS;
	}
	h->nlmsg_len = len;
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_seq = req->nlmsg_seq;
	h->nlmsg_pid = req->nlmsg_pid;
	plen += NLMSG_ALIGN(len);
}

static void log_request(struct nlmsghdr *h)
{
	struct genlmsghdr *g = NLMSG_DATA(h);
	const char *path = getenv("FAKE_LOG");
	struct nlattr *a;
	int rem;
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "cmd=%u", g->cmd);
	a = (void *)((char *)g + GENL_HDRLEN);
	rem = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= rem) {
		if (a->nla_len == NLA_HDRLEN + 4)
			fprintf(f, " %u=%u", a->nla_type,
				*(uint32_t *)((char *)a + NLA_HDRLEN));
		else
			fprintf(f, " %u=len%u", a->nla_type, a->nla_len);
		rem -= NLA_ALIGN(a->nla_len);
		a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	fprintf(f, "\n");
	fclose(f);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);
	struct nlmsghdr *h = m->msg_iov[0].iov_base;

	if (!real)
		real = dlsym(RTLD_NEXT, "sendmsg");
	if (m->msg_iov[0].iov_len >= NLMSG_HDRLEN && h->nlmsg_type == FAM) {
		struct genlmsghdr *g = NLMSG_DATA(h);
		const char *err = getenv("FAKE_ERR");
		pfd = fd;
		plen = 0;
		log_request(h);
		if (err && atoi(err) == g->cmd) {
			add_ack(h, -EBUSY, getenv("FAKE_EXT"));
		} else {
			add_reply(h, g->cmd);
			add_ack(h, 0, NULL);
		}
		return h->nlmsg_len;
	}
	return real(fd, m, flags);
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	struct nlmsghdr *h;
	size_t n;

	if (!real)
		real = dlsym(RTLD_NEXT, "recvmsg");
	if (fd != pfd || !plen)
		return real(fd, m, flags);
	/* one message per datagram */
	h = (void *)pbuf;
	n = NLMSG_ALIGN(h->nlmsg_len);
	memcpy(m->msg_iov[0].iov_base, pbuf,
	       n < m->msg_iov[0].iov_len ? n : m->msg_iov[0].iov_len);
	if (m->msg_name) {
		struct sockaddr_nl *sa = m->msg_name;
		memset(sa, 0, sizeof(*sa));
		sa->nl_family = AF_NETLINK;
		m->msg_namelen = sizeof(*sa);
	}
	m->msg_controllen = 0;
	m->msg_flags = 0;
	if (!(flags & MSG_PEEK)) {
		memmove(pbuf, pbuf + n, plen - n);
		plen -= n;
	}
	return n;
}
