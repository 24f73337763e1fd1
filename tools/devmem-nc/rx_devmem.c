// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-nc's devmem receiver: libdevmem's fragments of each
 * recvmsg(MSG_SOCK_DEVMEM), every byte validated where it lies (the
 * linear buffer, or the dmabuf inside DMA_BUF_IOCTL_SYNC), tokens handed
 * back --token-batch at a time (or never, --hoard).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* linux/uio.h declares its own struct iovec, which glibc already has */
#define iovec linux_uapi_iovec
#include <linux/uio.h>
#undef iovec

#include "devmem-nc.h"

int recv_error(const struct opts *o, const struct dmabuf *db,
	       const struct stats *st, int err)
{
	switch (err) {
	case EAGAIN:
		if (o->mode == MODE_DEVMEM && st->tokens_held &&
		    (o->hoard || st->held_bytes * 2 >= db->size))
			return fail("dmabuf exhausted: %" PRIu64 " tokens held (%" PRIu64 " of %" PRIu64 " dmabuf bytes); no data for %d s after %" PRIu64 " bytes",
				    st->tokens_held, st->held_bytes, db->size,
				    o->timeout, st->bytes);
		return fail("recv: no data for %d s after %" PRIu64 " bytes (timeout)",
			    o->timeout, st->bytes);
	case ENOBUFS:
	case ENOMEM:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: %s: dmabuf exhausted: %" PRIu64 " tokens held",
				    strerror(err), st->tokens_held);
		break;
	case EFAULT:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: %s (EFAULT) after %" PRIu64 " bytes: linear copy failed or the skb chain ended early",
				    strerror(err), st->bytes);
		/* tcp_recvmsg_locked: devmem skb without MSG_SOCK_DEVMEM */
		return fail("recv: %s (EFAULT) after %" PRIu64 " bytes: the flow is on a dmabuf-bound rx queue; only devmem mode can read it",
			    strerror(err), st->bytes);
	case ENODEV:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: %s (ENODEV): a devmem skb carries readable frags (kernel bug)",
				    strerror(err));
		break;
	case EMSGSIZE:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: control buffer too small for the devmem cmsgs (truncated, or ETOOSMALL)");
		break;
	case EPROTO:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: malformed devmem cmsgs, or they do not describe the bytes returned");
		break;
	case ERANGE:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: a frag lies outside the %" PRIu64 "-byte dmabuf",
				    db->size);
		break;
	}
	return fail("recv: %s (%s) after %" PRIu64 " bytes", strerror(err),
		    errno_name(err), st->bytes);
}

/* Hand every queued token back (libdevmem keeps to the kernel's limits). */
static int tokens_return(struct devmem_rx *rx, struct stats *st)
{
	uint64_t queued = devmem_rx_queued(rx);
	uint64_t unknown = devmem_rx_unknown_tokens(rx);
	int ret = devmem_rx_flush(rx);

	if (ret < 0)
		return fail("SO_DEVMEM_DONTNEED: %s (%s)", strerror(-ret),
			    errno_name(-ret));
	st->tokens_returned += ret;
	st->tokens_held -= queued;
	if (devmem_rx_unknown_tokens(rx) != unknown)
		return fail("SO_DEVMEM_DONTNEED freed %d of %" PRIu64 " tokens",
			    ret, queued);
	st->held_bytes = 0;
	return 0;
}

/* One receive's fragments, in stream order. */
static int devmem_one(struct devmem_rx *rx, const struct opts *o,
		      struct dmabuf *db, struct stats *st, size_t ret,
		      const uint8_t *buf)
{
	uint64_t off = st->bytes, described = 0;
	struct devmem_frag f;
	bool synced = false;
	int err = 0;

	if (devmem_rx_plain(rx)) {
		/* the flow came in on a queue with no dmabuf bound */
		validate(st, o, buf, off, ret, "plain, buffer offset", 0);
		st->plain_bytes += ret;
		st->copied_bytes += ret;
		st->bytes += ret;
		return 0;
	}
	devmem_rx_for_each_frag(rx, &f) {
		if (f.linear) {
			validate(st, o, f.addr, off + described, f.len,
				 "linear, buffer offset", f.addr - buf);
			st->linear_bytes += f.len;
			/* the kernel copied these into buf */
			st->copied_bytes += f.len;
			st->linear_frags++;
			described += f.len;
			continue;
		}
		if (!st->have_dmabuf_id) {
			/* --no-bind: the binding is someone else's */
			st->dmabuf_id = f.dmabuf_id;
			st->have_dmabuf_id = true;
		} else if (f.dmabuf_id != st->dmabuf_id) {
			err = fail("recvmsg: frag from dmabuf id %u, expected %u",
				   f.dmabuf_id, st->dmabuf_id);
			break;
		}
		if (o->validate && !synced) {
			err = dmabuf_sync(db, true, DEVMEM_SYNC_READ);
			if (err)
				break;
			synced = true;
		}
		validate(st, o, f.addr, off + described, f.len,
			 "dmabuf offset", f.offset);
		st->dmabuf_bytes += f.len;
		st->dmabuf_frags++;
		described += f.len;
		st->tokens_held++;
		st->held_bytes += f.len;
		if (!o->hoard && devmem_rx_release(rx, &f)) {
			err = fail("out of memory holding %" PRIu64 " tokens",
				   st->tokens_held);
			break;
		}
	}
	if (synced && dmabuf_sync(db, false, DEVMEM_SYNC_READ))
		err = -1;
	if (err)
		return err;
	st->bytes += ret;
	if (!o->hoard && devmem_rx_queued(rx) >= o->token_batch)
		return tokens_return(rx, st);
	return 0;
}

int recv_devmem(int fd, const struct opts *o, struct dmabuf *db,
		struct stats *st)
{
	/* room for one cmsg per 64 bytes of data, far more than frags */
	size_t buf_len = o->chunk;
	size_t ctrl_len = CMSG_SPACE(sizeof(struct dmabuf_cmsg)) *
			  (buf_len / 64 + 64);
	struct devmem_rx *rx = NULL;
	struct progress pg;
	uint8_t *buf;
	int err = 0;

	buf = malloc(buf_len);
	if (!buf || devmem_rx_new(&rx, fd, db->map, db->size, ctrl_len, 0)) {
		err = fail("out of memory");
		goto out;
	}
	progress_init(&pg, o);
	for (;;) {
		ssize_t ret = devmem_rx_recv(rx, buf, buf_len, 0);

		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			err = recv_error(o, db, st, -ret);
			break;
		}
		if (!ret)
			break;
		err = devmem_one(rx, o, db, st, ret, buf);
		if (err)
			break;
		progress_tick(&pg, "received", st->bytes, o->size);
	}
	progress_done(&pg);
	if (!err && !o->hoard)
		err = tokens_return(rx, st);
out:
	devmem_rx_free(rx);
	free(buf);
	return err;
}
