// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-nc's zero-copy senders, on libdevmem's TX regions: devmem
 * (sendmsg(MSG_ZEROCOPY) of dmabuf offsets, SCM_DEVMEM_DMABUF naming the
 * binding) and zerocopy (MSG_ZEROCOPY from host memory).  A lap of the
 * window is rewritten only once the calls that sent the previous one have
 * completed; all of them complete before the window and binding go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "devmem-nc.h"

/* take the completed regions' counts */
static void count_free(struct devmem_tx *tx, struct tx_stats *st)
{
	struct devmem_region r;

	while (devmem_tx_next_free(tx, &r) == 1) {
		st->completions++;
		if (r.copied) {
			st->completions_copied++;
			st->copied_bytes += r.len;
		}
	}
}

static int tx_error(const char *what, int err, struct devmem_tx *tx)
{
	uint64_t bytes;
	size_t calls = devmem_tx_in_flight(tx, &bytes);

	switch (err) {
	case EPROTO:
		return fail("%s: a zerocopy completion names sendmsg calls not in flight (or twice)",
			    what);
	case ECONNRESET:
		return fail("connection closed with %zu sendmsg calls not completed",
			    calls);
	}
	return fail("connection failed: %s (%s) with %zu sendmsg calls not completed",
		    strerror(err), errno_name(err), calls);
}

/*
 * Wait until the calls that sent the stream up to @need have completed,
 * reading the error queue as completions arrive.
 */
static int zc_wait(struct devmem_tx *tx, const struct opts *o,
		   struct tx_stats *st, uint64_t need)
{
	while (devmem_tx_done_bytes(tx) < need) {
		int ret = devmem_tx_wait(tx, o->timeout ? o->timeout * 1000 : -1);

		count_free(tx, st);
		if (ret == -ETIMEDOUT) {
			uint64_t bytes;
			size_t calls = devmem_tx_in_flight(tx, &bytes);

			return fail("%zu sendmsg calls (%" PRIu64 " bytes) not completed after %d s",
				    calls, bytes, o->timeout);
		}
		if (ret < 0)
			return tx_error("error queue", -ret, tx);
	}
	return 0;
}

/* After "sendmsg: <strerror> (<ENAME>)": what the kernel's refusal means. */
static void sendmsg_hint(const struct opts *o, uint32_t binding, int err)
{
	if (o->tx != TX_DEVMEM)
		return;
	switch (err) {
	case EINVAL:
		msg("devmem sendmsg needs MSG_ZEROCOPY on a socket with SO_ZEROCOPY, and one SCM_DEVMEM_DMABUF cmsg");
		break;
	case ENOENT:
		msg("binding %u: no such tx binding in this network namespace, or it is unbound",
		    binding);
		break;
	case EOPNOTSUPP:
		msg("binding %u is not a tx binding (or the kernel cannot send from device memory)",
		    binding);
		break;
	case ENODEV:
		msg("the route to %s leaves through another device than binding %u's%s",
		    o->connect_addr, binding,
		    o->ifname ? "" : " (-i IFNAME binds the socket to a device)");
		break;
	case EFAULT:
		msg("an iov lies outside binding %u's dmabuf", binding);
		break;
	}
}

int send_zerocopy(int fd, const struct opts *o, struct tx_buf *tb,
		  struct tx_stats *st)
{
	bool devmem = o->tx == TX_DEVMEM;
	struct devmem_tx *tx;
	struct progress pg;
	int err = 0;

	err = devmem_tx_new(&tx, fd, st->binding_id);
	if (err)
		return fail("SO_ZEROCOPY: %s (%s)", strerror(-err),
			    errno_name(-err));
	progress_init(&pg, o);
	while (st->bytes < o->size) {
		uint64_t s = st->bytes, len = o->size - s, off;
		ssize_t ret;

		if (len > o->chunk)
			len = o->chunk;
		if (len > tb->size)
			len = tb->size;
		off = s % tb->size;
		/* one region per call: up to the end of the window */
		if (len > tb->size - off)
			len = tb->size - off;
		/* this part of the window last held [s - size, s + len - size) */
		if (s + len > tb->size) {
			err = zc_wait(tx, o, st, s + len - tb->size);
			if (err)
				break;
		}
		if (tb->filled < s + len) {
			uint64_t upto = tx_fill_upto(tb, s + len, o->size);

			if (upto > tb->size)
				err = zc_wait(tx, o, st, upto - tb->size);
			if (!err)
				err = tx_fill(tb, upto, false);
			if (err)
				break;
		}

		ret = devmem ? devmem_tx_send(tx, off, len, 0) :
			       devmem_tx_send_host(tx, tb->win + off, len, 0);
		if (ret == -ENOBUFS && devmem_tx_in_flight(tx, NULL)) {
			/* no optmem for another notification yet */
			err = devmem_tx_wait(tx, o->timeout ? o->timeout * 1000 : -1);
			count_free(tx, st);
			if (err == -ETIMEDOUT) {
				err = fail("sendmsg: ENOBUFS, and no completion for %d s",
					   o->timeout);
				break;
			}
			if (err < 0) {
				err = tx_error("error queue", -err, tx);
				break;
			}
			continue;
		}
		if (ret == -EAGAIN) {
			err = fail("sendmsg: no progress for %d s after %" PRIu64 " bytes (timeout)",
				   o->timeout, st->bytes);
			break;
		}
		if (ret < 0) {
			err = fail("sendmsg: %s (%s)", strerror(-ret),
				   errno_name(-ret));
			sendmsg_hint(o, st->binding_id, -ret);
			break;
		}
		st->bytes += ret;
		st->calls++;
		/* keep notifications from piling up on the error queue */
		if (!(st->calls % 64)) {
			err = devmem_tx_reap(tx);
			count_free(tx, st);
			if (err < 0) {
				err = tx_error("error queue", -err, tx);
				break;
			}
			err = 0;
		}
		progress_tick(&pg, "sent", st->bytes, o->size);
	}
	progress_done(&pg);
	/* every call must complete before the window (and binding) go */
	if (!err)
		err = zc_wait(tx, o, st, st->bytes);
	devmem_tx_free(tx);
	return err;
}
