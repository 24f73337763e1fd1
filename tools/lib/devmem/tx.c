// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Transmit: sendmsg(MSG_ZEROCOPY) of dmabuf regions named by offset, with
 * an SCM_DEVMEM_DMABUF cmsg carrying the tx binding id, and the
 * completions that say when the kernel no longer reads a region.
 *
 * The kernel numbers a socket's zerocopy sendmsg calls from 0, one number
 * per call that sends anything (a call that fails having sent nothing
 * gives its number back), and reports completions on the error queue as
 * inclusive ranges [ee_info, ee_data] of those numbers, in any order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/errqueue.h>

#include "internal.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY		60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY		0x4000000
#endif
#ifndef SCM_DEVMEM_DMABUF
#define SCM_DEVMEM_DMABUF	79
#endif

struct tx_call {
	uint64_t offset, len;
	bool done, copied;
};

struct devmem_tx {
	int fd;
	uint32_t binding_id;
	/* calls in flight, oldest first: calls[head] is number head_id */
	struct tx_call *calls;
	size_t head, tail, cap;
	uint32_t head_id;
	uint64_t bytes_in_flight;
	uint64_t done_bytes;	/* of the calls before calls[head] */
	/* completed calls not yet handed to the caller, by index */
	struct devmem_region *free_q;
	size_t free_head, free_tail, free_cap;
};

DM_API int devmem_tx_new(struct devmem_tx **out, int fd, uint32_t binding_id)
{
	struct devmem_tx *tx;
	int one = 1;

	*out = NULL;
	if (fd >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0)
		return -errno;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	tx->fd = fd;
	tx->binding_id = binding_id;
	*out = tx;
	return 0;
}

DM_API void devmem_tx_free(struct devmem_tx *tx)
{
	if (!tx)
		return;
	free(tx->calls);
	free(tx->free_q);
	free(tx);
}

static size_t pending(const struct devmem_tx *tx)
{
	return tx->tail - tx->head;
}

int dm_tx_track(struct devmem_tx *tx, uint64_t offset, uint64_t len)
{
	if (tx->tail == tx->cap) {
		if (tx->head && tx->head >= tx->cap / 2) {
			memmove(tx->calls, tx->calls + tx->head,
				pending(tx) * sizeof(*tx->calls));
			tx->tail -= tx->head;
			tx->head = 0;
		} else {
			size_t cap = tx->cap ? tx->cap * 2 : 256;
			void *p = realloc(tx->calls, cap * sizeof(*tx->calls));

			if (!p)
				return -ENOMEM;
			tx->calls = p;
			tx->cap = cap;
		}
	}
	tx->calls[tx->tail++] = (struct tx_call){ .offset = offset, .len = len };
	tx->bytes_in_flight += len;
	return 0;
}

static int free_push(struct devmem_tx *tx, const struct tx_call *c)
{
	if (tx->free_tail == tx->free_cap) {
		if (tx->free_head) {
			memmove(tx->free_q, tx->free_q + tx->free_head,
				(tx->free_tail - tx->free_head) * sizeof(*tx->free_q));
			tx->free_tail -= tx->free_head;
			tx->free_head = 0;
		} else {
			size_t cap = tx->free_cap ? tx->free_cap * 2 : 256;
			void *p = realloc(tx->free_q, cap * sizeof(*tx->free_q));

			if (!p)
				return -ENOMEM;
			tx->free_q = p;
			tx->free_cap = cap;
		}
	}
	tx->free_q[tx->free_tail++] = (struct devmem_region){
		.offset = c->offset, .len = c->len, .copied = c->copied,
	};
	return 0;
}

/*
 * Calls @lo..@hi completed.  Numbers wrap at 2^32; a range that names a
 * call not in flight, or one already completed, is -EPROTO (and changes
 * nothing).
 */
int dm_tx_complete(struct devmem_tx *tx, uint32_t lo, uint32_t hi,
		   bool copied)
{
	uint32_t first = lo - tx->head_id, n = hi - lo;
	uint64_t i;

	if (n >= UINT32_MAX / 2 || (uint64_t)first + n >= pending(tx))
		return -EPROTO;
	for (i = 0; i <= n; i++)
		if (tx->calls[tx->head + first + i].done)
			return -EPROTO;
	for (i = 0; i <= n; i++) {
		struct tx_call *c = &tx->calls[tx->head + first + i];

		c->done = true;
		c->copied = copied;
		tx->bytes_in_flight -= c->len;
		if (free_push(tx, c))
			return -ENOMEM;
	}
	while (tx->head < tx->tail && tx->calls[tx->head].done) {
		tx->done_bytes += tx->calls[tx->head].len;
		tx->head++;
		tx->head_id++;
	}
	return n + 1;
}

