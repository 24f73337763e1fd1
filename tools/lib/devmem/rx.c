// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Receive: recvmsg(MSG_SOCK_DEVMEM), the fragments its cmsgs describe, and
 * the tokens that give the dmabuf frags back.
 *
 * A devmem recvmsg (net/ipv4/tcp.c, tcp_recvmsg_dmabuf) returns, in
 * stream order, an SCM_DEVMEM_LINEAR cmsg per run of bytes it copied into
 * the iov and an SCM_DEVMEM_DMABUF cmsg per dmabuf frag (offset, size,
 * token, binding id); the byte count returned is their sum.  It never
 * truncates a devmem cmsg: with no room it stops early, or fails with
 * ETOOSMALL (525) when not even one fits.  Tokens stay the socket's until
 * SO_DEVMEM_DONTNEED hands them back, at most 128 dmabuf_token runs and
 * 1024 frags per call (net/core/sock.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* linux/uio.h declares its own struct iovec, which glibc already has */
#define iovec linux_uapi_iovec
#include <linux/uio.h>
#undef iovec

#include "internal.h"

#ifndef MSG_SOCK_DEVMEM
#define MSG_SOCK_DEVMEM		0x2000000
#endif
#ifndef SO_DEVMEM_LINEAR
#define SO_DEVMEM_LINEAR	78
#define SCM_DEVMEM_LINEAR	SO_DEVMEM_LINEAR
#define SO_DEVMEM_DMABUF	79
#define SCM_DEVMEM_DMABUF	SO_DEVMEM_DMABUF
#define SO_DEVMEM_DONTNEED	80
#endif

struct devmem_rx {
	int fd;
	const uint8_t *map;
	uint64_t map_size;
	unsigned int release_batch;

	void *ctrl;
	size_t ctrl_size;

	/* the last receive's fragments */
	struct devmem_frag *frags;
	size_t nr_frags, frags_cap, next;
	bool plain;

	/* tokens queued for release, as runs of consecutive tokens */
	struct dmabuf_token *runs;
	size_t nr_runs, runs_cap;
	uint64_t queued;
	uint64_t unknown;
};

DM_API int devmem_rx_new(struct devmem_rx **out, int fd, const void *map,
			 uint64_t map_size, size_t ctrl_size,
			 unsigned int release_batch)
{
	struct devmem_rx *rx;

	*out = NULL;
	if (fd < 0 || (!map && map_size))
		return -EINVAL;
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->fd = fd;
	rx->map = map;
	rx->map_size = map_size;
	rx->release_batch = release_batch;
	rx->ctrl_size = ctrl_size ?: CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 512;
	rx->ctrl = malloc(rx->ctrl_size);
	if (!rx->ctrl) {
		free(rx);
		return -ENOMEM;
	}
	*out = rx;
	return 0;
}

DM_API void devmem_rx_free(struct devmem_rx *rx)
{
	if (!rx)
		return;
	if (rx->queued)
		devmem_rx_flush(rx);
	free(rx->ctrl);
	free(rx->frags);
	free(rx->runs);
	free(rx);
}

static int frag_add(struct devmem_rx *rx, const struct devmem_frag *f)
{
	if (rx->nr_frags == rx->frags_cap) {
		size_t cap = rx->frags_cap ? rx->frags_cap * 2 : 64;
		void *p = realloc(rx->frags, cap * sizeof(*rx->frags));

		if (!p)
			return -ENOMEM;
		rx->frags = p;
		rx->frags_cap = cap;
	}
	rx->frags[rx->nr_frags++] = *f;
	return 0;
}

DM_API ssize_t devmem_rx_parse(struct devmem_rx *rx, const struct msghdr *m,
			       ssize_t ret)
{
	const uint8_t *buf = NULL;
	size_t buf_len = 0, lin_pos = 0;
	uint64_t described = 0;
	struct cmsghdr *cm;
	bool devmem = false;
	int err = 0;

	rx->nr_frags = 0;
	rx->next = 0;
	rx->plain = false;
	if (ret < 0)
		return ret;
	if (m->msg_iovlen >= 1 && m->msg_iov) {
		buf = m->msg_iov[0].iov_base;
		buf_len = m->msg_iov[0].iov_len;
	}
	if (m->msg_controllen && !m->msg_control)
		return -EINVAL;

	for (cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR((struct msghdr *)m, cm)) {
		struct devmem_frag f = { 0 };
		struct dmabuf_cmsg dc;

		/* a cmsg header that overruns the buffer ends the walk */
		if ((uint8_t *)cm + cm->cmsg_len >
		    (uint8_t *)m->msg_control + m->msg_controllen ||
		    cm->cmsg_len < CMSG_LEN(0))
			return -EPROTO;
		if (cm->cmsg_level != SOL_SOCKET ||
		    (cm->cmsg_type != SCM_DEVMEM_LINEAR &&
		     cm->cmsg_type != SCM_DEVMEM_DMABUF))
			continue;
		if (cm->cmsg_len < CMSG_LEN(sizeof(dc)))
			return -EPROTO;
		memcpy(&dc, CMSG_DATA(cm), sizeof(dc));
		devmem = true;
		f.len = dc.frag_size;
		if ((uint64_t)described + dc.frag_size > (uint64_t)ret)
			return -EPROTO;

		if (cm->cmsg_type == SCM_DEVMEM_LINEAR) {
			if (dc.frag_size > buf_len - lin_pos)
				return -EPROTO;
			f.linear = true;
			f.addr = buf ? buf + lin_pos : NULL;
			lin_pos += dc.frag_size;
		} else {
			f.offset = dc.frag_offset;
			f.token = dc.frag_token;
			f.dmabuf_id = dc.dmabuf_id;
			if (rx->map) {
				if (dc.frag_offset > rx->map_size ||
				    dc.frag_size > rx->map_size - dc.frag_offset)
					err = -ERANGE;
				else
					f.addr = rx->map + dc.frag_offset;
			}
		}
		described += dc.frag_size;
		/* a dmabuf frag outside the map still holds a token */
		if (frag_add(rx, &f))
			return -ENOMEM;
	}
	if (err)
		return err;
	if (m->msg_flags & MSG_CTRUNC)
		return -EMSGSIZE;
	if (!devmem) {
		/* a flow on a queue with no dmabuf bound: plain bytes */
		struct devmem_frag f = {
			.addr = buf, .len = (uint32_t)ret, .linear = true,
		};

		rx->plain = true;
		if (ret && ((size_t)ret > buf_len || frag_add(rx, &f)))
			return (size_t)ret > buf_len ? -EPROTO : -ENOMEM;
	} else if (described != (uint64_t)ret) {
		return -EPROTO;
	}
	return ret;
}

DM_API ssize_t devmem_rx_recv(struct devmem_rx *rx, void *buf, size_t len,
			      int flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = rx->ctrl,
		.msg_controllen = rx->ctrl_size,
	};
	ssize_t ret;

	rx->nr_frags = 0;
	rx->next = 0;
	ret = recvmsg(rx->fd, &m, MSG_SOCK_DEVMEM | flags);
	if (ret < 0)
		return errno == DM_ETOOSMALL ? -EMSGSIZE : -errno;
	ret = devmem_rx_parse(rx, &m, ret);
	if (ret >= 0 && rx->release_batch && rx->queued >= rx->release_batch) {
		int r = devmem_rx_flush(rx);

		if (r < 0)
			return r;
	}
	return ret;
}

