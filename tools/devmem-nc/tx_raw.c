// SPDX-License-Identifier: GPL-2.0
/*
 * --raw-loop with --tx devmem: the minimal devmem send loop an
 * application would write by hand, without libdevmem, for the benchmark
 * to measure the library against (tools/bench/tx.sh): chunks of the window
 * sent with sendmsg(MSG_ZEROCOPY) and an SCM_DEVMEM_DMABUF cmsg, and the
 * completions read off the error queue assuming, as TCP gives them, that
 * they come in order.  None of the library's checks: the floor, not an
 * example (see libdevmem(3) for that).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/errqueue.h>

#include "devmem-nc.h"

#ifndef SCM_DEVMEM_DMABUF
#define SCM_DEVMEM_DMABUF	79
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY		0x4000000
#endif

struct raw_tx {
	uint64_t *ends;		/* stream offset after call i, by i % cap */
	size_t cap;
	uint32_t sent, completed;	/* calls */
	uint64_t done_end;	/* every byte before this has completed */
};

/* the completions queued; 0, or -1 (reported) */
static int raw_reap(int fd, struct raw_tx *r, struct tx_stats *st)
{
	for (;;) {
		char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6))];
		struct msghdr m = {
			.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
		};
		struct sock_extended_err *ee;
		struct cmsghdr *cm;

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return errno == EAGAIN || errno == EINTR ? 0 :
			       fail("recvmsg(MSG_ERRQUEUE): %s", errno_name(errno));
		cm = CMSG_FIRSTHDR(&m);
		if (!cm)
			continue;
		ee = (void *)CMSG_DATA(cm);
		if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
			return fail("error queue: %s", errno_name(ee->ee_errno));
		st->completions += ee->ee_data - ee->ee_info + 1;
		if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
			st->completions_copied += ee->ee_data - ee->ee_info + 1;
		r->completed = ee->ee_data + 1;
		r->done_end = r->ends[ee->ee_data % r->cap];
	}
}

static int raw_wait(int fd, const struct opts *o, struct raw_tx *r,
		    struct tx_stats *st, uint64_t need)
{
	while (r->done_end < need) {
		struct pollfd p = { .fd = fd };
		int ret = poll(&p, 1, o->timeout ? o->timeout * 1000 : -1);

		if (ret <= 0)
			return fail("completions: %s", ret ? errno_name(errno) : "timeout");
		if (raw_reap(fd, r, st))
			return -1;
	}
	return 0;
}

int send_zerocopy_raw(int fd, const struct opts *o, struct tx_buf *tb,
		      struct tx_stats *st)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctrl = { 0 };
	struct raw_tx r = { 0 };
	struct msghdr m = { .msg_control = ctrl.buf, .msg_controllen = sizeof(ctrl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	int err = 0;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_DEVMEM_DMABUF;
	cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
	memcpy(CMSG_DATA(cm), &st->binding_id, sizeof(uint32_t));
	/* far more calls than a window holds in flight (64 KiB calls, 64 MiB: 1024) */
	r.cap = 1 << 20;
	r.ends = malloc(r.cap * sizeof(*r.ends));
	if (!r.ends)
		return fail("out of memory");

	while (st->bytes < o->size) {
		uint64_t s = st->bytes, off = s % tb->size, len = o->size - s;
		struct iovec iov;
		ssize_t ret;

		if (len > o->chunk)
			len = o->chunk;
		if (len > tb->size - off)
			len = tb->size - off;
		if (s + len > tb->size && raw_wait(fd, o, &r, st, s + len - tb->size)) {
			err = -1;
			break;
		}
		if (tb->filled < s + len) {
			uint64_t upto = tx_fill_upto(tb, s + len, o->size);

			if ((upto > tb->size &&
			     raw_wait(fd, o, &r, st, upto - tb->size)) ||
			    tx_fill(tb, upto, false)) {
				err = -1;
				break;
			}
		}
		iov.iov_base = (void *)(uintptr_t)off;
		iov.iov_len = len;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		ret = sendmsg(fd, &m, MSG_ZEROCOPY | MSG_NOSIGNAL);
		if (ret < 0 && errno == ENOBUFS && r.completed < r.sent) {
			if (raw_wait(fd, o, &r, st, r.ends[r.completed % r.cap])) {
				err = -1;
				break;
			}
			continue;
		}
		if (ret < 0) {
			err = fail("sendmsg: %s", errno_name(errno));
			break;
		}
		st->bytes += ret;
		r.ends[r.sent++ % r.cap] = st->bytes;
		st->calls++;
		if (!(st->calls % 64) && raw_reap(fd, &r, st)) {
			err = -1;
			break;
		}
	}
	if (!err)
		err = raw_wait(fd, o, &r, st, st->bytes);
	free(r.ends);
	return err;
}