static ssize_t tx_send(struct devmem_tx *tx, uint64_t offset, size_t len,
		       int flags, bool devmem)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctrl;
	/* devmem iov bases are offsets into the dmabuf, not addresses */
	struct iovec iov = {
		.iov_base = (void *)(uintptr_t)offset, .iov_len = len,
	};
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t ret;
	int err;

	if (!len)
		return 0;
	if (devmem) {
		memset(&ctrl, 0, sizeof(ctrl));
		m.msg_control = ctrl.buf;
		m.msg_controllen = sizeof(ctrl.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_DEVMEM_DMABUF;
		cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
		memcpy(CMSG_DATA(cm), &tx->binding_id, sizeof(uint32_t));
	}
	do
		ret = sendmsg(tx->fd, &m, MSG_ZEROCOPY | MSG_NOSIGNAL | flags);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	/* a call that sent anything has a number, and a completion */
	err = dm_tx_track(tx, offset, ret);
	return err ? err : ret;
}

DM_API ssize_t devmem_tx_send(struct devmem_tx *tx, uint64_t offset,
			      size_t len, int flags)
{
	return tx_send(tx, offset, len, flags, true);
}

DM_API ssize_t devmem_tx_send_host(struct devmem_tx *tx, const void *buf,
				   size_t len, int flags)
{
	return tx_send(tx, (uintptr_t)buf, len, flags, false);
}

DM_API int devmem_tx_reap(struct devmem_tx *tx)
{
	int done = 0;

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
					    sizeof(struct sockaddr_in6))];
			struct cmsghdr align;
		} ctrl;
		struct msghdr m = {
			.msg_control = ctrl.buf,
			.msg_controllen = sizeof(ctrl.buf),
		};
		struct sock_extended_err ee;
		struct cmsghdr *cm;
		bool found = false;

		if (recvmsg(tx->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN)
				return done;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (m.msg_flags & MSG_CTRUNC)
			return -EMSGSIZE;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			int n;

			if (!(cm->cmsg_level == SOL_IP &&
			      cm->cmsg_type == IP_RECVERR) &&
			    !(cm->cmsg_level == SOL_IPV6 &&
			      cm->cmsg_type == IPV6_RECVERR))
				continue;
			if (cm->cmsg_len < CMSG_LEN(sizeof(ee)))
				return -EPROTO;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			found = true;
			/* another error queued on the socket: its errno */
			if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				return ee.ee_errno ? -(int)ee.ee_errno : -EPROTO;
			n = dm_tx_complete(tx, ee.ee_info, ee.ee_data,
					   ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED);
			if (n < 0)
				return n;
			done += n;
		}
		if (!found)
			return -EPROTO;
	}
}

DM_API int devmem_tx_wait(struct devmem_tx *tx, int timeout_ms)
{
	while (pending(tx)) {
		struct pollfd pfd = { .fd = tx->fd };
		socklen_t len = sizeof(int);
		int ret, err = 0;

		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!ret)
			return -ETIMEDOUT;
		ret = devmem_tx_reap(tx);
		if (ret)
			return ret;
		/* woken with no completion queued: the connection failed */
		if (!getsockopt(tx->fd, SOL_SOCKET, SO_ERROR, &err, &len) && err)
			return -err;
		if (pfd.revents & (POLLHUP | POLLNVAL))
			return -ECONNRESET;
	}
	return 0;
}

DM_API int devmem_tx_next_free(struct devmem_tx *tx, struct devmem_region *r)
{
	if (tx->free_head == tx->free_tail)
		return 0;
	*r = tx->free_q[tx->free_head++];
	if (tx->free_head == tx->free_tail)
		tx->free_head = tx->free_tail = 0;
	return 1;
}

DM_API uint64_t devmem_tx_done_bytes(const struct devmem_tx *tx)
{
	return tx->done_bytes;
}

DM_API size_t devmem_tx_in_flight(const struct devmem_tx *tx, uint64_t *bytes)
{
	if (bytes)
		*bytes = tx->bytes_in_flight;
	return pending(tx);
}
