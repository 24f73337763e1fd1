// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-nc's copying senders: send() of the pattern from a host buffer
 * (copy), or out of a dmabuf through a bounce buffer (bounce: what
 * applications do without devmem TX).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include "devmem-nc.h"
#include "pattern.h"

/*
 * Write the pattern into the window for the stream up to @upto.  A dmabuf
 * window is bracketed by DMA_BUF_IOCTL_SYNC, unless @in_cpu_access: the
 * caller holds CPU access already.
 */
int tx_fill(struct tx_buf *tb, uint64_t upto, bool in_cpu_access)
{
	bool dmabuf = tb->win == tb->db.map && !in_cpu_access;

	if (dmabuf && dmabuf_sync(&tb->db, true, DEVMEM_SYNC_WRITE))
		return -1;
	while (tb->filled < upto) {
		uint64_t off = tb->filled % tb->size;
		uint64_t n = upto - tb->filled;

		if (n > tb->size - off)
			n = tb->size - off;
		devmem_pattern_fill(tb->win + off, tb->filled, n);
		tb->filled += n;
	}
	if (dmabuf && dmabuf_sync(&tb->db, false, DEVMEM_SYNC_WRITE))
		return -1;
	return 0;
}

/*
 * How far the zero-copy senders fill the window when the stream up to
 * @need is not written yet: half a window at a time (or to @need, or the
 * end of the stream @total).  The caller first waits until what that
 * part of the window held before has completed (upto - size).  Fixed
 * steps make the number of fills, each two DMA_BUF_IOCTL_SYNCs of the
 * whole udmabuf, the same whatever the completions' timing, so that the
 * benchmark compares senders, not how often each happened to sync.
 */
uint64_t tx_fill_upto(const struct tx_buf *tb, uint64_t need, uint64_t total)
{
	uint64_t upto = tb->filled + tb->size / 2;

	if (upto < need)
		upto = need;
	return upto < total ? upto : total;
}

static int send_all(int fd, const struct opts *o, const uint8_t *buf,
		    size_t len, struct tx_stats *st)
{
	size_t done = 0;

	while (done < len) {
		ssize_t ret = send(fd, buf + done, len - done, MSG_NOSIGNAL);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return fail("send: no progress for %d s after %" PRIu64 " bytes (timeout)",
					    o->timeout, st->bytes);
			return fail("send: %s after %" PRIu64 " bytes",
				    strerror(errno), st->bytes);
		}
		done += ret;
		st->bytes += ret;
		st->calls++;
		/* send() copied them into the socket's buffers */
		st->copied_bytes += ret;
	}
	return 0;
}

/*
 * --urgent: the byte at stream offset st->bytes, alone with MSG_OOB, once
 * all before it is acknowledged.  A sender marks the segments it still has
 * to send more than 64 KiB before its urgent pointer with urg_ptr 0xffff
 * (RFC 6093), each a new pointer, a SIGURG, to the receiver: waiting for
 * SIOCOUTQ 0 leaves none, so a receiver gets one SIGURG per urgent byte.
 */
static int send_urgent(int fd, const struct opts *o, uint8_t *buf,
		       struct tx_stats *st)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	long waited = 0;
	ssize_t ret;
	int outq;

	for (;;) {
		if (ioctl(fd, SIOCOUTQ, &outq))
			return fail("SIOCOUTQ: %s", strerror(errno));
		if (!outq)
			break;
		if (o->timeout && ++waited > o->timeout * 100L)
			return fail("--urgent: %d bytes before offset %" PRIu64 " not acknowledged after %d s",
				    outq, st->bytes, o->timeout);
		nanosleep(&tick, NULL);
	}
	devmem_pattern_fill(buf, st->bytes, 1);
	do
		ret = send(fd, buf, 1, MSG_OOB | MSG_NOSIGNAL);
	while (ret < 0 && errno == EINTR);
	if (ret != 1)
		return fail("send(MSG_OOB) at offset %" PRIu64 ": %s", st->bytes,
			    ret < 0 ? strerror(errno) : "nothing sent");
	st->bytes++;
	st->calls++;
	st->copied_bytes++;
	return 0;
}

/*
 * copy: send() the pattern from a host buffer.  bounce: what applications
 * do without devmem TX, memcpy each chunk out of the dmabuf first.  Only
 * the CPU touches a bounce dmabuf, so one CPU access (DMA_BUF_IOCTL_SYNC
 * start to end) covers a whole lap of it: writing it, then copying out of
 * it chunk by chunk.  (udmabuf syncs the whole buffer on every call.)
 */
int send_copy(int fd, const struct opts *o, struct tx_buf *tb,
		     struct tx_stats *st)
{
	const unsigned int rw = DEVMEM_SYNC_READ | DEVMEM_SYNC_WRITE;
	unsigned int urg = 0;
	bool cpu_access = false;
	struct progress pg;
	int err = 0;

	progress_init(&pg, o);
	while (st->bytes < o->size) {
		uint64_t s = st->bytes, len = o->size - s;

		if (urg < o->nr_urgent && s == o->urgent[urg]) {
			err = send_urgent(fd, o, tb->chunk, st);
			if (err)
				break;
			urg++;
			continue;
		}
		if (len > o->chunk)
			len = o->chunk;
		/* --urgent is --tx copy only: chunks stop at the next one */
		if (urg < o->nr_urgent && len > o->urgent[urg] - s)
			len = o->urgent[urg] - s;
		if (o->tx == TX_BOUNCE) {
			uint64_t off = s % tb->size, n;

			if (len > tb->size)
				len = tb->size;
			if (tb->filled < s + len) {
				uint64_t upto = s + tb->size;

				if (cpu_access) {
					cpu_access = false;
					err = dmabuf_sync(&tb->db, false, rw);
					if (err)
						break;
				}
				err = dmabuf_sync(&tb->db, true, rw);
				if (err)
					break;
				cpu_access = true;
				err = tx_fill(tb, upto < o->size ? upto :
								  o->size,
					      true);
				if (err)
					break;
			}
			n = len < tb->size - off ? len : tb->size - off;
			memcpy(tb->chunk, tb->win + off, n);
			memcpy(tb->chunk + n, tb->win, len - n);
			st->copied_bytes += len;
		} else {
			devmem_pattern_fill(tb->chunk, s, len);
		}
		err = send_all(fd, o, tb->chunk, len, st);
		if (err)
			break;
		progress_tick(&pg, "sent", st->bytes, o->size);
	}
	progress_done(&pg);
	if (cpu_access && dmabuf_sync(&tb->db, false, rw))
		err = -1;
	return err;
}