DM_API int devmem_rx_next(struct devmem_rx *rx, struct devmem_frag *f)
{
	if (rx->next >= rx->nr_frags)
		return 0;
	*f = rx->frags[rx->next++];
	return 1;
}

DM_API bool devmem_rx_plain(const struct devmem_rx *rx)
{
	return rx->plain;
}

static int token_queue(struct devmem_rx *rx, uint32_t token)
{
	if (rx->nr_runs) {
		struct dmabuf_token *last = &rx->runs[rx->nr_runs - 1];

		if (last->token_start + last->token_count == token &&
		    last->token_count < DEVMEM_DONTNEED_MAX_FRAGS) {
			last->token_count++;
			rx->queued++;
			return 0;
		}
	}
	if (rx->nr_runs == rx->runs_cap) {
		size_t cap = rx->runs_cap ? rx->runs_cap * 2 : 256;
		void *p = realloc(rx->runs, cap * sizeof(*rx->runs));

		if (!p)
			return -ENOMEM;
		rx->runs = p;
		rx->runs_cap = cap;
	}
	rx->runs[rx->nr_runs].token_start = token;
	rx->runs[rx->nr_runs].token_count = 1;
	rx->nr_runs++;
	rx->queued++;
	return 0;
}

DM_API int devmem_rx_release(struct devmem_rx *rx, const struct devmem_frag *f)
{
	if (f->linear)
		return 0;
	return token_queue(rx, f->token);
}

DM_API int devmem_rx_release_all(struct devmem_rx *rx)
{
	size_t i;
	int ret;

	for (i = 0; i < rx->nr_frags; i++) {
		ret = devmem_rx_release(rx, &rx->frags[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * One SO_DEVMEM_DONTNEED per at most 128 runs and 1024 tokens.  The
 * kernel returns how many tokens it freed; a token it does not hold is
 * skipped, not an error, so a short count means unknown tokens, which are
 * counted, not retried.
 */
DM_API int devmem_rx_flush(struct devmem_rx *rx)
{
	struct dmabuf_token call[DEVMEM_DONTNEED_MAX_TOKENS];
	size_t r = 0;
	uint32_t done_in_run = 0;
	int freed = 0;

	while (r < rx->nr_runs) {
		size_t r0 = r;
		uint32_t done0 = done_in_run;
		unsigned int n = 0, frags = 0;
		int ret;

		while (r < rx->nr_runs && n < DEVMEM_DONTNEED_MAX_TOKENS &&
		       frags < DEVMEM_DONTNEED_MAX_FRAGS) {
			struct dmabuf_token *run = &rx->runs[r];
			uint32_t left = run->token_count - done_in_run;
			uint32_t take = DEVMEM_DONTNEED_MAX_FRAGS - frags;

			if (take > left)
				take = left;
			call[n].token_start = run->token_start + done_in_run;
			call[n].token_count = take;
			n++;
			frags += take;
			done_in_run += take;
			if (done_in_run == run->token_count) {
				r++;
				done_in_run = 0;
			}
		}
		ret = setsockopt(rx->fd, SOL_SOCKET, SO_DEVMEM_DONTNEED, call,
				 n * sizeof(call[0]));
		if (ret < 0) {
			int err = errno;

			/* keep what was not handed over */
			if (done0) {
				rx->runs[r0].token_start += done0;
				rx->runs[r0].token_count -= done0;
			}
			memmove(rx->runs, rx->runs + r0,
				(rx->nr_runs - r0) * sizeof(*rx->runs));
			rx->nr_runs -= r0;
			return -err;
		}
		if ((unsigned int)ret > frags)
			ret = frags;
		freed += ret;
		rx->unknown += frags - ret;
		rx->queued -= frags;
	}
	rx->nr_runs = 0;
	rx->queued = 0;
	return freed;
}

DM_API uint64_t devmem_rx_queued(const struct devmem_rx *rx)
{
	return rx->queued;
}

DM_API uint64_t devmem_rx_unknown_tokens(const struct devmem_rx *rx)
{
	return rx->unknown;
}
